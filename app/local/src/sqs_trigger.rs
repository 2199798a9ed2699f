//! What Lambda's SQS event-source mapping does for ingest, done locally:
//! receive a batch, hand it to the function as an `SqsEvent`, delete the
//! messages it did not report as failed, and leave the failed ones to come
//! back when their visibility timeout ends (and to the DLQ after
//! `maxReceiveCount` receives, which SQS itself enforces).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
    MessageSystemAttributeName,
};

use pipeline::Ingest;
use pipeline::settings::{INGEST_BATCH_SIZE, QUEUE_VISIBILITY_TIMEOUT};

pub struct SqsTrigger {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub queue_arn: String,
    pub handler: Ingest,
    pub invocations: crate::invocations::InvocationLog,
    /// When set, a failed message comes back after this, doubled at each
    /// receive, instead of after the queue's visibility timeout (3 minutes,
    /// as deployed): for the tests. Doubling spreads its `maxReceiveCount`
    /// tries over half a minute, so a slow machine's bad second cannot use
    /// them all up.
    pub redeliver_after: Option<Duration>,
}

impl SqsTrigger {
    /// Polls until the task is dropped or aborted.
    pub async fn run(self) {
        loop {
            if let Err(error) = self.poll_once().await {
                tracing::warn!(%error, "polling the order queue failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn poll_once(&self) -> anyhow::Result<()> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(INGEST_BATCH_SIZE)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let receipts: HashMap<String, String> = messages
            .iter()
            .filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?)))
            .collect();
        let receives: HashMap<String, u32> = messages
            .iter()
            .filter_map(|m| {
                let count = m
                    .attributes
                    .as_ref()?
                    .get(&MessageSystemAttributeName::ApproximateReceiveCount)?
                    .parse()
                    .ok()?;
                Some((m.message_id.clone()?, count))
            })
            .collect();
        let mut event = SqsEvent::default();
        event.records = messages
            .into_iter()
            .map(|m| event_message(m, &self.queue_arn))
            .collect();
        let started = std::time::Instant::now();
        let response = self.handler.handle(event).await;
        self.invocations.record(started.elapsed());
        let failed: HashSet<String> = response
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect();
        let entries: Vec<DeleteMessageBatchRequestEntry> = receipts
            .iter()
            .filter(|(id, _)| !failed.contains(*id))
            .enumerate()
            .map(|(n, (_, receipt))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{n}"))
                    .receipt_handle(receipt)
                    .build()
                    .expect("id and receipt are set")
            })
            .collect();
        if let Some(after) = self.redeliver_after {
            let sooner: Vec<ChangeMessageVisibilityBatchRequestEntry> = receipts
                .iter()
                .filter(|(id, _)| failed.contains(*id))
                .enumerate()
                .map(|(n, (id, receipt))| {
                    let receives = receives.get(id).copied().unwrap_or(1);
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("m{n}"))
                        .receipt_handle(receipt)
                        .visibility_timeout(redelivery_delay(after, receives))
                        .build()
                        .expect("id and receipt are set")
                })
                .collect();
            if !sooner.is_empty() {
                self.sqs
                    .change_message_visibility_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(sooner))
                    .send()
                    .await?;
            }
        }
        if !entries.is_empty() {
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await?;
        }
        Ok(())
    }
}

/// The message, received from the queue at `queue_arn`, as Lambda puts it in the event.
pub fn event_message(message: Message, queue_arn: &str) -> SqsMessage {
    let mut event_message = SqsMessage::default();
    event_message.message_id = message.message_id;
    event_message.receipt_handle = message.receipt_handle;
    event_message.body = message.body;
    event_message.md5_of_body = message.md5_of_body;
    event_message.md5_of_message_attributes = message.md5_of_message_attributes;
    event_message.attributes = message
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name.as_str().to_owned(), value))
        .collect();
    event_message.message_attributes = message
        .message_attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            let mut attribute = SqsMessageAttribute::default();
            attribute.data_type = Some(value.data_type);
            attribute.string_value = value.string_value;
            attribute.binary_value = value.binary_value.map(|blob| {
                let mut data = aws_lambda_events::encodings::Base64Data::default();
                *data = blob.into_inner();
                data
            });
            (name, attribute)
        })
        .collect();
    event_message.event_source = Some("aws:sqs".to_owned());
    event_message.event_source_arn = Some(queue_arn.to_owned());
    event_message.aws_region = Some("us-east-1".to_owned());
    event_message
}

/// Seconds until a message that failed on its `receives`-th receive comes
/// back: `after`, doubled for each receive before, at most the deployed
/// queue's visibility timeout.
fn redelivery_delay(after: Duration, receives: u32) -> i32 {
    let doubled = after.saturating_mul(2u32.saturating_pow(receives.saturating_sub(1)));
    doubled.min(QUEUE_VISIBILITY_TIMEOUT).as_secs() as i32
}
