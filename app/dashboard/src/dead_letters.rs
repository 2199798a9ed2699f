//! Dead letters for ops: look at them, send them back to the order queue,
//! or delete them.
//!
//! SQS has no "peek": reading a message hides it for a while. Inspection hides
//! the messages it reads for a few seconds only and makes each visible again
//! as soon as the page has them, and the DLQ has no redrive policy of its own,
//! so reading never moves a message anywhere. A redrive sends the copy first
//! (same body, same attributes) and deletes the dead letter only once the
//! copy is safely on the order queue.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageAttributeValue,
    MessageSystemAttributeName,
};
use chrono::{DateTime, Utc};

use pipeline::aws::AwsError;

use crate::auth::CurrentUser;
use crate::auth::audit::Record;
use crate::outcome::{ActionError, Audited};
use pipeline::queue::attributes;

/// How long a message read for inspection or an action stays hidden at most.
const HOLD: i32 = 20;
/// The most dead letters one look reads.
pub const MAX_SHOWN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
    pub first_received: Option<DateTime<Utc>>,
    pub sent: Option<DateTime<Utc>>,
    /// Why the pipeline gave up on it, where it said (`error` attribute).
    pub reason: Option<String>,
    pub failed_at: Option<String>,
    pub order_id: Option<String>,
}

impl DeadLetter {
    /// The body as indented JSON when it parses, else as sent.
    pub fn pretty_body(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_else(|| self.body.clone())
    }
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moved {
    pub done: usize,
    /// The message ids acted on.
    pub ids: Vec<String>,
    /// Asked for but not found (already gone, or hidden by another action).
    pub missing: usize,
    /// Dead letters left in the queue afterwards (approximate).
    pub remaining: u64,
}

#[derive(Clone, Debug)]
pub struct DeadLetters {
    sqs: aws_sdk_sqs::Client,
    dead_letter_queue_url: String,
    order_queue_url: String,
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

impl DeadLetters {
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        dead_letter_queue_url: impl Into<String>,
        order_queue_url: impl Into<String>,
    ) -> Self {
        Self {
            sqs,
            dead_letter_queue_url: dead_letter_queue_url.into(),
            order_queue_url: order_queue_url.into(),
        }
    }

    /// Up to `limit` dead letters, oldest first as SQS hands them out.
    pub async fn look(&self, limit: usize) -> Result<Vec<DeadLetter>, AwsError> {
        let messages = self.read(limit.min(MAX_SHOWN), |_| false).await?;
        self.release(&messages).await?;
        let mut letters: Vec<DeadLetter> = messages.iter().map(to_dead_letter).collect();
        letters.sort_by_key(|letter| letter.sent);
        Ok(letters)
    }

    /// Sends the named dead letters back to the order queue.
    pub async fn redrive(&self, message_ids: &[String]) -> Result<Moved, AwsError> {
        let (chosen, missing) = self.take(message_ids).await?;
        let done = self.move_back(&chosen).await?;
        Ok(Moved {
            done,
            ids: ids_of(&chosen),
            missing,
            remaining: self.count().await?,
        })
    }

    /// Sends every dead letter back, until the queue is empty or `budget` is spent.
    pub async fn redrive_all(&self, budget: Duration) -> Result<Moved, AwsError> {
        let deadline = Instant::now() + budget;
        let mut done = 0;
        let mut ids = Vec::new();
        while Instant::now() < deadline {
            let batch = self.receive_batch().await?;
            if batch.is_empty() {
                break;
            }
            done += self.move_back(&batch).await?;
            ids.extend(ids_of(&batch));
        }
        Ok(Moved {
            done,
            ids,
            missing: 0,
            remaining: self.count().await?,
        })
    }

    /// Deletes the named dead letters for good.
    pub async fn delete(&self, message_ids: &[String]) -> Result<Moved, AwsError> {
        let (chosen, missing) = self.take(message_ids).await?;
        for message in &chosen {
            self.delete_one(message).await?;
        }
        Ok(Moved {
            done: chosen.len(),
            ids: ids_of(&chosen),
            missing,
            remaining: self.count().await?,
        })
    }

    /// Holds the named messages for an action and releases every other one
    /// read on the way; returns them and how many were not found.
    async fn take(&self, message_ids: &[String]) -> Result<(Vec<Message>, usize), AwsError> {
        let wanted: HashSet<&str> = message_ids.iter().map(String::as_str).collect();
        let messages = self
            .read(MAX_SHOWN, |found| {
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

    async fn receive_batch(&self) -> Result<Vec<Message>, AwsError> {
        Ok(self
            .sqs
            .receive_message()
            .queue_url(&self.dead_letter_queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(HOLD)
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
        enough: impl Fn(&HashSet<String>) -> bool,
    ) -> Result<Vec<Message>, AwsError> {
        let mut messages: Vec<Message> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        while messages.len() < limit && !enough(&seen) {
            let batch = self.receive_batch().await?;
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

    /// Makes messages read for inspection visible again at once.
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

    /// Copies each message to the order queue, then deletes it from the DLQ.
    async fn move_back(&self, messages: &[Message]) -> Result<usize, AwsError> {
        let mut moved = 0;
        for message in messages {
            let kept: HashMap<String, MessageAttributeValue> =
                message.message_attributes().cloned().unwrap_or_default();
            self.sqs
                .send_message()
                .queue_url(&self.order_queue_url)
                .message_body(message.body().unwrap_or_default())
                .set_message_attributes(Some(kept))
                .send()
                .await
                .map_err(|error| {
                    AwsError::from_sdk("sending a dead letter back to the order queue", error)
                })?;
            self.delete_one(message).await?;
            moved += 1;
        }
        Ok(moved)
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
}

fn ids_of(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|message| message.message_id().map(str::to_owned))
        .collect()
}

fn to_dead_letter(message: &Message) -> DeadLetter {
    let system = message.attributes();
    let system_value =
        |name: MessageSystemAttributeName| system.and_then(|attributes| attributes.get(&name));
    DeadLetter {
        message_id: message.message_id().unwrap_or_default().to_owned(),
        body: message.body().unwrap_or_default().to_owned(),
        receive_count: system_value(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        first_received: millis(system_value(
            MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
        )),
        sent: millis(system_value(MessageSystemAttributeName::SentTimestamp)),
        reason: string_attribute(message, attributes::ERROR),
        failed_at: string_attribute(message, attributes::FAILED_AT),
        order_id: string_attribute(message, attributes::ORDER_ID),
    }
}

impl crate::Dashboard {
    async fn audited_move(
        &self,
        actor: &CurrentUser,
        action: &'static str,
        asked: usize,
        result: Result<Moved, AwsError>,
    ) -> Result<Audited<Moved>, ActionError> {
        let mut record = Record::new(&actor.email, action, "dead-letter queue");
        if let Ok(moved) = &result {
            record = record
                .detail("asked for", asked)
                .detail("done", moved.done)
                .detail("not found", moved.missing)
                .detail("left", moved.remaining)
                .detail("message ids", moved.ids.join(" "));
        }
        self.auth
            .audit
            .after(record, result.map_err(ActionError::from))
            .await
    }

    /// Sends the chosen dead letters back to the order queue.
    pub async fn redrive_dead_letters(
        &self,
        actor: &CurrentUser,
        ids: &[String],
    ) -> Result<Audited<Moved>, ActionError> {
        if ids.is_empty() {
            return Err(ActionError::invalid(
                "Select the dead letters to redrive first.",
            ));
        }
        let result = self.dead_letters.redrive(ids).await;
        self.audited_move(actor, "redrive dead letters", ids.len(), result)
            .await
    }

    /// Sends every dead letter back, for at most `budget`.
    pub async fn redrive_all_dead_letters(
        &self,
        actor: &CurrentUser,
        budget: Duration,
    ) -> Result<Audited<Moved>, ActionError> {
        let result = self.dead_letters.redrive_all(budget).await;
        self.audited_move(actor, "redrive all dead letters", 0, result)
            .await
    }

    /// Deletes the chosen dead letters for good.
    pub async fn delete_dead_letters(
        &self,
        actor: &CurrentUser,
        ids: &[String],
    ) -> Result<Audited<Moved>, ActionError> {
        if ids.is_empty() {
            return Err(ActionError::invalid(
                "Select the dead letters to delete first.",
            ));
        }
        let result = self.dead_letters.delete(ids).await;
        self.audited_move(actor, "delete dead letters", ids.len(), result)
            .await
    }
}
