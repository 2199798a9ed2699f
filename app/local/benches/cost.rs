//! What an order costs on AWS: the stack runs the pipeline on moto, orders
//! go in through the order API, and once every one is mailed the requests
//! each part made are counted (the stack's call and invocation logs), the
//! write units are priced from the real items with DynamoDB's sizing rules,
//! and everything is multiplied by `infra/prices.yaml`. Beside it, the seed's
//! design: one put of the order and one publish (one email) an order.
//!
//! `cargo bench -p local-stack --bench cost` (1,000 orders; 20 under
//! `cargo test`, which runs each benchmark once). `scripts/bench` runs it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;

use domain::{OrderId, OrderStatus};
use local_stack::{LocalStack, Moto, StackOptions};
use pipeline::store::orders::to_item;
use pipeline::store::sizing;
use serde::Deserialize;

#[derive(Deserialize)]
struct Prices {
    region: String,
    as_of: String,
    api_gateway_per_million_requests: f64,
    sqs_per_million_requests: f64,
    lambda_per_million_requests: f64,
    lambda_per_gb_second: f64,
    dynamodb_per_million_write_units: f64,
    dynamodb_per_million_read_units: f64,
    sns_per_million_publishes: f64,
    sns_per_million_emails: f64,
}

/// Lambda's memory as deployed for ingest and notify, in GB.
const LAMBDA_GB: f64 = 0.125;

/// One row of the table: what an order uses of one thing, and its price a unit.
struct Line {
    service: &'static str,
    what: &'static str,
    per_order: f64,
    seed_per_order: f64,
    price_per_unit: f64,
    email: bool,
}

fn main() {
    let benchmarking = std::env::args().any(|argument| argument == "--bench");
    let count = if benchmarking { 1_000 } else { 20 };
    let prices: Prices = serde_yaml::from_str(include_str!("../../../infra/prices.yaml"))
        .expect("infra/prices.yaml");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let moto = Moto::start().expect("moto starts");
    let lines = runtime.block_on(measure(&moto, count, &prices));
    print(&lines, count, &prices);
}

async fn measure(moto: &Moto, count: usize, prices: &Prices) -> Vec<Line> {
    let stack = LocalStack::start(
        moto.endpoint(),
        StackOptions {
            run_pipeline: true,
            notification_email: Some("staff@example.com".to_owned()),
            ..StackOptions::benchmark(format!("cost{}", std::process::id()))
        },
    )
    .await
    .expect("the stack starts");
    // A spike: the flash sale's orders posted 16 at a time, as a checkout
    // fleet would, each with its idempotency key.
    let client = reqwest::Client::new();
    let posted_from = Instant::now();
    let ids: Vec<OrderId> = futures::stream::iter(domain::sample::flash_sale(count))
        .map(|(id, body)| {
            let (client, stack) = (client.clone(), &stack);
            async move {
                let mut request = client
                    .post(format!("{}/orders", stack.api_url))
                    .header(local_stack::api::IDEMPOTENCY_KEY, &id)
                    .json(&body)
                    .build()
                    .expect("a request");
                stack.sign(&mut request);
                let response = client.execute(request).await.expect("the API answers");
                assert_eq!(response.status().as_u16(), 202, "the API took the order");
                OrderId::parse(id).expect("an order id")
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let posted_in = posted_from.elapsed();
    let store = stack.orders();
    let orders = loop {
        // moto under the spike may time a read out: that is "not yet".
        if let Ok(orders) = store.get_many(&ids).await
            && orders.len() == ids.len()
            && orders
                .iter()
                .all(|order| order.status() == OrderStatus::Notified)
        {
            break orders;
        }
        assert!(
            posted_from.elapsed() < Duration::from_secs(600),
            "the orders were not all mailed in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mailed_in = posted_from.elapsed();
    println!(
        "\nLocal spike: {count} orders posted 16 at a time in {:.1} s ({:.0} a second taken by the API); every one stored and marked mailed {:.1} s after the first post ({:.0} a second end to end)",
        posted_in.as_secs_f64(),
        count as f64 / posted_in.as_secs_f64(),
        mailed_in.as_secs_f64(),
        count as f64 / mailed_in.as_secs_f64(),
    );
    // The mailbox polls its queue: let the last digest arrive.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let shape = store.described_shape().await.expect("the table");
    let mut write_units = 0;
    for order in &orders {
        let marked = store
            .item(&order.id)
            .await
            .expect("the order's item")
            .expect("the stored order");
        let mut as_stored = order.clone();
        as_stored.notified = None;
        let stored = to_item(&as_stored).expect("an item");
        write_units += shape.put(&stored).total() + shape.update(&stored, &marked).total();
    }
    let calls = |log: &pipeline::aws::CallLog, service: &str, operations: &[&str]| {
        log.calls()
            .iter()
            .filter(|call| call.service == service && operations.contains(&call.operation.as_str()))
            .count() as f64
    };
    let n = count as f64;
    let logs = &stack.calls;
    let invocations = |log: &local_stack::invocations::InvocationLog| {
        let durations = log.durations();
        // Lambda bills each invocation's duration rounded up to the millisecond.
        let billed_ms: u128 = durations
            .iter()
            .map(|d| d.as_micros().div_ceil(1_000))
            .sum();
        (
            durations.len() as f64,
            billed_ms as f64 / 1_000.0 * LAMBDA_GB,
        )
    };
    let (ingest_calls, ingest_gb_s) = invocations(&logs.ingest_invocations);
    let (notify_calls, notify_gb_s) = invocations(&logs.notify_invocations);
    // The event-source mapping's own requests are the account's too: a
    // receive and a batch delete an ingest invocation (its idle long polls
    // cost the same with or without orders and are left out).
    let sqs_requests = calls(&logs.order_api, "SQS", &["SendMessage"])
        + 2.0 * ingest_calls
        + calls(&logs.ingest, "SQS", &["SendMessage"])
        + calls(&logs.notify, "SQS", &["SendMessage"]);
    let api_requests = calls(&logs.order_api, "SQS", &["SendMessage"]);
    let reads = calls(&logs.ingest, "DynamoDB", &["GetItem", "Query"])
        + calls(&logs.notify, "DynamoDB", &["GetItem"])
        // notify's check of a batch: one consistent read an order.
        + n;
    let schedule_writes = calls(&logs.notify, "DynamoDB", &["UpdateItem"]) - n;
    let publishes = calls(&logs.notify, "SNS", &["Publish"]);
    let emails = stack.delivered_emails().len() as f64;
    let seed_item = sizing::item_size(&to_item(&orders[0]).expect("an item"));
    vec![
        Line {
            service: "API Gateway",
            what: "REST requests",
            per_order: api_requests / n,
            seed_per_order: 1.0,
            price_per_unit: prices.api_gateway_per_million_requests / 1e6,
            email: false,
        },
        Line {
            service: "SQS",
            what: "requests (send, receive, delete)",
            per_order: sqs_requests / n,
            seed_per_order: sqs_requests / n,
            price_per_unit: prices.sqs_per_million_requests / 1e6,
            email: false,
        },
        Line {
            service: "Lambda",
            what: "invocations (ingest + notify)",
            per_order: (ingest_calls + notify_calls) / n,
            seed_per_order: (ingest_calls + notify_calls) / n,
            price_per_unit: prices.lambda_per_million_requests / 1e6,
            email: false,
        },
        Line {
            service: "Lambda",
            what: "GB-s at 128 MB (measured durations, on moto)",
            per_order: (ingest_gb_s + notify_gb_s) / n,
            seed_per_order: (ingest_gb_s + notify_gb_s) / n,
            price_per_unit: prices.lambda_per_gb_second,
            email: false,
        },
        Line {
            service: "DynamoDB",
            what: "write units (sizing of the real items)",
            per_order: f64::from(write_units) / n + schedule_writes.max(0.0) / n,
            seed_per_order: f64::from(sizing::write_units(seed_item)),
            price_per_unit: prices.dynamodb_per_million_write_units / 1e6,
            email: false,
        },
        Line {
            service: "DynamoDB",
            what: "read units (consistent, under 4 KB)",
            per_order: reads / n,
            seed_per_order: 0.0,
            price_per_unit: prices.dynamodb_per_million_read_units / 1e6,
            email: false,
        },
        Line {
            service: "SNS",
            what: "publishes",
            per_order: publishes / n,
            seed_per_order: 1.0,
            price_per_unit: prices.sns_per_million_publishes / 1e6,
            email: false,
        },
        Line {
            service: "SNS",
            what: "email deliveries, one subscriber",
            per_order: emails / n,
            seed_per_order: 1.0,
            price_per_unit: prices.sns_per_million_emails / 1e6,
            email: true,
        },
    ]
}

fn print(lines: &[Line], count: usize, prices: &Prices) {
    println!(
        "\nCost of {count} orders through the local stack, priced at {} list prices of {} (infra/prices.yaml)\n",
        prices.region, prices.as_of
    );
    println!(
        "| Service | What | This design, per order | $ a million orders | Seed design, per order | $ a million orders |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    let mut totals: BTreeMap<bool, (f64, f64)> = BTreeMap::new();
    for line in lines {
        let ours = line.per_order * line.price_per_unit * 1e6;
        let seed = line.seed_per_order * line.price_per_unit * 1e6;
        let total = totals.entry(line.email).or_default();
        total.0 += ours;
        total.1 += seed;
        println!(
            "| {} | {} | {:.4} | {:.2} | {:.4} | {:.2} |",
            line.service, line.what, line.per_order, ours, line.seed_per_order, seed
        );
    }
    let (without_email, seed_without_email) = totals.get(&false).copied().unwrap_or_default();
    let (email, seed_email) = totals.get(&true).copied().unwrap_or_default();
    println!(
        "| **Total without email** | | | **{without_email:.2}** | | **{seed_without_email:.2}** |"
    );
    println!(
        "| **Total with email** | | | **{:.2}** | | **{:.2}** |",
        without_email + email,
        seed_without_email + seed_email
    );
}
