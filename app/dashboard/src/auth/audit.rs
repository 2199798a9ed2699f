//! The activity log: sign-ins and every operator and admin action, with who,
//! what, on what, when, the outcome and what the server actually did (counts,
//! the message ids found). One partition a UTC day (`pk = AUDIT#<day>`);
//! entries expire after a year. Refused sign-in attempts are not entries of
//! their own: each is counted in its window's summary (one item a
//! [`REFUSAL_WINDOW_SECS`], updated atomically), so a flood of them is one
//! line and cannot push real actions out of view.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, Utc};
use domain::order::timestamp;
use pipeline::aws::AwsError;
use pipeline::table::{self, EXPIRES_AT, Key, SORT_KEY};
use serde::{Deserialize, Serialize};

use crate::outcome::{ActionError, Audited};

/// How long the log keeps an entry.
pub const RETENTION_DAYS: i64 = 366;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub at: String,
    /// Who did it (an email address), or the address a sign-in came from.
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `ok`, or what went wrong.
    pub outcome: String,
    /// What the server did, in short `name: value` lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Entry {
    pub fn ok(&self) -> bool {
        self.outcome == "ok"
    }
}

/// How long one summary of refused sign-ins counts for.
pub const REFUSAL_WINDOW_SECS: i64 = 15 * 60;

/// The actions that are about signing in, for the activity page's filter.
pub const SIGN_IN_ACTIONS: [&str; 5] = [
    "sign in",
    "sign out",
    REFUSALS_ACTION,
    // Entries written before refusals were summarised.
    "sign-in failed",
    "sign-in locked",
];

const REFUSALS_ACTION: &str = "sign-in refusals";
const REFUSALS_KIND: &str = "signInRefusals";

/// Why a sign-in attempt was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    WrongCredentials,
    /// Too many attempts from one address for one account.
    Locked,
    /// The account was being paced.
    Paced,
    /// The address was over its budget for all accounts.
    OverBudget,
}

impl Refusal {
    const ALL: [Refusal; 4] = [
        Refusal::WrongCredentials,
        Refusal::Locked,
        Refusal::Paced,
        Refusal::OverBudget,
    ];

    /// The summary's counter of this kind of refusal.
    fn counter(self) -> &'static str {
        match self {
            Refusal::WrongCredentials => "wrongCredentials",
            Refusal::Locked => "locked",
            Refusal::Paced => "paced",
            Refusal::OverBudget => "overBudget",
        }
    }

    fn described(self) -> &'static str {
        match self {
            Refusal::WrongCredentials => "wrong email or password",
            Refusal::Locked => "locked out (too many from one address for one account)",
            Refusal::Paced => "slowed (the account was being paced)",
            Refusal::OverBudget => "refused unchecked (the address was over its budget)",
        }
    }
}

/// Which entries the activity page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    #[default]
    All,
    /// What operators and admins changed: everything but signing in.
    Changes,
    SignIns,
}

impl Show {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "" | "all" => Some(Show::All),
            "changes" => Some(Show::Changes),
            "sign-ins" => Some(Show::SignIns),
            _ => None,
        }
    }

    /// The query filter that keeps these entries (on `#action`), with its
    /// values; none for all.
    fn filter(self) -> Option<(String, Vec<(String, AttributeValue)>)> {
        let values: Vec<(String, AttributeValue)> = SIGN_IN_ACTIONS
            .iter()
            .enumerate()
            .map(|(n, action)| {
                (
                    format!(":signIn{n}"),
                    AttributeValue::S((*action).to_owned()),
                )
            })
            .collect();
        let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
        let listed = format!("#action IN ({})", names.join(", "));
        match self {
            Show::All => None,
            Show::SignIns => Some((listed, values)),
            Show::Changes => Some((format!("NOT ({listed})"), values)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Changes => "changes",
            Show::SignIns => "sign-ins",
        }
    }
}

/// A window's summary of refused sign-ins, as the table keeps it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefusalSummary {
    at: String,
    #[serde(default)]
    last_at: String,
    #[serde(default)]
    wrong_credentials: u64,
    #[serde(default)]
    locked: u64,
    #[serde(default)]
    paced: u64,
    #[serde(default)]
    over_budget: u64,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
}

/// Up to `most` of `names`, and how many more there are.
fn some_of(names: &[String], most: usize) -> String {
    let mut shown = names[..names.len().min(most)].join(", ");
    if names.len() > most {
        shown.push_str(&format!(" and {} more", names.len() - most));
    }
    shown
}

impl RefusalSummary {
    fn count(&self, refusal: Refusal) -> u64 {
        match refusal {
            Refusal::WrongCredentials => self.wrong_credentials,
            Refusal::Locked => self.locked,
            Refusal::Paced => self.paced,
            Refusal::OverBudget => self.over_budget,
        }
    }

    fn into_entry(mut self) -> Entry {
        self.accounts.sort();
        self.addresses.sort();
        let total: u64 = Refusal::ALL
            .iter()
            .map(|refusal| self.count(*refusal))
            .sum();
        let mut details: Vec<String> = Refusal::ALL
            .iter()
            .filter(|refusal| self.count(**refusal) > 0)
            .map(|refusal| format!("{}: {}", refusal.described(), self.count(*refusal)))
            .collect();
        details.push(format!("last refused: {}", self.last_at));
        details.push(format!("from: {}", some_of(&self.addresses, 20)));
        details.push(format!("accounts: {}", some_of(&self.accounts, 20)));
        Entry {
            at: self.at,
            actor: match self.addresses.as_slice() {
                [one] => one.clone(),
                many => format!("{} addresses", many.len()),
            },
            action: REFUSALS_ACTION.to_owned(),
            target: some_of(&self.accounts, 3),
            outcome: format!("{total} refused in {} minutes", REFUSAL_WINDOW_SECS / 60),
            details,
        }
    }
}

/// One thing to record.
#[derive(Debug, Clone)]
pub struct Record {
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub outcome: Result<(), String>,
    pub details: Vec<String>,
}

impl Record {
    pub fn new(actor: impl Into<String>, action: &'static str, target: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            action,
            target: target.into(),
            outcome: Ok(()),
            details: Vec::new(),
        }
    }

    pub fn outcome<T, E: std::fmt::Display>(mut self, result: &Result<T, E>) -> Self {
        self.outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        self
    }

    pub fn failed(mut self, why: impl Into<String>) -> Self {
        self.outcome = Err(why.into());
        self
    }

    pub fn detail(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.details.push(format!("{name}: {value}"));
        self
    }
}

#[derive(Serialize, Deserialize)]
struct EntryItem {
    pk: String,
    sk: String,
    #[serde(rename = "expiresAt")]
    expires_at: i64,
    #[serde(flatten)]
    entry: Entry,
}

#[derive(Clone, Debug)]
pub struct AuditLog {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl AuditLog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn record(&self, record: Record, at: DateTime<Utc>) -> Result<(), AwsError> {
        let entry = Entry {
            at: timestamp(at),
            actor: record.actor,
            action: record.action.to_owned(),
            target: record.target,
            outcome: record.outcome.err().unwrap_or_else(|| "ok".to_owned()),
            details: record.details,
        };
        let key = Key::audit(
            &at.format("%Y-%m-%d").to_string(),
            format!("{}#{}", entry.at, uuid::Uuid::new_v4().simple()),
        );
        let item = EntryItem {
            pk: key.pk,
            sk: key.sk,
            expires_at: at.timestamp() + RETENTION_DAYS * 86_400,
            entry,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(
                serde_dynamo::to_item(item).expect("an entry serializes"),
            ))
            .send()
            .await
            .map_err(|error| {
                AwsError::from_sdk("recording the action in the activity log", error)
            })?;
        Ok(())
    }

    /// Counts a refused sign-in attempt in the summary of its window.
    pub async fn count_refusal(
        &self,
        refusal: Refusal,
        account: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> Result<(), AwsError> {
        let seconds = at.timestamp();
        let window = DateTime::from_timestamp(seconds - seconds.rem_euclid(REFUSAL_WINDOW_SECS), 0)
            .unwrap_or(at);
        let key = Key::audit(
            &window.format("%Y-%m-%d").to_string(),
            format!("{}#{REFUSALS_KIND}", timestamp(window)),
        );
        let set = |value: &str| AttributeValue::Ss(vec![value.to_owned()]);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .update_expression(
                "SET #at = :window, #last = :now, #action = :action, #kind = :kind, #expires = :expires \
                 ADD #counter :one, #accounts :account, #addresses :address",
            )
            .expression_attribute_names("#at", "at")
            .expression_attribute_names("#last", "lastAt")
            .expression_attribute_names("#action", "action")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#counter", refusal.counter())
            .expression_attribute_names("#accounts", "accounts")
            .expression_attribute_names("#addresses", "addresses")
            .expression_attribute_values(":window", AttributeValue::S(timestamp(window)))
            .expression_attribute_values(":now", AttributeValue::S(timestamp(at)))
            .expression_attribute_values(":action", AttributeValue::S(REFUSALS_ACTION.to_owned()))
            .expression_attribute_values(":kind", AttributeValue::S(REFUSALS_KIND.to_owned()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((seconds + RETENTION_DAYS * 86_400).to_string()),
            )
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":account", set(account))
            .expression_attribute_values(":address", set(address))
            .send()
            .await
            .map_err(|error| {
                AwsError::from_sdk("counting a refused sign-in in the activity log", error)
            })?;
        Ok(())
    }

    /// Up to `limit` entries of the last `days` days that `show` keeps,
    /// newest first. An entry that cannot be read is shown as such rather
    /// than skipped.
    pub async fn recent(
        &self,
        now: DateTime<Utc>,
        days: u64,
        limit: usize,
        show: Show,
    ) -> Result<Vec<Entry>, AwsError> {
        let filter = show.filter();
        let mut entries = Vec::new();
        for back in 0..days {
            let Some(day) = now.checked_sub_days(Days::new(back)) else {
                break;
            };
            let partition = table::audit_partition(&day.format("%Y-%m-%d").to_string());
            let mut query = table::query_partition(&self.client, &self.table, partition)
                .scan_index_forward(false);
            if let Some((expression, values)) = &filter {
                query = query
                    .filter_expression(expression)
                    .expression_attribute_names("#action", "action");
                for (name, value) in values {
                    query = query.expression_attribute_values(name, value.clone());
                }
            }
            let mut items = query.into_paginator().items().send();
            while entries.len() < limit {
                let Some(item) = items.next().await else {
                    break;
                };
                let item =
                    item.map_err(|error| AwsError::from_sdk("reading the activity log", error))?;
                entries.push(entry_of(item));
            }
            if entries.len() >= limit {
                break;
            }
        }
        Ok(entries)
    }
}

/// An entry as the page shows it, from a record or a window's summary.
fn entry_of(item: HashMap<String, AttributeValue>) -> Entry {
    let summary = item
        .get("kind")
        .and_then(|kind| kind.as_s().ok())
        .is_some_and(|kind| kind == REFUSALS_KIND);
    let read = if summary {
        serde_dynamo::from_item::<_, RefusalSummary>(item.clone()).map(RefusalSummary::into_entry)
    } else {
        serde_dynamo::from_item::<_, EntryItem>(item.clone()).map(|item| item.entry)
    };
    match read {
        Ok(entry) => entry,
        Err(error) => Entry {
            at: item
                .get(SORT_KEY)
                .and_then(|sk| sk.as_s().ok())
                .map(|sk| sk.split('#').next().unwrap_or_default().to_owned())
                .unwrap_or_default(),
            actor: String::new(),
            action: "(unreadable entry)".to_owned(),
            target: String::new(),
            outcome: format!("this entry cannot be read: {error}"),
            details: Vec::new(),
        },
    }
}

impl AuditLog {
    /// Records an action with the outcome of `result` (the action's own
    /// error message when it failed) and hands the result back, saying
    /// whether the log could be written.
    pub async fn after<T>(
        &self,
        record: Record,
        result: Result<T, ActionError>,
    ) -> Result<Audited<T>, ActionError> {
        let record = record.outcome(&result);
        let recorded = match self.record(record, Utc::now()).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "an action could not be recorded in the activity log");
                false
            }
        };
        result.map(|value| Audited { value, recorded })
    }
}
