//! What the integration tests share: one moto per test binary (it exits with
//! the binary), a fresh stack per test under its own resource names, and a
//! way to wait for the asynchronous pipeline.

#![allow(dead_code)]

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::local::{LocalStack, Moto, StackOptions};
use serde_json::{Value, json};

static MOTO: OnceLock<Moto> = OnceLock::new();
static NEXT_STACK: AtomicUsize = AtomicUsize::new(0);

pub fn moto_endpoint() -> &'static str {
    MOTO.get_or_init(|| Moto::start().expect("moto starts"))
        .endpoint()
}

pub fn unique_prefix() -> String {
    format!(
        "t{}-{}",
        std::process::id(),
        NEXT_STACK.fetch_add(1, Ordering::SeqCst)
    )
}

/// A stack with its own resources, its API on a free port.
pub async fn stack(run_pipeline: bool) -> LocalStack {
    let endpoint = moto_endpoint();
    LocalStack::start(
        endpoint,
        StackOptions {
            prefix: unique_prefix(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            notification_email: Some("owner@example.com".to_owned()),
            print_emails: false,
            run_pipeline,
        },
    )
    .await
    .expect("stack starts")
}

/// Polls `probe` until it returns `Some`, or fails the test after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn order_body() -> Value {
    json!({
        "customer": {"name": "Ana Souza", "email": "Ana@Example.com"},
        "items": [
            {"sku": "GC-500", "name": "Glass cleaner 500 ml", "quantity": 2, "unitPrice": 1299},
            {"sku": "MF-10", "name": "Microfibre cloths, pack of 10", "quantity": 1, "unitPrice": 899}
        ],
        "currency": "USD",
        "shippingAddress": {"line1": "1 Main Street", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}
    })
}

/// Posts a JSON body to the stack's API; returns the status and the answer.
pub async fn post_order(
    stack: &LocalStack,
    body: &Value,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/orders", stack.api_url))
        .json(body);
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Messages waiting or in flight on a queue.
pub async fn queue_depth(stack: &LocalStack, queue_url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as Name;
    let attributes = stack
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(Name::ApproximateNumberOfMessages)
        .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .unwrap_or_default();
    [
        Name::ApproximateNumberOfMessages,
        Name::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|name| {
        attributes
            .get(name)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}
