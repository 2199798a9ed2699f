//! Server render time of the dashboard's heaviest views, from loaded data
//! (no AWS calls): the orders table with 50 orders and the dead-letters page
//! with 10 messages. Also prints their weight with the stylesheet.
//!
//! `cargo bench -p dashboard --bench dashboard`

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use dashboard::DeadLetter;
use dashboard::dead_letters::{Tries, Verdict};
use dashboard::ui::pages::{dead_letters::dead_letters_view, orders::orders_table};
use domain::sample;
use domain::{Order, OrderId, OrderRequest};
use leptos::prelude::*;

fn orders(count: usize) -> Vec<Order> {
    let now = Utc::now();
    sample::orders(count)
        .iter()
        .enumerate()
        .map(|(n, body)| {
            let at = now - Duration::minutes(n as i64 * 7);
            let id = OrderId::parse(format!("order-{n:06}")).unwrap();
            Order::accept(id, at, at, OrderRequest::from_json(body).unwrap())
        })
        .collect()
}

fn dead_letters(count: usize) -> Vec<DeadLetter> {
    let now = Utc::now();
    sample::orders(count)
        .into_iter()
        .enumerate()
        .map(|(n, body)| DeadLetter {
            message_id: format!("5f0c8e8a-1b2c-4d3e-8f90-{n:012}"),
            body: body.to_string(),
            queued_at: Some(now - Duration::hours(2)),
            sent_at: Some(now - Duration::hours(1)),
            tries: Tries::Counted(1),
            attributes: vec![("orderId".to_owned(), format!("order-{n:06}"))],
            verdict: Verdict::WillFail(
                "invalid order: items[0].quantity: must be from 1 to 999".to_owned(),
            ),
            reason: Some("invalid order: items[0].quantity: must be from 1 to 999".to_owned()),
            failed_at: Some(now - Duration::hours(1)),
            order_id: Some(format!("order-{n:06}")),
        })
        .collect()
}

fn render<V: IntoView + 'static>(view: impl FnOnce() -> V) -> String {
    Owner::new().with(|| view().into_view().to_html())
}

fn dashboard(c: &mut Criterion) {
    let now = Utc::now();
    let fifty = orders(50);
    let ten = dead_letters(10);
    let css = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../style/dashboard.css"
    ))
    .unwrap()
    .len();
    let orders_html = render(|| orders_table(fifty.clone(), now)).len();
    let letters_html = render(|| dead_letters_view(ten.clone(), 10, None, now)).len();
    println!(
        "page weight (view HTML + stylesheet, before compression; the frame adds about 1.5 KB):"
    );
    println!(
        "  orders, 50 rows:        {:>6} B HTML + {css} B CSS = {:.1} KB",
        orders_html,
        (orders_html + css) as f64 / 1024.0
    );
    println!(
        "  dead letters, 10 rows:  {:>6} B HTML + {css} B CSS = {:.1} KB",
        letters_html,
        (letters_html + css) as f64 / 1024.0
    );

    c.bench_function("render orders table (50 orders)", |b| {
        b.iter(|| render(|| orders_table(fifty.clone(), now)))
    });
    c.bench_function("render dead letters (10 messages)", |b| {
        b.iter(|| render(|| dead_letters_view(ten.clone(), 10, None, now)))
    });
}

criterion_group!(benches, dashboard);
criterion_main!(benches);
