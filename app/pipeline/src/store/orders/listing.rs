//! Pages of orders, newest first, from the day-partitioned indexes (see
//! `docs/data-model.md`): never a Scan, so a page costs the same whatever the
//! table's size. Cursors name the last order shown and the direction to go.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{OrderItem, OrderStore, StoreError, partition_key, schema};
use crate::aws::AwsError;
use domain::order::timestamp;
use domain::{Order, OrderId, OrderStatus};

/// Which orders a listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    All,
    Status(OrderStatus),
    /// By lower-cased customer email.
    Customer(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Older,
    Newer,
}

/// A position in a listing: go `direction` from the order at (`created_at`, `order_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub direction: Direction,
    pub created_at: String,
    pub order_id: OrderId,
}

impl Cursor {
    fn at(order: &Order, direction: Direction) -> Self {
        Self {
            direction,
            created_at: timestamp(order.created_at),
            order_id: order.id.clone(),
        }
    }

    /// A compact, URL-safe form: `o.<createdAt>.<orderId>` or `n.…`.
    pub fn encode(&self) -> String {
        let direction = match self.direction {
            Direction::Older => "o",
            Direction::Newer => "n",
        };
        format!("{direction}.{}.{}", self.created_at, self.order_id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (direction, rest) = text.split_once('.')?;
        let direction = match direction {
            "o" => Direction::Older,
            "n" => Direction::Newer,
            _ => return None,
        };
        let split = rest.find('Z')? + 1;
        let (created_at, id) = rest.split_at(split);
        DateTime::parse_from_rfc3339(created_at).ok()?;
        Some(Self {
            direction,
            created_at: created_at.to_owned(),
            order_id: OrderId::parse(id.strip_prefix('.')?).ok()?,
        })
    }

    fn day(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(self.created_at.get(..10)?, "%Y-%m-%d").ok()
    }
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub listing: Listing,
    /// First and last UTC day shown (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct OrderPage {
    /// Newest first.
    pub orders: Vec<Order>,
    pub older: Option<Cursor>,
    pub newer: Option<Cursor>,
}

/// One index partition a listing reads, with an optional createdAt range.
struct Partition {
    index: schema::Index,
    value: String,
    created_between: Option<(String, String)>,
}

/// The longest date range one listing walks, in days.
pub const MAX_RANGE_DAYS: u64 = 92;

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

impl OrderStore {
    pub async fn list(&self, query: &ListQuery) -> Result<OrderPage, StoreError> {
        let direction = query
            .cursor
            .as_ref()
            .map_or(Direction::Older, |c| c.direction);
        let wanted = query.limit + 1;
        let mut found: Vec<Order> = Vec::with_capacity(wanted);
        for Partition {
            index,
            value: partition,
            created_between: range,
        } in self.partitions(query, direction)
        {
            let start = query.cursor.as_ref().filter(|cursor| match &query.listing {
                Listing::Customer(_) => true,
                _ => cursor.day() == Some(day_of_partition(&partition)),
            });
            let mut start_key = start.map(|cursor| start_key(&index, &partition, cursor));
            loop {
                let mut request = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(index.name)
                    .scan_index_forward(direction == Direction::Newer)
                    .limit(i32::try_from(wanted - found.len()).unwrap_or(i32::MAX))
                    .expression_attribute_names("#p", index.partition_key)
                    .expression_attribute_values(":p", AttributeValue::S(partition.clone()))
                    .set_exclusive_start_key(start_key.take());
                request = match &range {
                    Some((from, to)) => request
                        .key_condition_expression("#p = :p AND createdAt BETWEEN :from AND :to")
                        .expression_attribute_values(":from", AttributeValue::S(from.clone()))
                        .expression_attribute_values(":to", AttributeValue::S(to.clone())),
                    None => request.key_condition_expression("#p = :p"),
                };
                let output = request
                    .send()
                    .await
                    .map_err(|error| AwsError::from_sdk("listing orders", error))?;
                for item in output.items.unwrap_or_default() {
                    if let Some(order) = OrderItem::decode(item)? {
                        found.push(order);
                    }
                }
                start_key = output.last_evaluated_key.filter(|key| !key.is_empty());
                if found.len() >= wanted || start_key.is_none() {
                    break;
                }
            }
            if found.len() >= wanted {
                break;
            }
        }
        let more = found.len() > query.limit;
        found.truncate(query.limit);
        let came_from_somewhere = query.cursor.is_some();
        Ok(match direction {
            Direction::Older => OrderPage {
                older: more
                    .then(|| found.last().map(|o| Cursor::at(o, Direction::Older)))
                    .flatten(),
                newer: came_from_somewhere
                    .then(|| found.first().map(|o| Cursor::at(o, Direction::Newer)))
                    .flatten(),
                orders: found,
            },
            Direction::Newer => {
                found.reverse();
                OrderPage {
                    newer: more
                        .then(|| found.first().map(|o| Cursor::at(o, Direction::Newer)))
                        .flatten(),
                    older: found.last().map(|o| Cursor::at(o, Direction::Older)),
                    orders: found,
                }
            }
        })
    }

    /// The index partitions to read, in reading order, with an optional createdAt range.
    fn partitions(&self, query: &ListQuery, direction: Direction) -> Vec<Partition> {
        let to = query.to.max(query.from);
        let from = query.from.max(to - Days::new(MAX_RANGE_DAYS - 1));
        if let Listing::Customer(email) = &query.listing {
            let start = format!("{}T00:00:00.000Z", day_text(from));
            let end = format!("{}T23:59:59.999Z", day_text(to));
            return vec![Partition {
                index: schema::BY_CUSTOMER,
                value: email.clone(),
                created_between: Some((start, end)),
            }];
        }
        let first = match (&query.cursor, direction) {
            (Some(cursor), Direction::Older) => cursor.day().unwrap_or(to).min(to),
            (Some(cursor), Direction::Newer) => cursor.day().unwrap_or(from).max(from),
            (None, _) => to,
        };
        let mut days = Vec::new();
        let mut day = first;
        while day >= from && day <= to {
            days.push(day);
            day = match direction {
                Direction::Older => day - Days::new(1),
                Direction::Newer => day + Days::new(1),
            };
        }
        days.into_iter()
            .map(|day| match &query.listing {
                Listing::Status(status) => Partition {
                    index: schema::BY_STATUS,
                    value: format!("{status}#{}", day_text(day)),
                    created_between: None,
                },
                _ => Partition {
                    index: schema::BY_DAY,
                    value: day_text(day),
                    created_between: None,
                },
            })
            .collect()
    }

    /// When each order between `from` and `to` was created (for counts and charts).
    pub async fn created_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let mut times = Vec::new();
        let mut day = from.date_naive();
        while day <= to.date_naive() {
            let mut pages = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(schema::BY_DAY.name)
                .key_condition_expression("orderDay = :day AND createdAt BETWEEN :from AND :to")
                .expression_attribute_values(":day", AttributeValue::S(day_text(day)))
                .expression_attribute_values(":from", AttributeValue::S(timestamp(from)))
                .expression_attribute_values(":to", AttributeValue::S(timestamp(to)))
                .projection_expression("createdAt")
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                let item = item.map_err(|error| AwsError::from_sdk("counting orders", error))?;
                if let Some(Ok(at)) = item
                    .get("createdAt")
                    .and_then(|value| value.as_s().ok())
                    .map(|text| DateTime::parse_from_rfc3339(text))
                {
                    times.push(at.to_utc());
                }
            }
            day = day + Days::new(1);
        }
        Ok(times)
    }
}

fn day_of_partition(partition: &str) -> NaiveDate {
    let day = partition.rsplit('#').next().unwrap_or(partition);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap_or_default()
}

fn start_key(
    index: &schema::Index,
    partition: &str,
    cursor: &Cursor,
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            index.partition_key.to_owned(),
            AttributeValue::S(partition.to_owned()),
        ),
        (
            index.sort_key.to_owned(),
            AttributeValue::S(cursor.created_at.clone()),
        ),
        (
            schema::PARTITION_KEY.to_owned(),
            AttributeValue::S(partition_key(&cursor.order_id)),
        ),
        (
            schema::SORT_KEY.to_owned(),
            AttributeValue::S(schema::ORDER_SORT_KEY.to_owned()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursor = Cursor {
            direction: Direction::Newer,
            created_at: "2026-11-24T10:00:00.123Z".to_owned(),
            order_id: OrderId::parse("my-order.id".replace('.', "-")).unwrap(),
        };
        assert_eq!(cursor.encode(), "n.2026-11-24T10:00:00.123Z.my-order-id");
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for bad in [
            "",
            "x.2026",
            "o.nope.id",
            "o.2026-11-24T10:00:00.123Z.bad id",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
