//! Orders in DynamoDB: one item an order, written once, updated once when
//! the notification went out. Access patterns and keys: `docs/data-model.md`.

mod listing;

pub use listing::{Cursor, Direction, ListQuery, Listing, MAX_RANGE_DAYS, OrderPage};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, conditional};
use domain::order::timestamp;
use domain::{
    Currency, Customer, LineItem, MinorUnits, Notified, Order, OrderId, OrderStatus,
    ShippingAddress,
};

/// The table's keys and indexes; the local stack and `infra/` build the table from these.
pub mod schema {
    pub const PARTITION_KEY: &str = "pk";
    pub const SORT_KEY: &str = "sk";
    /// The sort key of an order's own item (other entities share the table).
    pub const ORDER_SORT_KEY: &str = "ORDER";

    pub struct Index {
        pub name: &'static str,
        pub partition_key: &'static str,
        pub sort_key: &'static str,
    }

    /// Newest orders first, one partition per UTC day.
    pub const BY_DAY: Index = Index {
        name: "by-day",
        partition_key: "orderDay",
        sort_key: "createdAt",
    };
    /// Orders of one status on one day (`stored#2026-11-24`): finds the ones not yet notified.
    pub const BY_STATUS: Index = Index {
        name: "by-status",
        partition_key: "statusDay",
        sort_key: "createdAt",
    };
    /// A customer's orders, by lower-cased email.
    pub const BY_CUSTOMER: Index = Index {
        name: "by-customer",
        partition_key: "customerEmail",
        sort_key: "createdAt",
    };
    pub const INDEXES: [Index; 3] = [BY_DAY, BY_STATUS, BY_CUSTOMER];
}

/// What happened to an insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insert {
    Created,
    /// The same request was stored before (a redelivery or a client retry).
    AlreadyStored,
    /// The id is taken by a different order: the client reused its `Idempotency-Key`.
    IdTaken,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("order item {key} cannot be read: {reason}")]
    Corrupt { key: String, reason: String },
}

/// An order as it is stored: the domain order plus the keys its indexes need.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pk: String,
    sk: String,
    order_id: OrderId,
    created_at: String,
    stored_at: String,
    order_day: String,
    status: OrderStatus,
    status_day: String,
    customer: Customer,
    customer_email: String,
    items: Vec<LineItem>,
    currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shipping_address: Option<ShippingAddress>,
    total: MinorUnits,
    request_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sns_message_id: Option<String>,
}

fn partition_key(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

fn day_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn status_day(status: OrderStatus, at: DateTime<Utc>) -> String {
    format!("{status}#{}", day_of(at))
}

fn parse_time(key: &str, value: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.to_utc())
        .map_err(|error| StoreError::Corrupt {
            key: key.to_owned(),
            reason: format!("bad timestamp {value:?}: {error}"),
        })
}

impl OrderItem {
    pub fn from_order(order: &Order) -> Self {
        Self {
            pk: partition_key(&order.id),
            sk: schema::ORDER_SORT_KEY.to_owned(),
            order_id: order.id.clone(),
            created_at: timestamp(order.created_at),
            stored_at: timestamp(order.stored_at),
            order_day: day_of(order.created_at),
            status: order.status(),
            status_day: status_day(order.status(), order.created_at),
            customer: order.customer.clone(),
            customer_email: order.customer.email.normalized(),
            items: order.items.clone(),
            currency: order.currency,
            shipping_address: order.shipping_address.clone(),
            total: order.total,
            request_hash: order.request_hash.clone(),
            notified_at: order.notified.as_ref().map(|n| timestamp(n.at)),
            sns_message_id: order.notified.as_ref().map(|n| n.message_id.clone()),
        }
    }

    pub fn into_order(self) -> Result<Order, StoreError> {
        let created_at = parse_time(&self.pk, &self.created_at)?;
        let stored_at = parse_time(&self.pk, &self.stored_at)?;
        let notified = match (self.notified_at, self.sns_message_id) {
            (Some(at), Some(message_id)) => Some(Notified {
                at: parse_time(&self.pk, &at)?,
                message_id,
            }),
            _ => None,
        };
        Ok(Order {
            id: self.order_id,
            created_at,
            stored_at,
            customer: self.customer,
            items: self.items,
            currency: self.currency,
            shipping_address: self.shipping_address,
            total: self.total,
            request_hash: self.request_hash,
            notified,
        })
    }

    /// Reads an order from an item in any of serde_dynamo's item forms (an
    /// SDK `GetItem` result or a stream image). `None` when the item is not
    /// an order (other entities share the table).
    pub fn decode(item: impl Into<serde_dynamo::Item>) -> Result<Option<Order>, StoreError> {
        let item: serde_dynamo::Item = item.into();
        #[derive(Deserialize)]
        struct Keys {
            pk: String,
            sk: String,
        }
        let keys: Keys =
            serde_dynamo::from_item(item.clone()).map_err(|error| StoreError::Corrupt {
                key: "(no key)".to_owned(),
                reason: error.to_string(),
            })?;
        if keys.sk != schema::ORDER_SORT_KEY {
            return Ok(None);
        }
        let order_item: OrderItem =
            serde_dynamo::from_item(item).map_err(|error| StoreError::Corrupt {
                key: keys.pk,
                reason: error.to_string(),
            })?;
        order_item.into_order().map(Some)
    }
}

/// The DynamoDB item an order is stored as.
pub fn to_item(order: &Order) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(OrderItem::from_order(order)).map_err(|error| StoreError::Corrupt {
        key: partition_key(&order.id),
        reason: error.to_string(),
    })
}

/// The orders table.
#[derive(Clone, Debug)]
pub struct OrderStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl OrderStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn key(id: &OrderId) -> [(String, AttributeValue); 2] {
        [
            (
                schema::PARTITION_KEY.to_owned(),
                AttributeValue::S(partition_key(id)),
            ),
            (
                schema::SORT_KEY.to_owned(),
                AttributeValue::S(schema::ORDER_SORT_KEY.to_owned()),
            ),
        ]
    }

    /// Writes a new order, once: a second insert of the same id changes nothing.
    pub async fn insert(&self, order: &Order) -> Result<Insert, StoreError> {
        let item = serde_dynamo::to_item(OrderItem::from_order(order)).map_err(|error| {
            StoreError::Corrupt {
                key: partition_key(&order.id),
                reason: error.to_string(),
            }
        })?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if conditional(format!("storing order {}", order.id), result)? {
            return Ok(Insert::Created);
        }
        let existing = self.get(&order.id).await?;
        Ok(match existing {
            Some(existing) if existing.request_hash == order.request_hash => Insert::AlreadyStored,
            _ => Insert::IdTaken,
        })
    }

    /// Reads an order with a strongly consistent read.
    pub async fn get(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id).into_iter().collect()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("reading order {id}"), error))?;
        match output.item {
            Some(item) => OrderItem::decode(item),
            None => Ok(None),
        }
    }

    /// Records that the order's email went out. Returns false when the order
    /// already said so (another attempt got there first).
    pub async fn mark_notified(
        &self,
        order: &Order,
        notified: &Notified,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&order.id).into_iter().collect()))
            .condition_expression("attribute_exists(pk) AND #status <> :notified")
            .update_expression(
                "SET #status = :notified, statusDay = :statusDay, notifiedAt = :at, snsMessageId = :messageId",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":notified", AttributeValue::S(OrderStatus::Notified.as_str().to_owned()))
            .expression_attribute_values(
                ":statusDay",
                AttributeValue::S(status_day(OrderStatus::Notified, order.created_at)),
            )
            .expression_attribute_values(":at", AttributeValue::S(timestamp(notified.at)))
            .expression_attribute_values(":messageId", AttributeValue::S(notified.message_id.clone()))
            .send()
            .await;
        Ok(conditional(
            format!("marking order {} notified", order.id),
            result,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use domain::OrderRequest;

    fn order() -> Order {
        let request = OrderRequest::from_json(&json!({
            "customer": {"name": "Ana Souza", "email": "Ana@Example.com"},
            "items": [{"sku": "GC-500", "name": "Glass cleaner", "quantity": 2, "unitPrice": 1299}],
            "currency": "USD",
            "shippingAddress": {"line1": "1 Main St", "city": "Springfield", "postalCode": "62701", "country": "US"}
        }))
        .unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-24T23:59:59.250Z")
            .unwrap()
            .to_utc();
        Order::accept(OrderId::parse("order-0001").unwrap(), at, at, request)
    }

    #[test]
    fn an_order_round_trips_through_its_item() {
        let mut order = order();
        let item: aws_sdk_dynamodb::types::AttributeValue =
            serde_dynamo::to_attribute_value(OrderItem::from_order(&order)).unwrap();
        let AttributeValue::M(map) = item else {
            panic!("not a map")
        };
        assert_eq!(map["pk"], AttributeValue::S("ORDER#order-0001".into()));
        assert_eq!(map["orderDay"], AttributeValue::S("2026-11-24".into()));
        assert_eq!(
            map["statusDay"],
            AttributeValue::S("stored#2026-11-24".into())
        );
        assert_eq!(
            map["customerEmail"],
            AttributeValue::S("ana@example.com".into())
        );
        assert_eq!(
            map["createdAt"],
            AttributeValue::S("2026-11-24T23:59:59.250Z".into())
        );
        assert_eq!(map["total"], AttributeValue::N("2598".into()));
        assert!(!map.contains_key("notifiedAt"));
        assert_eq!(OrderItem::decode(map.clone()).unwrap(), Some(order.clone()));

        order.notified = Some(Notified {
            at: order.created_at,
            message_id: "m-1".into(),
        });
        let map = serde_dynamo::to_item(OrderItem::from_order(&order)).unwrap();
        let map: std::collections::HashMap<String, AttributeValue> = map;
        let decoded = OrderItem::decode(map).unwrap();
        assert_eq!(decoded.unwrap().status(), OrderStatus::Notified);
    }

    #[test]
    fn other_entities_are_not_orders() {
        let item: std::collections::HashMap<String, AttributeValue> = [
            (
                "pk".to_owned(),
                AttributeValue::S("USER#a@example.com".into()),
            ),
            ("sk".to_owned(), AttributeValue::S("PROFILE".into())),
        ]
        .into();
        assert_eq!(OrderItem::decode(item).unwrap(), None);
    }
}
