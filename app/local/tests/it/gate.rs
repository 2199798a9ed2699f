//! Deny by default, proven from the framework's own lists: every route of
//! the Leptos app and every registered server function, for no session and
//! for each role, by its canonical path and by a battery of path variants an
//! attacker would try. A route or server function without a declared level
//! makes the router refuse to start, and this test with it.

use std::collections::BTreeSet;

use dashboard::auth::{Access, Role};
use dashboard::request::Kind;
use dashboard::ui::App;
use leptos_axum::generate_route_list;
use local_stack::LocalStack;

use crate::support::{Visitor, admin, dead_letter, order_body, raw_request, stack, user_with_role};

/// The paths an attacker would try instead of `path`.
fn variants(path: &str) -> Vec<String> {
    let bare = path.trim_start_matches('/');
    let mut tried = vec![
        format!("{path}/"),
        format!("/{path}"),
        format!("/.{path}"),
        format!("{path}/."),
        format!("/x/..{path}"),
        format!("{path}/.."),
        format!("/%2e{path}"),
        format!("/%2E%2E{path}"),
        format!("/assets/..{path}"),
        format!("/assets/%2e%2e{path}"),
        format!("/assets/x/../..{path}"),
        format!("/assets/..%2f{bare}"),
        format!("/login/..{path}"),
        format!("/favicon.ico/..{path}"),
        format!("/assets\\..\\{bare}"),
        format!("{path};x=1"),
        format!("{path}%2f"),
        format!("/%2f{bare}"),
        format!("{path}%00"),
        format!("{path}%09"),
        format!("{path}\u{7f}"),
        path.to_uppercase(),
    ];
    let mut capitalised = bare.to_owned();
    if let Some(first) = capitalised.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    tried.push(format!("/{capitalised}"));
    tried.retain(|variant| variant != path);
    tried
}

/// A dashboard endpoint, with a path a request can use.
struct Target {
    path: String,
    access: Access,
    kind: Kind,
}

fn targets(order_id: &str) -> Vec<Target> {
    let declared = |path: &str| {
        dashboard::ui::ENDPOINTS
            .iter()
            .find(|endpoint| endpoint.path() == path)
            .unwrap_or_else(|| panic!("{path} has no declared level"))
    };
    let mut found = Vec::new();
    let pages: BTreeSet<String> = generate_route_list(App)
        .iter()
        .map(|route| route.path().to_owned())
        .collect();
    for page in pages {
        let endpoint = declared(&page);
        found.push(Target {
            path: page
                .replace("{order_id}", order_id)
                .replace("{message_id}", "no-such-message"),
            access: endpoint.access(),
            kind: Kind::Page,
        });
    }
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let endpoint = declared(path);
        found.push(Target {
            path: path.to_owned(),
            access: endpoint.access(),
            kind: Kind::Action,
        });
    }
    for endpoint in dashboard::ui::ENDPOINTS
        .iter()
        .filter(|e| e.kind() == Kind::Download)
    {
        found.push(Target {
            path: endpoint.path().replace("{message_id}", "no-such-message"),
            access: endpoint.access(),
            kind: Kind::Download,
        });
    }
    // Signing out ends the visitor's session: it goes last.
    found.sort_by_key(|target| target.path == "/api/logout");
    found
}

async fn visit(
    stack: &LocalStack,
    target: &Target,
    path: &str,
    visitor: &Visitor,
) -> (u16, String) {
    let cookie = visitor.cookie.clone();
    match target.kind {
        Kind::Page | Kind::Download => {
            raw_request(
                stack,
                "GET",
                path,
                &[("Cookie", &cookie), ("Accept", "text/html")],
                "",
            )
            .await
        }
        Kind::Action => {
            let origin = stack.api_url.clone();
            let body = format!("csrf={}", visitor.csrf);
            raw_request(
                stack,
                "POST",
                path,
                &[
                    ("Cookie", &cookie),
                    ("Accept", "text/html"),
                    ("Origin", &origin),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                &body,
            )
            .await
        }
    }
}

/// The level of a visitor, `None` for no session.
type Who = (Option<Role>, Visitor);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_admits_exactly_its_level_and_no_path_variant_reaches_it() {
    let stack = stack(false).await;
    let order_id = "gate-order-0001";
    dead_letter(
        &stack,
        &order_body().to_string(),
        order_id,
        "a dead letter to protect",
    )
    .await;
    let visitors: Vec<Who> = vec![
        (None, Visitor::default()),
        (
            Some(Role::Viewer),
            user_with_role(&stack, Role::Viewer).await,
        ),
        (
            Some(Role::Operator),
            user_with_role(&stack, Role::Operator).await,
        ),
        (Some(Role::Admin), admin(&stack).await),
    ];
    let targets = targets(order_id);
    assert!(
        targets.len() >= 20,
        "pages and actions were found: {}",
        targets.len()
    );

    for (role, visitor) in &visitors {
        for target in &targets {
            let before = stack.calls.dashboard.calls().len();
            for variant in variants(&target.path) {
                let (status, body) = visit(&stack, target, &variant, visitor).await;
                assert!(
                    status == 400 || status == 404,
                    "{role:?}: {variant:?} answered {status}"
                );
                assert!(
                    !body.contains("<nav"),
                    "{role:?}: {variant:?} rendered the app"
                );
            }
            assert_eq!(
                stack.calls.dashboard.calls().len(),
                before,
                "{role:?}: no variant of {} made an AWS call",
                target.path
            );

            let before = stack.calls.dashboard.calls().len();
            let (status, body) = visit(&stack, target, &target.path, visitor).await;
            let admitted = target.access.admits(*role);
            let expected: &[u16] = match (target.kind, admitted, role) {
                (Kind::Page, true, _) if target.path.contains(order_id) => &[404],
                (Kind::Page, true, _) if target.path.starts_with("/dead-letters/") => &[404],
                (Kind::Download, true, _) if target.path.contains("no-such") => &[404],
                (Kind::Download, true, _) => &[200],
                (Kind::Download, false, None) => &[303],
                (Kind::Download, false, Some(_)) => &[403],
                (Kind::Page, true, _) => &[200],
                (Kind::Page, false, None) => &[303],
                (Kind::Page, false, Some(_)) => &[403],
                // A harmless empty form: done, or refused for what it lacks.
                (Kind::Action, true, _) => &[303],
                (Kind::Action, false, None) => &[401],
                (Kind::Action, false, Some(_)) => &[403],
            };
            assert!(
                expected.contains(&status),
                "{role:?} on {} {}: {status}, expected {expected:?}",
                if target.kind == Kind::Page {
                    "GET"
                } else {
                    "POST"
                },
                target.path
            );
            if !admitted {
                let calls = stack.calls.dashboard.calls();
                let made: Vec<_> = calls[before..].iter().collect();
                assert!(
                    made.iter().all(|call| call.operation == "GetItem"),
                    "{role:?} refused on {} yet AWS was called: {made:?}",
                    target.path
                );
                if status == 403 && target.kind == Kind::Page {
                    assert!(body.contains("Not allowed"), "the styled refusal page");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_get_a_static_404_without_a_session_check() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let before = stack.calls.dashboard.calls().len();
    for path in [
        "/nope",
        "/orders/x/y",
        "/assets/no-such.css",
        "/api/nothing",
        "/Users",
    ] {
        let (status, body) = raw_request(&stack, "GET", path, &[("Cookie", &me.cookie)], "").await;
        assert_eq!(status, 404, "{path}");
        assert!(
            body.contains("not a page of the dashboard") || path.starts_with("/assets"),
            "{path}"
        );
        assert!(!body.contains("<nav"), "{path} did not render the app");
    }
    assert_eq!(
        stack.calls.dashboard.calls().len(),
        before,
        "no AWS call for unknown paths"
    );
}
