//! Finding orders on moto, the way the orders page reads them: the first
//! page of a 92-day range (every status, and "stored, not notified"), the
//! range's count, and searches by id prefix and by name prefix.
//!
//! Seeds 10 orders a day over 92 days, 1 in 20 left unnotified (3 a day
//! under `cargo test`, which runs each benchmark once).
//!
//! `cargo bench -p local-stack --bench order_listing`

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use dashboard::orders::{Filter, ListQuery, MAX_RANGE_DAYS};
use domain::{Notified, Order, OrderId, OrderRequest, OrderStatus, sample};
use futures::{StreamExt, stream};
use local_stack::{LocalStack, Moto, StackOptions};

fn benchmarking() -> bool {
    std::env::args().any(|argument| argument == "--bench")
}

async fn seeded_stack(moto: &Moto, per_day: usize) -> LocalStack {
    let stack = LocalStack::start(
        moto.endpoint(),
        StackOptions::benchmark(format!("bench{}", std::process::id())),
    )
    .await
    .expect("the stack starts");
    let now = Utc::now();
    let count = per_day * MAX_RANGE_DAYS as usize;
    let bodies = sample::orders(count);
    let store = stack.orders();
    stream::iter(bodies.iter().enumerate())
        .for_each_concurrent(8, |(n, body)| {
            let store = store.clone();
            async move {
                let at = now - Duration::minutes((n * 24 * 60 / per_day) as i64 + 1);
                let id = OrderId::parse(format!(
                    "{:08x}-bench-{n:06}",
                    n * 2_654_435_761 % (1 << 32)
                ))
                .unwrap();
                let order = Order::accept(id, at, at, OrderRequest::from_json(body).unwrap());
                store.insert(&order).await.expect("stored");
                if n % 20 != 0 {
                    let notified = Notified {
                        at: at + Duration::seconds(1),
                        message_id: format!("message-{n}"),
                        digest_of: None,
                    };
                    store
                        .mark_notified(&order, &notified)
                        .await
                        .expect("notified");
                }
            }
        })
        .await;
    stack
}

fn order_listing(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let moto = Moto::start().expect("moto starts");
    let per_day = if benchmarking() { 10 } else { 3 };
    let stack = runtime.block_on(seeded_stack(&moto, per_day));
    let orders = &stack.dashboard.orders;
    let to = Utc::now();
    let from = to - Duration::days(MAX_RANGE_DAYS);
    let range = |filter: Filter| ListQuery {
        filter,
        from,
        to,
        cursor: None,
        limit: 25,
    };

    let mut group = c.benchmark_group("orders on moto, 92 days");
    group.sample_size(20);
    group.bench_function("first page, every status", |b| {
        b.iter(|| runtime.block_on(orders.list(&range(Filter::All))).unwrap())
    });
    group.bench_function("first page, stored not notified", |b| {
        b.iter(|| {
            runtime
                .block_on(orders.list(&range(Filter::Status(OrderStatus::Stored))))
                .unwrap()
        })
    });
    group.bench_function("count, every status", |b| {
        b.iter(|| {
            runtime
                .block_on(orders.count(&Filter::All, from, to))
                .unwrap()
        })
    });
    group.bench_function("search by id prefix", |b| {
        b.iter(|| runtime.block_on(orders.search("0000", 25)).unwrap())
    });
    group.bench_function("search by name prefix", |b| {
        b.iter(|| runtime.block_on(orders.search("ana", 25)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, order_listing);
criterion_main!(benches);
