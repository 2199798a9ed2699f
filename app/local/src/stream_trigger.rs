//! What Lambda's DynamoDB-stream event-source mapping does for notify, done
//! locally: read every shard from TRIM_HORIZON, hand records to the function
//! as a DynamoDB `Event`, and on a reported failure retry from the failed
//! record (never skipping one) with backoff. After
//! `NOTIFY_MAX_RETRY_ATTEMPTS` failures of the record at the checkpoint the
//! batch's description goes to the on-failure queue, as the deployed
//! mapping's on-failure destination does.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use chrono::Utc;

use pipeline::Notify;
use pipeline::settings::{NOTIFY_BATCH_SIZE, NOTIFY_MAX_RETRY_ATTEMPTS};

const IDLE_POLL: Duration = Duration::from_millis(250);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub struct StreamTrigger {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub stream_arn: String,
    pub on_failure_queue_url: String,
    pub handler: Notify,
    pub invocations: crate::invocations::InvocationLog,
}

#[derive(Default)]
struct Shard {
    iterator: Option<String>,
    /// Read but not yet handled successfully, oldest first.
    pending: VecDeque<EventRecord>,
    failed_attempts: u32,
    /// After a failure, the batch is not tried again before this.
    not_before: Option<Instant>,
    closed: bool,
}

impl StreamTrigger {
    /// Polls until the task is dropped or aborted.
    pub async fn run(self) {
        let mut shards: HashMap<String, Shard> = HashMap::new();
        loop {
            if let Err(error) = self.discover(&mut shards).await {
                tracing::warn!(%error, "describing the order stream failed; trying again");
            }
            let mut busy = false;
            for (shard_id, shard) in shards.iter_mut() {
                match self.step(shard_id, shard).await {
                    Ok(worked) => busy |= worked,
                    Err(error) => {
                        tracing::warn!(%error, %shard_id, "reading the order stream failed; trying again")
                    }
                }
            }
            if !busy {
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }

    async fn discover(&self, shards: &mut HashMap<String, Shard>) -> anyhow::Result<()> {
        let description = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await?
            .stream_description;
        let shards_now = description.and_then(|d| d.shards).unwrap_or_default();
        for shard in shards_now {
            let Some(shard_id) = shard.shard_id else {
                continue;
            };
            if shards.contains_key(&shard_id) {
                continue;
            }
            let iterator = self
                .streams
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(&shard_id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await?
                .shard_iterator;
            shards.insert(
                shard_id,
                Shard {
                    iterator,
                    ..Shard::default()
                },
            );
        }
        Ok(())
    }

    /// Reads or retries one batch of a shard; true when there was work.
    async fn step(&self, shard_id: &str, shard: &mut Shard) -> anyhow::Result<bool> {
        if shard.not_before.is_some_and(|at| Instant::now() < at) {
            return Ok(false);
        }
        if shard.pending.is_empty() && !shard.closed {
            let Some(iterator) = shard.iterator.take() else {
                shard.closed = true;
                return Ok(false);
            };
            let output = self
                .streams
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await;
            let output = match output {
                Ok(output) => output,
                Err(error) => {
                    shard.iterator = Some(iterator);
                    return Err(error.into());
                }
            };
            shard.iterator = output.next_shard_iterator;
            shard.pending.extend(
                output
                    .records
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| event_record(r, &self.stream_arn)),
            );
        }
        if shard.pending.is_empty() {
            return Ok(false);
        }
        let batch: Vec<EventRecord> = shard
            .pending
            .iter()
            .take(NOTIFY_BATCH_SIZE)
            .cloned()
            .collect();
        let batch_len = batch.len();
        let mut event = Event::default();
        event.records = batch;
        let started = std::time::Instant::now();
        let response = self.handler.handle(event).await;
        self.invocations.record(started.elapsed());
        let failed_at = response
            .batch_item_failures
            .first()
            .map(|failure| failure.item_identifier.clone());
        let Some(failed_at) = failed_at else {
            shard.pending.drain(..batch_len);
            shard.failed_attempts = 0;
            shard.not_before = None;
            return Ok(true);
        };
        // Keep the failed record and everything after it; drop what succeeded.
        let done = shard
            .pending
            .iter()
            .take(batch_len)
            .position(|record| record.change.sequence_number == failed_at)
            .unwrap_or(0);
        shard.pending.drain(..done);
        // Lambda counts retries for the record at the checkpoint: when the
        // checkpoint moved, the record that failed now is on its first.
        if done > 0 {
            shard.failed_attempts = 0;
        }
        shard.failed_attempts += 1;
        if shard.failed_attempts > NOTIFY_MAX_RETRY_ATTEMPTS {
            let retained = shard.pending.len().min(batch_len - done);
            let given_up: Vec<EventRecord> = shard.pending.iter().take(retained).cloned().collect();
            match self
                .send_to_on_failure_queue(shard_id, &given_up, shard.failed_attempts)
                .await
            {
                Ok(()) => {
                    shard.pending.drain(..retained);
                    shard.failed_attempts = 0;
                    shard.not_before = None;
                    tracing::error!(%shard_id, records = retained, "notify gave up on stream records; they are described on the on-failure queue");
                    return Ok(true);
                }
                Err(error) => {
                    tracing::error!(%shard_id, error = %format!("{error:#}"), "the on-failure queue cannot be reached: the records stay and are tried again");
                }
            }
        }
        let backoff = FIRST_BACKOFF
            .saturating_mul(2u32.saturating_pow(shard.failed_attempts.saturating_sub(1)))
            .min(MAX_BACKOFF);
        shard.not_before = Some(Instant::now() + backoff);
        Ok(true)
    }

    async fn send_to_on_failure_queue(
        &self,
        shard_id: &str,
        records: &[EventRecord],
        attempts: u32,
    ) -> anyhow::Result<()> {
        let sequence =
            |record: Option<&EventRecord>| record.and_then(|r| r.change.sequence_number.clone());
        let description = serde_json::json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
            "timestamp": domain::order::timestamp(Utc::now()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence(records.first()),
                "endSequenceNumber": sequence(records.last()),
                "batchSize": records.len(),
                "streamArn": self.stream_arn,
            }
        });
        self.sqs
            .send_message()
            .queue_url(&self.on_failure_queue_url)
            .message_body(description.to_string())
            .send()
            .await?;
        Ok(())
    }
}

/// A stream record as Lambda puts it in notify's event.
pub fn event_record(record: Record, stream_arn: &str) -> EventRecord {
    let change = record
        .dynamodb
        .unwrap_or_else(|| aws_sdk_dynamodbstreams::types::StreamRecord::builder().build());
    let mut stream_record = StreamRecord::default();
    stream_record.approximate_creation_date_time = change
        .approximate_creation_date_time
        .and_then(|at| chrono::DateTime::from_timestamp(at.secs(), at.subsec_nanos()))
        .unwrap_or_default();
    stream_record.keys = change.keys.unwrap_or_default().into();
    stream_record.new_image = change.new_image.unwrap_or_default().into();
    stream_record.old_image = change.old_image.unwrap_or_default().into();
    stream_record.sequence_number = change.sequence_number;
    stream_record.size_bytes = change.size_bytes.unwrap_or_default();
    let mut event_record = EventRecord::default();
    event_record.aws_region = record.aws_region.unwrap_or_else(|| "us-east-1".to_owned());
    event_record.change = stream_record;
    event_record.event_id = record.event_id.unwrap_or_default();
    event_record.event_name = record
        .event_name
        .map(|name| name.as_str().to_owned())
        .unwrap_or_default();
    event_record.event_source = record.event_source;
    event_record.event_version = record.event_version;
    event_record.event_source_arn = Some(stream_arn.to_owned());
    event_record
}

/// Records read from the stream as the event Lambda would hand notify.
pub fn event_of(records: Vec<Record>, stream_arn: &str) -> Event {
    let mut event = Event::default();
    event.records = records
        .into_iter()
        .map(|record| event_record(record, stream_arn))
        .collect();
    event
}
