//! CPU cost per order of the pipeline's own work, without AWS calls:
//! ingest (read the SQS message, validate, build the DynamoDB item) and
//! notify (decode the stream image, render the email, or a digest of a
//! spike's batch).
//!
//! `cargo bench -p pipeline --bench pipeline`

use std::hint::black_box;

use aws_lambda_events::dynamodb::EventRecord;
use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use domain::OrderEmail;
use domain::digest::{DIGEST_BODY_LIMIT, DigestContext, digests};
use pipeline::ingest::read_message;
use pipeline::notify::new_order;
use pipeline::queue::attributes;
use pipeline::store::orders::to_item;
use serde_json::{Value, json};

fn body(lines: usize) -> Value {
    let items: Vec<Value> = (0..lines)
        .map(|n| json!({"sku": format!("SKU-{n:04}"), "name": format!("Cleaning product number {n}"), "quantity": 1 + n % 5, "unitPrice": 299 + n * 100}))
        .collect();
    json!({
        "customer": {"name": "Ana Souza", "email": "ana@example.com"},
        "items": items,
        "currency": "USD",
        "shippingAddress": {"line1": "1 Main Street", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}
    })
}

fn message(lines: usize) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some("bench".to_owned());
    message.body = Some(body(lines).to_string());
    for (name, value) in [
        (attributes::ORDER_ID, "bench-order-0001"),
        (attributes::RECEIVED_AT, "1795000000000"),
    ] {
        let mut attribute = SqsMessageAttribute::default();
        attribute.string_value = Some(value.to_owned());
        message
            .message_attributes
            .insert(name.to_owned(), attribute);
    }
    message
}

/// The stream record DynamoDB would emit for the order in `message`.
fn record(message: &SqsMessage) -> EventRecord {
    let order = read_message(message, Utc::now()).unwrap();
    let item: serde_dynamo::Item = to_item(&order).unwrap().into();
    let mut record = EventRecord::default();
    record.event_name = "INSERT".to_owned();
    record.change.new_image = item;
    record.change.sequence_number = Some("1".to_owned());
    record
}

fn pipeline(c: &mut Criterion) {
    for (label, lines) in [("3 lines", 3), ("100 lines", 100)] {
        let message = message(lines);
        c.bench_function(
            &format!("ingest: read, validate, build item ({label})"),
            |b| {
                b.iter(|| {
                    let order = read_message(black_box(&message), Utc::now()).unwrap();
                    to_item(&order).unwrap()
                })
            },
        );
        let record = record(&message);
        c.bench_function(
            &format!("notify: decode image, render email ({label})"),
            |b| {
                b.iter(|| {
                    let order = new_order(black_box(&record)).unwrap().unwrap();
                    OrderEmail::for_order(&order)
                })
            },
        );
    }
    // A spike: 1,000 records (a full stream batch) decoded and rendered as digests.
    let records: Vec<EventRecord> = (0..1000).map(|_| record(&message(3))).collect();
    c.bench_function("notify: decode 1,000 images, render their digest", |b| {
        b.iter(|| {
            let orders: Vec<domain::Order> = black_box(&records)
                .iter()
                .map(|record| new_order(record).unwrap().unwrap())
                .collect();
            let refs: Vec<&domain::Order> = orders.iter().collect();
            let context = DigestContext {
                emails_per_second: 5,
                link: None,
            };
            digests(&refs, &context, DIGEST_BODY_LIMIT)
        })
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
