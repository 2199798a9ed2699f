//! Dead letters for ops: see why each failed and whether it would fail
//! again, group them by reason, send them back, fix a body and send it
//! back, or delete them.
//!
//! SQS has no "peek": reading a message hides it for a while. A look hides
//! what it reads for a few seconds and releases it at once; the DLQ has no
//! redrive policy of its own, so reading never moves a message anywhere (its
//! receive count does go up, so the pipeline's tries come from the `attempts`
//! attribute ingest sets, not from SQS's count).
//!
//! A redrive works like SQS's message move task, and better: it moves each
//! message that was in the DLQ when it started at most once (one that
//! arrives after, a message that failed again among them, is left alone),
//! checks every body with ingest's own validation first (and the order
//! already stored under its id: ingest never overwrites a different one)
//! and leaves those that would certainly fail again, and reports what moved, what would fail
//! and what is left, a round at a time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageAttributeValue,
    MessageSystemAttributeName,
};
use chrono::{DateTime, Utc};
use domain::OrderRequest;
use domain::catalog::Catalog;
use pipeline::aws::AwsError;
use pipeline::ingest::read_message;
use pipeline::queue::attributes;
use pipeline::store::StoreError;
use pipeline::store::orders::OrderStore;
use pipeline::store::products::{CatalogReader, ProductStore};
use serde::{Deserialize, Serialize};

use crate::Dashboard;
use crate::auth::CurrentUser;
use crate::auth::audit::Record;
use crate::outcome::{ActionError, Audited, FieldProblem};

/// How long a look hides the messages it reads (released at once after).
const LOOK_HOLD: i32 = 5;
/// How long a redrive round hides what it leaves, so the next round of the
/// same redrive goes on past it; released at once when the redrive is done.
const ROUND_HOLD: i32 = 30;
/// The most dead letters one look reads.
pub const MAX_SHOWN: usize = 200;

/// Whether a dead letter would be stored if sent back now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Ingest's own checks pass.
    Ready,
    /// Ingest would refuse it again, for this reason.
    WillFail(String),
}

/// How many times the pipeline tried a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tries {
    /// Ingest gave up on it after this many deliveries (it says so).
    Counted(u32),
    /// SQS moved it after the queue's maximum of deliveries.
    MovedBySqs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    pub order_id: Option<String>,
    /// Why the pipeline gave up on it (`error` attribute), if it said.
    pub reason: Option<String>,
    /// When it was given up (`failedAt`), if the pipeline said.
    pub failed_at: Option<DateTime<Utc>>,
    /// When the order API queued it (`receivedAt`, else SQS's sent time).
    pub queued_at: Option<DateTime<Utc>>,
    /// When it entered the queue it is in now.
    pub sent_at: Option<DateTime<Utc>>,
    pub tries: Tries,
    /// Every message attribute, as `name = value`.
    pub attributes: Vec<(String, String)>,
    pub verdict: Verdict,
}

impl DeadLetter {
    /// The body as indented JSON when it parses, else as sent.
    pub fn pretty_body(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_else(|| self.body.clone())
    }

    /// The reason with what varies between messages taken out, so that
    /// "300 failed because the SKU was lower case" is one group.
    pub fn group(&self) -> String {
        match &self.reason {
            None => "No reason attached: SQS moved it after repeated failed deliveries (timeouts, throttling or crashes)".to_owned(),
            Some(reason) => reason_group(reason),
        }
    }
}

/// A reason without indexes, order ids and quoted values.
pub fn reason_group(reason: &str) -> String {
    let indexes = regex::Regex::new(r"\[\d+\]").expect("a pattern");
    let ids =
        regex::Regex::new(r#"(order id|orderId attribute) ("[^"]*"|\S+)"#).expect("a pattern");
    let quoted = regex::Regex::new(r#""[^"]*""#).expect("a pattern");
    let grouped = indexes.replace_all(reason, "[…]");
    let grouped = ids.replace_all(&grouped, "$1 …");
    quoted.replace_all(&grouped, "…").into_owned()
}

/// Which dead letters a redrive takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Selection {
    All,
    /// Those in one reason group.
    Reason(String),
    /// Those with these message ids.
    Ids(Vec<String>),
}

/// A redrive in progress: what it takes, since when, and what it did so far.
/// Between rounds it is kept in the table for the operator who started it
/// (`Drafts`), so any Lambda instance can go on with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redrive {
    /// Milliseconds since the epoch: only messages that were in the DLQ before.
    pub started: i64,
    pub selection: Selection,
    /// Leave the ones ingest would refuse again.
    pub skip_failing: bool,
    /// Moved so far, over every round.
    pub moved: u32,
    pub rounds: u32,
}

/// What one round of a redrive found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Round {
    pub moved_ids: Vec<String>,
    /// Left because they would fail again (and why, by group).
    pub failing: BTreeMap<String, u32>,
    /// Left because they arrived after the redrive started.
    pub arrived_after: u32,
    /// No message of the selection is left to look at.
    pub done: bool,
    /// Dead letters in the queue after the round (approximate).
    pub remaining: u64,
}

impl Round {
    pub fn failing_count(&self) -> u32 {
        self.failing.values().sum()
    }
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deleted {
    pub ids: Vec<String>,
    pub missing: usize,
    pub remaining: u64,
}

#[derive(Clone, Debug)]
pub struct DeadLetters {
    sqs: aws_sdk_sqs::Client,
    dead_letter_queue_url: String,
    order_queue_url: String,
    /// With the price check on, the catalog ingest checks against.
    catalog: Option<CatalogReader>,
    /// The stored orders a dead letter's id may already belong to.
    orders: OrderStore,
}

/// Why a dead letter whose id a different stored order holds cannot be
/// stored, however often it is sent back.
pub const ID_TAKEN: &str = "the id is taken by a different order (the client reused its Idempotency-Key): delete it, or have the shop send the order again with a new key";

/// The store's error as the dead letters' callers see it.
fn store_error(what: &str, error: StoreError) -> AwsError {
    match error {
        StoreError::Aws(error) => error,
        StoreError::Corrupt { key, reason } => AwsError::corrupt(format!("{what} {key}"), reason),
    }
}

fn millis(text: Option<&String>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(text?.parse().ok()?)
}

fn string_attribute(message: &Message, name: &str) -> Option<String> {
    message
        .message_attributes()?
        .get(name)?
        .string_value()
        .map(str::to_owned)
}

/// The message as ingest would get it, to check it with ingest's own code.
fn as_event_message(message: &Message, body: &str) -> SqsMessage {
    let mut event_message = SqsMessage::default();
    event_message.message_id = message.message_id().map(str::to_owned);
    event_message.body = Some(body.to_owned());
    for (name, value) in message.message_attributes().cloned().unwrap_or_default() {
        let mut attribute = SqsMessageAttribute::default();
        attribute.data_type = Some(value.data_type().to_owned());
        attribute.string_value = value.string_value().map(str::to_owned);
        event_message.message_attributes.insert(name, attribute);
    }
    event_message
}

/// Ingest's verdict on a body with a message's attributes (and the
/// catalog, when prices are checked), without I/O; with the order ingest
/// would store when its checks pass, which a stored order may still
/// conflict with ([`DeadLetters::judge`]).
fn verdict(
    message: &Message,
    body: &str,
    catalog: Option<&Catalog>,
) -> (Verdict, Option<domain::Order>) {
    match read_message(&as_event_message(message, body), Utc::now()) {
        Ok(order) => match catalog.map(|catalog| catalog.check(&order)) {
            Some(Err(refusal)) => (Verdict::WillFail(refusal.to_string()), None),
            _ => (Verdict::Ready, Some(order)),
        },
        Err(poison) => (Verdict::WillFail(poison.0), None),
    }
}

/// The dead letter, and the order ingest would store from it.
fn to_dead_letter(
    message: &Message,
    catalog: Option<&Catalog>,
) -> (DeadLetter, Option<domain::Order>) {
    let system = message.attributes();
    let system_value =
        |name: MessageSystemAttributeName| system.and_then(|attributes| attributes.get(&name));
    let body = message.body().unwrap_or_default().to_owned();
    let sent_at = millis(system_value(MessageSystemAttributeName::SentTimestamp));
    let reason = string_attribute(message, attributes::ERROR);
    let tries = match string_attribute(message, attributes::ATTEMPTS).and_then(|n| n.parse().ok()) {
        Some(count) => Tries::Counted(count),
        None if reason.is_some() => Tries::Counted(1),
        None => Tries::MovedBySqs,
    };
    let mut attributes: Vec<(String, String)> = message
        .message_attributes()
        .map(|all| {
            all.iter()
                .map(|(name, value)| {
                    (
                        name.clone(),
                        value.string_value().unwrap_or("(binary)").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    attributes.sort();
    let (verdict, order) = verdict(message, &body, catalog);
    let letter = DeadLetter {
        message_id: message.message_id().unwrap_or_default().to_owned(),
        order_id: string_attribute(message, attributes::ORDER_ID),
        failed_at: string_attribute(message, attributes::FAILED_AT)
            .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.to_utc()),
        queued_at: string_attribute(message, attributes::RECEIVED_AT)
            .and_then(|at| at.parse().ok())
            .and_then(DateTime::from_timestamp_millis)
            .or(sent_at),
        sent_at,
        tries,
        verdict,
        reason,
        attributes,
        body,
    };
    (letter, order)
}

fn ids_of(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|message| message.message_id().map(str::to_owned))
        .collect()
}

impl DeadLetters {
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        dead_letter_queue_url: impl Into<String>,
        order_queue_url: impl Into<String>,
        orders: OrderStore,
    ) -> Self {
        Self {
            sqs,
            dead_letter_queue_url: dead_letter_queue_url.into(),
            order_queue_url: order_queue_url.into(),
            catalog: None,
            orders,
        }
    }

    /// Judges dead letters against the catalog too, as ingest does.
    pub fn checking_prices(mut self, catalog: ProductStore) -> Self {
        self.catalog = Some(CatalogReader::new(catalog));
        self
    }

    /// The catalog ingest would check against now, when it checks prices.
    pub async fn catalog(&self) -> Result<Option<Arc<Catalog>>, AwsError> {
        let Some(reader) = &self.catalog else {
            return Ok(None);
        };
        reader
            .current()
            .await
            .map(Some)
            .map_err(|error| store_error("reading the catalog's", error))
    }

    /// The order stored under `id`, if any.
    pub async fn stored(&self, id: &domain::OrderId) -> Result<Option<domain::Order>, AwsError> {
        self.orders
            .get(id)
            .await
            .map_err(|error| store_error("reading the stored order", error))
    }

    /// The dead letter with ingest's whole verdict: its checks, then the
    /// order already stored under its id (a different one makes it fail
    /// again, every time: ingest refuses to overwrite it).
    async fn judge(
        &self,
        message: &Message,
        catalog: Option<&Catalog>,
    ) -> Result<DeadLetter, AwsError> {
        self.against_stored(to_dead_letter(message, catalog)).await
    }

    /// The letter's verdict once the order stored under its id is known.
    async fn against_stored(
        &self,
        (mut letter, order): (DeadLetter, Option<domain::Order>),
    ) -> Result<DeadLetter, AwsError> {
        if let Some(order) = order
            && self
                .stored(&order.id)
                .await?
                .is_some_and(|stored| stored.request_hash != order.request_hash)
        {
            letter.verdict = Verdict::WillFail(ID_TAKEN.to_owned());
        }
        Ok(letter)
    }

    /// [`DeadLetters::judge`] of each, a few at a time.
    async fn judge_all(
        &self,
        messages: &[Message],
        catalog: Option<&Catalog>,
    ) -> Result<Vec<DeadLetter>, AwsError> {
        // Loops, not a stream of closures: a closure over `&Message` here
        // makes the page futures fail the compiler's Send check.
        let mut letters = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(16) {
            let mut judged = Vec::with_capacity(chunk.len());
            for message in chunk {
                judged.push(self.judge(message, catalog));
            }
            for letter in futures::future::join_all(judged).await {
                letters.push(letter?);
            }
        }
        Ok(letters)
    }

    /// Up to `limit` dead letters, oldest first, each with ingest's verdict.
    pub async fn look(&self, limit: usize) -> Result<Vec<DeadLetter>, AwsError> {
        let messages = self
            .read(limit.min(MAX_SHOWN), LOOK_HOLD, |_| false)
            .await?;
        self.release(&messages).await?;
        let catalog = self.catalog().await?;
        let mut letters = self.judge_all(&messages, catalog.as_deref()).await?;
        letters.sort_by_key(|letter| letter.queued_at);
        Ok(letters)
    }

    /// One dead letter, if it is there (and not held by another action).
    pub async fn find(&self, message_id: &str) -> Result<Option<DeadLetter>, AwsError> {
        let (found, _) = self.take(&[message_id.to_owned()], LOOK_HOLD).await?;
        self.release(&found).await?;
        let catalog = self.catalog().await?;
        Ok(self
            .judge_all(&found, catalog.as_deref())
            .await?
            .into_iter()
            .next())
    }

    /// Dead letters waiting, approximately.
    pub async fn count(&self) -> Result<u64, AwsError> {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.dead_letter_queue_url)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("counting dead letters", error))?
            .attributes
            .unwrap_or_default();
        Ok([
            Name::ApproximateNumberOfMessages,
            Name::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|name| attributes.get(name)?.parse::<u64>().ok())
        .sum())
    }

    async fn receive_batch(&self, hold: i32) -> Result<Vec<Message>, AwsError> {
        Ok(self
            .sqs
            .receive_message()
            .queue_url(&self.dead_letter_queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(hold)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading dead letters", error))?
            .messages
            .unwrap_or_default())
    }

    /// Reads (and hides) messages until `limit`, the queue runs dry, or `enough` says so.
    async fn read(
        &self,
        limit: usize,
        hold: i32,
        enough: impl Fn(&HashSet<String>) -> bool,
    ) -> Result<Vec<Message>, AwsError> {
        let mut messages: Vec<Message> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        while messages.len() < limit && !enough(&seen) {
            let batch = self.receive_batch(hold).await?;
            if batch.is_empty() {
                break;
            }
            for message in batch {
                if let Some(id) = message.message_id()
                    && seen.insert(id.to_owned())
                {
                    messages.push(message);
                }
            }
        }
        Ok(messages)
    }

    /// Holds the named messages for an action and releases every other one
    /// read on the way; returns them and how many were not found.
    async fn take(
        &self,
        message_ids: &[String],
        hold: i32,
    ) -> Result<(Vec<Message>, usize), AwsError> {
        let wanted: HashSet<&str> = message_ids.iter().map(String::as_str).collect();
        let messages = self
            .read(MAX_SHOWN * 5, hold, |found| {
                wanted.iter().all(|id| found.contains(*id))
            })
            .await?;
        let (chosen, others): (Vec<Message>, Vec<Message>) = messages
            .into_iter()
            .partition(|m| m.message_id().is_some_and(|id| wanted.contains(id)));
        self.release(&others).await?;
        let missing = wanted.len().saturating_sub(chosen.len());
        Ok((chosen, missing))
    }

    /// Makes messages visible again at once.
    async fn release(&self, messages: &[Message]) -> Result<(), AwsError> {
        for chunk in messages.chunks(10) {
            let entries: Vec<ChangeMessageVisibilityBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(n, message)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("m{n}"))
                        .receipt_handle(message.receipt_handle()?)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            if entries.is_empty() {
                continue;
            }
            self.sqs
                .change_message_visibility_batch()
                .queue_url(&self.dead_letter_queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|error| {
                    AwsError::from_sdk("releasing dead letters after reading", error)
                })?;
        }
        Ok(())
    }

    /// Copies a message (or a corrected body) to the order queue with its
    /// attributes, less what the pipeline set on the dead letter; then, and
    /// only then, deletes the dead letter.
    async fn move_back(
        &self,
        message: &Message,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<(), AwsError> {
        let mut kept: HashMap<String, MessageAttributeValue> = message
            .message_attributes()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(name, _)| !attributes::DEAD_LETTER.contains(&name.as_str()))
            .collect();
        for (name, value) in extra {
            kept.insert(
                (*name).to_owned(),
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(*value)
                    .build()
                    .expect("data type is set"),
            );
        }
        self.sqs
            .send_message()
            .queue_url(&self.order_queue_url)
            .message_body(body.unwrap_or(message.body().unwrap_or_default()))
            .set_message_attributes(Some(kept))
            .send()
            .await
            .map_err(|error| {
                AwsError::from_sdk("sending a dead letter back to the order queue", error)
            })?;
        self.delete_one(message).await
    }

    async fn delete_one(&self, message: &Message) -> Result<(), AwsError> {
        self.sqs
            .delete_message()
            .queue_url(&self.dead_letter_queue_url)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("deleting a dead letter", error))?;
        Ok(())
    }

    /// Deletes the named dead letters for good.
    pub async fn delete(&self, message_ids: &[String]) -> Result<Deleted, AwsError> {
        let (chosen, missing) = self.take(message_ids, LOOK_HOLD).await?;
        for message in &chosen {
            self.delete_one(message).await?;
        }
        Ok(Deleted {
            ids: ids_of(&chosen),
            missing,
            remaining: self.count().await?,
        })
    }

    /// One round of a redrive, for at most `budget`.
    pub async fn redrive_round(&self, task: &Redrive, budget: Duration) -> Result<Round, AwsError> {
        let deadline = Instant::now() + budget;
        let mut round = Round::default();
        let mut left: Vec<Message> = Vec::new();
        let wanted: Option<HashSet<&str>> = match &task.selection {
            Selection::Ids(ids) => Some(ids.iter().map(String::as_str).collect()),
            _ => None,
        };
        let mut seen: HashSet<String> = HashSet::new();
        let catalog = self.catalog().await?;
        loop {
            if Instant::now() >= deadline {
                break;
            }
            let batch = self.receive_batch(ROUND_HOLD).await?;
            if batch.is_empty() {
                round.done = true;
                break;
            }
            for message in batch {
                let id = message.message_id().unwrap_or_default().to_owned();
                if !seen.insert(id.clone()) {
                    continue;
                }
                let (letter, order) = to_dead_letter(&message, catalog.as_deref());
                let arrived_after = letter
                    .sent_at
                    .is_some_and(|at| at.timestamp_millis() >= task.started);
                let selected = match &task.selection {
                    Selection::All => true,
                    Selection::Reason(group) => &letter.group() == group,
                    Selection::Ids(_) => {
                        wanted.as_ref().is_some_and(|ids| ids.contains(id.as_str()))
                    }
                };
                if arrived_after {
                    if selected {
                        round.arrived_after += 1;
                    }
                    left.push(message);
                } else if !selected {
                    left.push(message);
                } else if task.skip_failing
                    && let Verdict::WillFail(reason) =
                        self.against_stored((letter, order)).await?.verdict
                {
                    *round.failing.entry(reason_group(&reason)).or_default() += 1;
                    left.push(message);
                } else {
                    self.move_back(&message, None, &[]).await?;
                    round.moved_ids.push(id);
                }
            }
            if let Some(ids) = &wanted
                && ids.iter().all(|id| seen.contains(*id))
            {
                round.done = true;
                break;
            }
        }
        if round.done {
            self.release(&left).await?;
        }
        round.remaining = self.count().await?;
        Ok(round)
    }

    /// Sends a corrected body back under the dead letter's order id, then
    /// deletes the dead letter; returns the original body.
    pub async fn send_corrected(
        &self,
        message_id: &str,
        body: &str,
    ) -> Result<Option<String>, AwsError> {
        let (found, _) = self.take(&[message_id.to_owned()], LOOK_HOLD).await?;
        let Some(message) = found.first() else {
            return Ok(None);
        };
        let before = message.body().unwrap_or_default().to_owned();
        self.move_back(message, Some(body), &[("editedFrom", message_id)])
            .await?;
        Ok(Some(before))
    }
}

/// What the operator's edited body would do, by ingest's rules: its
/// validation, the catalog's prices (when ingest checks them), and the
/// order already `stored` under the dead letter's id (ingest stores the
/// body only when it is that order's own request).
pub fn check_edit(
    original: &DeadLetter,
    body: &str,
    catalog: Option<&Catalog>,
    stored: Option<&domain::Order>,
) -> Result<(), Vec<FieldProblem>> {
    let whole_body = |message: String| {
        vec![FieldProblem {
            field: "body".to_owned(),
            message,
        }]
    };
    match OrderRequest::parse(body) {
        Ok(_) if original.order_id.is_none() => Err(whole_body("This message has no order id: it did not come through the order API, so it cannot become an order.".to_owned())),
        Ok(request) => {
            let Some(Ok(id)) = original.order_id.as_deref().map(domain::OrderId::parse) else {
                return Ok(());
            };
            let order = domain::Order::accept(id, Utc::now(), Utc::now(), request);
            if let Some(stored) = stored
                && stored.request_hash != order.request_hash
            {
                return Err(whole_body(format!(
                    "Order {} is already stored, and with a different body: ingest would refuse this again ({ID_TAKEN}).",
                    order.id
                )));
            }
            let Some(catalog) = catalog else {
                return Ok(());
            };
            catalog.check(&order).map_err(|refusal| {
                refusal
                    .0
                    .into_iter()
                    .map(|line| {
                        let (field, message) = line.split_once(": ").unwrap_or(("body", &line));
                        FieldProblem {
                            field: field.to_owned(),
                            message: message.to_owned(),
                        }
                    })
                    .collect()
            })
        }
        Err(rejected) => Err(rejected
            .0
            .into_iter()
            .map(|error| FieldProblem {
                field: if error.field.is_empty() { "body".to_owned() } else { error.field },
                message: error.message,
            })
            .collect()),
    }
}

fn truncated(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        text.chars().take(chars).collect::<String>() + "…"
    }
}

impl Dashboard {
    /// One round of a redrive, recorded with what it did.
    pub async fn redrive(
        &self,
        actor: &CurrentUser,
        task: &Redrive,
        budget: Duration,
    ) -> Result<Audited<Round>, ActionError> {
        let result = self
            .dead_letters
            .redrive_round(task, budget)
            .await
            .map_err(ActionError::from);
        let mut record = Record::new(
            &actor.email,
            "redrive dead letters",
            match &task.selection {
                Selection::All => "all dead letters".to_owned(),
                Selection::Reason(group) => format!("reason: {group}"),
                Selection::Ids(ids) => format!("{} chosen", ids.len()),
            },
        )
        .detail("round", task.rounds + 1)
        .detail("leaving those that would fail", task.skip_failing);
        if let Ok(round) = &result {
            record = record
                .detail("moved", round.moved_ids.len())
                .detail("would fail again", round.failing_count())
                .detail("arrived after the start", round.arrived_after)
                .detail("left in the queue", round.remaining)
                .detail("message ids moved", round.moved_ids.join(" "));
        }
        self.auth.audit.after(record, result).await
    }

    /// Deletes the chosen dead letters for good.
    pub async fn delete_dead_letters(
        &self,
        actor: &CurrentUser,
        ids: &[String],
    ) -> Result<Audited<Deleted>, ActionError> {
        if ids.is_empty() {
            return Err(ActionError::invalid(
                "Select the dead letters to delete first.",
            ));
        }
        let result = self
            .dead_letters
            .delete(ids)
            .await
            .map_err(ActionError::from);
        let mut record = Record::new(
            &actor.email,
            "delete dead letters",
            format!("{} chosen", ids.len()),
        );
        if let Ok(deleted) = &result {
            record = record
                .detail("deleted", deleted.ids.len())
                .detail("not found", deleted.missing)
                .detail("message ids deleted", deleted.ids.join(" "));
        }
        self.auth.audit.after(record, result).await
    }

    /// Sends an operator's corrected body back under the same order id, if
    /// ingest's checks pass; records the body before and after.
    pub async fn send_corrected(
        &self,
        actor: &CurrentUser,
        message_id: &str,
        body: &str,
        check_only: bool,
    ) -> Result<Audited<String>, ActionError> {
        self.drafts.save(&actor.email, message_id, body).await?;
        let original = self
            .dead_letters
            .find(message_id)
            .await?
            .ok_or_else(|| ActionError::NotFound("That dead letter is gone: sent back, deleted, or held by another action for a few seconds.".to_owned()))?;
        let catalog = self.dead_letters.catalog().await?;
        let stored = match original.order_id.as_deref().map(domain::OrderId::parse) {
            Some(Ok(id)) => self.dead_letters.stored(&id).await?,
            _ => None,
        };
        if let Err(fields) = check_edit(&original, body, catalog.as_deref(), stored.as_ref()) {
            return Err(ActionError::Invalid {
                message: "The corrected body is not a valid order yet; nothing was sent."
                    .to_owned(),
                fields,
            });
        }
        if check_only {
            return Ok(Audited {
                value: original.order_id.unwrap_or_default(),
                recorded: true,
            });
        }
        let result = self
            .dead_letters
            .send_corrected(message_id, body)
            .await
            .map_err(ActionError::from)
            .and_then(|before| {
                before.ok_or_else(|| ActionError::NotFound("That dead letter is gone.".to_owned()))
            });
        if result.is_ok() {
            self.drafts.delete(&actor.email, message_id).await?;
        }
        let order_id = original.order_id.clone().unwrap_or_default();
        let record = Record::new(
            &actor.email,
            "edit and redrive",
            format!("message {message_id}"),
        )
        .detail("order", &order_id)
        .detail("before", truncated(&original.body, 2000))
        .detail("after", truncated(body, 2000));
        self.auth
            .audit
            .after(record, result.map(|_| order_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_group_without_what_varies() {
        assert_eq!(
            reason_group("invalid order: items[3].sku: must be 2 to 32 characters"),
            "invalid order: items[…].sku: must be 2 to 32 characters"
        );
        assert_eq!(
            reason_group("order id checkout-77 is already used by a different order"),
            "order id … is already used by a different order"
        );
        assert_eq!(
            reason_group(r#"orderId attribute "x" must be 8 to 64 characters"#),
            "orderId attribute … must be 8 to 64 characters"
        );
    }
}

/// An operator's edit of a dead letter's body, kept while it is not sent
/// (a failed check comes back with the body as typed, whatever its size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub message_id: String,
    pub body: String,
    pub saved_at: String,
}

/// One operator's item of work in progress, as the table keeps it.
#[derive(Serialize, Deserialize)]
struct WorkItem<T> {
    pk: String,
    sk: String,
    #[serde(rename = "expiresAt")]
    expires_at: i64,
    #[serde(flatten)]
    work: T,
}

/// The sort key of a redrive under way (drafts are keyed by message id).
fn redrive_key(id: &str) -> String {
    format!("redrive#{id}")
}

/// An operator's work in progress, for a day (`pk = DRAFT#<email>`): edits
/// of dead letters not yet sent (`sk = <message id>`), and redrives that
/// have more rounds to go (`sk = redrive#<task id>`), so that a redrive is
/// continued only from what the server itself kept for that operator, never
/// from what a link says.
#[derive(Clone, Debug)]
pub struct Drafts {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Drafts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn put<T: Serialize>(
        &self,
        owner: &str,
        sort: &str,
        work: T,
        what: &str,
    ) -> Result<(), AwsError> {
        let key = pipeline::table::Key::draft(owner, sort);
        let item = WorkItem {
            pk: key.pk,
            sk: key.sk,
            expires_at: Utc::now().timestamp() + 86_400,
            work,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(
                serde_dynamo::to_item(item).expect("work in progress serializes"),
            ))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("keeping {what}"), error))?;
        Ok(())
    }

    async fn fetch<T: serde::de::DeserializeOwned>(
        &self,
        owner: &str,
        sort: &str,
        what: &str,
    ) -> Result<Option<T>, AwsError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(
                pipeline::table::Key::draft(owner, sort).to_attributes(),
            ))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("reading {what}"), error))?;
        output
            .item
            .map(|item| serde_dynamo::from_item::<_, WorkItem<T>>(item).map(|item| item.work))
            .transpose()
            .map_err(|error| AwsError::corrupt(format!("reading {what}"), error))
    }

    async fn remove(&self, owner: &str, sort: &str, what: &str) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(
                pipeline::table::Key::draft(owner, sort).to_attributes(),
            ))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("dropping {what}"), error))?;
        Ok(())
    }

    pub async fn save(&self, owner: &str, message_id: &str, body: &str) -> Result<(), AwsError> {
        let draft = Draft {
            message_id: message_id.to_owned(),
            body: body.to_owned(),
            saved_at: domain::order::timestamp(Utc::now()),
        };
        self.put(owner, message_id, draft, "the edited body").await
    }

    pub async fn get(&self, owner: &str, message_id: &str) -> Result<Option<Draft>, AwsError> {
        self.fetch(owner, message_id, "the edited body").await
    }

    pub async fn delete(&self, owner: &str, message_id: &str) -> Result<(), AwsError> {
        self.remove(owner, message_id, "the edited body").await
    }

    /// Keeps a redrive that has more to do; returns its new task id.
    pub async fn start_redrive(&self, owner: &str, task: &Redrive) -> Result<String, AwsError> {
        let id = crate::auth::random_token();
        self.keep_redrive(owner, &id, task).await?;
        Ok(id)
    }

    pub async fn keep_redrive(
        &self,
        owner: &str,
        id: &str,
        task: &Redrive,
    ) -> Result<(), AwsError> {
        self.put(owner, &redrive_key(id), task, "the redrive's progress")
            .await
    }

    /// The owner's redrive under way with this id, if there is one.
    pub async fn redrive(&self, owner: &str, id: &str) -> Result<Option<Redrive>, AwsError> {
        if !crate::auth::is_random_token(id) {
            return Ok(None);
        }
        self.fetch(owner, &redrive_key(id), "the redrive's progress")
            .await
    }

    pub async fn end_redrive(&self, owner: &str, id: &str) -> Result<(), AwsError> {
        self.remove(owner, &redrive_key(id), "the redrive's progress")
            .await
    }
}
