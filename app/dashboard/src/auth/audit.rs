//! The activity log: sign-ins and every operator and admin action, with who,
//! what, on what, when, the outcome and what the server actually did (counts,
//! the message ids found). One partition a UTC day (`pk = AUDIT#<day>`);
//! entries expire after a year.

use chrono::{DateTime, Days, Utc};
use domain::order::timestamp;
use pipeline::aws::AwsError;
use pipeline::table::{self, Key, SORT_KEY};
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

    /// Up to `limit` entries of the last `days` days, newest first. An entry
    /// that cannot be read is shown as such rather than skipped.
    pub async fn recent(
        &self,
        now: DateTime<Utc>,
        days: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, AwsError> {
        let mut entries = Vec::new();
        for back in 0..days {
            let Some(day) = now.checked_sub_days(Days::new(back)) else {
                break;
            };
            let partition = table::audit_partition(&day.format("%Y-%m-%d").to_string());
            let output = table::query_partition(&self.client, &self.table, partition)
                .scan_index_forward(false)
                .limit(i32::try_from(limit - entries.len()).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("reading the activity log", error))?;
            for item in output.items.unwrap_or_default() {
                entries.push(
                    match serde_dynamo::from_item::<_, EntryItem>(item.clone()) {
                        Ok(item) => item.entry,
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
                    },
                );
            }
            if entries.len() >= limit {
                break;
            }
        }
        Ok(entries)
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
