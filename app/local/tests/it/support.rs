//! What the integration tests share: one moto per test binary (it exits with
//! the binary), a fresh stack per test under its own resource names, and a
//! way to wait for the asynchronous pipeline.

#![allow(dead_code)]

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageAttributeValue;
use local_stack::api::OrderApiAuth;
use local_stack::api::browser::AllowedOrigins;
use local_stack::api::signature::CheckoutKey;
use local_stack::{LocalStack, Moto, StackOptions};
use pipeline::queue::attributes;
use serde_json::{Value, json};

static MOTO: OnceLock<Moto> = OnceLock::new();

pub const ADMIN_PASSWORD: &str = "correct-horse-battery";
pub const SESSION_SECRET: &str = "test-session-secret-of-at-least-32-characters";
static NEXT_STACK: AtomicUsize = AtomicUsize::new(0);

pub fn moto_endpoint() -> &'static str {
    MOTO.get_or_init(|| {
        // Warnings and errors land in the output of the test that caused
        // them, which libtest shows when it fails.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_test_writer()
            .try_init();
        Moto::start().expect("moto starts")
    })
    .endpoint()
}

pub fn unique_prefix() -> String {
    format!(
        "t{}-{}",
        std::process::id(),
        NEXT_STACK.fetch_add(1, Ordering::SeqCst)
    )
}

/// True when a test that loads the machine must return at once:
/// scripts/check runs everything with `SKIP_SOLO_TESTS=1`, then those tests
/// one at a time (the browser test, the flash sale), since on two cores
/// either beside the fault bursts starves moto.
pub fn runs_alone() -> bool {
    std::env::var_os("SKIP_SOLO_TESTS").is_some()
}

/// A stack with its own resources, its API on a free port.
pub async fn stack(run_pipeline: bool) -> LocalStack {
    stack_on(moto_endpoint(), run_pipeline, None).await
}

/// A stack whose shop keeps the time of `zone`.
pub async fn stack_in_zone(zone: chrono_tz::Tz, run_pipeline: bool) -> LocalStack {
    start(moto_endpoint(), run_pipeline, None, zone, signed_callers()).await
}

/// A stack in browser mode (`ORDER_API_AUTH=none`): anyone's orders, from
/// pages on `origins` (comma-separated) or from no page at all, at the
/// sample catalog's prices.
pub async fn browser_stack(run_pipeline: bool, origins: &str) -> LocalStack {
    let origins = AllowedOrigins::parse(origins).expect("origins for browser mode");
    priced(run_pipeline, OrderApiAuth::Browser(origins)).await
}

/// A stack of signed callers whose ingest checks prices (`CHECK_PRICES`)
/// against the sample catalog.
pub async fn priced_stack(run_pipeline: bool) -> LocalStack {
    priced(run_pipeline, signed_callers()).await
}

async fn priced(run_pipeline: bool, order_api_auth: OrderApiAuth) -> LocalStack {
    let stack = start_checking(
        moto_endpoint(),
        run_pipeline,
        None,
        chrono_tz::Tz::UTC,
        order_api_auth,
        true,
    )
    .await;
    local_stack::demo::seed_catalog(&stack)
        .await
        .expect("the sample catalog");
    stack
}

fn signed_callers() -> OrderApiAuth {
    OrderApiAuth::Signed(CheckoutKey::generate())
}

/// A stack reaching AWS at `endpoint` (moto, or a fault proxy in front of it).
pub async fn stack_on(
    endpoint: &str,
    run_pipeline: bool,
    redeliver_after: Option<Duration>,
) -> LocalStack {
    start(
        endpoint,
        run_pipeline,
        redeliver_after,
        chrono_tz::Tz::UTC,
        signed_callers(),
    )
    .await
}

async fn start(
    endpoint: &str,
    run_pipeline: bool,
    redeliver_after: Option<Duration>,
    shop_time_zone: chrono_tz::Tz,
    order_api_auth: OrderApiAuth,
) -> LocalStack {
    start_checking(
        endpoint,
        run_pipeline,
        redeliver_after,
        shop_time_zone,
        order_api_auth,
        false,
    )
    .await
}

async fn start_checking(
    endpoint: &str,
    run_pipeline: bool,
    redeliver_after: Option<Duration>,
    shop_time_zone: chrono_tz::Tz,
    order_api_auth: OrderApiAuth,
    check_prices: bool,
) -> LocalStack {
    LocalStack::start(
        endpoint,
        StackOptions {
            prefix: unique_prefix(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            notification_email: Some("owner@example.com".to_owned()),
            print_emails: false,
            run_pipeline,
            admin_password: ADMIN_PASSWORD.to_owned(),
            session_secret: SESSION_SECRET.to_owned(),
            api_errors: local_stack::api::ErrorDetail::FieldLevel,
            redeliver_after,
            shop_time_zone,
            email_rate: pipeline::email_rate::EmailRate::DEFAULT,
            check_prices,
            order_api_auth,
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
pub async fn notified_order(stack: &LocalStack, id: &str) -> domain::Order {
    let what = format!("order {id} to be notified");
    let id = domain::OrderId::parse(id).expect("an order id");
    let orders = stack.orders();
    eventually(&what, PIPELINE, || async {
        orders
            .get(&id)
            .await
            .expect("the table answers")
            .filter(|order| order.status() == domain::OrderStatus::Notified)
    })
    .await
}

/// Markup that would become a form and a link if it were rendered as HTML,
/// breaking out of a textarea and of a quoted attribute first (at most 100
/// characters, as a name may be; spaced, as a long name would be).
pub const PLANTED: &str = r#"</textarea> "> <form action=//evil.io/f> <button>Win</button> </form> <a href=//evil.io>x</a>"#;

/// What [`PLANTED`] would make on a page, as a CSS selector.
pub const PLANTED_ELEMENTS: &str =
    r#"form[action^="//evil"], a[href^="//evil"], [formaction^="//evil"]"#;

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

/// Sends a request to the order API signed as the shop's checkout signs
/// it: the one way the tests place orders.
pub async fn send_signed(
    client: &reqwest::Client,
    stack: &LocalStack,
    request: reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let mut request = request.build()?;
    stack.sign(&mut request);
    client.execute(request).await
}

/// Posts a JSON body to the stack's API; returns the status and the answer.
pub async fn post_order(
    stack: &LocalStack,
    body: &Value,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.post(format!("{}/orders", stack.api_url)).json(body);
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = send_signed(&client, stack, request)
        .await
        .expect("the API answers");
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
    browser_at("127.0.0.1")
}

/// The same, connecting from another loopback address (`127.0.0.2`, …), as
/// a client elsewhere would: the dashboard throttles by the socket's peer.
pub fn browser_at(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address.parse::<std::net::IpAddr>().expect("an IP address"))
        .build()
        .expect("client")
}

/// Someone using the dashboard: their session cookie and its form token.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    pub cookie: String,
    pub csrf: String,
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Signs in through the login form; panics if that fails.
pub async fn sign_in(stack: &LocalStack, email: &str, password: &str) -> Visitor {
    let (location, cookies) = post_login(stack, email, password, "127.0.0.1").await;
    let cookie = cookies
        .lines()
        .find(|c| c.starts_with("session=") && !c.starts_with("session=;"))
        .unwrap_or_else(|| panic!("{email} could not sign in (went to {location})"))
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut visitor = Visitor {
        cookie,
        csrf: String::new(),
    };
    let (_, html) = visitor.page(stack, "/").await;
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form token on the page") + marker.len();
    visitor.csrf = html[start..start + html[start..].find('"').unwrap()].to_owned();
    visitor
}

/// Posts the login form; returns where it redirects and the cookies it sets.
pub async fn post_login(
    stack: &LocalStack,
    email: &str,
    password: &str,
    address: &str,
) -> (String, String) {
    let response = browser_at(address)
        .post(format!("{}/api/login", stack.api_url))
        .header("Accept", "text/html")
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .expect("the dashboard answers");
    (
        header(&response, "location"),
        header(&response, "set-cookie"),
    )
}

/// The one-time message the page at `location` shows, given the cookies an
/// action set (and the session, if any).
pub async fn flash_on(
    stack: &LocalStack,
    location: &str,
    set_cookies: &str,
    session: &str,
) -> String {
    let flash = set_cookies
        .lines()
        .find(|c| c.starts_with("flash="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_default();
    let visitor = Visitor {
        cookie: format!("{session}; {flash}"),
        csrf: String::new(),
    };
    let (_, html) = visitor.page(stack, location).await;
    let page = scraper::Html::parse_document(&html);
    let selector = scraper::Selector::parse(".flash").unwrap();
    page.select(&selector)
        .next()
        .unwrap_or_else(|| panic!("a flash message on {location}"))
        .text()
        .collect()
}

/// Signs in through the form from `address`; returns where it went and, if
/// it went back to sign-in, the message shown there.
pub async fn login_message(
    stack: &LocalStack,
    email: &str,
    password: &str,
    address: &str,
) -> (String, String) {
    let (location, cookies) = post_login(stack, email, password, address).await;
    if location.starts_with("/login") {
        let message = flash_on(stack, &location, &cookies, "").await;
        (location, message)
    } else {
        (location, String::new())
    }
}

/// Signs in as the first admin.
pub async fn admin(stack: &LocalStack) -> Visitor {
    sign_in(stack, dashboard::auth::FIRST_ADMIN, ADMIN_PASSWORD).await
}

/// Creates a user with `role` (password [`ADMIN_PASSWORD`]); returns the email.
pub async fn create_user(stack: &LocalStack, role: dashboard::auth::Role) -> String {
    create_named_user(stack, &format!("{role}@example.com"), role).await
}

/// Creates the user `email` with `role` (password [`ADMIN_PASSWORD`]).
pub async fn create_named_user(
    stack: &LocalStack,
    email: &str,
    role: dashboard::auth::Role,
) -> String {
    let email = email.to_owned();
    let users = dashboard::auth::users::UserStore::new(
        stack.clients.dynamodb.clone(),
        &stack.resources.names.table,
    );
    let password = dashboard::auth::password::Password::parse(ADMIN_PASSWORD).unwrap();
    users
        .create(
            &domain::Email::parse(email.clone()).unwrap(),
            role,
            &password,
        )
        .await
        .unwrap();
    email
}

/// Creates a user with `role` and signs them in.
pub async fn user_with_role(stack: &LocalStack, role: dashboard::auth::Role) -> Visitor {
    let email = create_user(stack, role).await;
    sign_in(stack, &email, ADMIN_PASSWORD).await
}

impl Visitor {
    /// Gets a page; returns the status and the HTML.
    pub async fn page(&self, stack: &LocalStack, path: &str) -> (u16, String) {
        let response = browser()
            .get(format!("{}{path}", stack.api_url))
            .header("Cookie", &self.cookie)
            .send()
            .await
            .expect("the dashboard answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// Posts a form (with this session's token) as a browser does; returns
    /// the status, the redirect target and the cookies set.
    pub async fn post(
        &self,
        stack: &LocalStack,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        let response = browser()
            .post(format!("{}{action}", stack.api_url))
            .header("Accept", "text/html")
            .header("Origin", stack.api_url.clone())
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .expect("the dashboard answers");
        (
            response.status().as_u16(),
            header(&response, "location"),
            header(&response, "set-cookie"),
        )
    }

    /// Submits a form and returns the flash message the next page shows.
    pub async fn submit(
        &self,
        stack: &LocalStack,
        action: &str,
        fields: &[(&str, &str)],
    ) -> String {
        let (status, location, cookies) = self.post(stack, action, fields).await;
        assert_eq!(status, 303, "{action} redirects");
        flash_on(stack, &location, &cookies, &self.cookie).await
    }
}

/// An SQS message attribute of type String.
pub fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}

/// Puts a message straight on the DLQ, as ingest would; returns its message id.
pub async fn dead_letter(stack: &LocalStack, body: &str, order_id: &str, reason: &str) -> String {
    stack
        .clients
        .sqs
        .send_message()
        .queue_url(&stack.resources.dead_letter_queue_url)
        .message_body(body)
        .message_attributes(attributes::ORDER_ID, string_attribute(order_id))
        .message_attributes(attributes::ERROR, string_attribute(reason))
        .send()
        .await
        .unwrap()
        .message_id
        .unwrap()
}

/// Sends one request with the request target exactly as given (HTTP client
/// libraries normalise paths, which is what an attacker would not do) and
/// returns the status and the body. Plain HTTP/1.1 over one connection.
pub async fn raw_request(
    stack: &LocalStack,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = stack.api_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The text of every element `css` selects.
pub fn texts(html: &str, css: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).expect("a selector");
    page.select(&selector)
        .map(|element| {
            element
                .text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// An attribute of every element `css` selects.
pub fn attribute_of(html: &str, css: &str, name: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).expect("a selector");
    page.select(&selector)
        .filter_map(|element| element.value().attr(name).map(str::to_owned))
        .collect()
}

pub use local_stack::events::{queued, sqs_event};

/// Plays notify on what the stream holds after `iterator` (from the
/// start when `None`), as Lambda would; moves `iterator` on.
pub async fn run_notify(stack: &LocalStack, iterator: &mut Option<String>) {
    let records = read_stream(stack, iterator).await;
    let event = local_stack::stream_trigger::event_of(records, &stack.resources.stream_arn);
    let response = stack.notify().handle(event).await;
    assert!(response.batch_item_failures.is_empty());
}

/// Reads what the stream holds after `iterator` without handing it to
/// notify: as if notify had given up on those records.
pub async fn read_stream(
    stack: &LocalStack,
    iterator: &mut Option<String>,
) -> Vec<aws_sdk_dynamodbstreams::types::Record> {
    if iterator.is_none() {
        let stream = stack
            .clients
            .streams
            .describe_stream()
            .stream_arn(&stack.resources.stream_arn)
            .send()
            .await
            .unwrap();
        let shard = stream.stream_description().unwrap().shards()[0]
            .shard_id()
            .unwrap()
            .to_owned();
        *iterator = stack
            .clients
            .streams
            .get_shard_iterator()
            .stream_arn(&stack.resources.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
    }
    let records = stack
        .clients
        .streams
        .get_records()
        .shard_iterator(iterator.clone().unwrap())
        .send()
        .await
        .unwrap();
    *iterator = records.next_shard_iterator().map(str::to_owned);
    records.records().to_vec()
}

/// The ARN SNS gave `email`'s subscription to the stack's topic.
pub async fn subscription_arn(stack: &LocalStack, email: &str) -> String {
    stack
        .clients
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&stack.resources.topic_arn)
        .send()
        .await
        .unwrap()
        .subscriptions()
        .iter()
        .find(|s| s.endpoint() == Some(email))
        .and_then(|s| s.subscription_arn())
        .unwrap_or_else(|| panic!("{email} is subscribed"))
        .to_owned()
}

/// Today's activity log of the stack, newest first.
pub async fn activity(stack: &LocalStack) -> Vec<dashboard::auth::audit::Entry> {
    dashboard::auth::audit::AuditLog::new(
        stack.clients.dynamodb.clone(),
        &stack.resources.names.table,
    )
    .recent(
        chrono::Utc::now(),
        1,
        10_000,
        dashboard::auth::audit::Show::All,
    )
    .await
    .expect("the activity log reads")
}

/// Refused sign-ins of today counted as `why` (the start of its line in
/// the summaries: "wrong email or password", "locked out", "slowed",
/// "refused unchecked").
pub async fn refused_sign_ins(stack: &LocalStack, why: &str) -> u64 {
    activity(stack)
        .await
        .iter()
        .filter(|entry| entry.action == "sign-in refusals")
        .flat_map(|entry| entry.details.iter())
        .filter(|line| line.starts_with(why))
        .filter_map(|line| line.rsplit(": ").next()?.parse::<u64>().ok())
        .sum()
}

/// Waits for `count` dead letters; returns (body, error attribute) of each.
pub async fn dead_letters(stack: &LocalStack, count: usize) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + PIPELINE;
    let mut found = Vec::new();
    while found.len() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {count} dead letters; got {found:?}"
        );
        let received = stack
            .clients
            .sqs
            .receive_message()
            .queue_url(&stack.resources.dead_letter_queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in received.messages.unwrap_or_default() {
            let error = message
                .message_attributes()
                .and_then(|attributes| attributes.get(attributes::ERROR))
                .and_then(|value| value.string_value())
                .unwrap_or("(no reason)")
                .to_owned();
            found.push((message.body().unwrap_or_default().to_owned(), error));
        }
    }
    found
}
