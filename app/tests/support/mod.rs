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

/// How long the pipeline may take to store and notify an order in tests.
pub const PIPELINE: Duration = Duration::from_secs(30);

/// Waits until the order is stored and notified; returns it.
pub async fn notified_order(stack: &LocalStack, id: &str) -> app::domain::Order {
    let id = app::domain::OrderId::parse(id).expect("an order id");
    let orders = stack.orders();
    eventually("the order to be notified", PIPELINE, || async {
        orders
            .get(&id)
            .await
            .expect("the table answers")
            .filter(|order| order.status() == app::domain::OrderStatus::Notified)
    })
    .await
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

/// A browser without JavaScript: posts forms, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Posts a form as a browser does; returns the redirect target and the
/// flash cookie it set.
pub async fn submit(stack: &LocalStack, action: &str, fields: &[(&str, &str)]) -> (String, String) {
    let response = browser()
        .post(format!("{}{action}", stack.api_url))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/", stack.api_url))
        .form(fields)
        .send()
        .await
        .expect("the dashboard answers");
    assert_eq!(response.status().as_u16(), 302, "a form post redirects");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let cookie = header("set-cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    (header("location"), cookie)
}

/// Gets a page (with a cookie, if given); returns the status and the HTML.
pub async fn page(stack: &LocalStack, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = browser().get(format!("{}{path}", stack.api_url));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let response = request.send().await.expect("the dashboard answers");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// Submits a form and returns the flash message the next page shows.
pub async fn submit_and_read(stack: &LocalStack, action: &str, fields: &[(&str, &str)]) -> String {
    let (location, cookie) = submit(stack, action, fields).await;
    let (_, html) = page(stack, &location, Some(&cookie)).await;
    let start = html.find("class=\"flash").expect("a flash message");
    let text = &html[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</p>").unwrap()].to_owned()
}
