//! Sign-in, roles and protection of the dashboard, on moto: who reaches
//! which page and action (by direct requests too), forged requests and
//! cookies, throttling, disabling, logout and the activity log.

use crate::support::{
    ADMIN_PASSWORD, SESSION_SECRET, Visitor, admin, browser, login_message, post_login, sign_in,
    stack, user_with_role,
};
use dashboard::auth::session::Session;
use dashboard::auth::{FIRST_ADMIN, Role};
use dashboard::web::cookies::Cookies;

const PAGES: [(&str, Role); 8] = [
    ("/", Role::Viewer),
    ("/orders", Role::Viewer),
    ("/orders/no-such-order", Role::Viewer),
    ("/queues", Role::Operator),
    ("/dead-letters", Role::Operator),
    ("/subscriptions", Role::Admin),
    ("/users", Role::Admin),
    ("/activity", Role::Admin),
];

/// A form's fields.
type Fields = &'static [(&'static str, &'static str)];

/// Each action with a harmless form, and the role it needs.
const ACTIONS: [(&str, Role, Fields); 8] = [
    ("/api/dead-letters/redrive", Role::Operator, &[]),
    ("/api/dead-letters/delete", Role::Operator, &[]),
    (
        "/api/dead-letters/redrive",
        Role::Operator,
        &[("scope", "all")],
    ),
    (
        "/api/subscriptions/add",
        Role::Admin,
        &[("email", "not an address")],
    ),
    ("/api/subscriptions/test", Role::Admin, &[]),
    (
        "/api/users/add",
        Role::Admin,
        &[("email", "x"), ("role", "viewer"), ("password", "short")],
    ),
    (
        "/api/users/role",
        Role::Admin,
        &[("email", "nobody@example.com"), ("role", "none")],
    ),
    (
        "/api/users/disabled",
        Role::Admin,
        &[("email", "nobody@example.com"), ("disabled", "maybe")],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_action_checks_the_role() {
    let stack = stack(false).await;
    let nobody = Visitor::default();
    for (path, _) in PAGES {
        let response = browser()
            .get(format!("{}{path}", stack.api_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "{path} without a session");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with("/login?next="),
            "{path} sends to sign-in: {location}"
        );
    }
    for (action, _, fields) in ACTIONS {
        let (status, _, _) = nobody.post(&stack, action, fields).await;
        assert_eq!(status, 401, "{action} without a session");
    }

    for role in Role::ALL {
        let visitor = if role == Role::Admin {
            admin(&stack).await
        } else {
            user_with_role(&stack, role).await
        };
        for (path, needed) in PAGES {
            let (status, _) = visitor.page(&stack, path).await;
            let expected = if role >= needed {
                if path.contains("no-such") { 404 } else { 200 }
            } else {
                403
            };
            assert_eq!(status, expected, "{role} on {path}");
        }
        for (action, needed, fields) in ACTIONS {
            let (status, _, _) = visitor.post(&stack, action, fields).await;
            assert_eq!(
                status,
                if role >= needed { 303 } else { 403 },
                "{role} posting {action}"
            );
        }
        let (_, home) = visitor.page(&stack, "/").await;
        assert_eq!(
            home.contains("href=\"/dead-letters\""),
            role >= Role::Operator,
            "{role}'s navigation"
        );
        assert_eq!(
            home.contains("href=\"/users\""),
            role >= Role::Admin,
            "{role}'s navigation"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_requests_are_refused() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let url = format!("{}/api/subscriptions/test", stack.api_url);
    let post = |origin: Option<&'static str>, site: Option<&'static str>, csrf: &str| {
        let mut request = browser()
            .post(url.clone())
            .header("Accept", "text/html")
            .header("Cookie", &me.cookie)
            .form(&[("csrf", csrf.to_owned())]);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        if let Some(site) = site {
            request = request.header("Sec-Fetch-Site", site);
        }
        request.send()
    };
    let evil = post(Some("https://evil.example"), None, &me.csrf)
        .await
        .unwrap();
    assert_eq!(evil.status().as_u16(), 403, "another site's form");
    let cross = post(None, Some("cross-site"), &me.csrf).await.unwrap();
    assert_eq!(cross.status().as_u16(), 403, "a cross-site fetch");
    let no_token = post(None, None, "").await.unwrap();
    assert_eq!(no_token.status().as_u16(), 403, "no form token");
    let wrong_token = post(None, None, "guessed").await.unwrap();
    assert_eq!(wrong_token.status().as_u16(), 403, "a wrong form token");
    let good = post(None, Some("same-origin"), &me.csrf).await.unwrap();
    assert_eq!(good.status().as_u16(), 303, "the dashboard's own form");

    let response = browser()
        .get(format!("{}/orders", stack.api_url))
        .header("Cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_expired_and_foreign_cookies_are_refused() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let refused = |cookie: String| {
        let stack = &stack;
        async move {
            let visitor = Visitor {
                cookie,
                csrf: String::new(),
            };
            let (status, _) = visitor.page(stack, "/orders").await;
            status == 303
        }
    };
    assert!(!refused(me.cookie.clone()).await, "the real cookie works");
    let mut tampered = me.cookie.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(refused(tampered).await, "tampered");

    let now = chrono::Utc::now().timestamp();
    let ours = Cookies::new(SESSION_SECRET, false).unwrap();
    let foreign = Cookies::new("some-other-secret-that-is-32-chars-long", false).unwrap();
    let session = Session::start(FIRST_ADMIN, 0, now);
    assert!(
        !refused(ours.session_pair(&session)).await,
        "a session sealed with our key works"
    );
    assert!(refused(foreign.session_pair(&session)).await, "foreign key");
    let expired = Session::start(FIRST_ADMIN, 0, now - 13 * 3600);
    assert!(refused(ours.session_pair(&expired)).await, "expired");
    let mut idle = Session::start(FIRST_ADMIN, 0, now - 3600);
    idle.seen = now - 3600;
    assert!(refused(ours.session_pair(&idle)).await, "idle");
    let stale = Session::start(FIRST_ADMIN, 7, now);
    assert!(
        refused(ours.session_pair(&stale)).await,
        "an ended session version"
    );
}

use crate::support::refused_sign_ins;

/// Signs in as the owner, waiting out the account's pause as a person would
/// (a turn comes at least every `MAX_PAUSE_SECS`, though others may take it).
async fn owner_signs_in(stack: &local_stack::LocalStack, email: &str, address: &str) {
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_secs(3 * dashboard::auth::throttle::MAX_PAUSE_SECS as u64);
    while std::time::Instant::now() < deadline {
        let (location, message) = login_message(stack, email, ADMIN_PASSWORD, address).await;
        if location == "/" {
            return;
        }
        assert!(
            message.contains("slowed"),
            "the owner is paced, never locked out from their own address: {message}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{email} could not sign in from {address}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_one_address_out_of_one_account_and_no_more() {
    let stack = stack(false).await;
    let attacker = "127.0.0.2";
    let (location, cookies) = post_login(&stack, FIRST_ADMIN, "wrong password", attacker).await;
    assert!(location.starts_with("/login"), "{location}");
    assert!(
        !cookies.contains("session="),
        "no session for a wrong password"
    );
    for _ in 0..4 {
        post_login(&stack, FIRST_ADMIN, "wrong password", attacker).await;
    }
    let (location, message) = login_message(&stack, FIRST_ADMIN, ADMIN_PASSWORD, attacker).await;
    assert!(
        location.starts_with("/login") && message.contains("locked"),
        "the address is locked out of the account, even with the right password: {message}"
    );
    assert_eq!(
        refused_sign_ins(&stack, "locked out").await,
        1,
        "the refusal is in the activity log"
    );
    assert_eq!(refused_sign_ins(&stack, "wrong email or password").await, 5);
    owner_signs_in(&stack, FIRST_ADMIN, "127.0.0.3").await;

    user_with_role(&stack, Role::Viewer).await;
    let (location, _) = post_login(&stack, "viewer@example.com", ADMIN_PASSWORD, attacker).await;
    assert_eq!(
        location, "/",
        "the lock is for one account, not the whole address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_check_no_more_than_the_policy_allows() {
    use dashboard::auth::throttle::{ATTEMPTS_PER_ADDRESS, FIRST_PAUSE_SECS, UNPACED_ATTEMPTS};
    let stack = stack(false).await;
    user_with_role(&stack, Role::Operator).await;
    let account = "operator@example.com";

    // 20 at once from one address: at most the address's allowance is checked.
    let attempts = (0..20).map(|_| post_login(&stack, account, "wrong password", "127.0.0.4"));
    futures::future::join_all(attempts).await;
    let checked = refused_sign_ins(&stack, "wrong email or password").await;
    assert!(
        checked as i64 <= ATTEMPTS_PER_ADDRESS,
        "{checked} passwords checked for 20 concurrent attempts from one address"
    );
    assert_eq!(
        checked + refused_sign_ins(&stack, "locked out").await,
        20,
        "every attempt is counted in the activity log"
    );
    let (location, _) = post_login(&stack, account, ADMIN_PASSWORD, "127.0.0.4").await;
    assert!(
        location.starts_with("/login"),
        "that address stays locked out"
    );

    // 40 at once from 40 addresses: the account is paced, one check a pause.
    let started = std::time::Instant::now();
    let attempts = (0..40).map(|n| {
        let address = format!("127.0.1.{}", n + 1);
        let stack = &stack;
        async move { post_login(stack, account, "wrong password", &address).await }
    });
    futures::future::join_all(attempts).await;
    let checked = refused_sign_ins(&stack, "wrong email or password").await;
    // Turns are claimed on whole seconds: one at the start, and at most one
    // more for each pause begun since (a turn just before a second ends and
    // the next just after it are 1 s apart on the clock, a moment in time).
    let pauses = (started.elapsed().as_secs_f64() / FIRST_PAUSE_SECS as f64).ceil() as i64;
    assert!(
        checked as i64 <= UNPACED_ATTEMPTS + 1 + pauses,
        "{checked} passwords checked in all, after 20 attempts from one address and 40 from forty within {pauses} pauses"
    );
    owner_signs_in(&stack, account, "127.0.0.5").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_and_signing_out_end_sessions_at_once() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let viewer = user_with_role(&stack, Role::Viewer).await;
    assert_eq!(viewer.page(&stack, "/orders").await.0, 200);

    let flash = me
        .submit(
            &stack,
            "/api/users/disabled",
            &[("email", "viewer@example.com"), ("disabled", "true")],
        )
        .await;
    assert!(
        flash.contains("disabled and signed out everywhere"),
        "{flash}"
    );
    assert_eq!(
        viewer.page(&stack, "/orders").await.0,
        303,
        "refused at once"
    );
    let (location, message) =
        login_message(&stack, "viewer@example.com", ADMIN_PASSWORD, "127.0.0.9").await;
    assert!(
        location.starts_with("/login") && message.contains("disabled"),
        "cannot sign in again: {message}"
    );
    let flash = me
        .submit(
            &stack,
            "/api/users/disabled",
            &[("email", FIRST_ADMIN), ("disabled", "true")],
        )
        .await;
    assert!(
        flash.contains("cannot change your own role or disable yourself"),
        "{flash}"
    );

    let (status, location, cookies) = me.post(&stack, "/api/logout", &[]).await;
    assert_eq!((status, location.as_str()), (303, "/login"));
    assert!(cookies.contains("session=;"), "the cookie is removed");
    assert_eq!(
        me.page(&stack, "/orders").await.0,
        303,
        "the old cookie no longer works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_and_every_action_is_in_the_activity_log() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let flash = me
        .submit(
            &stack,
            "/api/users/add",
            &[
                ("email", "ops@example.com"),
                ("role", "operator"),
                ("password", "operator-password"),
            ],
        )
        .await;
    assert!(
        flash.contains("Added ops@example.com as operator"),
        "{flash}"
    );
    let ops = sign_in(&stack, "ops@example.com", "operator-password").await;
    assert_eq!(ops.page(&stack, "/dead-letters").await.0, 200);
    assert_eq!(ops.page(&stack, "/users").await.0, 403);

    let flash = me
        .submit(
            &stack,
            "/api/users/role",
            &[("email", "ops@example.com"), ("role", "viewer")],
        )
        .await;
    assert!(flash.contains("ops@example.com is now viewer"), "{flash}");
    assert_eq!(
        ops.page(&stack, "/dead-letters").await.0,
        403,
        "a new role applies at once"
    );

    let flash = me
        .submit(
            &stack,
            "/api/users/password",
            &[
                ("email", "ops@example.com"),
                ("password", "a-brand-new-password"),
            ],
        )
        .await;
    assert!(flash.contains("new password"), "{flash}");
    assert_eq!(
        ops.page(&stack, "/orders").await.0,
        303,
        "a reset ends the old sessions"
    );
    sign_in(&stack, "ops@example.com", "a-brand-new-password").await;

    me.submit(&stack, "/api/dead-letters/redrive", &[("scope", "all")])
        .await;
    me.submit(
        &stack,
        "/api/subscriptions/add",
        &[("email", "staff@example.com")],
    )
    .await;
    let (status, activity) = me.page(&stack, "/activity").await;
    assert_eq!(status, 200);
    let actions = crate::support::texts(&activity, "tbody th[data-label=What]");
    for action in [
        "add user",
        "change role",
        "reset password",
        "redrive dead letters",
        "subscribe",
    ] {
        assert!(
            actions.iter().any(|shown| shown == action),
            "the log has {action}: {actions:?}"
        );
    }
    assert!(
        crate::support::texts(&activity, "td[data-label=Who]")
            .contains(&"admin@example.com".to_owned()),
        "with who did it"
    );
    assert!(activity.contains("staff@example.com"), "and on what");

    // What the server did, not what the form said.
    let made_up = me
        .submit(
            &stack,
            "/api/dead-letters/redrive",
            &[("scope", "ids"), ("ids[0]", "made-up-id")],
        )
        .await;
    assert!(
        made_up.contains("Sent back to the order queue: 0 dead letters"),
        "{made_up}"
    );
    let entries = crate::support::activity(&stack).await;
    let redrive = entries
        .iter()
        .find(|entry| entry.action == "redrive dead letters")
        .expect("the redrive is logged");
    assert_eq!(redrive.target, "1 chosen", "{redrive:?}");
    assert!(
        redrive.details.contains(&"moved: 0".to_owned()),
        "only what was found is recorded: {redrive:?}"
    );
    let sign_ins = entries
        .iter()
        .filter(|entry| entry.action == "sign in")
        .count();
    assert!(sign_ins >= 2, "sign-ins are logged too");
    assert!(
        entries
            .iter()
            .any(|entry| entry.action == "sign in" && entry.actor.ends_with("from 127.0.0.1")),
        "with the address they came from"
    );
    me.post(&stack, "/api/logout", &[]).await;
    let entries = crate::support::activity(&stack).await;
    assert!(
        entries.iter().any(|entry| entry.action == "sign out"),
        "and sign-outs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployed_secrets_are_read_from_secrets_manager() {
    let stack = stack(false).await;
    let created = stack
        .clients
        .secrets
        .create_secret()
        .name(format!("{}-session", crate::support::unique_prefix()))
        .secret_string("a-session-secret-of-at-least-32-chars")
        .send()
        .await
        .unwrap();
    let value = dashboard::read_secret(&stack.clients.secrets, created.arn().unwrap())
        .await
        .unwrap();
    assert_eq!(value, "a-session-secret-of-at-least-32-chars");
    let missing = dashboard::read_secret(&stack.clients.secrets, "no-such-secret")
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("reading secret no-such-secret"),
        "{missing}"
    );
}
