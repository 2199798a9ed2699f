//! Hostile input at the dashboard's boundaries, generated: query strings of
//! every page and the sign-in form. A fixed number of cases from a fixed
//! seed, so a failure replays. Every answer must be a page or a clear
//! refusal: never a 5xx, never a dropped connection.

use std::collections::BTreeSet;

use dashboard::ui::App;
use leptos_axum::generate_route_list;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::support::{admin, raw_request, stack};

const CASES: usize = 48;

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

/// Any bytes, percent-encoded as a browser would send them in a URL.
fn encoded(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("%{byte:02X}")).collect()
}

/// A value an attacker or a careless link might put in a query string.
fn hostile_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"-262143-01-05".to_vec()),
        Just(b"+262142-12-31".to_vec()),
        Just(b"99999999999999999999999999".to_vec()),
        Just(b"o.2026-11-24T10:00:00.000Z.".to_vec()),
        Just(vec![0xff, 0xfe, 0x00]),
        Just("ccf69353".as_bytes().to_vec()),
        Just("\u{202e}é😀<script>".as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..64),
        "[ -~]{0,40}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 2000..3000),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("from".to_owned()),
        Just("to".to_owned()),
        Just("status".to_owned()),
        Just("email".to_owned()),
        Just("order".to_owned()),
        Just("cursor".to_owned()),
        Just("next".to_owned()),
        Just("page".to_owned()),
        "[a-z%]{1,8}",
    ];
    proptest::collection::vec((key, hostile_value()), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(key, value)| format!("{key}={}", encoded(&value)))
            .collect::<Vec<_>>()
            .join("&")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_query_strings_never_break_a_page() {
    let stack = stack(false).await;
    let me = admin(&stack).await;
    let pages: BTreeSet<String> = generate_route_list(App)
        .iter()
        .map(|route| {
            route
                .path()
                .replace("{order_id}", "fuzz-order-1")
                .replace("{message_id}", "fuzz-message")
        })
        .collect();
    let mut runner = runner();
    let strategy = query();
    for page in &pages {
        for _ in 0..CASES {
            let query = strategy.new_tree(&mut runner).unwrap().current();
            let target = format!("{page}?{query}");
            let (status, _) =
                raw_request(&stack, "GET", &target, &[("Cookie", &me.cookie)], "").await;
            assert!(
                matches!(status, 200 | 303 | 400 | 404),
                "GET {target} answered {status}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_refuses_hostile_input_plainly() {
    let stack = stack(false).await;
    let mut runner = runner();
    let field = prop_oneof![
        Just("email".to_owned()),
        Just("password".to_owned()),
        Just("next".to_owned()),
        Just("csrf".to_owned()),
        "[a-z\\[\\]]{1,10}",
    ];
    let strategy = proptest::collection::vec((field, hostile_value()), 0..6);
    let origin = stack.api_url.clone();
    for _ in 0..CASES {
        let fields = strategy.new_tree(&mut runner).unwrap().current();
        let body = fields
            .iter()
            .map(|(key, value)| format!("{key}={}", encoded(value)))
            .collect::<Vec<_>>()
            .join("&");
        let (status, _) = raw_request(
            &stack,
            "POST",
            "/api/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "text/html"),
                ("Origin", &origin),
            ],
            &body,
        )
        .await;
        assert!(
            matches!(status, 303 | 400 | 401 | 403 | 413),
            "sign-in with {body:?} answered {status}"
        );
    }
}
