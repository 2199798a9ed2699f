//! notify: DynamoDB stream records in, one order email per new order out.
//!
//! Two kinds of INSERT count: a new order, and an operator's request to send
//! an order's email again (`NOTIFY#<orderId>`, written by the dashboard).
//! For a batch, notify reads in one strongly consistent `BatchGetItem`
//! which of its orders already say they were notified, and skips those, so
//! a retried batch does not email twice; then it publishes the other orders'
//! emails in one `PublishBatch` and records each SNS message id on its
//! order with a conditional update.
//! A failure reports the earliest failed record, so the stream resumes from
//! there and no record is skipped. docs/pipeline.md says why this is one call
//! an order and two a batch, and where the one duplicate window is.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::Utc;
use domain::{Notified, Order, OrderEmail, OrderId};
use futures::FutureExt;
use serde::Deserialize;

use crate::aws::Aws;
use crate::settings::{MissingSetting, env, read_env};
use crate::store::{OrderItem, OrderStore, StoreError};
use crate::table::{Entity, entity_of, order_id_of};
use crate::topic::{OrderTopic, PUBLISH_BATCH_LIMIT};

/// Every AWS call notify makes, as IAM names it: its role allows these (and
/// what Lambda's stream polling needs), a test checks both ways.
pub const AWS_CALLS: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "sns:Publish",
    "dynamodb:UpdateItem",
];

/// The most keys one `BatchGetItem` takes.
const BATCH_GET_LIMIT: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not a new order or a request (a modification, another entity).
    Ignored,
    Notified {
        order_id: OrderId,
        message_id: String,
    },
    AlreadyNotified(OrderId),
    /// A request to mail an order that does not exist.
    NoSuchOrder(OrderId),
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

/// What one stream record asks of notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    Nothing,
    /// A new order: mail it (unless it already was).
    NewOrder(Box<Order>),
    /// Mail this order again, if it never was (an operator's request).
    Resend(OrderId),
}

/// The new order a stream record announces, if it announces one.
pub fn new_order(record: &EventRecord) -> Result<Option<Order>, StoreError> {
    match work_of(record)? {
        Work::NewOrder(order) => Ok(Some(*order)),
        _ => Ok(None),
    }
}

/// What a stream record asks for, without any I/O.
pub fn work_of(record: &EventRecord) -> Result<Work, StoreError> {
    if record.event_name != "INSERT" {
        return Ok(Work::Nothing);
    }
    #[derive(Deserialize)]
    struct Keys {
        pk: String,
        sk: String,
    }
    let Ok(keys) = serde_dynamo::from_item::<_, Keys>(record.change.new_image.clone()) else {
        return Ok(Work::Nothing);
    };
    match entity_of(&keys.pk, &keys.sk) {
        Some(Entity::Order) => Ok(OrderItem::decode(record.change.new_image.clone())?
            .map_or(Work::Nothing, |order| Work::NewOrder(Box::new(order)))),
        Some(Entity::NotifyRequest) => {
            let id = order_id_of(&keys.pk).unwrap_or_default();
            OrderId::parse(id)
                .map(Work::Resend)
                .map_err(|error| StoreError::Corrupt {
                    key: keys.pk.clone(),
                    reason: error.to_string(),
                })
        }
        _ => Ok(Work::Nothing),
    }
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
        let results = match AssertUnwindSafe(self.batch(&event.records))
            .catch_unwind()
            .await
        {
            Ok(results) => results,
            Err(panic) => {
                let error = NotifyError::Panicked(crate::panic_message(panic.as_ref()));
                tracing::error!(%error, "notify panicked; the batch will be retried");
                vec![Err(error)]
            }
        };
        let mut response = DynamoDbEventResponse::default();
        if let Some(index) = results.iter().position(Result::is_err) {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = event
                .records
                .get(index)
                .or(event.records.first())
                .and_then(|record| record.change.sequence_number.clone());
            response.batch_item_failures.push(failure);
        }
        response
    }

    /// Works through a batch; one result a record, in the records' order
    /// (or one error for the whole batch, at its first record).
    pub async fn batch(&self, records: &[EventRecord]) -> Vec<Result<Outcome, NotifyError>> {
        let mut work: Vec<Result<Work, NotifyError>> = records
            .iter()
            .map(|record| work_of(record).map_err(NotifyError::from))
            .collect();
        // Requests to mail again name only the order: read it.
        for item in &mut work {
            if let Ok(Work::Resend(id)) = item {
                *item = match self.orders.get(id).await {
                    Ok(Some(order)) => Ok(Work::NewOrder(Box::new(order))),
                    Ok(None) => {
                        tracing::warn!(order_id = %id, "asked to mail an order that does not exist");
                        Ok(Work::Nothing)
                    }
                    Err(error) => Err(error.into()),
                };
            }
        }
        let ids: Vec<OrderId> = work
            .iter()
            .filter_map(|item| match item {
                Ok(Work::NewOrder(order)) if order.notified.is_none() => Some(order.id.clone()),
                _ => None,
            })
            .collect();
        let mut already: HashSet<OrderId> = HashSet::new();
        for chunk in ids.chunks(BATCH_GET_LIMIT) {
            match self.orders.notified_among(chunk).await {
                Ok(found) => already.extend(found),
                Err(error) => {
                    let error = NotifyError::from(error);
                    tracing::error!(%error, "reading the batch's orders failed; the batch will be retried");
                    // Reported at the first record: the whole batch comes again.
                    return vec![Err(error)];
                }
            }
        }
        let mut results: Vec<Option<Result<Outcome, NotifyError>>> = Vec::new();
        let mut to_mail: Vec<Mail> = Vec::new();
        let mut mailing: HashSet<OrderId> = HashSet::new();
        for (index, item) in work.into_iter().enumerate() {
            results.push(match item {
                Err(error) => Some(Err(error)),
                Ok(Work::Nothing | Work::Resend(_)) => Some(Ok(Outcome::Ignored)),
                // Notified before, or twice in this batch (an order and a
                // request to mail it again): one email.
                Ok(Work::NewOrder(order))
                    if order.notified.is_some()
                        || already.contains(&order.id)
                        || mailing.contains(&order.id) =>
                {
                    tracing::info!(order_id = %order.id, "order was already notified");
                    Some(Ok(Outcome::AlreadyNotified(order.id)))
                }
                Ok(Work::NewOrder(order)) => {
                    mailing.insert(order.id.clone());
                    let email = OrderEmail::for_order(&order);
                    to_mail.push(Mail {
                        record: index,
                        order,
                        email,
                    });
                    None
                }
            });
        }
        for group in publish_groups(&to_mail) {
            let mailed = AssertUnwindSafe(self.mail_all(group))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let what = crate::panic_message(panic.as_ref());
                    group
                        .iter()
                        .map(|_| Err(NotifyError::Panicked(what.clone())))
                        .collect()
                });
            for (mail, result) in group.iter().zip(mailed) {
                match &result {
                    Ok(Outcome::Notified {
                        order_id,
                        message_id,
                    }) => tracing::info!(%order_id, %message_id, "order email published"),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(order_id = %mail.order.id, %error, "the order email failed; the record will be retried")
                    }
                }
                results[mail.record] = Some(result);
            }
        }
        results
            .into_iter()
            .map(|result| result.expect("every record has its result"))
            .collect()
    }

    /// Publishes the emails in one call, then records each on its order;
    /// one result an email, in order.
    async fn mail_all(&self, group: &[Mail]) -> Vec<Result<Outcome, NotifyError>> {
        let emails: Vec<&OrderEmail> = group.iter().map(|mail| &mail.email).collect();
        let published = self.topic.publish_all(&emails).await;
        let now = Utc::now();
        let marks = group
            .iter()
            .zip(published)
            .map(|(mail, published)| async move {
                let order_id = mail.order.id.clone();
                let notified = Notified {
                    at: now,
                    message_id: published?,
                };
                Ok(
                    match self.orders.mark_notified(&mail.order, &notified).await? {
                        true => Outcome::Notified {
                            order_id,
                            message_id: notified.message_id,
                        },
                        false => Outcome::AlreadyNotified(order_id),
                    },
                )
            });
        futures::future::join_all(marks).await
    }
}

/// An order to email, and which record of the batch asked for it.
struct Mail {
    record: usize,
    order: Box<Order>,
    email: OrderEmail,
}

/// SNS takes at most ten emails and 256 KiB a `PublishBatch`: groups of
/// emails, in order, that fit.
fn publish_groups(mails: &[Mail]) -> Vec<&[Mail]> {
    /// Below SNS's 262,144 bytes, leaving room for subjects and attributes.
    const PAYLOAD_LIMIT: usize = 200 * 1024;
    let mut groups = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (index, mail) in mails.iter().enumerate() {
        let size = mail.email.body.len() + mail.email.subject.len() + 200;
        if index > start && (index - start == PUBLISH_BATCH_LIMIT || bytes + size > PAYLOAD_LIMIT) {
            groups.push(&mails[start..index]);
            start = index;
            bytes = 0;
        }
        bytes += size;
    }
    if start < mails.len() {
        groups.push(&mails[start..]);
    }
    groups
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
            "orderMonth": {"S": "2026-11"}, "status": {"S": "stored"}, "awaitingEmail": {"S": "yes"},
            "customer": {"M": {"name": {"S": "Ana"}, "email": {"S": "ana@example.com"}}},
            "customerEmail": {"S": "ana@example.com"}, "emailDomain": {"S": "example.com"},
            "idInitial": {"S": "o"}, "idKey": {"S": "order-0001"}, "nameInitial": {"S": "a"}, "nameKey": {"S": "ana#2026-11-24T10:00:00.000Z"},
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
    fn requests_to_mail_again_name_their_order() {
        let request =
            json!({"pk": {"S": "NOTIFY#order-0001"}, "sk": {"S": "2026-11-24T10:00:00.000Z"}});
        assert_eq!(
            work_of(&record("INSERT", request)).unwrap(),
            Work::Resend(OrderId::parse("order-0001").unwrap())
        );
    }

    #[test]
    fn modifications_and_other_entities_are_ignored() {
        assert_eq!(new_order(&record("MODIFY", order_image())).unwrap(), None);
        let user = json!({"pk": {"S": "USER"}, "sk": {"S": "USER#a@example.com"}});
        assert_eq!(work_of(&record("INSERT", user)).unwrap(), Work::Nothing);
    }

    fn mails(body_bytes: &[usize]) -> Vec<Mail> {
        let order = new_order(&record("INSERT", order_image()))
            .unwrap()
            .unwrap();
        body_bytes
            .iter()
            .enumerate()
            .map(|(record, bytes)| {
                let mut email = OrderEmail::for_order(&order);
                email.body = "x".repeat(*bytes);
                Mail {
                    record,
                    order: Box::new(order.clone()),
                    email,
                }
            })
            .collect()
    }

    fn group_sizes(mails: &[Mail]) -> Vec<usize> {
        publish_groups(mails)
            .iter()
            .map(|group| group.len())
            .collect()
    }

    #[test]
    fn a_publish_batch_takes_ten_emails_at_most() {
        assert_eq!(group_sizes(&mails(&[500; 25])), vec![10, 10, 5]);
        assert!(group_sizes(&mails(&[])).is_empty());
    }

    #[test]
    fn a_publish_batch_stays_under_snss_payload_limit() {
        // Three emails of 90 KB: two fit under 200 KiB, the third starts a group.
        assert_eq!(group_sizes(&mails(&[90_000; 3])), vec![2, 1]);
        // An email bigger than the limit still goes, alone.
        assert_eq!(group_sizes(&mails(&[300_000, 500])), vec![1, 1]);
        let groups = mails(&[100, 200_000, 100]);
        let order: Vec<usize> = publish_groups(&groups)
            .iter()
            .flat_map(|group| group.iter().map(|mail| mail.record))
            .collect();
        assert_eq!(order, vec![0, 1, 2], "the records' order is kept");
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
