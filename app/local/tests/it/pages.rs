//! The dashboard on moto: every page, paging and filters, and every action
//! through plain form posts (no JavaScript), as a browser would send them.

use crate::support::{
    PIPELINE, admin, dead_letter, eventually, notified_order, order_body, post_order, queue_depth,
    stack,
};
use domain::OrderId;
use local_stack::demo;

fn rows(html: &str) -> usize {
    html.matches("<tr><td><time").count()
}

fn link(html: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].replace("&amp;", "&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_listed_paged_filtered_and_shown() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let ids = demo::post(&stack.api_url, 30).await.unwrap();
    for id in &ids {
        notified_order(&stack, id).await;
    }

    let (status, first) = me.page(&stack, "/orders").await;
    assert_eq!(status, 200);
    assert_eq!(rows(&first), 25);
    assert!(
        link(&first, "prev").is_none(),
        "the newest page has no newer one"
    );
    let older = link(&first, "next").expect("an older page");
    let (_, second) = me.page(&stack, &older).await;
    assert_eq!(rows(&second), 5);
    assert!(link(&second, "next").is_none());
    let newer = link(&second, "prev").expect("a way back");
    let (_, back) = me.page(&stack, &newer).await;
    assert_eq!(rows(&back), 25);

    let (_, stored) = me.page(&stack, "/orders?status=stored").await;
    assert!(
        stored.contains("No orders here"),
        "every order was notified"
    );
    let (_, notified) = me.page(&stack, "/orders?status=notified").await;
    assert_eq!(rows(&notified), 25);

    let ana = demo::orders(30)
        .iter()
        .filter(|o| o["customer"]["email"] == "ana@example.com")
        .count();
    let (_, by_email) = me.page(&stack, "/orders?email=ANA%40example.com").await;
    assert_eq!(rows(&by_email), ana, "email lookups ignore case");

    let (_, found) = me.page(&stack, &format!("/orders?order={}", ids[3])).await;
    assert_eq!(rows(&found), 1);
    let (_, missing) = me.page(&stack, "/orders?order=no-such-order").await;
    assert!(missing.contains("No such order"));

    let order = stack
        .orders()
        .get(&OrderId::parse(ids[0].clone()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let (status, detail) = me.page(&stack, &format!("/orders/{}", ids[0])).await;
    assert_eq!(status, 200);
    assert!(detail.contains(&order.formatted_total()));
    assert!(detail.contains(order.items[0].sku.as_str()));
    assert!(detail.contains(&format!(
        "SNS message {}",
        order.notified.unwrap().message_id
    )));
    assert!(
        detail.contains("&quot;requestHash&quot;") || detail.contains("\"requestHash\""),
        "the raw item is shown"
    );

    let (status, _) = me.page(&stack, "/orders/no-such-order").await;
    assert_eq!(status, 404);
    let (status, lost) = me.page(&stack, "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(lost.contains("not a page of the dashboard"));

    let (_, overview) = me.page(&stack, "/").await;
    assert!(overview.contains("Orders today"));
    assert!(
        overview.contains(r#"<span class="figure">30</span>"#),
        "30 orders today"
    );
    assert!(overview.contains("<svg"), "the hourly chart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_inspected_redriven_and_deleted() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let (_, empty) = me.page(&stack, "/dead-letters").await;
    assert!(empty.contains("No dead letters"));

    let good = dead_letter(
        &stack,
        &order_body().to_string(),
        "redriven-0001",
        "table was down",
    )
    .await;
    let poison = dead_letter(
        &stack,
        "<script>alert(1)</script>",
        "poison-00001",
        "invalid order: not JSON",
    )
    .await;
    let also_good = dead_letter(
        &stack,
        &order_body().to_string(),
        "redriven-0002",
        "timeout",
    )
    .await;

    for _ in 0..2 {
        let (_, html) = me.page(&stack, "/dead-letters").await;
        assert!(
            html.contains("3 in the dead-letter queue"),
            "looking twice still shows all three"
        );
        assert!(html.contains("invalid order: not JSON"));
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "bodies are escaped"
        );
        assert!(!html.contains("<script>alert(1)"));
    }
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        3,
        "looking hides nothing"
    );

    let flash = me
        .submit(&stack, "/api/dead-letters/redrive", &[("ids[0]", &good)])
        .await;
    assert!(
        flash.contains("Sent back to the order queue: 1 dead letter. 2 left"),
        "{flash}"
    );
    notified_order(&stack, "redriven-0001").await;

    let flash = me
        .submit(&stack, "/api/dead-letters/delete", &[("ids[1]", &poison)])
        .await;
    assert!(flash.contains("Deleted 1 dead letter. 1 left"), "{flash}");

    let flash = me.submit(&stack, "/api/dead-letters/redrive", &[]).await;
    assert!(flash.contains("Select the dead letters"), "{flash}");

    let flash = me
        .submit(&stack, "/api/dead-letters/redrive-all", &[])
        .await;
    assert!(
        flash.contains("Sent back to the order queue: 1 dead letter. 0 left"),
        "{flash}"
    );
    notified_order(&stack, "redriven-0002").await;
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        0
    );
    let _ = also_good;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_added_filtered_tested_and_removed() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let (_, html) = me.page(&stack, "/subscriptions").await;
    assert!(html.contains("owner@example.com"));

    let flash = me
        .submit(
            &stack,
            "/api/subscriptions/add",
            &[("email", "not an address")],
        )
        .await;
    assert!(flash.contains("is not an email address"), "{flash}");
    let flash = me
        .submit(
            &stack,
            "/api/subscriptions/add",
            &[("email", "staff@example.com")],
        )
        .await;
    assert!(flash.contains("Subscribed staff@example.com"), "{flash}");

    let subscriptions = stack
        .clients
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&stack.resources.topic_arn)
        .send()
        .await
        .unwrap();
    let arn = subscriptions
        .subscriptions()
        .iter()
        .find(|s| s.endpoint() == Some("staff@example.com"))
        .and_then(|s| s.subscription_arn())
        .unwrap()
        .to_owned();
    let (_, html) = me.page(&stack, "/subscriptions").await;
    assert!(html.contains("staff@example.com"));

    let flash = me
        .submit(
            &stack,
            "/api/subscriptions/filter",
            &[
                ("arn", &arn),
                ("minimums[0][currency]", "USD"),
                ("minimums[0][amount]", "50,00"),
                ("minimums[1][currency]", "JPY"),
                ("minimums[1][amount]", "7,500"),
            ],
        )
        .await;
    assert!(
        flash.contains("staff@example.com now gets orders of at least USD 50.00 or JPY 7,500"),
        "{flash}"
    );
    let (_, html) = me.page(&stack, "/subscriptions").await;
    assert!(html.contains("orders of at least USD 50.00 or JPY 7,500"));
    let flash = me
        .submit(
            &stack,
            "/api/subscriptions/filter",
            &[
                ("arn", &arn),
                ("minimums[0][currency]", "EUR"),
                ("minimums[0][amount]", "lots"),
            ],
        )
        .await;
    assert!(flash.contains("must be an amount"), "{flash}");

    let flash = me.submit(&stack, "/api/subscriptions/test", &[]).await;
    assert!(flash.contains("Test notification sent"), "{flash}");
    eventually("the test email", PIPELINE, || async {
        stack
            .delivered_emails()
            .into_iter()
            .find(|e| e.subject.contains("Test notification"))
    })
    .await;

    let forged = "arn:aws:sns:us-east-1:123456789012:someone-else:abc";
    let flash = me
        .submit(&stack, "/api/subscriptions/remove", &[("arn", forged)])
        .await;
    assert!(
        flash.contains("does not belong to the order topic"),
        "{flash}"
    );
    let flash = me
        .submit(&stack, "/api/subscriptions/remove", &[("arn", &arn)])
        .await;
    assert!(
        flash.contains("staff@example.com no longer gets order emails"),
        "{flash}"
    );
    let (_, html) = me.page(&stack, "/subscriptions").await;
    assert!(!html.contains("staff@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_show_their_figures_and_failures_read_plainly() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    post_order(&stack, &order_body(), None).await;
    let (_, html) = me.page(&stack, "/queues").await;
    assert!(html.contains("Order queue") && html.contains("Dead-letter queue"));
    assert!(html.contains("after 5 receives"), "the redrive policy");
    assert!(html.contains("3 min"), "the visibility timeout");
    assert!(
        html.contains("unavailable"),
        "no CloudWatch figures locally"
    );
    assert!(html.contains("<dt>Visible</dt><dd>1</dd>"), "{html}");

    stack
        .clients
        .sqs
        .delete_queue()
        .queue_url(&stack.resources.dead_letter_queue_url)
        .send()
        .await
        .unwrap();
    let (status, html) = me.page(&stack, "/queues").await;
    assert_eq!(status, 200);
    assert!(html.contains("This could not be loaded"), "{html}");
    assert!(
        html.contains("reading queue"),
        "what failed, in plain words"
    );
}
