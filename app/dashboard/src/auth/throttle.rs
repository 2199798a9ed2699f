//! Login throttling: after `MAX_FAILURES` wrong passwords within `WINDOW`,
//! per account and per client address, sign-in is refused until `LOCKOUT`
//! has passed. Counters live in the table (`pk = THROTTLE`), so every Lambda
//! instance sees them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use pipeline::aws::AwsError;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW_SECS: i64 = 15 * 60;
pub const LOCKOUT_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Counter {
    failures: u32,
    window_start: i64,
    locked_until: i64,
}

#[derive(Clone, Debug)]
pub struct Throttle {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn key(subject: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S("THROTTLE".to_owned())),
        ("sk".to_owned(), AttributeValue::S(subject.to_owned())),
    ])
}

impl Throttle {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn counter(&self, subject: &str) -> Result<Counter, AwsError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(subject)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading sign-in attempts", error))?;
        Ok(output
            .item
            .and_then(|item| serde_dynamo::from_item(item).ok())
            .unwrap_or_default())
    }

    /// Until when `subject` may not sign in (Unix seconds), if locked now.
    pub async fn locked_until(&self, subject: &str, now: i64) -> Result<Option<i64>, AwsError> {
        let counter = self.counter(subject).await?;
        Ok((counter.locked_until > now).then_some(counter.locked_until))
    }

    /// Counts a wrong password for `subject`.
    pub async fn failed(&self, subject: &str, now: i64) -> Result<(), AwsError> {
        let mut counter = self.counter(subject).await?;
        if now - counter.window_start > WINDOW_SECS {
            counter = Counter {
                failures: 0,
                window_start: now,
                locked_until: counter.locked_until,
            };
        }
        counter.failures += 1;
        if counter.failures >= MAX_FAILURES {
            counter.locked_until = now + LOCKOUT_SECS;
            counter.failures = 0;
            counter.window_start = now;
        }
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(&counter).expect("a counter serializes");
        item.extend(key(subject));
        // Let DynamoDB's TTL (attribute `expiresAt`) clear old counters.
        item.insert(
            "expiresAt".to_owned(),
            AttributeValue::N((now + WINDOW_SECS + LOCKOUT_SECS).to_string()),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("counting a failed sign-in", error))?;
        Ok(())
    }

    /// Forgets the failures of `subject` after a successful sign-in.
    pub async fn cleared(&self, subject: &str) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(subject)))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("clearing sign-in attempts", error))?;
        Ok(())
    }
}
