//! Orders in DynamoDB: one item an order, written once by ingest, updated
//! once by notify when the email went out. The item carries the keys of the
//! indexes the dashboard reads it by (docs/data-model.md); the dashboard's
//! queries live in the dashboard, the pipeline only writes and reads by id.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use chrono::{DateTime, Utc};
use domain::order::timestamp;
use domain::search;
use domain::{
    Currency, Customer, LineItem, MinorUnits, Notified, Order, OrderId, OrderStatus,
    ShippingAddress,
};
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, conditional};
use crate::table::{Entity, Key, entity_of};

/// The table's keys and indexes; the local stack and `infra/` build the table from these.
pub mod schema {
    pub use crate::table::{ORDER_SORT_KEY, PARTITION_KEY, SORT_KEY};

    /// A global secondary index. Every index projects only the keys
    /// (`KEYS_ONLY`): a write costs one unit an index whatever the order's
    /// size, notify's mark leaves every index but `awaiting-email` alone, and
    /// a page reads its orders from the table by key (docs/data-model.md).
    pub struct Index {
        pub name: &'static str,
        pub partition_key: &'static str,
        pub sort_key: &'static str,
        /// How many partition-key values one logical key is spread over, so
        /// that no value takes more than DynamoDB's 1,000 writes a second
        /// of a partition in a 2,000-orders-a-second spike.
        pub shards: u32,
    }

    impl Index {
        /// The partition-key value of an item under the logical key
        /// `logical`, spread by `spread` (the order id or the email).
        pub fn partition_for(&self, logical: &str, spread: &str) -> String {
            match self.shards {
                0 | 1 => logical.to_owned(),
                shards => format!("{logical}#{}", shard(spread, shards)),
            }
        }

        /// Every partition-key value of `logical`: a read of it reads them all.
        pub fn partitions_of(&self, logical: &str) -> Vec<String> {
            match self.shards {
                0 | 1 => vec![logical.to_owned()],
                shards => (0..shards).map(|s| format!("{logical}#{s}")).collect(),
            }
        }
    }

    /// Which of `shards` a value falls in: the first four bytes of its
    /// SHA-256, so the same value lands on the same shard in every release
    /// (a std `Hasher` promises no such thing).
    pub fn shard(spread: &str, shards: u32) -> u32 {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(spread.as_bytes());
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shards.max(1)
    }

    /// Newest orders first, a UTC month (`2026-11`) spread over four
    /// partitions by order id (`2026-11#0` … `2026-11#3`): 500 writes a
    /// second each at 2,000 orders a second.
    pub const BY_MONTH: Index = Index {
        name: "by-month",
        partition_key: "monthShard",
        sort_key: "createdAt",
        shards: 4,
    };
    /// Sparse: only orders whose email has not gone out yet carry
    /// `awaitingShard`, and notify removes it: every order writes it twice
    /// (in and out), so it spreads over eight partitions (`yes#0` … `yes#7`).
    pub const AWAITING_EMAIL: Index = Index {
        name: "awaiting-email",
        partition_key: "awaitingShard",
        sort_key: "createdAt",
        shards: 8,
    };
    /// The logical key of `awaiting-email`.
    pub const AWAITING: &str = "yes";
    /// A customer's orders, by lower-cased email: one customer never
    /// orders a thousand times a second, so one partition.
    pub const BY_CUSTOMER: Index = Index {
        name: "by-customer",
        partition_key: "customerEmail",
        sort_key: "createdAt",
        shards: 1,
    };
    /// Orders whose customer's email is at one domain, spread by the email
    /// over four partitions (`gmail.com#0` …): 40% of customers on one
    /// provider is 800 orders a second at 2,000.
    pub const BY_DOMAIN: Index = Index {
        name: "by-domain",
        partition_key: "domainShard",
        sort_key: "createdAt",
        shards: 4,
    };
    /// Orders by a prefix of their id (lower-cased), under its first
    /// character spread over four partitions by the id: a shop's keys often
    /// all start alike (`order-…`).
    pub const BY_ID: Index = Index {
        name: "by-id",
        partition_key: "idShard",
        sort_key: "idKey",
        shards: 4,
    };
    /// Orders by a prefix of the customer's name (folded), under its first
    /// character: the commonest English initial takes about a sixth of
    /// the orders, 320 a second at 2,000, so one partition an initial.
    pub const BY_NAME: Index = Index {
        name: "by-name",
        partition_key: "nameInitial",
        sort_key: "nameKey",
        shards: 1,
    };
    pub const INDEXES: [Index; 6] = [
        BY_MONTH,
        AWAITING_EMAIL,
        BY_CUSTOMER,
        BY_DOMAIN,
        BY_ID,
        BY_NAME,
    ];

    /// The table as DynamoDB's sizing rules see it.
    pub fn shape() -> crate::store::sizing::TableShape {
        use crate::store::sizing::{IndexShape, Projection, TableShape};
        TableShape {
            partition_key: PARTITION_KEY.to_owned(),
            sort_key: Some(SORT_KEY.to_owned()),
            indexes: INDEXES
                .iter()
                .map(|index| IndexShape {
                    name: index.name.to_owned(),
                    partition_key: index.partition_key.to_owned(),
                    sort_key: Some(index.sort_key.to_owned()),
                    projection: Projection::KeysOnly,
                })
                .collect(),
        }
    }
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
    month_shard: String,
    status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    awaiting_shard: Option<String>,
    customer: Customer,
    customer_email: String,
    domain_shard: String,
    id_shard: String,
    id_key: String,
    name_initial: String,
    name_key: String,
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
    /// How many orders the digest that covered this one named (absent: its own email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digest_orders: Option<u32>,
}

/// The UTC month an instant falls in (`2026-11`), as the indexes partition by.
pub fn month_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// The sort key of `by-name`: the folded name, then the time, so equal
/// names list newest last and a prefix query reads them together.
pub fn name_key(folded_name: &str, created_at: &str) -> String {
    format!("{folded_name}#{created_at}")
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
        let key = Key::order(order.id.as_str());
        let created_at = timestamp(order.created_at);
        let folded_name = search::fold(order.customer.name.as_str());
        let id_key = order.id.as_str().to_lowercase();
        let customer_email = order.customer.email.normalized();
        let id = order.id.as_str();
        Self {
            pk: key.pk,
            sk: key.sk,
            order_id: order.id.clone(),
            month_shard: schema::BY_MONTH.partition_for(&month_of(order.created_at), id),
            status: order.status(),
            awaiting_shard: (order.status() != OrderStatus::Notified)
                .then(|| schema::AWAITING_EMAIL.partition_for(schema::AWAITING, id)),
            customer: order.customer.clone(),
            domain_shard: schema::BY_DOMAIN.partition_for(
                &search::email_domain(order.customer.email.as_str()),
                &customer_email,
            ),
            customer_email,
            id_shard: schema::BY_ID.partition_for(&search::initial(&id_key), id),
            id_key,
            name_initial: search::initial(&folded_name),
            name_key: name_key(&folded_name, &created_at),
            created_at,
            stored_at: timestamp(order.stored_at),
            items: order.items.clone(),
            currency: order.currency,
            shipping_address: order.shipping_address.clone(),
            total: order.total,
            request_hash: order.request_hash.clone(),
            notified_at: order.notified.as_ref().map(|n| timestamp(n.at)),
            sns_message_id: order.notified.as_ref().map(|n| n.message_id.clone()),
            digest_orders: order.notified.as_ref().and_then(|n| n.digest_of),
        }
    }

    pub fn into_order(self) -> Result<Order, StoreError> {
        let created_at = parse_time(&self.pk, &self.created_at)?;
        let stored_at = parse_time(&self.pk, &self.stored_at)?;
        let notified = match (self.notified_at, self.sns_message_id) {
            (Some(at), Some(message_id)) => Some(Notified {
                at: parse_time(&self.pk, &at)?,
                message_id,
                digest_of: self.digest_orders,
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
        if entity_of(&keys.pk, &keys.sk) != Some(Entity::Order) {
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
        key: Key::order(order.id.as_str()).pk,
        reason: error.to_string(),
    })
}

/// The orders table, as the pipeline writes and reads it.
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

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes a new order, once: a second insert of the same id changes nothing.
    pub async fn insert(&self, order: &Order) -> Result<Insert, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(order)?))
            .condition_expression(ONLY_IF_NEW)
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
        match self.item(id).await? {
            Some(item) => OrderItem::decode(item),
            None => Ok(None),
        }
    }

    /// An order's item as DynamoDB holds it (strongly consistent): for
    /// pricing its writes with `sizing`.
    pub async fn item(
        &self,
        id: &OrderId,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Key::order(id.as_str()).to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("reading order {id}"), error))?;
        Ok(output.item)
    }

    /// The table's keys and indexes as DynamoDB describes them, for pricing
    /// writes with `sizing`.
    pub async fn described_shape(&self) -> Result<crate::store::sizing::TableShape, StoreError> {
        let output = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("describing the orders table", error))?;
        let table = output.table.ok_or_else(|| StoreError::Corrupt {
            key: self.table.clone(),
            reason: "DescribeTable returned no table".to_owned(),
        })?;
        Ok(crate::store::sizing::TableShape::described(&table))
    }

    /// Which of these orders already say they were notified, in one
    /// strongly consistent read (at most 100 ids).
    pub async fn notified_among(&self, ids: &[OrderId]) -> Result<Vec<OrderId>, StoreError> {
        let items = self
            .batch_get(ids, true, Some(("orderId, #status", "#status", "status")))
            .await?;
        Ok(items
            .iter()
            .filter(|item| {
                item.get("status")
                    .and_then(|value| value.as_s().ok())
                    .map(String::as_str)
                    == Some(OrderStatus::Notified.as_str())
            })
            .filter_map(|item| {
                let id = item.get("orderId")?.as_s().ok()?;
                OrderId::parse(id.clone()).ok()
            })
            .collect())
    }

    /// These orders, in the order asked, read by key in batches of 100
    /// (eventually consistent: what a listing found in an index). An id with
    /// no order (deleted since) is left out.
    pub async fn get_many(&self, ids: &[OrderId]) -> Result<Vec<Order>, StoreError> {
        let batches = ids
            .chunks(BATCH_GET_MAX)
            .map(|batch| self.batch_get(batch, false, None));
        let mut by_id = HashMap::with_capacity(ids.len());
        for items in futures::future::try_join_all(batches).await? {
            for item in items {
                if let Some(order) = OrderItem::decode(item)? {
                    by_id.insert(order.id.clone(), order);
                }
            }
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// One `BatchGetItem` of at most 100 orders, asking again for the keys
    /// DynamoDB leaves unprocessed under load. `projection` is an
    /// expression and the one name it aliases.
    async fn batch_get(
        &self,
        ids: &[OrderId],
        consistent: bool,
        projection: Option<(&str, &str, &str)>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = KeysAndAttributes::builder().consistent_read(consistent);
        if let Some((expression, alias, name)) = projection {
            keys = keys
                .projection_expression(expression)
                .expression_attribute_names(alias, name);
        }
        for id in ids {
            keys = keys.keys(Key::order(id.as_str()).to_attributes());
        }
        let mut request =
            HashMap::from([(self.table.clone(), keys.build().expect("keys are set"))]);
        let mut found = Vec::with_capacity(ids.len());
        for _ in 0..5 {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("reading orders", error))?;
            found.extend(
                output
                    .responses
                    .and_then(|mut responses| responses.remove(&self.table))
                    .unwrap_or_default(),
            );
            match output.unprocessed_keys.filter(|left| !left.is_empty()) {
                Some(left) => request = left,
                None => return Ok(found),
            }
        }
        Err(StoreError::Aws(AwsError {
            action: "reading orders".to_owned(),
            kind: crate::aws::AwsErrorKind::Throttled,
            code: None,
            message: "DynamoDB left keys unprocessed five times".to_owned(),
        }))
    }

    /// Records that the order's email went out. Returns false when the order
    /// already said so (another attempt got there first).
    pub async fn mark_notified(
        &self,
        order: &Order,
        notified: &Notified,
    ) -> Result<bool, StoreError> {
        let mark = MarkNotified::new(order, notified);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(mark.key))
            .condition_expression(MarkNotified::CONDITION)
            .update_expression(MarkNotified::update(notified))
            .set_expression_attribute_names(Some(mark.names))
            .set_expression_attribute_values(Some(mark.values))
            .send()
            .await;
        Ok(conditional(
            format!("marking order {} notified", order.id),
            result,
        )?)
    }
}

/// The most keys one `BatchGetItem` takes.
const BATCH_GET_MAX: usize = 100;

/// `PutItem`'s condition for an order: its id is new.
const ONLY_IF_NEW: &str = "attribute_not_exists(pk)";

/// The update that records an order's email.
struct MarkNotified {
    key: HashMap<String, AttributeValue>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl MarkNotified {
    const CONDITION: &str = "attribute_exists(pk) AND #status <> :notified";
    const UPDATE: &str =
        "SET #status = :notified, notifiedAt = :at, snsMessageId = :messageId REMOVE awaitingShard";
    const UPDATE_DIGEST: &str = "SET #status = :notified, notifiedAt = :at, snsMessageId = :messageId, digestOrders = :digestOrders REMOVE awaitingShard";

    fn update(notified: &Notified) -> &'static str {
        match notified.digest_of {
            Some(_) => Self::UPDATE_DIGEST,
            None => Self::UPDATE,
        }
    }

    fn new(order: &Order, notified: &Notified) -> Self {
        let mut mark = Self {
            key: Key::order(order.id.as_str()).to_attributes(),
            names: HashMap::from([("#status".to_owned(), "status".to_owned())]),
            values: HashMap::from([
                (
                    ":notified".to_owned(),
                    AttributeValue::S(OrderStatus::Notified.as_str().to_owned()),
                ),
                (":at".to_owned(), AttributeValue::S(timestamp(notified.at))),
                (
                    ":messageId".to_owned(),
                    AttributeValue::S(notified.message_id.clone()),
                ),
            ]),
        };
        if let Some(orders) = notified.digest_of {
            mark.values.insert(
                ":digestOrders".to_owned(),
                AttributeValue::N(orders.to_string()),
            );
        }
        mark
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use domain::OrderRequest;

    fn order() -> Order {
        let request = OrderRequest::from_json(&json!({
            "customer": {"name": "Chloé Martin", "email": "Chloe@Example.FR"},
            "items": [{"sku": "GC-500", "name": "Glass cleaner", "quantity": 2, "unitPrice": 1299}],
            "currency": "USD",
            "shippingAddress": {"line1": "1 Main St", "city": "Springfield", "postalCode": "62701", "country": "US"}
        }))
        .unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-30T23:59:59.250Z")
            .unwrap()
            .to_utc();
        Order::accept(OrderId::parse("Order-0001").unwrap(), at, at, request)
    }

    #[test]
    fn an_order_round_trips_through_its_item() {
        let mut order = order();
        let map = to_item(&order).unwrap();
        let s = |name: &str| map[name].as_s().unwrap().clone();
        assert_eq!(s("pk"), "ORDER#Order-0001");
        let shard = |index: &schema::Index, spread: &str| schema::shard(spread, index.shards);
        let month = shard(&schema::BY_MONTH, "Order-0001");
        assert_eq!(s("monthShard"), format!("2026-11#{month}"));
        let awaiting = shard(&schema::AWAITING_EMAIL, "Order-0001");
        assert_eq!(s("awaitingShard"), format!("yes#{awaiting}"));
        assert_eq!(s("customerEmail"), "chloe@example.fr");
        let domain = shard(&schema::BY_DOMAIN, "chloe@example.fr");
        assert_eq!(s("domainShard"), format!("example.fr#{domain}"));
        let id = shard(&schema::BY_ID, "Order-0001");
        assert_eq!(s("idShard"), format!("o#{id}"));
        assert_eq!(s("idKey"), "order-0001");
        assert_eq!(s("nameInitial"), "c");
        assert_eq!(s("nameKey"), "chloe martin#2026-11-30T23:59:59.250Z");
        assert_eq!(s("createdAt"), "2026-11-30T23:59:59.250Z");
        assert_eq!(map["total"], AttributeValue::N("2598".into()));
        assert!(!map.contains_key("notifiedAt"));
        assert_eq!(OrderItem::decode(map.clone()).unwrap(), Some(order.clone()));

        order.notified = Some(Notified {
            at: order.created_at,
            message_id: "m-1".into(),
            digest_of: None,
        });
        let notified = to_item(&order).unwrap();
        assert!(
            !notified.contains_key("awaitingShard"),
            "notified orders leave the sparse index"
        );
        let decoded = OrderItem::decode(notified).unwrap();
        assert_eq!(decoded.unwrap().status(), OrderStatus::Notified);
    }

    #[test]
    fn shards_are_stable_and_spread() {
        // Fixed values: a release that moved an order to another shard
        // would hide it from the listings until a backfill.
        assert_eq!(
            schema::shard("Order-0001", 4),
            schema::shard("Order-0001", 4)
        );
        let mut counts = [0u32; 8];
        for n in 0..8_000 {
            counts[schema::shard(&format!("order-{n}"), 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|count| (800..1_200).contains(count)),
            "{counts:?}"
        );
        assert_eq!(schema::BY_CUSTOMER.partition_for("a@b.c", "a@b.c"), "a@b.c");
        assert_eq!(schema::BY_MONTH.partitions_of("2026-11").len(), 4);
    }

    #[test]
    fn other_entities_are_not_orders() {
        let item: HashMap<String, AttributeValue> = Key::user("a@example.com").to_attributes();
        assert_eq!(OrderItem::decode(item).unwrap(), None);
    }
}
