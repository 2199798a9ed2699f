//! What ops do when something failed, on moto: dead letters grouped by
//! reason and checked with ingest's own validation, a redrive that moves
//! each message at most once and ends, a body fixed and sent back, dead
//! letters deleted, and orders whose email never went out sent again.

use std::time::Duration;

use domain::OrderId;
use local_stack::LocalStack;
use serde_json::json;

use crate::support::{
    Visitor, admin, attribute_of, dead_letter, notified_order, order_body, post_order, queue_depth,
    queued, read_stream, run_notify, sqs_event, stack, texts,
};

fn emails_about(stack: &LocalStack, id: &str) -> usize {
    stack
        .delivered_emails()
        .iter()
        .filter(|email| email.subject.contains(&format!("New order {id}:")))
        .count()
}

/// Submits a redrive and follows its "Continue" forms until it is done, as
/// the page script does; returns the last message and the rounds it took.
async fn redrive_until_done(
    stack: &LocalStack,
    me: &Visitor,
    fields: &[(&str, &str)],
) -> (String, usize) {
    let (status, mut location, cookies) = me.post(stack, "/api/dead-letters/redrive", fields).await;
    assert_eq!(status, 303);
    let mut message = crate::support::flash_on(stack, &location, &cookies, &me.cookie).await;
    let mut rounds = 1;
    while location.contains("redrive=") {
        assert!(rounds < 20, "the redrive ends: {message}");
        // As the page's script does: submit the continue form the page shows.
        let (_, page) = me.page(stack, &location).await;
        let task = crate::support::attribute_of(
            &page,
            "form[data-auto-continue] input[name=task]",
            "value",
        );
        assert_eq!(task.len(), 1, "the page shows its continue form");
        let (status, next, cookies) = me
            .post(stack, "/api/dead-letters/redrive", &[("task", &task[0])])
            .await;
        assert_eq!(status, 303);
        message = crate::support::flash_on(stack, &next, &cookies, &me.cookie).await;
        location = next;
        rounds += 1;
    }
    (message, rounds)
}

async fn dead_letter_ids(stack: &LocalStack) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..10 {
        let received = stack
            .clients
            .sqs
            .receive_message()
            .queue_url(&stack.resources.dead_letter_queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for message in received.messages.unwrap_or_default() {
            let id = message.message_id.unwrap_or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

fn bad_sku(order_id: &str) -> String {
    let mut body = order_body();
    body["items"][0]["sku"] =
        json!(format!("lower-{}", &order_id[order_id.len() - 1..]).to_lowercase());
    body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redrive_moves_each_dead_letter_at_most_once_and_ends() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let good = order_body().to_string();
    let fixable = ["fixable-00001", "fixable-00002"];
    for id in fixable {
        dead_letter(&stack, &good, id, "the table was unavailable").await;
    }
    let poison = ["poison-000001", "poison-000002", "poison-000003"];
    for id in poison {
        dead_letter(
            &stack,
            &bad_sku(id),
            id,
            "invalid order: items[0].sku: must be 2 to 32 characters",
        )
        .await;
    }
    dead_letter(
        &stack,
        "<script>alert(1)</script>",
        "poison-script-1",
        "invalid order: body is not valid JSON",
    )
    .await;

    let (_, html) = me.page(&stack, "/dead-letters").await;
    assert!(
        html.contains("&lt;script&gt;") || !html.contains("<script>alert(1)"),
        "bodies are escaped"
    );
    let groups = texts(&html, "#groups ~ .table-wrap tbody tr");
    assert!(
        groups.iter().any(|group| group.contains("items[…].sku")
            && group.contains("3")
            && group.contains("all will fail again")),
        "the three SKU failures are one group: {groups:?}"
    );
    assert!(
        texts(&html, ".badge")
            .iter()
            .any(|badge| badge.starts_with("will fail again"))
    );
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        6,
        "looking hides nothing"
    );

    // Leaving what would fail: the two fixable ones move, in one round.
    let (message, rounds) =
        redrive_until_done(&stack, &me, &[("scope", "all"), ("skip_failing", "true")]).await;
    assert_eq!(rounds, 1);
    assert!(
        message.contains("Sent back to the order queue: 2 dead letters in all."),
        "{message}"
    );
    assert!(
        message.contains("4 messages are left because ingest would refuse them again"),
        "{message}"
    );
    assert!(message.contains("Done; 4 left"), "{message}");
    for id in fixable {
        notified_order(&stack, id).await;
    }

    // Everything, failures included: each of the four moves once, fails
    // again, comes back as a new dead letter, and is not moved again.
    let (message, _) = redrive_until_done(&stack, &me, &[("scope", "all")]).await;
    assert!(
        message.contains("Sent back to the order queue: 4 dead letters in all."),
        "{message}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        4,
        "they failed again and are back, once each, with their reasons"
    );

    let entries = crate::support::activity(&stack).await;
    let redrive = entries
        .iter()
        .find(|e| e.action == "redrive dead letters")
        .unwrap();
    assert!(
        redrive
            .details
            .iter()
            .any(|d| d.starts_with("message ids moved: ") && d.len() > 40),
        "{redrive:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_body_goes_back_under_its_order_id_and_is_stored_and_mailed_once() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let id = "fix-me-000001";
    dead_letter(
        &stack,
        &bad_sku(id),
        id,
        "invalid order: items[0].sku: must be 2 to 32 characters",
    )
    .await;
    let message_id = dead_letter_ids(&stack).await.pop().unwrap();
    let page = format!("/dead-letters/{message_id}");
    let (status, html) = me.page(&stack, &page).await;
    assert_eq!(status, 200);
    let textarea = texts(&html, "textarea#body").pop().unwrap();
    assert!(
        textarea.contains("\"sku\": \"lower-1\""),
        "the body, pretty-printed: {textarea}"
    );
    assert!(html.contains("Ingest would refuse it again"));

    // Still wrong: nothing moves, the fields at fault are named, the body kept.
    let still_wrong = bad_sku(id).replace("lower-1", "ALSO-WRONG!");
    let (status, location, cookies) = me
        .post(
            &stack,
            "/api/dead-letters/edit",
            &[
                ("message_id", &message_id),
                ("body", &still_wrong),
                ("return_to", &page),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, page.as_str()));
    let visitor = Visitor {
        cookie: format!(
            "{}; {}",
            me.cookie,
            cookies
                .lines()
                .find(|c| c.starts_with("flash="))
                .unwrap()
                .split(';')
                .next()
                .unwrap()
        ),
        csrf: me.csrf.clone(),
    };
    let (_, again) = visitor.page(&stack, &page).await;
    assert!(
        texts(&again, "#body-problems li")
            .iter()
            .any(|p| p.starts_with("items[0].sku")),
        "{again}"
    );
    assert!(
        texts(&again, "textarea#body")
            .pop()
            .unwrap()
            .contains("ALSO-WRONG!"),
        "what was typed is kept"
    );
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        1
    );

    // Checked, then sent.
    let fixed = order_body().to_string();
    let flash = me
        .submit(
            &stack,
            "/api/dead-letters/edit",
            &[
                ("message_id", &message_id),
                ("body", &fixed),
                ("check", "true"),
                ("return_to", &page),
            ],
        )
        .await;
    assert!(flash.contains("is a valid order"), "{flash}");
    let flash = me
        .submit(
            &stack,
            "/api/dead-letters/edit",
            &[("message_id", &message_id), ("body", &fixed)],
        )
        .await;
    assert!(
        flash.contains(&format!("The corrected order {id} is on the order queue")),
        "{flash}"
    );
    let order = notified_order(&stack, id).await;
    assert_eq!(order.items[0].sku.as_str(), "GC-500");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(emails_about(&stack, id), 1, "mailed once");
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        0
    );

    let entries = crate::support::activity(&stack).await;
    let edit = entries
        .iter()
        .find(|e| e.action == "edit and redrive" && e.outcome == "ok")
        .unwrap();
    assert!(
        edit.details
            .iter()
            .any(|d| d.starts_with("before: ") && d.contains("lower-1"))
    );
    assert!(
        edit.details
            .iter()
            .any(|d| d.starts_with("after: ") && d.contains("GC-500"))
    );

    // Deleting: gone for good.
    dead_letter(
        &stack,
        "junk",
        "junk-00000001",
        "invalid order: body is not valid JSON",
    )
    .await;
    let junk = dead_letter_ids(&stack).await.pop().unwrap();
    let flash = me
        .submit(&stack, "/api/dead-letters/delete", &[("ids[0]", &junk)])
        .await;
    assert!(flash.contains("Deleted 1 dead letter"), "{flash}");
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_again_mails_an_unnotified_order_once_and_a_notified_one_never() {
    // No pollers: this test plays Lambda, so an order can stay unmailed.
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let twenty_minutes_ago =
        (chrono::Utc::now() - chrono::Duration::minutes(20)).timestamp_millis();
    let mut stream = None;
    let mailed = sqs_event(vec![queued(
        "m-resend-mailed-1",
        "resend-mailed-1",
        &order_body().to_string(),
        Some(twenty_minutes_ago),
    )]);
    stack.ingest().handle(mailed).await;
    run_notify(&stack, &mut stream).await;
    let unmailed = sqs_event(vec![queued(
        "m-resend-lost-01",
        "resend-lost-01",
        &order_body().to_string(),
        Some(twenty_minutes_ago),
    )]);
    stack.ingest().handle(unmailed).await;
    // notify "gave up" on this one: its record is read past without it.
    read_stream(&stack, &mut stream).await;

    let (_, page) = me.page(&stack, "/not-notified").await;
    assert_eq!(texts(&page, "table tbody th a"), ["resend-lost-01"]);
    let (_, overview) = me.page(&stack, "/").await;
    assert!(
        attribute_of(&overview, "a.card.warn", "href").contains(&"/not-notified".to_owned()),
        "the overview says so"
    );

    let flash = me
        .submit(
            &stack,
            "/api/orders/resend",
            &[
                ("ids[0]", "resend-lost-01"),
                ("ids[1]", "resend-mailed-1"),
                ("ids[2]", "no-such-order"),
            ],
        )
        .await;
    assert!(
        flash.contains("Asked notify to send the email of 1 order."),
        "{flash}"
    );
    assert!(
        flash.contains("1 order had been mailed meanwhile"),
        "{flash}"
    );
    assert!(flash.contains("No such order: no-such-order"), "{flash}");
    run_notify(&stack, &mut stream).await;
    crate::support::eventually("the email", crate::support::PIPELINE, || async {
        (emails_about(&stack, "resend-lost-01") == 1).then_some(())
    })
    .await;

    // Asking again once it was mailed: notify mails it no more.
    me.submit(
        &stack,
        "/api/orders/resend",
        &[("ids[0]", "resend-lost-01")],
    )
    .await;
    stack
        .orders()
        .get(&OrderId::parse("resend-lost-01").unwrap())
        .await
        .unwrap()
        .unwrap();
    run_notify(&stack, &mut stream).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(emails_about(&stack, "resend-lost-01"), 1);
    assert_eq!(
        emails_about(&stack, "resend-mailed-1"),
        1,
        "never mailed twice"
    );
    let (_, page) = me.page(&stack, "/not-notified").await;
    assert!(texts(&page, "h2").contains(&"Every order was mailed".to_owned()));
}

/// A dead letter whose Idempotency-Key a different stored order holds would
/// be refused by ingest on every redrive (it never overwrites an order): it
/// is named so, left by a redrive that skips what would fail, and its edit
/// check says why. One with the stored order's own body stays sendable (a
/// redelivery ingest takes as already stored).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_under_a_reused_key_is_never_offered_for_redrive() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let id = "reused-key-0001";
    let (status, _) = post_order(&stack, &order_body(), Some(id)).await;
    assert_eq!(status, 202);
    notified_order(&stack, id).await;
    let mut other = order_body();
    other["items"][0]["quantity"] = json!(7);
    let reason = format!(
        "order id {id} is already used by a different order: the client reused its Idempotency-Key"
    );
    dead_letter(&stack, &other.to_string(), id, &reason).await;
    let (_, html) = me.page(&stack, "/dead-letters").await;
    let groups = texts(&html, "#groups ~ .table-wrap tbody tr");
    assert!(
        groups
            .iter()
            .any(|group| group.contains("already used by a different order")
                && group.contains("all will fail again")),
        "{groups:?}"
    );
    assert!(
        texts(&html, ".badge")
            .iter()
            .any(|badge| badge.starts_with("will fail again: the id is taken by a different order")),
        "{:?}",
        texts(&html, ".badge")
    );

    let (message, _) =
        redrive_until_done(&stack, &me, &[("scope", "all"), ("skip_failing", "true")]).await;
    assert!(
        message.contains("left because ingest would refuse them again")
            || message.contains("left because ingest would refuse it again"),
        "{message}"
    );
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        1,
        "it stays, once"
    );

    let message_id = dead_letter_ids(&stack).await.pop().unwrap();
    let page = format!("/dead-letters/{message_id}");
    let (_, detail) = me.page(&stack, &page).await;
    assert!(
        detail.contains("Ingest would refuse it again: the id is taken by a different order"),
        "{detail}"
    );
    let flash = me
        .submit(
            &stack,
            "/api/dead-letters/edit",
            &[
                ("message_id", &message_id),
                ("body", &other.to_string()),
                ("check", "true"),
                ("return_to", &page),
            ],
        )
        .await;
    assert!(flash.contains("nothing was sent"), "{flash}");
    // The stored order's own body: ingest would take it as already stored.
    let flash = me
        .submit(
            &stack,
            "/api/dead-letters/edit",
            &[
                ("message_id", &message_id),
                ("body", &order_body().to_string()),
                ("check", "true"),
                ("return_to", &page),
            ],
        )
        .await;
    assert!(flash.contains("is a valid order"), "{flash}");
    let stored = stack
        .orders()
        .get(&OrderId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.items[0].quantity.get(),
        2,
        "the stored order is untouched"
    );
}

/// The hidden fields of the page's form that posts to `action` (its form
/// token aside, which the visitor adds).
fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let page = scraper::Html::parse_document(html);
    let selector =
        scraper::Selector::parse(&format!(r#"form[action="{action}"] input[type=hidden]"#))
            .unwrap();
    page.select(&selector)
        .filter_map(|input| {
            let name = input.value().attr("name")?;
            (name != "csrf").then(|| {
                (
                    name.to_owned(),
                    input.value().attr("value").unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

/// A dead letter's own page sends it back or deletes it, through the forms
/// it shows; one without an order id gets no edit form (it can never become
/// an order) and says so; "received it 1 times" reads as a person would say it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_redriven_or_deleted_from_its_own_page() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let id = "own-page-00001";
    dead_letter(
        &stack,
        &order_body().to_string(),
        id,
        "the table was unavailable",
    )
    .await;
    let message_id = dead_letter_ids(&stack).await.pop().unwrap();
    let (_, html) = me
        .page(&stack, &format!("/dead-letters/{message_id}"))
        .await;
    assert!(html.contains("Ingest would store it as it is: send it back, or delete it."));
    assert!(
        html.contains("gave up on it at its first delivery"),
        "{html}"
    );
    let redrive = hidden_fields(&html, "/api/dead-letters/redrive");
    assert_eq!(redrive.len(), 3, "{redrive:?}");
    let fields: Vec<(&str, &str)> = redrive
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let flash = me
        .submit(&stack, "/api/dead-letters/redrive", &fields)
        .await;
    assert!(
        flash.contains("Sent back to the order queue: 1 dead letter"),
        "{flash}"
    );
    notified_order(&stack, id).await;

    dead_letter(
        &stack,
        "not an order",
        "",
        "invalid order: body is not valid JSON",
    )
    .await;
    stack
        .clients
        .sqs
        .send_message()
        .queue_url(&stack.resources.dead_letter_queue_url)
        .message_body("{\"from\": \"somewhere else\"}")
        .send()
        .await
        .unwrap();
    for message_id in dead_letter_ids(&stack).await {
        let (_, html) = me
            .page(&stack, &format!("/dead-letters/{message_id}"))
            .await;
        if !html.contains("somewhere else") {
            continue;
        }
        assert!(
            texts(&html, "textarea#body").is_empty(),
            "no edit form without an order id"
        );
        assert!(html.contains("It has no order id, so it can never become an order"));
        assert!(
            hidden_fields(&html, "/api/dead-letters/redrive").is_empty(),
            "nothing to send back"
        );
        let delete = hidden_fields(&html, "/api/dead-letters/delete");
        let fields: Vec<(&str, &str)> = delete
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let flash = me.submit(&stack, "/api/dead-letters/delete", &fields).await;
        assert!(flash.contains("Deleted 1 dead letter."), "{flash}");
        let (status, _) = me
            .page(&stack, &format!("/dead-letters/{message_id}"))
            .await;
        assert_eq!(status, 404, "it is gone");
        return;
    }
    panic!("the message without an order id is not listed");
}
