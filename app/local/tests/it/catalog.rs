//! Prices the client cannot set: with the check on, ingest takes an order
//! only at the catalog's prices; the catalog is kept on the products page.

use std::time::Duration;

use serde_json::json;

use crate::support::{
    PIPELINE, admin, dead_letters, notified_order, order_body, post_order, priced_stack,
};

/// Whether any email so far is about this order.
fn mailed(stack: &local_stack::LocalStack, id: &str) -> bool {
    stack
        .delivered_emails()
        .iter()
        .any(|email| email.subject.contains(id) || email.body.contains(id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_price_and_an_off_sale_sku_are_dead_lettered_with_the_reason_never_stored_or_mailed()
 {
    let stack = priced_stack(true).await;
    let me = admin(&stack).await;

    // At the catalog's prices: stored and mailed as ever.
    let (status, _) = post_order(&stack, &order_body(), Some("catalog-good-01")).await;
    assert_eq!(status, 202);
    notified_order(&stack, "catalog-good-01").await;

    let mut tampered = order_body();
    tampered["items"][0]["unitPrice"] = json!(1);
    let (status, _) = post_order(&stack, &tampered, Some("catalog-tampered-1")).await;
    assert_eq!(
        status, 202,
        "the API cannot know the catalog: ingest decides"
    );

    let flash = me
        .submit(
            &stack,
            "/api/products/active",
            &[("sku", "GC-500"), ("active", "false")],
        )
        .await;
    assert!(flash.contains("GC-500 is off sale"), "{flash}");
    let (status, _) = post_order(&stack, &order_body(), Some("catalog-off-sale-1")).await;
    assert_eq!(status, 202);

    let mut reasons: Vec<String> = dead_letters(&stack, 2)
        .await
        .into_iter()
        .map(|(_, reason)| reason)
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "prices not in the catalog: items[0]: SKU \"GC-500\" costs \"USD 12.99\" in the catalog, not \"USD 0.01\"",
            "prices not in the catalog: items[0]: SKU \"GC-500\" is deactivated in the catalog (not on sale)",
        ]
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for id in ["catalog-tampered-1", "catalog-off-sale-1"] {
        let order = stack
            .orders()
            .get(&domain::OrderId::parse(id).unwrap())
            .await
            .unwrap();
        assert!(order.is_none(), "{id} was stored");
        assert!(!mailed(&stack, id), "{id} was mailed");
    }

    // The overview counts them; a redelivery of the order stored before
    // the change stays that order.
    assert_eq!(stack.dashboard.products.refused_today().await.unwrap(), 2);
    let (status, html) = me.page(&stack, "/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Refused for their prices, today (UTC)"),
        "{html}"
    );
    let redelivery = crate::support::sqs_event(vec![crate::support::queued(
        "again-1",
        "catalog-good-01",
        &order_body().to_string(),
        None,
    )]);
    assert!(
        stack
            .ingest()
            .handle(redelivery)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(
        crate::support::queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        2,
        "the redelivery is no dead letter"
    );
    let _ = PIPELINE;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_products_import_from_csv_and_export_as_they_were() {
    let stack = priced_stack(false).await;
    let me = admin(&stack).await;
    let mut csv = String::from("sku,name,currency,unit price,active\n");
    for n in 0..1000 {
        let active = if n % 7 == 0 { "no" } else { "yes" };
        csv.push_str(&format!(
            "IMP-{n:04},\"Cleaner, scent {n}\",USD,{}.{:02},{active}\n",
            1 + n / 10,
            n % 100
        ));
    }
    let flash = me
        .submit(&stack, "/api/products/import", &[("csv", &csv)])
        .await;
    assert!(flash.contains("Imported 1000 products."), "{flash}");
    let (status, exported) = me.page(&stack, "/products/export.csv").await;
    assert_eq!(status, 200);
    let exported = exported.trim_start_matches('\u{FEFF}');
    let imported: Vec<&str> = exported
        .lines()
        .filter(|line| line.starts_with("IMP-"))
        .collect();
    assert_eq!(imported.len(), 1000);
    assert_eq!(
        imported[1], "IMP-0001,\"Cleaner, scent 1\",USD,1.01,yes",
        "as imported"
    );
    assert!(exported.contains("IMP-0007,\"Cleaner, scent 7\",USD,1.07,no"));

    // The export imports again as it is; a file with a bad line imports nothing.
    let again = me
        .submit(&stack, "/api/products/import", &[("csv", exported)])
        .await;
    assert!(again.contains("Imported 1012 products."), "{again}");
    let broken = format!("{csv}BAD SKU WITH SPACES,x,USD,1.00,yes\n");
    let refused = me
        .submit(&stack, "/api/products/import", &[("csv", &broken)])
        .await;
    assert!(
        refused.contains("Nothing was imported. Line 1002: The SKU"),
        "{refused}"
    );
    assert_eq!(stack.products().list().await.unwrap().len(), 1012);

    // The page lists them, and a viewer cannot open it.
    let (status, html) = me.page(&stack, "/products").await;
    assert_eq!(status, 200);
    assert!(html.contains("IMP-0999"));
    let viewer = crate::support::user_with_role(&stack, dashboard::auth::Role::Viewer).await;
    assert_eq!(viewer.page(&stack, "/products").await.0, 403);
    assert_eq!(viewer.page(&stack, "/products/export.csv").await.0, 403);
}

/// A dead letter at another price is not offered as ready: a redrive would
/// only send it back to the dead letters, and "Check" says which line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_at_another_price_is_not_ready_to_redrive() {
    let stack = priced_stack(false).await;
    let mut tampered = order_body();
    tampered["items"][0]["unitPrice"] = json!(1);
    let letter = crate::support::dead_letter(
        &stack,
        &tampered.to_string(),
        "catalog-letter-01",
        "prices not in the catalog: …",
    )
    .await;
    let found = stack
        .dashboard
        .dead_letters
        .find(&letter)
        .await
        .unwrap()
        .expect("the dead letter");
    assert_eq!(
        found.verdict,
        dashboard::dead_letters::Verdict::WillFail(
            "prices not in the catalog: items[0]: SKU \"GC-500\" costs \"USD 12.99\" in the catalog, not \"USD 0.01\"".to_owned()
        )
    );
    let catalog = stack.dashboard.dead_letters.catalog().await.unwrap();
    let problems = dashboard::dead_letters::check_edit(
        &found,
        &tampered.to_string(),
        catalog.as_deref(),
        None,
    )
    .unwrap_err();
    assert_eq!(problems[0].field, "items[0]");
    assert!(
        dashboard::dead_letters::check_edit(
            &found,
            &order_body().to_string(),
            catalog.as_deref(),
            None
        )
        .is_ok(),
        "the body at the catalog's price is ready"
    );
}
