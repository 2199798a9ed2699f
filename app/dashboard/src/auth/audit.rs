//! The activity log: every operator and admin action, with who, what, when
//! and the outcome. One partition a UTC day (`pk = AUDIT#<day>`), newest last.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, Utc};
use serde::{Deserialize, Serialize};

use domain::order::timestamp;
use pipeline::aws::AwsError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `ok`, or what went wrong.
    pub outcome: String,
}

#[derive(Serialize, Deserialize)]
struct EntryItem {
    pk: String,
    sk: String,
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

    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        outcome: Result<(), String>,
        at: DateTime<Utc>,
    ) -> Result<(), AwsError> {
        let entry = Entry {
            at: timestamp(at),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.err().unwrap_or_else(|| "ok".to_owned()),
        };
        let item = EntryItem {
            pk: format!("AUDIT#{}", at.format("%Y-%m-%d")),
            sk: format!("{}#{}", entry.at, uuid::Uuid::new_v4().simple()),
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

    /// Up to `limit` entries of the last `days` days, newest first.
    pub async fn recent(
        &self,
        now: DateTime<Utc>,
        days: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, AwsError> {
        let mut entries = Vec::new();
        for back in 0..days {
            let day = now - Days::new(back);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(format!("AUDIT#{}", day.format("%Y-%m-%d"))),
                )
                .scan_index_forward(false)
                .limit(i32::try_from(limit - entries.len()).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("reading the activity log", error))?;
            for item in output.items.unwrap_or_default() {
                if let Ok(item) = serde_dynamo::from_item::<_, EntryItem>(item) {
                    entries.push(item.entry);
                }
            }
            if entries.len() >= limit {
                break;
            }
        }
        Ok(entries)
    }
}
