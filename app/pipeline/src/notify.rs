//! notify: DynamoDB stream records in; every new order in exactly one email
//! out, its own or a digest.
//!
//! Two kinds of INSERT count: a new order, and an operator's request to send
//! an order's email again (`NOTIFY#<orderId>`, written by the dashboard).
//! For a batch, notify reads in one strongly consistent `BatchGetItem`
//! which of its orders already say they were notified, and skips those, so
//! a retried batch does not email twice. Then it books slots on the order
//! topic's schedule ([`crate::email_rate`]): when slots for one email an
//! order start within a second, each order gets its own; otherwise the
//! batch's orders go out as digests, one a currency, which wait for their
//! slots. Each order then records the SNS message id that covered it with a
//! conditional update.
//! A failure reports the earliest failed record, so the stream resumes from
//! there and no record is skipped. docs/pipeline.md says why the rate holds
//! with many publishers, and where the one duplicate window is.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::digest::{DIGEST_BODY_LIMIT, Digest, DigestContext, digests};
use domain::{Notified, Order, OrderEmail, OrderId};
use futures::{FutureExt, StreamExt};
use serde::Deserialize;

use crate::aws::{Aws, AwsError};
use crate::email_rate::EmailSchedule;
use crate::settings::{
    BadSetting, email_rate_from_env, env, optional_env, read_env, zone_from_env,
};
use crate::store::{OrderItem, OrderStore, StoreError};
use crate::table::{Entity, entity_of, order_id_of};
use crate::topic::{OrderTopic, booked_up};

/// Orders get an email each while slots for all of them start this soon.
pub const OWN_EMAILS_WITHIN: Duration = Duration::from_secs(1);
/// A digest waits at most this long for its slot; with the schedule fuller
/// still, the batch fails and the stream hands it over again.
pub const DIGEST_WITHIN: Duration = Duration::from_secs(20);
/// Order marks written at once: as many as a batch of own emails, so a
/// digest of 1,000 orders does not crowd the table's other callers (moto
/// serialises every DynamoDB request; a fresh-clone run with 32 starved the
/// other tests' calls beside the fault burst).
const MARKS_AT_ONCE: usize = 10;

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

/// Where a digest points: the dashboard's orders of the digest's days.
#[derive(Clone, Debug)]
pub struct DigestLink {
    /// The dashboard's address (`https://…`), if known.
    pub dashboard_url: Option<String>,
    /// The shop's time zone, in which the dashboard counts days.
    pub zone: Tz,
}

impl DigestLink {
    /// The orders page filtered to the shop days from `first` to `last`.
    pub fn orders_between(&self, first: DateTime<Utc>, last: DateTime<Utc>) -> Option<String> {
        let base = self.dashboard_url.as_deref()?.trim_end_matches('/');
        let day = |at: DateTime<Utc>| at.with_timezone(&self.zone).date_naive();
        Some(format!(
            "{base}/orders?from={}&to={}",
            day(first),
            day(last)
        ))
    }
}

#[derive(Clone, Debug)]
pub struct Notify {
    orders: OrderStore,
    topic: OrderTopic,
    link: DigestLink,
}

impl Notify {
    pub fn new(orders: OrderStore, topic: OrderTopic, link: DigestLink) -> Self {
        Self {
            orders,
            topic,
            link,
        }
    }

    /// The function as deployed: table, topic and rate from the environment.
    pub fn from_env(aws: &Aws) -> Result<Self, BadSetting> {
        let [table, topic_arn] = read_env(env::NOTIFY)?;
        let dynamodb = aws.dynamodb();
        let schedule = EmailSchedule::new(dynamodb.clone(), &table, email_rate_from_env()?);
        Ok(Self::new(
            OrderStore::new(dynamodb, table),
            OrderTopic::new(aws.sns(), topic_arn, schedule),
            DigestLink {
                dashboard_url: optional_env(env::DASHBOARD_URL),
                zone: zone_from_env()?,
            },
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

    /// Works through a batch; one result a record, in the records' order,
    /// or fewer: when reading the orders fails, the results end with that
    /// error at the first record not read (which `handle` reports, so the
    /// stream sends it and all after it again).
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
                    tracing::error!(%error, "reading the batch's orders failed; the records from the first unread order on will be retried");
                    // The records before the first unread order are worked
                    // through now, so that a slow table still moves the
                    // checkpoint on instead of retrying the whole batch.
                    let unread = &chunk[0];
                    let cut = work
                        .iter()
                        .position(
                            |item| matches!(item, Ok(Work::NewOrder(order)) if order.id == *unread),
                        )
                        .unwrap_or(0);
                    work.truncate(cut);
                    work.push(Err(error));
                    break;
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
                    to_mail.push(Mail {
                        record: index,
                        order,
                    });
                    None
                }
            });
        }
        if !to_mail.is_empty() {
            let mailed = AssertUnwindSafe(self.mail_all(&to_mail))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let what = crate::panic_message(panic.as_ref());
                    to_mail
                        .iter()
                        .map(|_| Err(NotifyError::Panicked(what.clone())))
                        .collect()
                });
            for (mail, result) in to_mail.iter().zip(mailed) {
                if let Err(error) = &result {
                    tracing::error!(order_id = %mail.order.id, %error, "the order email failed; the record will be retried");
                }
                results[mail.record] = Some(result);
            }
        }
        results
            .into_iter()
            .map(|result| result.expect("every record has its result"))
            .collect()
    }

    /// Mails every order once: its own email when the schedule has room for
    /// one each within [`OWN_EMAILS_WITHIN`], digests (each waiting up to
    /// [`DIGEST_WITHIN`] for its slot) otherwise, from one read of the
    /// schedule. One result an order, in order.
    async fn mail_all(&self, mails: &[Mail]) -> Vec<Result<Outcome, NotifyError>> {
        let own: Vec<OrderEmail> = mails
            .iter()
            .map(|mail| OrderEmail::for_order(&mail.order))
            .collect();
        let orders: Vec<&Order> = mails.iter().map(|mail| &*mail.order).collect();
        let first = orders
            .iter()
            .map(|order| order.created_at)
            .min()
            .unwrap_or_default();
        let last = orders
            .iter()
            .map(|order| order.created_at)
            .max()
            .unwrap_or_default();
        let context = DigestContext {
            emails_per_second: self.topic.rate().per_second(),
            link: self.link.orders_between(first, last),
        };
        let digests = digests(&orders, &context, DIGEST_BODY_LIMIT);
        let own_refs: Vec<&OrderEmail> = own.iter().collect();
        let digest_refs: Vec<&OrderEmail> = digests.iter().map(|digest| &digest.email).collect();
        // The choices, in order: index OWN_EMAILS first, then the digests.
        const OWN_EMAILS: usize = 0;
        let published = self
            .topic
            .publish_first(&[
                (&own_refs, OWN_EMAILS_WITHIN),
                (&digest_refs, DIGEST_WITHIN),
            ])
            .await;
        let all_failed =
            |error: AwsError| mails.iter().map(|_| Err(error.clone().into())).collect();
        match published {
            Err(error) => all_failed(error),
            Ok(None) => all_failed(booked_up(self.topic.rate(), DIGEST_WITHIN)),
            Ok(Some((OWN_EMAILS, published))) => {
                let coverage = published
                    .into_iter()
                    .map(|message| message.map(|message_id| (message_id, None)))
                    .collect();
                self.mark_all(mails, coverage).await
            }
            Ok(Some((_, published))) => {
                let coverage = Self::digest_coverage(mails, &digests, published);
                self.mark_all(mails, coverage).await
            }
        }
    }

    /// Which published digest covered each order.
    fn digest_coverage(
        mails: &[Mail],
        digests: &[Digest],
        published: Vec<Result<String, AwsError>>,
    ) -> Vec<Result<(String, Option<u32>), AwsError>> {
        let mut covered: HashMap<&OrderId, Result<(String, Option<u32>), AwsError>> =
            HashMap::new();
        for (digest, message) in digests.iter().zip(published) {
            let size = digest.orders.len() as u32;
            if let Ok(message_id) = &message {
                tracing::info!(%message_id, orders = size, "order digest published");
            }
            for id in &digest.orders {
                covered.insert(
                    id,
                    message.clone().map(|message_id| (message_id, Some(size))),
                );
            }
        }
        mails
            .iter()
            .map(|mail| {
                covered
                    .remove(&mail.order.id)
                    .expect("every order is in one digest")
            })
            .collect()
    }

    /// Records on each order the message that covered it (or its failure).
    async fn mark_all(
        &self,
        mails: &[Mail],
        coverage: Vec<Result<(String, Option<u32>), AwsError>>,
    ) -> Vec<Result<Outcome, NotifyError>> {
        let now = Utc::now();
        let marks: Vec<_> = mails
            .iter()
            .zip(coverage)
            .map(|(mail, covered)| self.mark(mail, covered, now))
            .collect();
        futures::stream::iter(marks)
            .buffered(MARKS_AT_ONCE)
            .collect()
            .await
    }

    async fn mark(
        &self,
        mail: &Mail,
        covered: Result<(String, Option<u32>), AwsError>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, NotifyError> {
        let order_id = mail.order.id.clone();
        let (message_id, digest_of) = covered?;
        let notified = Notified {
            at: now,
            message_id,
            digest_of,
        };
        Ok(
            match self.orders.mark_notified(&mail.order, &notified).await? {
                true => {
                    if digest_of.is_none() {
                        tracing::info!(%order_id, message_id = %notified.message_id, "order email published");
                    }
                    Outcome::Notified {
                        order_id,
                        message_id: notified.message_id,
                    }
                }
                false => Outcome::AlreadyNotified(order_id),
            },
        )
    }
}

/// An order to email, and which record of the batch asked for it.
struct Mail {
    record: usize,
    order: Box<Order>,
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
            "monthShard": {"S": "2026-11#1"}, "status": {"S": "stored"}, "awaitingShard": {"S": "yes#3"},
            "customer": {"M": {"name": {"S": "Ana"}, "email": {"S": "ana@example.com"}}},
            "customerEmail": {"S": "ana@example.com"}, "domainShard": {"S": "example.com#2"},
            "idShard": {"S": "o#0"}, "idKey": {"S": "order-0001"}, "nameInitial": {"S": "a"}, "nameKey": {"S": "ana#2026-11-24T10:00:00.000Z"},
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

    #[test]
    fn a_digest_links_to_the_shop_days_of_its_orders() {
        let link = DigestLink {
            dashboard_url: Some("https://dash.example/".to_owned()),
            zone: "America/New_York".parse().unwrap(),
        };
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        assert_eq!(
            link.orders_between(at("2026-11-24T03:00:00Z"), at("2026-11-24T10:00:00Z"))
                .as_deref(),
            Some("https://dash.example/orders?from=2026-11-23&to=2026-11-24")
        );
        assert_eq!(
            DigestLink {
                dashboard_url: None,
                zone: Tz::UTC,
            }
            .orders_between(at("2026-11-24T03:00:00Z"), at("2026-11-24T03:00:00Z")),
            None
        );
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
