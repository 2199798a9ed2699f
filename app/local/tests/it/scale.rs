//! Flash-sale scale (issue 22): a second of a 2,000-orders-a-second sale,
//! with its skew, stored and marked through the pipeline's own store, then
//! priced with DynamoDB's sizing rules from the real items and the table as
//! DynamoDB describes it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use domain::{Notified, Order, OrderId, OrderRequest};
use futures::{StreamExt, TryStreamExt, stream};
use pipeline::store::sizing::Writes;

use crate::support;

/// Orders a second the sale runs at; the sample is one such second.
const ORDERS_A_SECOND: usize = 2_000;
/// What DynamoDB gives one partition-key value, a second
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html>).
const PARTITION_WRITES_A_SECOND: u32 = 1_000;
/// The write units one order costs, all of its writes: see
/// docs/data-model.md for why nine is the floor of these access patterns.
const WRITE_UNITS_AN_ORDER: u32 = 9;

#[tokio::test]
async fn a_flash_sale_second_has_no_hot_key_and_a_known_write_cost() {
    if support::runs_alone() {
        return;
    }
    let stack = support::stack(false).await;
    let store = stack.orders();
    let shape = store
        .described_shape()
        .await
        .expect("the table's description");
    let minute: DateTime<Utc> = "2026-11-27T09:00:00Z".parse().unwrap();
    let sale = domain::sample::flash_sale(ORDERS_A_SECOND);
    let priced: Vec<(Writes, Writes, pipeline::store::sizing::Item)> =
        stream::iter(sale.into_iter().enumerate())
            .map(|(n, (id, body))| {
                let store = store.clone();
                let shape = shape.clone();
                async move {
                    let at = minute + Duration::milliseconds(n as i64 * 30);
                    let order = Order::accept(
                        OrderId::parse(id).unwrap(),
                        at,
                        at,
                        OrderRequest::from_json(&body).unwrap(),
                    );
                    store.insert(&order).await.unwrap();
                    let stored = raw_item(&store, &order).await;
                    let notified = Notified {
                        at: at + Duration::seconds(2),
                        message_id: "0b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d".to_owned(),
                        digest_of: Some(120),
                    };
                    assert!(store.mark_notified(&order, &notified).await.unwrap());
                    let marked = raw_item(&store, &order).await;
                    let put = shape.put(&stored);
                    let mark = shape.update(&stored, &marked);
                    Ok::<_, String>((put, mark, stored))
                }
            })
            .buffer_unordered(8)
            .try_collect()
            .await
            .unwrap();

    let mut per_key: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut most = 0;
    for (put, mark, stored) in &priced {
        most = most.max(put.total() + mark.total());
        assert_eq!(put.table, 1, "an order fits in 1 KB: {put:?}");
        assert_eq!(mark.table, 1, "a marked order fits in 1 KB: {mark:?}");
        for (index, units) in put.indexes.iter().chain(&mark.indexes) {
            let key = &shape
                .indexes
                .iter()
                .find(|shape| &shape.name == index)
                .unwrap()
                .partition_key;
            let value = stored[key].as_s().unwrap().clone();
            *per_key.entry((index.clone(), value)).or_default() += units;
        }
    }
    let ((index, value), hottest) = per_key
        .iter()
        .max_by_key(|(_, units)| **units)
        .map(|(key, units)| (key.clone(), *units))
        .unwrap();
    let total: u32 = priced
        .iter()
        .map(|(put, mark, _)| put.total() + mark.total())
        .sum();
    println!(
        "{ORDERS_A_SECOND} orders: {:.2} write units an order (most {most}); hottest index key {index} = {value:?} at {hottest} WU/s",
        f64::from(total) / ORDERS_A_SECOND as f64
    );
    assert!(
        most <= WRITE_UNITS_AN_ORDER,
        "an order cost {most} write units"
    );
    assert!(
        hottest <= PARTITION_WRITES_A_SECOND,
        "{index} = {value:?} takes {hottest} write units a second"
    );
}

async fn raw_item(
    store: &pipeline::store::OrderStore,
    order: &Order,
) -> pipeline::store::sizing::Item {
    store
        .item(&order.id)
        .await
        .unwrap()
        .expect("the stored order")
}
