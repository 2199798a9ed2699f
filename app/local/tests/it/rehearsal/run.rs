//! The packaged functions run with the stack's own settings: each zip from
//! `cargo lambda build`, unpacked and started under the Runtime API emulator
//! with the environment, timeout and memory Lambda reports for the stack's
//! function (GetFunctionConfiguration), against the stack's table, queues
//! and topic. The rehearsal plays what AWS would do between them: API
//! Gateway (the POST method's own request template, rendered by Velocity),
//! the two event-source mappings (receive and delete; read the stream) and
//! the function URL (its events).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use local_stack::events::{sqs_event, stream_events};
use local_stack::runtime_api::{RunningFunction, Settings};
use local_stack::sqs_trigger::event_message;
use pipeline::queue::attributes;
use pipeline::settings::{self, env};
use serde_json::{Value, json};

use super::inventory::{queue_arn, queue_attributes, stream_arn};
use super::{Aws, Stack, package_of};
use crate::contract::{Render, validator, velocity};

const ORDER_KEY: &str = "rehearsal-order-0001";
const DASHBOARD_HOST: &str = "rehearsal.lambda-url.us-east-1.on.aws";

pub async fn end_to_end(aws: &Aws, stack: &Stack, packages: &Path) {
    let work = tempfile::tempdir().expect("a work directory");
    let secrets = create_secrets(aws, stack).await;
    let observer = observe_order_emails(aws, stack).await;
    let mut ingest = start(
        aws,
        stack,
        packages,
        "IngestFunction",
        &secrets,
        work.path(),
    )
    .await;
    let mut notify = start(
        aws,
        stack,
        packages,
        "NotifyFunction",
        &secrets,
        work.path(),
    )
    .await;
    let mut dashboard = start(
        aws,
        stack,
        packages,
        "DashboardFunction",
        &secrets,
        work.path(),
    )
    .await;
    println!("Each function started with its stack environment, timeout and memory.");

    // API Gateway: the body passes the model, the request template renders
    // the SQS call, and the integration sends it where moto says it points.
    let body = crate::support::order_body().to_string();
    assert_eq!(
        validator(std::slice::from_ref(&body)),
        [Some(true)],
        "the order passes the API's model"
    );
    let form = render_request(stack, &body);
    send_as_api_gateway(aws, stack, &form).await;

    let answer = run_ingest(aws, stack, &mut ingest).await;
    assert_eq!(
        answer["batchItemFailures"],
        json!([]),
        "ingest stored the order: {answer}"
    );
    let order_id = domain::OrderId::parse(ORDER_KEY).expect("an order id");
    let stored = pipeline::store::orders::OrderStore::new(
        aws.clients.dynamodb.clone(),
        stack.physical("OrdersTable"),
    )
    .get(&order_id)
    .await
    .expect("the table answers");
    assert!(
        stored.is_some(),
        "the order is stored under its Idempotency-Key"
    );
    println!("Order {ORDER_KEY}: API Gateway's template rendered, queued, stored by ingest.");

    let stream_arn = stream_arn(aws, stack.physical("OrdersTable")).await;
    let events = stream_events(
        &aws.clients.streams,
        &stream_arn,
        settings::NOTIFY_BATCH_SIZE,
    )
    .await
    .expect("the stream");
    assert_eq!(events.len(), 1, "one batch of new orders on the stream");
    let answer = notify
        .invoke(serde_json::to_value(&events[0]).unwrap())
        .await
        .expect("notify answers")
        .unwrap_or_else(|error| panic!("notify failed: {error}"));
    assert_eq!(
        answer["batchItemFailures"],
        json!([]),
        "notify emailed the order: {answer}"
    );
    let email = observed_email(aws, &observer).await;
    assert!(
        email.contains(ORDER_KEY),
        "the email names the order: {email}"
    );
    println!("Order {ORDER_KEY}: emailed through the stack's topic by notify.");

    // Store staff, as an admin adds them on the Users page (the first
    // admin is the one the dashboard created at its first start).
    let viewer = "staff@example.com";
    dashboard::auth::users::UserStore::new(
        aws.clients.dynamodb.clone(),
        stack.physical("OrdersTable"),
    )
    .create(
        &domain::Email::parse(viewer).unwrap(),
        dashboard::auth::Role::Viewer,
        &dashboard::auth::password::Password::parse(crate::support::ADMIN_PASSWORD).unwrap(),
    )
    .await
    .expect("a viewer added");
    let session = sign_in(&mut dashboard, viewer).await;
    let (status, orders) = page(&mut dashboard, "/orders", &session).await;
    assert_eq!(status, 200, "/orders for the signed-in viewer: {orders}");
    assert!(
        orders.contains(ORDER_KEY),
        "the dashboard lists the order: {orders}"
    );
    let (status, _) = page(&mut dashboard, "/users", &session).await;
    assert_eq!(status, 403, "a viewer may not manage users");
    println!(
        "Order {ORDER_KEY}: shown on the dashboard's /orders to a signed-in viewer (who gets 403 on /users)."
    );

    poison_ends_in_the_dead_letter_queue(aws, stack, &mut ingest).await;

    for function in [ingest, notify, dashboard] {
        let measured = function.stop().await.expect("the function stops");
        assert!(
            measured.errors.is_empty(),
            "a function reported errors: {:?}",
            measured.errors
        );
    }
}

/// The dashboard's two secrets, created as CloudFormation would create
/// them (moto has no model of AWS::SecretsManager::Secret): the variable
/// each goes in, and its ARN.
async fn create_secrets(aws: &Aws, stack: &Stack) -> HashMap<&'static str, String> {
    let mut arns = HashMap::new();
    for (resource, variable) in [
        ("SessionSecret", env::SESSION_SECRET_ARN),
        ("AdminPasswordSecret", env::ADMIN_PASSWORD_SECRET_ARN),
    ] {
        let properties = stack.properties(resource);
        let value = match properties["SecretString"]["Ref"].as_str() {
            Some(parameter) => stack.conditions.parameter(parameter).to_owned(),
            None => {
                let length = properties["GenerateSecretString"]["PasswordLength"]
                    .as_u64()
                    .expect("a generated secret's length");
                aws.clients
                    .secrets
                    .get_random_password()
                    .password_length(length as i64)
                    .exclude_punctuation(true)
                    .send()
                    .await
                    .expect("a random password")
                    .random_password()
                    .expect("a password")
                    .to_owned()
            }
        };
        let created = aws
            .clients
            .secrets
            .create_secret()
            .name(format!("{}-{resource}", super::STACK_NAME))
            .secret_string(value)
            .send()
            .await
            .expect("a secret");
        arns.insert(variable, created.arn().expect("an ARN").to_owned());
    }
    arns
}

/// Starts a stack function's package with what Lambda reports for it.
async fn start(
    aws: &Aws,
    stack: &Stack,
    packages: &Path,
    function: &str,
    secrets: &HashMap<&'static str, String>,
    work: &Path,
) -> RunningFunction {
    let configuration = aws
        .lambda
        .get_function_configuration()
        .function_name(stack.physical(function))
        .send()
        .await
        .expect("the function's configuration");
    let mut variables: Vec<(String, String)> = configuration
        .environment()
        .and_then(|environment| environment.variables())
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    for (name, arn) in secrets {
        let referenced = stack.properties(function)["Environment"]["Variables"]
            .get(*name)
            .is_some();
        if referenced && !variables.iter().any(|(set, _)| set == name) {
            variables.push(((*name).to_owned(), arn.clone()));
        }
    }
    // What Lambda itself gives every function: its region and credentials
    // (here for the private moto).
    for (name, value) in [
        ("AWS_ENDPOINT_URL", aws.endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "rehearsal"),
        ("AWS_SECRET_ACCESS_KEY", "rehearsal"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        variables.push((name.to_owned(), value.to_owned()));
    }
    let directory = work.join(function);
    std::fs::create_dir_all(&directory).unwrap();
    let program = unpack(&package_of(packages, function), &directory);
    let settings = Settings {
        function_name: configuration.function_name().unwrap_or(function).to_owned(),
        memory_mb: configuration.memory_size().unwrap_or(128) as u32,
        timeout: Duration::from_secs(configuration.timeout().unwrap_or(3) as u64),
    };
    let env: Vec<(&str, &str)> = variables
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    RunningFunction::start(
        &program,
        &[],
        &env,
        Some(&directory),
        &settings,
        &work.join(format!("{function}.log")),
    )
    .await
    .unwrap_or_else(|error| panic!("{function} cannot start with its stack environment: {error:#}"))
}

/// The package's `bootstrap`, unpacked into `directory` as Lambda does.
fn unpack(package: &Path, directory: &Path) -> std::path::PathBuf {
    let file = std::fs::File::open(package).expect("the package");
    let mut archive = zip::ZipArchive::new(file).expect("a zip");
    let mut bootstrap = archive
        .by_name("bootstrap")
        .expect("a bootstrap in the package");
    let mut bytes = Vec::new();
    bootstrap.read_to_end(&mut bytes).expect("the bootstrap");
    let program = directory.join("bootstrap");
    std::fs::write(&program, bytes).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program
}

/// The POST method's request template (from the transformed template: moto
/// keeps no templates) rendered for a signed order.
fn render_request(stack: &Stack, body: &str) -> String {
    let template =
        stack.properties("PostOrderMethod")["Integration"]["RequestTemplates"]["application/json"]
            .as_str()
            .expect("the POST method's request template");
    let rendered = velocity(&[Render {
        template: template.to_owned(),
        body: body.to_owned(),
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Idempotency-Key".to_owned(), ORDER_KEY.to_owned()),
        ],
        query: Vec::new(),
        request_id: "8f7c3b2a-1d4e-4f5a-9b6c-000000000001".to_owned(),
    }]);
    let form = rendered.into_iter().next().expect("one render").text;
    assert!(
        form.starts_with("Action=SendMessage&"),
        "the template sends: {form}"
    );
    form
}

/// Sends the rendered form to where the POST method's integration points
/// (moto reports its URI), as API Gateway's AWS integration does. moto
/// reads the service from the credential scope and checks no signature.
async fn send_as_api_gateway(aws: &Aws, stack: &Stack, form: &str) {
    let method = aws
        .apigateway
        .get_method()
        .rest_api_id(stack.physical("OrderApi"))
        .resource_id(stack.physical("OrdersResource"))
        .http_method("POST")
        .send()
        .await
        .expect("the POST method");
    let uri = method
        .method_integration()
        .and_then(|integration| integration.uri())
        .expect("an integration URI");
    let path = uri
        .split_once(":sqs:path/")
        .map(|(_, path)| path)
        .expect("an SQS path");
    let response = reqwest::Client::new()
        .post(format!("{}/{path}", aws.endpoint))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=rehearsal/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(form.to_owned())
        .send()
        .await
        .expect("SQS answers");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "SQS took the message: {status} {text}");
}

/// One receive of the order queue handed to ingest as Lambda's SQS mapping
/// does; the messages it did not report as failed are deleted.
async fn run_ingest(aws: &Aws, stack: &Stack, ingest: &mut RunningFunction) -> Value {
    let queue_url = stack.physical("OrderQueue");
    let received = aws
        .clients
        .sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(settings::INGEST_BATCH_SIZE)
        .wait_time_seconds(2)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .expect("a receive");
    let messages = received.messages().to_vec();
    assert!(!messages.is_empty(), "the message is on the order queue");
    let arn = queue_arn(aws, queue_url).await;
    let receipts: Vec<(String, String)> = messages
        .iter()
        .map(|message| {
            (
                message.message_id().unwrap_or_default().to_owned(),
                message.receipt_handle().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let event = sqs_event(
        messages
            .into_iter()
            .map(|message| event_message(message, &arn))
            .collect(),
    );
    let answer = ingest
        .invoke(serde_json::to_value(&event).unwrap())
        .await
        .expect("ingest answers")
        .unwrap_or_else(|error| panic!("ingest failed: {error}"));
    let failed: Vec<&str> = answer["batchItemFailures"]
        .as_array()
        .map(|failures| {
            failures
                .iter()
                .filter_map(|failure| failure["itemIdentifier"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for (id, receipt) in receipts {
        if !failed.contains(&id.as_str()) {
            aws.clients
                .sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(receipt)
                .send()
                .await
                .expect("a delete");
        }
    }
    answer
}

/// A queue subscribed to the order topic: what an email subscriber would get.
async fn observe_order_emails(aws: &Aws, stack: &Stack) -> String {
    let queue_url = aws
        .clients
        .sqs
        .create_queue()
        .queue_name("rehearsal-order-emails")
        .send()
        .await
        .expect("the observer's queue")
        .queue_url()
        .expect("a URL")
        .to_owned();
    let arn = queue_arn(aws, &queue_url).await;
    aws.clients
        .sns
        .subscribe()
        .topic_arn(stack.physical("OrderTopic"))
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("the observer subscribed");
    queue_url
}

async fn observed_email(aws: &Aws, observer: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let received = aws
            .clients
            .sqs
            .receive_message()
            .queue_url(observer)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("a receive");
        if let Some(message) = received.messages().first() {
            return message.body().unwrap_or_default().to_owned();
        }
    }
    panic!("no email went out through the order topic within 30 s");
}

/// A function URL's event (payload format 2.0), as Lambda builds it.
fn url_event(method: &str, path: &str, cookies: &[String], form: Option<&str>) -> Value {
    let mut headers = json!({
        "host": DASHBOARD_HOST,
        "accept": "text/html",
        "x-forwarded-proto": "https",
        "user-agent": "rehearsal"
    });
    if form.is_some() {
        headers["content-type"] = json!("application/x-www-form-urlencoded");
        headers["origin"] = json!(format!("https://{DASHBOARD_HOST}"));
        headers["sec-fetch-site"] = json!("same-origin");
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "cookies": cookies,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "rehearsal",
            "domainName": DASHBOARD_HOST,
            "domainPrefix": "rehearsal",
            "requestId": format!("rehearsal-{}", rand_id()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "06/Dec/2026:00:00:00 +0000",
            "timeEpoch": chrono::Utc::now().timestamp_millis(),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "rehearsal"}
        },
        "body": form.map(|form| STANDARD.encode(form)),
        "isBase64Encoded": form.is_some()
    })
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// The function's answer: status, cookies it set, body as text.
fn url_answer(answer: Value) -> (u16, Vec<String>, String) {
    let status = answer["statusCode"].as_u64().unwrap_or_default() as u16;
    let cookies = answer["cookies"]
        .as_array()
        .map(|cookies| {
            cookies
                .iter()
                .filter_map(|cookie| cookie.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let body = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"] == true {
        String::from_utf8(STANDARD.decode(body).expect("base64")).expect("text")
    } else {
        body.to_owned()
    };
    (status, cookies, body)
}

async fn call(dashboard: &mut RunningFunction, event: Value) -> (u16, Vec<String>, String) {
    url_answer(
        dashboard
            .invoke(event)
            .await
            .expect("the dashboard answers")
            .unwrap_or_else(|error| panic!("the dashboard failed: {error}")),
    )
}

/// Signs `email` in through the login form; the session cookie.
async fn sign_in(dashboard: &mut RunningFunction, email: &str) -> Vec<String> {
    let (status, _, _) = call(dashboard, url_event("GET", "/login", &[], None)).await;
    assert_eq!(status, 200, "the login page");
    let form = serde_urlencoded::to_string([
        ("email", email),
        ("password", crate::support::ADMIN_PASSWORD),
        ("next", "/"),
    ])
    .unwrap();
    let (status, cookies, body) =
        call(dashboard, url_event("POST", "/api/login", &[], Some(&form))).await;
    let session: Vec<String> = cookies
        .iter()
        .filter(|cookie| {
            cookie.starts_with("__Host-session=") && !cookie.starts_with("__Host-session=;")
        })
        .map(|cookie| cookie.split(';').next().unwrap().to_owned())
        .collect();
    assert!(
        !session.is_empty(),
        "{email} signs in (status {status}, cookies {cookies:?}): {body}"
    );
    session
}

/// A page for the holder of `session`: its status and HTML.
async fn page(dashboard: &mut RunningFunction, path: &str, session: &[String]) -> (u16, String) {
    let (status, _, body) = call(dashboard, url_event("GET", path, session, None)).await;
    (status, body)
}

/// A message no order can come of, put on the stack's queue as a broken
/// producer would: ingest sends it to the stack's dead-letter queue with
/// its reason and reports no failure (so it is deleted, not retried).
async fn poison_ends_in_the_dead_letter_queue(
    aws: &Aws,
    stack: &Stack,
    ingest: &mut RunningFunction,
) {
    aws.clients
        .sqs
        .send_message()
        .queue_url(stack.physical("OrderQueue"))
        .message_body("{\"customer\": ")
        .message_attributes(
            attributes::ORDER_ID,
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("rehearsal-poison-0001")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("the poison queued");
    let answer = run_ingest(aws, stack, ingest).await;
    assert_eq!(
        answer["batchItemFailures"],
        json!([]),
        "ingest dead-lettered it: {answer}"
    );
    let dead_letters = aws
        .clients
        .sqs
        .receive_message()
        .queue_url(stack.physical("DeadLetterQueue"))
        .message_attribute_names("All")
        .wait_time_seconds(2)
        .send()
        .await
        .expect("a receive");
    let message = dead_letters
        .messages()
        .first()
        .expect("the poison is on the stack's dead-letter queue");
    let reason = message
        .message_attributes()
        .and_then(|values| values.get(attributes::ERROR))
        .and_then(|reason| reason.string_value())
        .expect("with its reason");
    println!("A poison message: on the stack's DeadLetterQueue with its reason: {reason}");
    let depth = queue_attributes(aws, stack.physical("OrderQueue")).await;
    let left: u64 = [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|name| depth.get(name)?.parse::<u64>().ok())
    .sum();
    assert_eq!(left, 0, "nothing is left on the order queue");
}
