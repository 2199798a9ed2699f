//! The order queue and its dead-letter queue.
//!
//! A queued order is the raw request body plus two message attributes: the
//! order id and the time the API received it. API Gateway's integration and
//! the local API write exactly these.

use aws_lambda_events::sqs::SqsMessage;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::{DateTime, Utc};

use crate::aws::AwsError;
use domain::OrderId;
use domain::order::timestamp;

/// Message attribute names, shared with `infra/` (API Gateway's request template).
pub mod attributes {
    pub const ORDER_ID: &str = "orderId";
    /// Milliseconds since the epoch, when the API accepted the request.
    pub const RECEIVED_AT: &str = "receivedAt";
    /// Set on a dead letter: why the pipeline gave up on it.
    pub const ERROR: &str = "error";
    /// Set on a dead letter: when it was sent there.
    pub const FAILED_AT: &str = "failedAt";
    /// Set on a dead letter: how many times the pipeline received it.
    pub const ATTEMPTS: &str = "attempts";
    /// What the pipeline sets on a dead letter (never copied from the message).
    pub const DEAD_LETTER: [&str; 3] = [ERROR, FAILED_AT, ATTEMPTS];
    /// SQS allows ten attributes; a dead letter needs three for its reason.
    pub const MAX_KEPT: usize = 7;
}

fn string_attribute(value: impl Into<String>) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type is set")
}

fn number_attribute(value: i64) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value.to_string())
        .build()
        .expect("data type is set")
}

/// The queue the API puts accepted orders on.
#[derive(Clone, Debug)]
pub struct OrderQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl OrderQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Queues an accepted request body; returns SQS's message id.
    pub async fn enqueue(
        &self,
        id: &OrderId,
        received_at: DateTime<Utc>,
        body: &str,
    ) -> Result<String, AwsError> {
        let output = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes(attributes::ORDER_ID, string_attribute(id.as_str()))
            .message_attributes(
                attributes::RECEIVED_AT,
                number_attribute(received_at.timestamp_millis()),
            )
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("queueing order {id}"), error))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// Where messages go that can never become orders, with the reason attached.
#[derive(Clone, Debug)]
pub struct DeadLetterQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl DeadLetterQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Sends a copy of `message` (body and attributes) with the reason it failed.
    pub async fn send(
        &self,
        message: &SqsMessage,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), AwsError> {
        let mut kept: Vec<(String, MessageAttributeValue)> = message
            .message_attributes
            .iter()
            .filter(|(name, _)| !attributes::DEAD_LETTER.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.clone(), copy_attribute(value)?)))
            .collect();
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        kept.truncate(attributes::MAX_KEPT);
        let message_id = message.message_id.as_deref().unwrap_or("(no id)");
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(message.body.clone().unwrap_or_default())
            .set_message_attributes(Some(kept.into_iter().collect()))
            .message_attributes(attributes::ERROR, string_attribute(truncate(reason, 1024)))
            .message_attributes(attributes::FAILED_AT, string_attribute(timestamp(at)))
            .message_attributes(
                attributes::ATTEMPTS,
                number_attribute(
                    message
                        .attributes
                        .get("ApproximateReceiveCount")
                        .and_then(|count| count.parse().ok())
                        .unwrap_or(1),
                ),
            )
            .send()
            .await
            .map_err(|error| {
                AwsError::from_sdk(format!("dead-lettering message {message_id}"), error)
            })?;
        Ok(())
    }
}

fn copy_attribute(
    value: &aws_lambda_events::sqs::SqsMessageAttribute,
) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .set_data_type(value.data_type.clone())
        .set_string_value(value.string_value.clone())
        .set_binary_value(
            value
                .binary_value
                .as_ref()
                .map(|data| Blob::new(data.0.clone())),
        )
        .build()
        .ok()
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
