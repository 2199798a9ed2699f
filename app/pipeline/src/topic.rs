//! The SNS topic that emails every subscribed address about new orders.

use std::collections::HashMap;

use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

use crate::aws::{AwsError, AwsErrorKind};
use domain::OrderEmail;
use domain::notification::AttributeValue;

#[derive(Clone, Debug)]
pub struct OrderTopic {
    client: aws_sdk_sns::Client,
    arn: String,
}

impl OrderTopic {
    pub fn new(client: aws_sdk_sns::Client, arn: impl Into<String>) -> Self {
        Self {
            client,
            arn: arn.into(),
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Publishes the email; returns SNS's message id.
    pub async fn publish(&self, email: &OrderEmail) -> Result<String, AwsError> {
        let output = self
            .client
            .publish()
            .topic_arn(&self.arn)
            .subject(&email.subject)
            .message(&email.body)
            .set_message_attributes(Some(attributes(email)))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("publishing the order email", error))?;
        Ok(output.message_id.unwrap_or_default())
    }

    /// Publishes up to [`PUBLISH_BATCH_LIMIT`] emails in one call; one
    /// result an email, in order: SNS accepts or refuses each on its own.
    pub async fn publish_all(&self, emails: &[&OrderEmail]) -> Vec<Result<String, AwsError>> {
        let entries = emails
            .iter()
            .enumerate()
            .map(|(index, email)| {
                PublishBatchRequestEntry::builder()
                    .id(index.to_string())
                    .subject(&email.subject)
                    .message(&email.body)
                    .set_message_attributes(Some(attributes(email)))
                    .build()
                    .expect("id and message are set")
            })
            .collect();
        let output = match self
            .client
            .publish_batch()
            .topic_arn(&self.arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
        {
            Ok(output) => output,
            Err(error) => {
                let error = AwsError::from_sdk("publishing the order emails", error);
                return emails.iter().map(|_| Err(error.clone())).collect();
            }
        };
        let mut results: Vec<Result<String, AwsError>> = emails
            .iter()
            .map(|_| {
                Err(AwsError {
                    action: "publishing the order email".to_owned(),
                    kind: AwsErrorKind::Unavailable,
                    code: None,
                    message: "SNS's answer did not mention it".to_owned(),
                })
            })
            .collect();
        let mut place = |id: Option<&str>, result| {
            if let Some(slot) = id
                .and_then(|id| id.parse::<usize>().ok())
                .and_then(|index| results.get_mut(index))
            {
                *slot = result;
            }
        };
        for published in output.successful() {
            place(
                published.id(),
                Ok(published.message_id().unwrap_or_default().to_owned()),
            );
        }
        for refused in output.failed() {
            let code = refused.code().to_owned();
            place(
                Some(refused.id()),
                Err(AwsError {
                    action: "publishing the order email".to_owned(),
                    kind: if refused.sender_fault() {
                        AwsErrorKind::Rejected
                    } else {
                        AwsErrorKind::Unavailable
                    },
                    message: format!("{code} ({})", refused.message().unwrap_or("no message")),
                    code: Some(code),
                }),
            );
        }
        results
    }
}

/// The most entries one `PublishBatch` takes.
pub const PUBLISH_BATCH_LIMIT: usize = 10;

/// The email's attributes, which subscriptions' filter policies match.
fn attributes(email: &OrderEmail) -> HashMap<String, MessageAttributeValue> {
    email
        .attributes
        .iter()
        .map(|(name, value)| {
            let (data_type, text) = match value {
                AttributeValue::String(text) => ("String", text.clone()),
                AttributeValue::Number(number) => ("Number", number.to_string()),
            };
            let attribute = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(text)
                .build()
                .expect("data type is set");
            ((*name).to_owned(), attribute)
        })
        .collect()
}
