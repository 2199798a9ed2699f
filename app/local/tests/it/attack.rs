//! What a live attack on the dashboard found, each as a test: markup planted
//! in an order or a dead letter stays text, a link from another site moves
//! nothing, the owner keeps a way in while others hammer the account, one
//! address cannot try passwords without end, floods do not push real actions
//! out of the activity log, admins cannot demote each other to none, odd
//! query strings and Host headers get clear answers.

use std::time::Duration;

use dashboard::auth::{FIRST_ADMIN, Role};
use serde_json::json;

use crate::support::{
    ADMIN_PASSWORD, PLANTED, PLANTED_ELEMENTS, Visitor, admin, attribute_of, browser_at,
    create_user, dead_letter, notified_order, post_login, post_order, queue_depth, sign_in, stack,
    texts,
};

/// The same for a field of at most 20 characters.
const PLANTED_SHORT: &str = r#""><a href=//evil.io>"#;

/// What a page holds that the attacker's markup would have made.
fn planted_elements(html: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(PLANTED_ELEMENTS).unwrap();
    page.select(&selector)
        .map(|element| element.html())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_orders_and_dead_letters_stays_text_on_every_page() {
    let stack = stack(true).await;
    let mut body = crate::support::order_body();
    body["customer"]["name"] = json!(PLANTED);
    body["items"][0]["name"] = json!(PLANTED);
    for field in ["line1", "line2", "city", "region"] {
        body["shippingAddress"][field] = json!(PLANTED);
    }
    body["shippingAddress"]["postalCode"] = json!(PLANTED_SHORT);
    let (status, answer) = post_order(&stack, &body, Some("planted-markup-1")).await;
    assert_eq!(status, 202, "{answer}");
    notified_order(&stack, "planted-markup-1").await;

    let letter = dead_letter(&stack, PLANTED, PLANTED, PLANTED).await;
    let me = admin(&stack).await;
    for path in [
        "/".to_owned(),
        "/orders".to_owned(),
        "/orders?q=planted".to_owned(),
        "/orders/planted-markup-1".to_owned(),
        "/dead-letters".to_owned(),
        format!("/dead-letters/{letter}"),
    ] {
        let (status, html) = me.page(&stack, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            planted_elements(&html),
            Vec::<String>::new(),
            "{path} renders planted markup as HTML"
        );
    }
    let (_, html) = me.page(&stack, &format!("/dead-letters/{letter}")).await;
    let page = scraper::Html::parse_document(&html);
    let textarea = scraper::Selector::parse("textarea#body").unwrap();
    let held: Vec<String> = page
        .select(&textarea)
        .map(|element| element.text().collect())
        .collect();
    assert_eq!(held, [PLANTED], "the edit box holds the body as text");
    let (_, html) = me.page(&stack, "/orders/planted-markup-1").await;
    assert!(
        texts(&html, "main")
            .concat()
            .contains("</textarea> \"> <form"),
        "the customer's name is shown as the text it is"
    );
}

/// A redrive "continue" link with every field a continuation once carried.
fn continue_link() -> String {
    let started = (chrono::Utc::now() + chrono::Duration::days(1)).timestamp_millis();
    format!(
        "/dead-letters?continue=1&scope=all&skip_failing=false&started={started}&moved=0&rounds=1"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_from_another_site_moves_no_dead_letter() {
    let stack = stack(false).await;
    for n in 0..3 {
        let body = crate::support::order_body().to_string();
        dead_letter(
            &stack,
            &body,
            &format!("cross-site-{n}"),
            "a passing failure",
        )
        .await;
    }
    let me = admin(&stack).await;
    let response = browser_at("127.0.0.1")
        .get(format!("{}{}", stack.api_url, continue_link()))
        .header("Cookie", &me.cookie)
        .header("Sec-Fetch-Site", "cross-site")
        .header("Referer", "https://evil.example/")
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    let page = scraper::Html::parse_document(&html);
    let forms = scraper::Selector::parse("form[data-auto-continue]").unwrap();
    assert_eq!(
        page.select(&forms).count(),
        0,
        "a link renders no form that the page script would submit"
    );
    assert!(
        !html.contains("A redrive is under way"),
        "the page does not claim a redrive the operator never started"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        3,
        "every dead letter is still there"
    );

    // A redrive the server kept for an operator continues from the page,
    // for that operator only.
    use dashboard::dead_letters::{Drafts, Redrive, Selection};
    let drafts = Drafts::new(stack.clients.dynamodb.clone(), &stack.resources.names.table);
    let kept = Redrive {
        started: (chrono::Utc::now() + chrono::Duration::minutes(1)).timestamp_millis(),
        selection: Selection::All,
        skip_failing: true,
        moved: 0,
        rounds: 1,
    };
    let task = drafts.start_redrive(FIRST_ADMIN, &kept).await.unwrap();
    let link = format!("/dead-letters?redrive={task}");
    let continued = "form[data-auto-continue] input[name=task]";
    let (_, html) = me.page(&stack, &link).await;
    assert_eq!(attribute_of(&html, continued, "value"), [task.as_str()]);
    let operator = crate::support::user_with_role(&stack, Role::Operator).await;
    let (_, theirs) = operator.page(&stack, &link).await;
    assert!(
        attribute_of(&theirs, continued, "value").is_empty(),
        "another operator's link shows nothing to continue"
    );
    let message = operator
        .submit(&stack, "/api/dead-letters/redrive", &[("task", &task)])
        .await;
    assert!(message.contains("That redrive is over"), "{message}");
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        3
    );
    let message = me
        .submit(&stack, "/api/dead-letters/redrive", &[("task", &task)])
        .await;
    assert!(message.contains("Done"), "{message}");
    assert_eq!(
        queue_depth(&stack, &stack.resources.dead_letter_queue_url).await,
        0,
        "the owner's continuation moved them"
    );
    assert!(
        drafts.redrive(FIRST_ADMIN, &task).await.unwrap().is_none(),
        "a finished redrive is forgotten"
    );
}

/// Posts the login form from `address` with the cookies a browser holds;
/// returns where it went, the cookies it set and the message shown.
async fn login_with(
    stack: &local_stack::LocalStack,
    email: &str,
    password: &str,
    address: &str,
    cookies: &str,
) -> (String, String, String) {
    let response = browser_at(address)
        .post(format!("{}/api/login", stack.api_url))
        .header("Accept", "text/html")
        .header("Cookie", cookies)
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let set: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect();
    let set = set.join("\n");
    let message = if location.starts_with("/login") {
        crate::support::flash_on(stack, &location, &set, "").await
    } else {
        String::new()
    };
    (location, set, message)
}

/// What a browser keeps after signing out: every cookie a sign-in set but
/// the session (a signed-out owner, coming back).
fn kept_after_sign_out(set_cookies: &str) -> String {
    set_cookies
        .lines()
        .filter_map(|line| line.split(';').next())
        .filter(|pair| !pair.ends_with('=') && !pair.starts_with("session="))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_gets_in_from_their_own_browser_while_others_claim_every_turn() {
    let stack = stack(false).await;
    let account = create_user(&stack, Role::Operator).await;
    // The owner signed in from this browser before: it keeps what it was given.
    let (location, set, _) = login_with(&stack, &account, ADMIN_PASSWORD, "127.0.0.9", "").await;
    assert_eq!(location, "/");
    let browser_cookies = kept_after_sign_out(&set);

    // Attackers from three addresses spend their allowance; the account is paced.
    for attacker in ["127.0.2.1", "127.0.2.2", "127.0.2.3"] {
        for _ in 0..5 {
            post_login(&stack, &account, "wrong password", attacker).await;
        }
    }
    for round in 0..3 {
        // An attacker claims the turn just before the owner tries.
        let (_, _, refused) = login_with(&stack, &account, "wrong", "127.0.2.4", "").await;
        assert!(
            !refused.chars().any(|c| c.is_ascii_digit()),
            "a refusal does not announce when the next turn opens: {refused}"
        );
        let (location, _, message) = login_with(
            &stack,
            &account,
            ADMIN_PASSWORD,
            "127.0.0.9",
            &browser_cookies,
        )
        .await;
        assert_eq!(
            location, "/",
            "round {round}: the owner's own browser is not paced by others: {message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_has_a_budget_across_all_accounts() {
    let stack = stack(false).await;
    let mut refused_early = 0;
    for n in 0..40 {
        let (location, message) = crate::support::login_message(
            &stack,
            &format!("guess{n}@example.com"),
            "wrong password",
            "127.0.3.1",
        )
        .await;
        assert!(location.starts_with("/login"));
        if !message.contains("do not match") {
            refused_early += 1;
        }
    }
    assert!(
        refused_early >= 10,
        "after its budget an address is refused before any password is checked ({refused_early} of 40 refused)"
    );
    // Another address is not affected.
    let (location, _) = post_login(&stack, FIRST_ADMIN, ADMIN_PASSWORD, "127.0.3.2").await;
    assert_eq!(location, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failed_sign_ins_does_not_push_real_actions_out_of_view() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let message = me
        .submit(
            &stack,
            "/api/users/add",
            &[
                ("email", "new.operator@example.com"),
                ("role", "operator"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert!(message.contains("new.operator@example.com"), "{message}");
    for chunk in 0..21 {
        let attempts = (0..10).map(|n| {
            let address = format!("127.0.4.{}", chunk + 1);
            let account = format!("nobody{chunk}-{n}@example.com");
            let stack = &stack;
            async move { post_login(stack, &account, "wrong password", &address).await }
        });
        futures::future::join_all(attempts).await;
    }
    let (status, html) = me.page(&stack, "/activity").await;
    assert_eq!(status, 200);
    let rows = texts(&html, "tbody tr");
    assert!(
        rows.iter()
            .any(|row| row.contains("add user") && row.contains("new.operator@example.com")),
        "the admin's action is still in view after 210 failed sign-ins"
    );
    assert!(
        rows.len() < 60,
        "failed sign-ins are summarised, not listed one by one ({} rows)",
        rows.len()
    );
    let (_, changes) = me.page(&stack, "/activity?show=changes").await;
    assert!(
        texts(&changes, "tbody tr")
            .iter()
            .all(|row| !row.contains("sign-in")),
        "the changes filter leaves sign-ins out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_demoting_each_other_at_once_leave_an_admin() {
    use local_stack::faults::{Fault, FaultProxy, Rule};
    // Every read of the table answers late, as it may under load (the
    // proxy delays the answer, not the read): both requests are checked
    // before either change lands.
    let proxy = FaultProxy::start(crate::support::moto_endpoint(), 23)
        .await
        .unwrap();
    let stack = crate::support::stack_on(proxy.endpoint(), false, None).await;
    let other =
        crate::support::create_named_user(&stack, "second.admin@example.com", Role::Admin).await;
    for round in 0..3 {
        proxy.set_rules(Vec::new());
        let first = sign_in(&stack, FIRST_ADMIN, ADMIN_PASSWORD).await;
        let second = sign_in(&stack, &other, ADMIN_PASSWORD).await;
        proxy.set_rules(vec![Rule::on(
            "dynamodb",
            "GetItem",
            Fault::Latency(Duration::from_millis(400)),
            1.0,
        )]);
        let demote = |me: Visitor, whom: String| {
            let stack = &stack;
            async move {
                me.post(
                    stack,
                    "/api/users/role",
                    &[("email", whom.as_str()), ("role", "viewer")],
                )
                .await
            }
        };
        futures::future::join(
            demote(first, other.clone()),
            demote(second, FIRST_ADMIN.to_owned()),
        )
        .await;
        let users = dashboard::auth::users::UserStore::new(
            stack.clients.dynamodb.clone(),
            &stack.resources.names.table,
        );
        let admins: Vec<String> = users
            .list()
            .await
            .unwrap()
            .into_iter()
            .filter(|user| user.role == Role::Admin && !user.disabled)
            .map(|user| user.email)
            .collect();
        assert_eq!(
            admins.len(),
            1,
            "round {round}: one demotion wins, the other is refused"
        );
        proxy.set_rules(Vec::new());
        // Put the demoted one back for the next round.
        let survivor = sign_in(&stack, &admins[0], ADMIN_PASSWORD).await;
        let demoted = if admins[0] == FIRST_ADMIN {
            other.clone()
        } else {
            FIRST_ADMIN.to_owned()
        };
        let message = survivor
            .submit(
                &stack,
                "/api/users/role",
                &[("email", demoted.as_str()), ("role", "admin")],
            )
            .await;
        assert!(!message.contains("did not work"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_demotions_from_the_same_reads_cannot_both_land() {
    use dashboard::auth::users::{Change, Changed, UserStore};
    let stack = stack(false).await;
    let other =
        crate::support::create_named_user(&stack, "second.admin@example.com", Role::Admin).await;
    let users = UserStore::new(stack.clients.dynamodb.clone(), &stack.resources.names.table);
    for round in 0..5 {
        // Both admins read the users before either change lands, as two
        // requests at once do.
        let first = users.get(FIRST_ADMIN).await.unwrap().unwrap();
        let second = users.get(&other).await.unwrap().unwrap();
        let (a, b) = futures::future::join(
            users.change(&first, Change::Role(Role::Viewer)),
            users.change(&second, Change::Disabled(true)),
        )
        .await;
        let mut outcomes = [a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|outcome| format!("{outcome:?}"));
        assert_eq!(
            outcomes,
            [Changed::Done, Changed::WouldLeaveNoAdmin],
            "round {round}"
        );
        // Undo whichever landed.
        let first = users.get(FIRST_ADMIN).await.unwrap().unwrap();
        let second = users.get(&other).await.unwrap().unwrap();
        if first.role != Role::Admin {
            assert_eq!(
                users
                    .change(&first, Change::Role(Role::Admin))
                    .await
                    .unwrap(),
                Changed::Done
            );
        }
        if second.disabled {
            assert_eq!(
                users
                    .change(&second, Change::Disabled(false))
                    .await
                    .unwrap(),
                Changed::Done
            );
        }
    }
    // A change from a stale read does nothing.
    let stale = users.get(&other).await.unwrap().unwrap();
    let fresh = users.get(FIRST_ADMIN).await.unwrap().unwrap();
    assert_eq!(
        users
            .change(&fresh, Change::Role(Role::Operator))
            .await
            .unwrap(),
        Changed::Done
    );
    assert_eq!(
        users
            .change(&stale, Change::Role(Role::Viewer))
            .await
            .unwrap(),
        Changed::WouldLeaveNoAdmin,
        "the last admin stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_order_filters_get_a_clear_message_never_a_server_error() {
    let stack = stack(false).await;
    let me = user_with_viewer(&stack).await;
    for query in [
        "email=%40",
        "email=%40%40",
        "email=a%40",
        "email=%40.",
        "q=%40",
        "q=%40%40",
        "email=%40example.com%3F",
        "from=99999-01-01",
        "to=0000-00-00",
        "cursor=%ff%fe",
        "status=%00",
    ] {
        let (status, html) = me.page(&stack, &format!("/orders?{query}")).await;
        assert!(
            status == 200 || status == 400,
            "/orders?{query} answered {status}"
        );
        assert!(
            !html.contains("could not be loaded just now") && !html.contains("did not work"),
            "/orders?{query} shows a message about the filter, not an outage"
        );
        let response = browser_at("127.0.0.1")
            .get(format!("{}/orders/export.csv?{query}", stack.api_url))
            .header("Cookie", &me.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            status == 200 || status == 400,
            "/orders/export.csv?{query} answered {status}"
        );
    }
}

async fn user_with_viewer(stack: &local_stack::LocalStack) -> Visitor {
    crate::support::user_with_role(stack, Role::Viewer).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_host_headers_get_an_answer() {
    let stack = stack(false).await;
    let long = "h".repeat(8_000);
    for host in [
        "",
        " ",
        "a b",
        "[::1",
        "%zz",
        "example.com:99999",
        "example.com:",
        ":80",
        "ü.example",
        "127.0.0.1:3000/evil",
        "user@example.com",
        long.as_str(),
    ] {
        for target in ["/login", "/", "/orders", "/assets/none.css", "/nowhere"] {
            let (status, _) = raw_host_request(&stack, target, host).await;
            assert!(
                (200..500).contains(&status),
                "GET {target} with Host {host:?} answered {status}"
            );
        }
    }
    let (location, _) = post_login(&stack, FIRST_ADMIN, ADMIN_PASSWORD, "127.0.0.1").await;
    assert_eq!(location, "/", "the dashboard still answers");
}

/// One GET with exactly this Host header.
async fn raw_host_request(
    stack: &local_stack::LocalStack,
    target: &str,
    host: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = stack.api_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// The products page under hostile input: markup in a name stays text (on
/// the page, in the edit form, after a refusal), a formula in a name is
/// exported as text, a bad price is tied to its field, a file over the
/// limit imports nothing, and two imports at once both land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_products_stay_text_and_bad_imports_change_nothing() {
    let stack = crate::support::priced_stack(false).await;
    let me = crate::support::admin(&stack).await;
    let save = |name: &'static str, price: &'static str| {
        [
            ("sku", "EVIL-1"),
            ("name", name),
            ("currency", "USD"),
            ("unit_price", price),
            ("active", "true"),
        ]
    };
    let flash = me
        .submit(&stack, "/api/products/save", &save(PLANTED, "1.00"))
        .await;
    assert!(flash.contains("Saved EVIL-1"), "{flash}");
    for page in ["/products", "/products?sku=EVIL-1"] {
        let (status, html) = me.page(&stack, page).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(planted_elements(&html), Vec::<String>::new(), "{page}");
    }

    // A bad price: refused, named on its field (an id without spaces).
    for price in ["-1", "1e3", "NaN", "1.2.3", "99999999999"] {
        let (status, location, cookies) = me
            .post(&stack, "/api/products/save", &save(PLANTED, price))
            .await;
        assert_eq!(status, 303, "{price}");
        let flash = cookies
            .lines()
            .find(|cookie| cookie.starts_with("flash="))
            .and_then(|cookie| cookie.split(';').next())
            .unwrap_or_default();
        let refused = crate::support::Visitor {
            cookie: format!("{}; {flash}", me.cookie),
            csrf: String::new(),
        };
        let (_, html) = refused.page(&stack, &location).await;
        assert!(html.contains("The unit price"), "{price}");
        assert!(
            html.contains(r#"aria-describedby="unit_price-problem""#)
                && html.contains(r#"id="unit_price-problem""#),
            "{price}: the problem is tied to the field"
        );
        assert_eq!(planted_elements(&html), Vec::<String>::new());
    }

    // A formula in a name is exported as text.
    me.submit(
        &stack,
        "/api/products/save",
        &save("=HYPERLINK(\"//evil.io\")", "1.00"),
    )
    .await;
    let (_, csv) = me.page(&stack, "/products/export.csv").await;
    assert!(
        csv.contains("EVIL-1,\"'=HYPERLINK(\"\"//evil.io\"\")\",USD,1.00,yes"),
        "{csv}"
    );

    // Over the limit: nothing imported.
    let header = "sku,name,currency,unit price,active\n";
    let lines = |prefix: &str, count: usize| {
        let mut csv = header.to_owned();
        for n in 0..count {
            csv.push_str(&format!("{prefix}-{n:05},Thing {n},USD,1.00,yes\n"));
        }
        csv
    };
    let before = stack.products().list().await.unwrap().len();
    let too_many = lines("BIG", dashboard::products::MOST_IMPORTED + 1);
    let refused = me
        .submit(&stack, "/api/products/import", &[("csv", &too_many)])
        .await;
    assert!(refused.contains("import at most 5000"), "{refused}");
    assert_eq!(stack.products().list().await.unwrap().len(), before);

    // Two admins' imports at once: both land whole.
    let (first, second) = (lines("ONE", 60), lines("TWO", 60));
    let (first, second) = ([("csv", first.as_str())], [("csv", second.as_str())]);
    let (a, b) = tokio::join!(
        me.submit(&stack, "/api/products/import", &first),
        me.submit(&stack, "/api/products/import", &second),
    );
    assert!(a.contains("Imported 60 products.") && b.contains("Imported 60 products."));
    assert_eq!(stack.products().list().await.unwrap().len(), before + 120);
}
