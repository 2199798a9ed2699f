//! Events as Lambda hands them to ingest and notify: for the tests that play
//! Lambda and for the benchmark that feeds the function binaries.

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use pipeline::queue::attributes;

/// A message as the order API queues it: `body` under `order_id`, and when
/// it was received if known.
pub fn queued(
    message_id: &str,
    order_id: &str,
    body: &str,
    received_ms: Option<i64>,
) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(message_id.to_owned());
    message.receipt_handle = Some(format!("receipt-{message_id}"));
    message.body = Some(body.to_owned());
    let received = received_ms.map(|ms| (attributes::RECEIVED_AT, ms.to_string()));
    for (name, value) in
        std::iter::once((attributes::ORDER_ID, order_id.to_owned())).chain(received)
    {
        let mut attribute = SqsMessageAttribute::default();
        attribute.data_type = Some("String".to_owned());
        attribute.string_value = Some(value);
        message
            .message_attributes
            .insert(name.to_owned(), attribute);
    }
    message
}

/// The event Lambda hands ingest for these messages.
pub fn sqs_event(messages: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages;
    event
}

/// Everything the table's stream holds, every shard from its start, as
/// notify's events of at most `batch` records.
pub async fn stream_events(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    batch: usize,
) -> anyhow::Result<Vec<Event>> {
    let description = streams
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await?;
    let mut records = Vec::new();
    for shard in description
        .stream_description()
        .map(|d| d.shards())
        .unwrap_or_default()
    {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await?
            .shard_iterator;
        while let Some(current) = iterator {
            let page = streams.get_records().shard_iterator(current).send().await?;
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().cloned());
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
    }
    Ok(records
        .chunks(batch.max(1))
        .map(|chunk| crate::stream_trigger::event_of(chunk.to_vec(), stream_arn))
        .collect())
}
