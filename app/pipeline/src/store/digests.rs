//! How many orders went out in digests, one counter item a UTC hour, so the
//! overview can say how much of the last day's mail was gathered.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};

use crate::aws::AwsError;
use crate::table::{DIGEST_COUNT_PREFIX, EXPIRES_AT, Entity, Key, query_partition};

/// Orders and digest emails counted over a span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestFigures {
    pub orders: u64,
    pub digests: u64,
}

#[derive(Clone, Debug)]
pub struct DigestCounts {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// The hour a counter item covers (`2026-11-24T10`).
pub fn hour_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H").to_string()
}

/// Counters are kept two days, then DynamoDB's TTL removes them.
const KEPT: Duration = Duration::days(2);

impl DigestCounts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Counts one digest email naming `orders` orders, sent at `at`.
    pub async fn add(&self, at: DateTime<Utc>, orders: u64) -> Result<(), AwsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::digest_count(&hour_of(at)).to_attributes()))
            .update_expression("ADD orders :orders, digests :one SET #expires = :expires")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":orders", AttributeValue::N(orders.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((at + KEPT).timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("counting a digest email", error))?;
        Ok(())
    }

    /// What went out in digests in the 24 hours before `now` (by whole hours,
    /// the current one included).
    pub async fn last_day(&self, now: DateTime<Utc>) -> Result<DigestFigures, AwsError> {
        let from = format!(
            "{DIGEST_COUNT_PREFIX}{}",
            hour_of(now - Duration::hours(23))
        );
        let to = format!("{DIGEST_COUNT_PREFIX}{}", hour_of(now));
        let output = query_partition(&self.client, &self.table, Entity::Mail.partition_prefix())
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":from", AttributeValue::S(from))
            .expression_attribute_values(":to", AttributeValue::S(to))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading the digest counts", error))?;
        let number = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
            item.get(name)
                .and_then(|value| value.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(output
            .items()
            .iter()
            .fold(DigestFigures::default(), |sum, item| DigestFigures {
                orders: sum.orders + number(item, "orders"),
                digests: sum.digests + number(item, "digests"),
            }))
    }
}
