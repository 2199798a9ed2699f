//! notify: DynamoDB stream records in, one order email per new order out.
//!
//! Only INSERT records of order items count. Before publishing, notify reads
//! the order (strongly consistent) and skips it when it already says it was
//! notified, so a retried batch does not email twice; after publishing it
//! records the SNS message id on the order with a conditional update.
//! A failure reports the earliest failed record, so the stream resumes from
//! there and no record is skipped.

use std::panic::AssertUnwindSafe;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::Utc;
use futures::{FutureExt, StreamExt, stream};

use crate::aws::Aws;
use crate::settings::{MissingSetting, env, read_env};
use crate::store::{OrderItem, OrderStore, StoreError};
use crate::topic::OrderTopic;
use domain::{Notified, Order, OrderEmail, OrderId};

/// Every AWS call notify makes, as IAM names it: its role allows these (and
/// what Lambda's stream polling needs), a test checks both ways.
pub const AWS_CALLS: &[&str] = &["dynamodb:GetItem", "sns:Publish", "dynamodb:UpdateItem"];

/// Records of one batch handled at once.
const CONCURRENCY: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not a new order (a modification, a removal, another entity).
    Ignored,
    Notified {
        order_id: OrderId,
        message_id: String,
    },
    AlreadyNotified(OrderId),
    /// The order is gone from the table; nothing to tell.
    Vanished(OrderId),
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] crate::aws::AwsError),
    #[error("notify panicked: {0}")]
    Panicked(String),
}

/// The new order a stream record announces, if it announces one.
pub fn new_order(record: &EventRecord) -> Result<Option<Order>, StoreError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    OrderItem::decode(record.change.new_image.clone())
}

#[derive(Clone, Debug)]
pub struct Notify {
    orders: OrderStore,
    topic: OrderTopic,
}

impl Notify {
    pub fn new(orders: OrderStore, topic: OrderTopic) -> Self {
        Self { orders, topic }
    }

    /// The function as deployed: table and topic from the environment.
    pub fn from_env(aws: &Aws) -> Result<Self, MissingSetting> {
        let [table, topic_arn] = read_env(env::NOTIFY)?;
        Ok(Self::new(
            OrderStore::new(aws.dynamodb(), table),
            OrderTopic::new(aws.sns(), topic_arn),
        ))
    }

    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        // `buffered` keeps the records' order, so the first failure is the earliest.
        let results: Vec<(Option<String>, Result<Outcome, NotifyError>)> =
            stream::iter(event.records)
                .map(|record| async move {
                    let sequence_number = record.change.sequence_number.clone();
                    (sequence_number, self.process(&record).await)
                })
                .buffered(CONCURRENCY)
                .collect()
                .await;
        let mut response = DynamoDbEventResponse::default();
        if let Some((sequence_number, _)) = results.into_iter().find(|(_, result)| result.is_err())
        {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence_number;
            response.batch_item_failures.push(failure);
        }
        response
    }

    pub async fn process(&self, record: &EventRecord) -> Result<Outcome, NotifyError> {
        let sequence_number = record.change.sequence_number.as_deref().unwrap_or("(none)");
        let result = match AssertUnwindSafe(self.notify(record)).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => Err(NotifyError::Panicked(crate::panic_message(panic.as_ref()))),
        };
        match &result {
            Ok(Outcome::Ignored) => {}
            Ok(Outcome::Notified {
                order_id,
                message_id,
            }) => {
                tracing::info!(%order_id, %message_id, "order email published")
            }
            Ok(Outcome::AlreadyNotified(order_id)) => {
                tracing::info!(%order_id, "order was already notified")
            }
            Ok(Outcome::Vanished(order_id)) => {
                tracing::warn!(%order_id, "order no longer in the table; not notified")
            }
            Err(error) => {
                tracing::error!(%sequence_number, %error, "stream record failed; it will be retried")
            }
        }
        result
    }

    async fn notify(&self, record: &EventRecord) -> Result<Outcome, NotifyError> {
        let Some(order) = new_order(record)? else {
            return Ok(Outcome::Ignored);
        };
        match self.orders.get(&order.id).await? {
            None => return Ok(Outcome::Vanished(order.id)),
            Some(current) if current.notified.is_some() => {
                return Ok(Outcome::AlreadyNotified(order.id));
            }
            Some(_) => {}
        }
        let message_id = self.topic.publish(&OrderEmail::for_order(&order)).await?;
        let notified = Notified {
            at: Utc::now(),
            message_id: message_id.clone(),
        };
        if self.orders.mark_notified(&order, &notified).await? {
            Ok(Outcome::Notified {
                order_id: order.id,
                message_id,
            })
        } else {
            Ok(Outcome::AlreadyNotified(order.id))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(event_name: &str, image: serde_json::Value) -> EventRecord {
        serde_json::from_value(json!({
            "awsRegion": "us-east-1",
            "eventID": "1",
            "eventName": event_name,
            "eventSource": "aws:dynamodb",
            "dynamodb": {"NewImage": image, "SequenceNumber": "100", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}
        }))
        .unwrap()
    }

    fn order_image() -> serde_json::Value {
        json!({
            "pk": {"S": "ORDER#order-0001"}, "sk": {"S": "ORDER"},
            "orderId": {"S": "order-0001"}, "createdAt": {"S": "2026-11-24T10:00:00.000Z"}, "storedAt": {"S": "2026-11-24T10:00:00.050Z"},
            "orderDay": {"S": "2026-11-24"}, "status": {"S": "stored"}, "statusDay": {"S": "stored#2026-11-24"},
            "customer": {"M": {"name": {"S": "Ana"}, "email": {"S": "ana@example.com"}}},
            "customerEmail": {"S": "ana@example.com"},
            "items": {"L": [{"M": {"sku": {"S": "GC-500"}, "name": {"S": "Glass cleaner"}, "quantity": {"N": "2"}, "unitPrice": {"N": "1299"}}}]},
            "currency": {"S": "USD"}, "total": {"N": "2598"}, "requestHash": {"S": "abc"}
        })
    }

    #[test]
    fn inserts_of_orders_are_new_orders() {
        let order = new_order(&record("INSERT", order_image()))
            .unwrap()
            .unwrap();
        assert_eq!(order.id.as_str(), "order-0001");
        assert_eq!(order.formatted_total(), "USD 25.98");
    }

    #[test]
    fn modifications_and_other_entities_are_ignored() {
        assert_eq!(new_order(&record("MODIFY", order_image())).unwrap(), None);
        let user = json!({"pk": {"S": "USER#a@example.com"}, "sk": {"S": "PROFILE"}});
        assert_eq!(new_order(&record("INSERT", user)).unwrap(), None);
    }

    #[test]
    fn a_broken_order_image_is_an_error() {
        let mut image = order_image();
        image["total"] = json!({"S": "lots"});
        assert!(matches!(
            new_order(&record("INSERT", image)),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
