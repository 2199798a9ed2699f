//! Sign-in, roles and protection of the dashboard, on moto: who reaches
//! which page and action (by direct requests too), forged requests and
//! cookies, throttling, disabling, logout and the activity log.

use crate::support::{
    ADMIN_PASSWORD, SESSION_SECRET, Visitor, admin, browser, post_login, sign_in, stack,
    user_with_role,
};
use dashboard::auth::session::{Session, SessionKey};
use dashboard::auth::{FIRST_ADMIN, Role};

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
    ("/api/dead-letters/redrive-all", Role::Operator, &[]),
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
                if role >= needed { 302 } else { 403 },
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
    assert_eq!(good.status().as_u16(), 302, "the dashboard's own form");

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
    let ours = SessionKey::from_secret(SESSION_SECRET).unwrap();
    let foreign = SessionKey::from_secret("some-other-secret-that-is-32-chars-long").unwrap();
    let session = Session::start(FIRST_ADMIN, 0, now);
    assert!(
        !refused(format!("session={}", ours.seal(&session))).await,
        "a session sealed with our key works"
    );
    assert!(
        refused(format!("session={}", foreign.seal(&session))).await,
        "foreign key"
    );
    let expired = Session::start(FIRST_ADMIN, 0, now - 13 * 3600);
    assert!(
        refused(format!("session={}", ours.seal(&expired))).await,
        "expired"
    );
    let mut idle = Session::start(FIRST_ADMIN, 0, now - 3600);
    idle.seen = now - 3600;
    assert!(
        refused(format!("session={}", ours.seal(&idle))).await,
        "idle"
    );
    let stale = Session::start(FIRST_ADMIN, 7, now);
    assert!(
        refused(format!("session={}", ours.seal(&stale))).await,
        "an ended session version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_throttled_per_account_and_per_address() {
    let stack = stack(false).await;
    let (location, cookies) =
        post_login(&stack, FIRST_ADMIN, "wrong password", "198.51.100.1").await;
    assert!(location.starts_with("/login"), "{location}");
    assert!(
        !cookies.contains("session=e"),
        "no session for a wrong password"
    );
    for _ in 0..4 {
        post_login(&stack, FIRST_ADMIN, "wrong password", "198.51.100.1").await;
    }
    let (location, cookies) =
        post_login(&stack, FIRST_ADMIN, ADMIN_PASSWORD, "198.51.100.99").await;
    assert!(
        location.starts_with("/login"),
        "the account is locked, even from another address"
    );
    assert!(cookies.contains("locked"), "the message says so: {cookies}");

    for n in 0..5 {
        post_login(
            &stack,
            &format!("guess{n}@example.com"),
            "wrong password",
            "192.0.2.50",
        )
        .await;
    }
    user_with_role(&stack, Role::Viewer).await;
    let (location, _) =
        post_login(&stack, "viewer@example.com", ADMIN_PASSWORD, "192.0.2.50").await;
    assert!(
        location.starts_with("/login"),
        "the address is locked for every account"
    );
    let (location, _) =
        post_login(&stack, "viewer@example.com", ADMIN_PASSWORD, "192.0.2.51").await;
    assert_eq!(location, "/", "other addresses may still sign in");
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
    let (location, cookies) =
        post_login(&stack, "viewer@example.com", ADMIN_PASSWORD, "192.0.2.9").await;
    assert!(
        location.starts_with("/login") && cookies.contains("disabled"),
        "cannot sign in again"
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
    assert_eq!((status, location.as_str()), (302, "/login"));
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

    me.submit(&stack, "/api/dead-letters/redrive-all", &[])
        .await;
    me.submit(
        &stack,
        "/api/subscriptions/add",
        &[("email", "staff@example.com")],
    )
    .await;
    let (status, activity) = me.page(&stack, "/activity").await;
    assert_eq!(status, 200);
    for action in [
        "add user",
        "change role",
        "reset password",
        "redrive all dead letters",
        "subscribe",
    ] {
        assert!(
            activity.contains(&format!("<td>{action}</td>")),
            "the log has {action}: {activity}"
        );
    }
    assert!(
        activity.contains("<td>admin@example.com</td>"),
        "with who did it"
    );
    assert!(activity.contains("staff@example.com"), "and on what");
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
