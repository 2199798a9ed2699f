//! The pipeline end to end on moto: API, queue, ingest, table, stream,
//! notify, topic, and the local mailbox.

use std::time::Duration;

use crate::support::{
    PIPELINE, browser_stack, dead_letters, eventually, notified_order, order_body, post_order,
    queue_depth, send_signed, stack, string_attribute,
};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use domain::{OrderId, OrderStatus};
use local_stack::LocalStack;
use pipeline::queue::attributes;
use serde_json::json;

fn emails_about(stack: &LocalStack, id: &str) -> usize {
    stack
        .delivered_emails()
        .iter()
        .filter(|email| email.subject.contains(id))
        .count()
}

/// Gives a stray duplicate time to show up before counting.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_order_is_stored_once_and_notified_once() {
    let stack = stack(true).await;
    let (status, answer) = post_order(&stack, &order_body(), None).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["orderId"].as_str().expect("an order id").to_owned();

    let order = notified_order(&stack, &id).await;
    assert_eq!(
        order.total.get(),
        2 * 1299 + 899,
        "the total is computed by us"
    );
    assert_eq!(order.customer.email.as_str(), "Ana@Example.com");
    assert_eq!(order.items.len(), 2);
    assert_eq!(
        order.shipping_address.as_ref().unwrap().city.as_str(),
        "Springfield"
    );
    let notified = order.notified.as_ref().unwrap();

    let email = eventually("the email", PIPELINE, || async {
        stack
            .delivered_emails()
            .into_iter()
            .find(|email| email.subject.contains(&id))
    })
    .await;
    assert_eq!(email.to, ["owner@example.com"]);
    assert_eq!(
        email.message_id, notified.message_id,
        "the order records SNS's message id"
    );
    assert_eq!(
        email.subject,
        format!("New order {id}: USD 34.97 from Ana Souza")
    );
    assert!(
        email
            .body
            .contains("2 x Glass cleaner 500 ml (GC-500) at USD 12.99 = USD 25.98")
    );
    assert!(email.body.contains("Total: USD 34.97 (3 items)"));
    assert!(email.body.contains("Springfield, IL 62701"));

    settle().await;
    assert_eq!(emails_about(&stack, &id), 1, "exactly one email");
    assert_eq!(queue_depth(&stack, &stack.resources.queue_url).await, 0);
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_gets_its_error_and_queues_nothing() {
    let stack = stack(false).await;
    let client = reqwest::Client::new();
    let url = format!("{}/orders", stack.api_url);

    let mut missing_items = order_body();
    missing_items.as_object_mut().unwrap().remove("items");
    let mut bad_line = order_body();
    bad_line["items"][1]["quantity"] = json!(0);
    bad_line["items"][0]["sku"] = json!("lower-case");
    let mut unknown_field = order_body();
    unknown_field["total"] = json!(1);
    let cases = [
        (missing_items, vec!["items"]),
        (bad_line, vec!["items[0].sku", "items[1].quantity"]),
        (unknown_field, vec!["total"]),
        (json!("an order"), vec![""]),
    ];
    for (body, fields) in cases {
        let (status, answer) = post_order(&stack, &body, None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let mut got: Vec<&str> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| error["field"].as_str().unwrap())
            .collect();
        got.sort();
        assert_eq!(got, fields, "{answer}");
    }

    let not_json = send_signed(
        &client,
        &stack,
        client
            .post(&url)
            .header("Content-Type", "application/json")
            .body("{oops"),
    )
    .await
    .unwrap();
    assert_eq!(not_json.status(), 400);
    let (status, answer) = post_order(&stack, &order_body(), Some("bad key!")).await;
    assert_eq!(status, 400);
    assert_eq!(answer["errors"][0]["field"], "Idempotency-Key");
    let form = send_signed(
        &client,
        &stack,
        client
            .post(&url)
            .header("Content-Type", "text/plain")
            .body(order_body().to_string()),
    )
    .await
    .unwrap();
    assert_eq!(form.status(), 415);
    let huge = format!("{}{}", order_body(), " ".repeat(70 * 1024));
    let too_large = send_signed(
        &client,
        &stack,
        client
            .post(&url)
            .header("Content-Type", "application/json")
            .body(huge),
    )
    .await
    .unwrap();
    assert_eq!(too_large.status(), 413);
    let answer: serde_json::Value = too_large.json().await.unwrap();
    assert!(answer["message"].as_str().unwrap().contains("64 KiB"));

    assert_eq!(
        queue_depth(&stack, &stack.resources.queue_url).await,
        0,
        "nothing was queued"
    );
    let (status, _) = post_order(&stack, &order_body(), None).await;
    assert_eq!(status, 202);
    assert_eq!(
        queue_depth(&stack, &stack.resources.queue_url).await,
        1,
        "a valid order is queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_checkouts_signature_places_an_order() {
    use local_stack::api::signature::{self, CheckoutKey, sign_request};
    use std::time::{Duration, SystemTime};
    let stack = stack(false).await;
    let key = stack
        .checkout_key()
        .expect("signed callers by default")
        .clone();
    let client = reqwest::Client::new();
    let url = format!("{}/orders", stack.api_url);
    let body = order_body().to_string();
    let request = |idempotency: &str| {
        client
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", idempotency)
            .body(body.clone())
            .build()
            .unwrap()
    };
    let signed_as = |key: &CheckoutKey, at: SystemTime, idempotency: &str| {
        let mut request = request(idempotency);
        sign_request(&mut request, key, at);
        request
    };
    let now = SystemTime::now();
    let mut tampered = signed_as(&key, now, "tampered-0001");
    *tampered.body_mut() = Some(body.replace("1299", "1").into());
    let mut forged_header = signed_as(&key, now, "forged-00001");
    forged_header
        .headers_mut()
        .insert("idempotency-key", "forged-00002".parse().unwrap());
    let cases = [
        ("unsigned", request("unsigned-0001"), signature::UNSIGNED),
        (
            "another key",
            signed_as(&CheckoutKey::generate(), now, "other-key-01"),
            signature::UNKNOWN_KEY,
        ),
        (
            "the right id, another secret",
            signed_as(
                &CheckoutKey::new(key.access_key_id.clone(), "not the secret"),
                now,
                "wrong-secret1",
            ),
            signature::BAD_SIGNATURE,
        ),
        (
            "signed six minutes ago (a replay outside the window)",
            signed_as(&key, now - Duration::from_secs(360), "expired-0001"),
            signature::BAD_SIGNATURE,
        ),
        (
            "dated six minutes ahead",
            signed_as(&key, now + Duration::from_secs(360), "ahead-000001"),
            signature::BAD_SIGNATURE,
        ),
        (
            "a body changed after signing",
            tampered,
            signature::BAD_SIGNATURE,
        ),
        (
            "a signed header changed",
            forged_header,
            signature::BAD_SIGNATURE,
        ),
    ];
    for (what, request, message) in cases {
        let response = client.execute(request).await.unwrap();
        assert_eq!(response.status(), 403, "{what}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer, json!({ "message": message }), "{what}");
    }
    assert_eq!(
        queue_depth(&stack, &stack.resources.queue_url).await,
        0,
        "a refused request queues nothing"
    );

    // A replay inside the window is one order: the key makes it so.
    let first = signed_as(&key, now, "signed-00001");
    let again = signed_as(&key, now, "signed-00001");
    for request in [first, again] {
        assert_eq!(client.execute(request).await.unwrap().status(), 202);
    }

    // An independent signer: curl's --aws-sigv4.
    let curl = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &url])
        .args([
            "--aws-sigv4",
            &format!("aws:amz:{}:{}", signature::REGION, signature::SERVICE),
        ])
        .args([
            "--user",
            &format!("{}:{}", key.access_key_id, key.secret_access_key()),
        ])
        .args([
            "-H",
            "Content-Type: application/json",
            "-H",
            "Idempotency-Key: curl-signed-01",
        ])
        .args(["--data-binary", &body])
        .output()
        .await
        .expect("curl runs");
    assert_eq!(
        String::from_utf8_lossy(&curl.stdout),
        "202",
        "curl --aws-sigv4 is accepted"
    );
    // Both sends of the replay are queued; ingest makes them one order.
    assert_eq!(queue_depth(&stack, &stack.resources.queue_url).await, 3);

    // Browser mode takes anyone's order.
    let open = browser_stack(false, "https://shop.example").await;
    assert!(open.checkout_key().is_none());
    let response = client
        .post(format!("{}/orders", open.api_url))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_twice_gives_one_order_and_one_email() {
    let stack = stack(true).await;
    let key = "checkout-7f3a9c21";
    let (first, answer) = post_order(&stack, &order_body(), Some(key)).await;
    let (second, again) = post_order(&stack, &order_body(), Some(key)).await;
    assert_eq!((first, second), (202, 202));
    assert_eq!(answer["orderId"], key);
    assert_eq!(again["orderId"], key);

    notified_order(&stack, key).await;
    eventually("the email", PIPELINE, || async {
        (emails_about(&stack, key) > 0).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(emails_about(&stack, key), 1);
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_idempotency_key_with_a_different_order_is_dead_lettered() {
    let stack = stack(true).await;
    let key = "checkout-reused-01";
    post_order(&stack, &order_body(), Some(key)).await;
    notified_order(&stack, key).await;
    let mut other = order_body();
    other["items"][0]["quantity"] = json!(5);
    let (status, _) = post_order(&stack, &other, Some(key)).await;
    assert_eq!(status, 202);

    let dead = dead_letters(&stack, 1).await;
    assert!(
        dead[0].1.contains("already used by a different order"),
        "{}",
        dead[0].1
    );
    let order = stack
        .orders()
        .get(&OrderId::parse(key).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        order.items[0].quantity.get(),
        2,
        "the first order is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_go_to_the_dlq_with_their_reason_and_the_rest_of_the_batch_is_stored() {
    let stack = stack(true).await;
    let good = order_body().to_string();
    let entry = |n: usize, body: &str, order_id: Option<&str>| {
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(format!("m{n}"))
            .message_body(body);
        if let Some(order_id) = order_id {
            entry = entry.message_attributes(attributes::ORDER_ID, string_attribute(order_id));
        }
        entry.build().unwrap()
    };
    stack
        .clients
        .sqs
        .send_message_batch()
        .queue_url(&stack.resources.queue_url)
        .entries(entry(0, &good, Some("batch-good-0001")))
        .entries(entry(1, "this is not json", Some("batch-poison-01")))
        .entries(entry(2, &good, None))
        .entries(entry(3, r#"{"customer":{}}"#, Some("batch-poison-03")))
        .entries(entry(4, &good, Some("batch-good-0002")))
        .send()
        .await
        .unwrap();

    notified_order(&stack, "batch-good-0001").await;
    notified_order(&stack, "batch-good-0002").await;
    let mut dead = dead_letters(&stack, 3).await;
    dead.sort();
    let reasons: Vec<&str> = dead.iter().map(|(_, reason)| reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("invalid order: body is not valid JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no orderId attribute")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("customer.name: is required")),
        "{reasons:?}"
    );
    assert!(
        dead.iter().any(|(body, _)| body == "this is not json"),
        "the body is kept as sent"
    );
    assert_eq!(
        queue_depth(&stack, &stack.resources.queue_url).await,
        0,
        "nothing is left to loop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reports_only_its_failed_messages() {
    let stack = stack(false).await;
    let event = crate::support::sqs_event(vec![
        crate::support::queued("ok", "direct-good-01", &order_body().to_string(), None),
        crate::support::queued("poison", "direct-poison-1", "[]", None),
    ]);
    let response = stack.ingest().handle(event.clone()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "poison is dead-lettered, not failed"
    );
    let again = stack.ingest().handle(event.clone()).await;
    assert!(
        again.batch_item_failures.is_empty(),
        "a redelivery is a success"
    );

    // A table that cannot be written: the good message is left for SQS to redeliver.
    let broken = pipeline::Ingest::new(
        pipeline::store::OrderStore::new(stack.clients.dynamodb.clone(), "no-such-table"),
        pipeline::queue::DeadLetterQueue::new(
            stack.clients.sqs.clone(),
            &stack.resources.dead_letter_queue_url,
        ),
    );
    let response = broken.handle(event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_publish_is_retried_and_the_order_notified_once_sns_recovers() {
    let stack = stack(true).await;
    let sns = &stack.clients.sns;
    sns.delete_topic()
        .topic_arn(&stack.resources.topic_arn)
        .send()
        .await
        .unwrap();

    let (status, _) = post_order(&stack, &order_body(), Some("during-outage-1")).await;
    assert_eq!(status, 202);
    let id = OrderId::parse("during-outage-1").unwrap();
    let orders = stack.orders();
    eventually("the order to be stored", PIPELINE, || async {
        orders.get(&id).await.unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let order = orders.get(&id).await.unwrap().unwrap();
    assert_eq!(
        order.status(),
        OrderStatus::Stored,
        "not notified while SNS fails"
    );

    let recreated = sns
        .create_topic()
        .name(&stack.resources.names.topic)
        .send()
        .await
        .unwrap();
    assert_eq!(
        recreated.topic_arn(),
        Some(stack.resources.topic_arn.as_str())
    );
    let order = notified_order(&stack, "during-outage-1").await;
    assert!(!order.notified.unwrap().message_id.is_empty());
    assert_eq!(
        queue_depth(&stack, &stack.resources.notify_failures_queue_url).await,
        0
    );
}
