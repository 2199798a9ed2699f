//! The dashboard's pages on moto, as a browser without JavaScript uses them:
//! listings, counts, search, the CSV export, the shop's time zone, the
//! overview's health figures, subscriptions and queues. HTML is read with a
//! real parser.

use chrono::{DateTime, Duration, Utc};
use domain::{Notified, Order, OrderId, OrderRequest};
use local_stack::demo;
use serde_json::json;

use crate::support::{
    admin, attribute_of, notified_order, order_body, post_order, stack, stack_in_zone, texts,
};

fn rows(html: &str) -> usize {
    texts(html, "table.orders tbody tr").len()
}

fn link(html: &str, rel: &str) -> Option<String> {
    attribute_of(html, &format!("a[rel={rel}]"), "href")
        .into_iter()
        .next()
}

/// An order as ingest would store it, at given times (notified or not).
fn order_at(
    id: &str,
    body: serde_json::Value,
    received: DateTime<Utc>,
    stored_after: Duration,
) -> Order {
    Order::accept(
        OrderId::parse(id).unwrap(),
        received,
        received + stored_after,
        OrderRequest::from_json(&body).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_listed_paged_counted_searched_and_shown() {
    let stack = stack(true).await;
    let me = admin(&stack).await;
    let ids = demo::post(&stack, 30).await.unwrap();
    let (_, answer) = post_order(&stack, &order_body(), Some("summer-sale-0042")).await;
    assert_eq!(answer["orderId"], "summer-sale-0042");
    for id in ids
        .iter()
        .chain(std::iter::once(&"summer-sale-0042".to_owned()))
    {
        notified_order(&stack, id).await;
    }

    let (status, first) = me.page(&stack, "/orders").await;
    assert_eq!(status, 200);
    assert_eq!(rows(&first), 25);
    assert!(
        texts(&first, "[role=status]")
            .iter()
            .any(|t| t.starts_with("31 orders from")),
        "the total"
    );
    assert!(
        link(&first, "prev").is_none(),
        "the newest page has no newer one"
    );
    let older = link(&first, "next").expect("an older page");
    let (_, second) = me.page(&stack, &older).await;
    assert_eq!(rows(&second), 6);
    assert!(link(&second, "next").is_none());
    let (_, back) = me
        .page(&stack, &link(&second, "prev").expect("a way back"))
        .await;
    assert_eq!(rows(&back), 25);

    let (_, stored) = me.page(&stack, "/orders?status=stored").await;
    assert!(
        texts(&stored, "h2").contains(&"No orders here".to_owned()),
        "every order was notified"
    );
    let (_, notified) = me.page(&stack, "/orders?status=notified").await;
    assert_eq!(rows(&notified), 25);

    let samples = demo::orders(30);
    // The sample orders, and the keyed one (Ana@Example.com).
    let ana = samples
        .iter()
        .filter(|o| o["customer"]["email"] == "ana@example.com")
        .count()
        + 1;
    let (_, by_email) = me.page(&stack, "/orders?email=ANA%40example.com").await;
    assert_eq!(rows(&by_email), ana, "email lookups ignore case");
    let at_example_com = samples
        .iter()
        .filter(|o| {
            o["customer"]["email"]
                .as_str()
                .unwrap()
                .ends_with("@example.com")
        })
        .count()
        + 1;
    let (_, by_domain) = me.page(&stack, "/orders?email=%40example.com").await;
    assert!(
        texts(&by_domain, "[role=status]")
            .iter()
            .any(|t| t.starts_with(&format!("{at_example_com} orders")))
    );

    // Search as people do: the first block of a generated id, part of a key,
    // the start of a name without its accent, a domain.
    let generated = ids.iter().find(|id| id.len() == 36).unwrap();
    let (_, found) = me
        .page(&stack, &format!("/orders?q={}", &generated[..8]))
        .await;
    assert!(
        texts(&found, "table.orders tbody th").contains(generated),
        "by the first block of a UUID"
    );
    let (_, found) = me.page(&stack, "/orders?q=SUMMER-sale").await;
    assert_eq!(
        texts(&found, "table.orders tbody th"),
        ["summer-sale-0042"],
        "by the start of a key, any case"
    );
    let chloe = samples
        .iter()
        .filter(|o| o["customer"]["name"] == "Chloé Martin")
        .count();
    let (_, found) = me.page(&stack, "/orders?q=chloe%20m").await;
    assert_eq!(
        rows(&found),
        chloe,
        "by the start of a name, accent and case aside"
    );
    let (_, found) = me.page(&stack, "/orders?q=%40example.fr").await;
    assert_eq!(rows(&found), chloe, "by the domain of the email");
    let (_, none) = me.page(&stack, "/orders?q=zz-no-such").await;
    assert!(texts(&none, "h2").contains(&"No order found".to_owned()));
    let (status, short) = me.page(&stack, "/orders?q=z").await;
    assert_eq!(status, 200);
    assert!(
        texts(&short, ".field-problem")
            .iter()
            .any(|t| t.contains("at least 2")),
        "a clear message, by the field"
    );

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
    assert!(texts(&detail, "details.raw summary").contains(&"Stored item (JSON)".to_owned()));

    let (status, _) = me.page(&stack, "/orders/no-such-order").await;
    assert_eq!(status, 404);
    let (status, email_page) = me.page(&stack, "/orders?email=not-an-email").await;
    assert_eq!(status, 400, "bad input is the user's to fix, not an outage");
    assert!(
        texts(&email_page, ".field-problem")
            .iter()
            .any(|t| t.contains("not an email address"))
    );
    assert!(!email_page.contains("function's log"));

    let (_, overview) = me.page(&stack, "/").await;
    assert!(
        texts(&overview, ".card .figure").contains(&"31".to_owned()),
        "31 orders today"
    );
    assert!(overview.contains("<svg"), "the hourly chart");
    assert!(texts(&overview, "#health").contains(&"Pipeline health".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_has_every_line_in_major_units_and_is_safe_in_a_spreadsheet() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let now = Utc::now();
    let hostile = json!({
        "customer": {"name": "=HYPERLINK(\"http://evil.example\",\"x\")", "email": "ana@example.com"},
        "items": [
            {"sku": "GC-500", "name": "+cmd|' /C calc'!A0", "quantity": 2, "unitPrice": 1299},
            {"sku": "MF-10", "name": "Cloths, \"soft\"; 10 pack", "quantity": 1, "unitPrice": 899}
        ],
        "currency": "EUR"
    });
    stack
        .orders()
        .insert(&order_at(
            "export-0001",
            hostile,
            now,
            Duration::milliseconds(50),
        ))
        .await
        .unwrap();
    let yen = json!({"customer": {"name": "Hiro Tanaka", "email": "hiro@example.com"},
        "items": [{"sku": "DS-400", "name": "Disinfectant", "quantity": 3, "unitPrice": 650}], "currency": "JPY"});
    stack
        .orders()
        .insert(&order_at(
            "export-0002",
            yen,
            now,
            Duration::milliseconds(50),
        ))
        .await
        .unwrap();

    let response = crate::support::browser()
        .get(format!("{}/orders/export.csv", stack.api_url))
        .header("Cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"orders-")
    );
    let text = response.text().await.unwrap();
    let text = text
        .strip_prefix('\u{FEFF}')
        .expect("a UTF-8 byte order mark, for spreadsheets");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        dashboard::ui::downloads::CSV_HEADER.map(str::to_owned)
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 3, "one row a line item");
    let of = |id: &str| {
        rows.iter()
            .filter(|row| row[0] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let hostile = of("export-0001");
    assert_eq!(
        hostile[0][3], "'=HYPERLINK(\"http://evil.example\",\"x\")",
        "formulas are text"
    );
    assert_eq!(hostile[0][7], "'+cmd|' /C calc'!A0");
    assert_eq!(
        hostile[1][7], "Cloths, \"soft\"; 10 pack",
        "quotes and separators survive"
    );
    assert_eq!(
        (
            hostile[0][5].as_str(),
            hostile[0][9].as_str(),
            hostile[0][10].as_str(),
            hostile[0][11].as_str()
        ),
        ("EUR", "12.99", "25.98", "34.97")
    );
    assert_eq!(
        hostile[1][11], "",
        "the order's total once, on its first line: the column sums to the orders' totals"
    );
    let column_sum = |column: usize| -> f64 {
        rows.iter()
            .filter(|row| row[5] == "EUR")
            .filter_map(|row| row[column].parse::<f64>().ok())
            .sum()
    };
    assert!(
        (column_sum(10) - 34.97).abs() < 1e-9 && (column_sum(11) - 34.97).abs() < 1e-9,
        "line totals and order totals both sum to the order's total"
    );
    let yen = of("export-0002");
    assert_eq!(
        (yen[0][9].as_str(), yen[0][11].as_str()),
        ("650", "1950"),
        "amounts in the currency's major units"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shops_time_zone_decides_the_day() {
    let stack = stack_in_zone("Asia/Tokyo".parse().unwrap(), false).await;
    let me = admin(&stack).await;
    let late = DateTime::parse_from_rfc3339("2026-11-25T23:30:00Z")
        .unwrap()
        .to_utc();
    stack
        .orders()
        .insert(&order_at(
            "tokyo-0001",
            order_body(),
            late,
            Duration::milliseconds(80),
        ))
        .await
        .unwrap();

    let (_, day) = me
        .page(&stack, "/orders?from=2026-11-26&to=2026-11-26")
        .await;
    assert_eq!(
        texts(&day, "table.orders tbody th"),
        ["tokyo-0001"],
        "23:30 UTC on the 25th is the 26th in Tokyo"
    );
    assert!(
        texts(&day, "table.orders time").contains(&"2026-11-26 08:30 JST".to_owned()),
        "and its time is Tokyo's"
    );
    assert!(day.contains("Asia/Tokyo"), "the page says which zone");
    let (_, before) = me
        .page(&stack, "/orders?from=2026-11-25&to=2026-11-25")
        .await;
    assert_eq!(rows(&before), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_figures_come_from_the_orders_timestamps() {
    let stack = stack(false).await;
    let now = Utc::now();
    let orders = stack.orders();
    // Four in the last hour: stored after 100..400 ms, three mailed after 1..3 s.
    for n in 0..4 {
        let received = now - Duration::minutes(10 + n);
        let order = order_at(
            &format!("health-recent-{n}"),
            order_body(),
            received,
            Duration::milliseconds(100 * (n + 1)),
        );
        orders.insert(&order).await.unwrap();
        if n < 3 {
            orders
                .mark_notified(
                    &order,
                    &Notified {
                        at: received + Duration::seconds(n + 1),
                        message_id: format!("m-{n}"),
                        digest_of: None,
                    },
                )
                .await
                .unwrap();
        }
    }
    // Two five hours ago, both mailed after 20 s.
    for n in 0..2 {
        let received = now - Duration::hours(5) - Duration::minutes(n);
        let order = order_at(
            &format!("health-earlier-{n}"),
            order_body(),
            received,
            Duration::seconds(1),
        );
        orders.insert(&order).await.unwrap();
        orders
            .mark_notified(
                &order,
                &Notified {
                    at: received + Duration::seconds(20),
                    message_id: format!("e-{n}"),
                    digest_of: None,
                },
            )
            .await
            .unwrap();
    }
    let overview = stack.dashboard.overview(now).await.unwrap();
    let [hour, day] = &overview.health;
    assert_eq!((hour.received, hour.stored, hour.notified), (4, 4, 3));
    assert!(
        !hour.received_from_cloudwatch,
        "CloudWatch has no figure locally"
    );
    let to_stored = hour.to_stored.unwrap();
    assert_eq!(
        (to_stored.median.as_millis(), to_stored.p95.as_millis()),
        (200, 400)
    );
    let to_notified = hour.to_notified.unwrap();
    assert_eq!(
        (to_notified.median.as_secs(), to_notified.p95.as_secs()),
        (2, 3)
    );
    assert_eq!((day.stored, day.notified), (6, 5));
    assert_eq!(day.to_notified.unwrap().p95.as_secs(), 20);
    assert_eq!(
        overview.not_notified, 1,
        "the one stored ten minutes ago without an email"
    );
    assert_eq!(
        overview
            .hourly
            .iter()
            .map(|hour| hour.total())
            .sum::<usize>(),
        6
    );

    let me = admin(&stack).await;
    let (_, page) = me.page(&stack, "/").await;
    let cells = texts(&page, "#health ~ .table-wrap tbody tr:first-child td");
    assert_eq!(
        cells[..3],
        ["4".to_owned(), "4".to_owned(), "3 (1 not yet)".to_owned()],
        "{cells:?}"
    );
    assert_eq!(cells[3], "200 ms · 400 ms");
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

    let arn = crate::support::subscription_arn(&stack, "staff@example.com").await;
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
    // The empty row for another minimum starts on no currency, not the first listed.
    assert_eq!(
        texts(
            &html,
            "select[name='minimums[2][currency]'] option[selected]"
        ),
        ["Currency…"]
    );
    assert!(
        texts(
            &html,
            "select[name='minimums[0][currency]'] option[selected]"
        )
        .contains(&"USD".to_owned()),
        "a set minimum keeps its currency"
    );
    let flash = me
        .submit(
            &stack,
            "/api/subscriptions/filter",
            &[
                ("arn", &arn),
                ("minimums[0][currency]", "USD"),
                ("minimums[0][amount]", "50.00"),
                ("minimums[1][currency]", "JPY"),
                ("minimums[1][amount]", "7500"),
                ("minimums[2][currency]", ""),
                ("minimums[2][amount]", "10"),
            ],
        )
        .await;
    assert!(
        flash.contains("The currency"),
        "an amount without a currency is refused: {flash}"
    );
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
    assert!(
        flash.contains("must be an amount like 49.90 in EUR"),
        "{flash}"
    );

    let flash = me.submit(&stack, "/api/subscriptions/test", &[]).await;
    assert!(flash.contains("Test notification sent"), "{flash}");
    crate::support::eventually("the test email", crate::support::PIPELINE, || async {
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
    assert_eq!(status, 503, "an AWS failure is an outage, said plainly");
    let problem = texts(&html, ".problem").join(" ");
    assert!(problem.contains("Reading queue"), "what failed: {problem}");
    assert!(problem.contains("tell ops"), "who to tell: {problem}");
}

/// "Orders today" opens today's orders, and the date presets (today,
/// yesterday, last 7 days, this month, last 30 days) are links that work
/// without JavaScript, keep the other filters and mark the one shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn date_presets_and_orders_today_open_the_days_they_name() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let now = Utc::now();
    for (id, at) in [
        ("preset-today-01", now - Duration::seconds(1)),
        ("preset-yday-0001", now - Duration::days(1)),
        ("preset-tenday-01", now - Duration::days(10)),
    ] {
        stack
            .orders()
            .insert(&order_at(id, order_body(), at, Duration::seconds(1)))
            .await
            .unwrap();
    }
    let today = now.date_naive();
    let (_, overview) = me.page(&stack, "/").await;
    let card = format!("/orders?from={today}&to={today}");
    assert!(
        attribute_of(&overview, "a.card", "href").contains(&card),
        "the Orders today card opens today's orders"
    );
    let (_, todays) = me.page(&stack, &card).await;
    assert!(todays.contains("preset-today-01") && !todays.contains("preset-yday-0001"));
    let presets = texts(&todays, "nav.presets a");
    assert_eq!(
        presets,
        [
            "Today",
            "Yesterday",
            "Last 7 days",
            "This month",
            "Last 30 days"
        ]
    );
    assert_eq!(
        texts(&todays, r#"nav.presets a[aria-current="true"]"#),
        ["Today"]
    );
    let links = attribute_of(&todays, "nav.presets a", "href");
    let (_, yesterday) = me.page(&stack, &links[1].replace("&amp;", "&")).await;
    assert!(yesterday.contains("preset-yday-0001") && !yesterday.contains("preset-today-01"));
    let (_, week) = me.page(&stack, &links[2].replace("&amp;", "&")).await;
    assert!(week.contains("preset-yday-0001") && week.contains("preset-today-01"));
    assert!(!week.contains("preset-tenday-01"));
    let (_, month) = me.page(&stack, &links[4].replace("&amp;", "&")).await;
    assert!(month.contains("preset-tenday-01"), "the last 30 days");
    // Other filters stay.
    let (_, notified) = me.page(&stack, "/orders?status=notified").await;
    assert!(
        attribute_of(&notified, "nav.presets a", "href")
            .iter()
            .all(|href| href.contains("status=notified"))
    );
}

/// A refused sign-in marks both fields invalid and ties them to the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sign_in_marks_its_fields() {
    let stack = stack(false).await;
    let (location, cookies) =
        crate::support::post_login(&stack, "admin@example.com", "not the password", "127.0.0.1")
            .await;
    assert!(location.starts_with("/login"), "{location}");
    let flash = cookies
        .lines()
        .find(|c| c.starts_with("flash="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let visitor = crate::support::Visitor {
        cookie: flash,
        csrf: String::new(),
    };
    let (_, html) = visitor.page(&stack, &location).await;
    assert_eq!(
        attribute_of(&html, "p.flash.error", "id"),
        ["flash-message"]
    );
    for name in ["email", "password"] {
        let field = format!("input[name={name}]");
        assert_eq!(
            attribute_of(&html, &field, "aria-invalid"),
            ["true"],
            "{name}"
        );
        assert_eq!(
            attribute_of(&html, &field, "aria-describedby"),
            ["flash-message"],
            "{name}"
        );
    }
    let fresh = crate::support::browser()
        .get(format!("{}/login", stack.api_url))
        .send()
        .await
        .unwrap();
    let fresh = fresh.text().await.unwrap();
    assert!(attribute_of(&fresh, "input[name=email]", "aria-invalid").is_empty());
}

/// An order opened from a search or a filtered list goes back to that
/// list; a `back` that is not a list of this site's orders goes to the
/// newest orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_goes_back_to_the_list_it_was_opened_from() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let id = "back-to-list-01";
    stack
        .orders()
        .insert(&order_at(
            id,
            order_body(),
            Utc::now(),
            Duration::seconds(1),
        ))
        .await
        .unwrap();
    let listing = "/orders?q=back-to";
    let (_, html) = me.page(&stack, listing).await;
    let links = attribute_of(&html, &format!("a[href^=\"/orders/{id}\"]"), "href");
    assert_eq!(links.len(), 1, "{html}");
    let (_, order) = me.page(&stack, &links[0]).await;
    assert_eq!(
        texts(&order, "a")
            .into_iter()
            .find(|text| text.starts_with('←')),
        Some("← Back to the list".to_owned())
    );
    assert!(attribute_of(&order, "a", "href").contains(&listing.to_owned()));
    for hostile in [
        "//evil.example/orders",
        "https://evil.example/",
        "/ordersX",
        "/orders\\evil",
        "javascript:alert(1)",
    ] {
        let path = format!(
            "/orders/{id}?{}",
            serde_urlencoded::to_string([("back", hostile)]).unwrap()
        );
        let (status, order) = me.page(&stack, &path).await;
        assert_eq!(status, 200, "{hostile}");
        assert!(
            !attribute_of(&order, "a", "href").contains(&hostile.to_owned()),
            "{hostile} is not a link"
        );
        assert!(order.contains("← All orders"), "{hostile}");
    }
    let (_, plain) = me.page(&stack, &format!("/orders/{id}")).await;
    assert!(plain.contains("← All orders"));
}

/// The overview warns those who can act: an admin sees the dead letters as
/// a warning; a viewer, who can do nothing about them, sees the figure
/// plainly (and no banner about addresses they cannot manage).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_go_to_those_who_can_act_on_them() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    crate::support::dead_letter(
        &stack,
        "{}",
        "warn-0000001",
        "invalid order: items: required",
    )
    .await;
    let (_, for_admin) = me.page(&stack, "/").await;
    assert!(!texts(&for_admin, ".card.stat.warn").is_empty());
    let viewer = crate::support::user_with_role(&stack, dashboard::auth::Role::Viewer).await;
    let (_, for_viewer) = viewer.page(&stack, "/").await;
    assert!(
        texts(&for_viewer, "[role=alert]").is_empty(),
        "{for_viewer}"
    );
    assert!(texts(&for_viewer, ".card.stat.warn").is_empty());
    assert!(
        for_viewer.contains("Dead letters"),
        "the figure is still shown"
    );
}
