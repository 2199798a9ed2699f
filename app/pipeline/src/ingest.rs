//! ingest: an SQS batch in, one stored order per message out.
//!
//! - A message that can never become an order (no order id, not JSON, an
//!   invalid order, an id reused for a different order) is sent to the DLQ
//!   by ingest itself with an `error` attribute saying why, then reported
//!   done so SQS deletes it. SQS's own redrive would carry no reason and
//!   would first deliver the message `maxReceiveCount` times for nothing.
//! - So is a message DynamoDB refuses for good (a validation error, an item
//!   over its size limit): `AwsErrorKind::Rejected`.
//! - A message that failed for a passing reason (throttling, a timeout) is
//!   reported as a batch item failure: SQS delivers it again later and moves
//!   it to the DLQ after `maxReceiveCount` tries.
//! - Each message runs on its own: a panic fails that message only.

use std::panic::AssertUnwindSafe;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use futures::{FutureExt, StreamExt, stream};

use crate::aws::Aws;
use crate::aws::AwsErrorKind;
use crate::queue::{DeadLetterQueue, attributes};
use crate::settings::{BadSetting, check_prices_from_env, env, read_env};
use crate::store::products::{CatalogReader, ProductStore};
use crate::store::{Insert, OrderStore, StoreError};
use domain::catalog::Catalog;
use domain::{Order, OrderId, OrderRequest};

/// Every AWS call ingest makes, as IAM names it: its role allows these (and
/// what Lambda's SQS polling needs), a test checks both ways.
pub const AWS_CALLS: &[&str] = &[
    "dynamodb:PutItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "sqs:SendMessage",
];

/// Messages of one batch handled at once.
const CONCURRENCY: usize = 10;

/// Why a message can never become an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Poison(pub String);

/// Why ingest will not store a message: it can never be an order, or it is
/// one at prices the catalog does not give (counted apart).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Poison(Poison),
    Prices(Poison),
}

impl From<Poison> for Refusal {
    fn from(poison: Poison) -> Self {
        Refusal::Poison(poison)
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored(OrderId),
    AlreadyStored(OrderId),
    DeadLettered(String),
    /// Left for SQS to deliver again.
    Retry(String),
}

/// Reads an order out of a queued message, without any I/O.
pub fn read_message(message: &SqsMessage, now: DateTime<Utc>) -> Result<Order, Poison> {
    let id = message
        .message_attributes
        .get(attributes::ORDER_ID)
        .and_then(|attribute| attribute.string_value.as_deref())
        .ok_or_else(|| {
            Poison(format!(
                "message has no {} attribute: it did not come through the order API",
                attributes::ORDER_ID
            ))
        })?;
    let id = OrderId::parse(id)
        .map_err(|error| Poison(format!("{} attribute {id:?} {error}", attributes::ORDER_ID)))?;
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| Poison("message has no body".to_owned()))?;
    let request = OrderRequest::parse(body)
        .map_err(|rejected| Poison(format!("invalid order: {rejected}")))?;
    Ok(Order::accept(
        id,
        received_at(message).unwrap_or(now),
        now,
        request,
    ))
}

/// When the API took the order: its `receivedAt` attribute, else when SQS got it.
fn received_at(message: &SqsMessage) -> Option<DateTime<Utc>> {
    let millis = message
        .message_attributes
        .get(attributes::RECEIVED_AT)
        .and_then(|attribute| attribute.string_value.as_deref())
        .or_else(|| message.attributes.get("SentTimestamp").map(String::as_str))?;
    DateTime::from_timestamp_millis(millis.parse().ok()?)
}

#[derive(Clone, Debug)]
pub struct Ingest {
    orders: OrderStore,
    dead_letters: DeadLetterQueue,
    /// With the price check on (`CHECK_PRICES`), the catalog.
    prices: Option<CatalogReader>,
}

impl Ingest {
    pub fn new(orders: OrderStore, dead_letters: DeadLetterQueue) -> Self {
        Self {
            orders,
            dead_letters,
            prices: None,
        }
    }

    /// Takes only orders whose lines are active SKUs at the catalog's prices.
    pub fn checking_prices(mut self, catalog: ProductStore) -> Self {
        self.prices = Some(CatalogReader::new(catalog));
        self
    }

    /// The function as deployed: table and DLQ from the environment.
    pub fn from_env(aws: &Aws) -> Result<Self, BadSetting> {
        let [table, dead_letter_queue_url] = read_env(env::INGEST)?;
        let ingest = Self::new(
            OrderStore::new(aws.dynamodb(), &table),
            DeadLetterQueue::new(aws.sqs(), dead_letter_queue_url),
        );
        Ok(if check_prices_from_env()? {
            ingest.checking_prices(ProductStore::new(aws.dynamodb(), table))
        } else {
            ingest
        })
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        // One read of the catalog's version for the batch; when it cannot be
        // read, every message is left for SQS to deliver again.
        let catalog = match &self.prices {
            None => Ok(None),
            Some(reader) => reader.current().await.map(Some),
        };
        let catalog = match catalog {
            Ok(catalog) => catalog,
            Err(error) => {
                tracing::error!(%error, "could not read the catalog; the batch is left for redelivery");
                let mut response = SqsBatchResponse::default();
                response.set_failures(
                    event
                        .records
                        .into_iter()
                        .map(|message| message.message_id.unwrap_or_default()),
                );
                return response;
            }
        };
        let catalog = catalog.as_deref();
        let outcomes: Vec<(String, Outcome)> = stream::iter(event.records)
            .map(|message| async move {
                let id = message.message_id.clone().unwrap_or_default();
                (id, self.process(&message, catalog).await)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        response.set_failures(
            outcomes
                .into_iter()
                .filter(|(_, outcome)| matches!(outcome, Outcome::Retry(_)))
                .map(|(id, _)| id),
        );
        response
    }

    /// Handles one message (against `catalog` when prices are checked); a
    /// panic inside is caught and dead-letters it.
    pub async fn process(&self, message: &SqsMessage, catalog: Option<&Catalog>) -> Outcome {
        let message_id = message.message_id.as_deref().unwrap_or("(no id)");
        let attempt = AssertUnwindSafe(self.store(message, catalog))
            .catch_unwind()
            .await;
        let outcome = match attempt {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(Refusal::Prices(poison))) => {
                let outcome = self.dead_letter(message, &poison.0).await;
                if let (Outcome::DeadLettered(_), Some(reader)) = (&outcome, &self.prices) {
                    let day = Utc::now().format("%Y-%m-%d").to_string();
                    if let Err(error) = reader.store().count_refused(&day).await {
                        tracing::warn!(%error, "could not count an order refused for its prices");
                    }
                }
                outcome
            }
            Ok(Err(Refusal::Poison(poison))) => self.dead_letter(message, &poison.0).await,
            Err(panic) => {
                let what = crate::panic_message(panic.as_ref());
                self.dead_letter(message, &format!("ingest panicked: {what}"))
                    .await
            }
        };
        match &outcome {
            Outcome::Stored(id) => tracing::info!(%message_id, order_id = %id, "order stored"),
            Outcome::AlreadyStored(id) => {
                tracing::info!(%message_id, order_id = %id, "order was already stored")
            }
            Outcome::DeadLettered(reason) => {
                tracing::warn!(%message_id, %reason, "message sent to the dead-letter queue")
            }
            Outcome::Retry(error) => {
                tracing::error!(%message_id, %error, "message left for redelivery")
            }
        }
        outcome
    }

    async fn store(
        &self,
        message: &SqsMessage,
        catalog: Option<&Catalog>,
    ) -> Result<Outcome, Refusal> {
        let order = read_message(message, Utc::now())?;
        if let Some(Err(refusal)) = catalog.map(|catalog| catalog.check(&order)) {
            // A redelivery of an order stored before the catalog changed
            // stays the order it is.
            return match self.orders.get(&order.id).await {
                Ok(Some(stored)) if stored.request_hash == order.request_hash => {
                    Ok(Outcome::AlreadyStored(order.id))
                }
                Ok(_) => Err(Refusal::Prices(Poison(refusal.to_string()))),
                Err(error) => Ok(Outcome::Retry(error.to_string())),
            };
        }
        Ok(match self.orders.insert(&order).await {
            Ok(Insert::Created) => Outcome::Stored(order.id),
            Ok(Insert::AlreadyStored) => Outcome::AlreadyStored(order.id),
            Ok(Insert::IdTaken) => {
                return Err(Poison(format!(
                    "order id {} is already used by a different order: the client reused its Idempotency-Key",
                    order.id
                ))
                .into());
            }
            // DynamoDB refused this very item (a validation error, over the
            // size limit): it will refuse it every time.
            Err(StoreError::Aws(error)) if error.kind == AwsErrorKind::Rejected => {
                return Err(Poison(format!(
                    "DynamoDB refused to store order {} and always will: {error}",
                    order.id
                ))
                .into());
            }
            // Throttling, timeouts, an outage, or a deployment to fix: later.
            Err(error) => Outcome::Retry(error.to_string()),
        })
    }

    async fn dead_letter(&self, message: &SqsMessage, reason: &str) -> Outcome {
        match self.dead_letters.send(message, reason, Utc::now()).await {
            Ok(()) => Outcome::DeadLettered(reason.to_owned()),
            Err(error) => Outcome::Retry(format!("{reason}; and then {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::sqs::SqsMessageAttribute;

    use super::*;

    fn attribute(value: &str) -> SqsMessageAttribute {
        let mut attribute = SqsMessageAttribute::default();
        attribute.string_value = Some(value.to_owned());
        attribute.data_type = Some("String".to_owned());
        attribute
    }

    fn message(body: &str, id: Option<&str>) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some("m-1".to_owned());
        message.body = Some(body.to_owned());
        if let Some(id) = id {
            message
                .message_attributes
                .insert(attributes::ORDER_ID.to_owned(), attribute(id));
        }
        message.message_attributes.insert(
            attributes::RECEIVED_AT.to_owned(),
            attribute("1795000000000"),
        );
        message
    }

    const BODY: &str = r#"{"customer":{"name":"Ana","email":"ana@example.com"},"items":[{"sku":"GC-500","name":"Glass cleaner","quantity":2,"unitPrice":1299}],"currency":"USD"}"#;

    #[test]
    fn a_good_message_becomes_an_order() {
        let order = read_message(&message(BODY, Some("order-0001")), Utc::now()).unwrap();
        assert_eq!(order.id.as_str(), "order-0001");
        assert_eq!(order.total.get(), 2598);
        assert_eq!(order.created_at.timestamp_millis(), 1_795_000_000_000);
    }

    #[test]
    fn received_time_falls_back_to_when_sqs_got_it() {
        let mut message = message(BODY, Some("order-0001"));
        message.message_attributes.remove(attributes::RECEIVED_AT);
        message
            .attributes
            .insert("SentTimestamp".to_owned(), "1795000000123".to_owned());
        let order = read_message(&message, Utc::now()).unwrap();
        assert_eq!(order.created_at.timestamp_millis(), 1_795_000_000_123);
    }

    #[test]
    fn poison_says_why() {
        let no_id = read_message(&message(BODY, None), Utc::now()).unwrap_err();
        assert!(no_id.0.contains("no orderId attribute"), "{no_id}");
        let bad_id = read_message(&message(BODY, Some("x")), Utc::now()).unwrap_err();
        assert!(bad_id.0.contains("orderId attribute \"x\""), "{bad_id}");
        let not_json = read_message(&message("hello", Some("order-0001")), Utc::now()).unwrap_err();
        assert!(
            not_json
                .0
                .starts_with("invalid order: body is not valid JSON"),
            "{not_json}"
        );
        let invalid = read_message(
            &message(&BODY.replace("USD", "XXX"), Some("order-0001")),
            Utc::now(),
        )
        .unwrap_err();
        assert!(invalid.0.contains("currency: must be one of"), "{invalid}");
    }
}
