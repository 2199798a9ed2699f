//! The single table's keys. Every entity lives in the orders table under a
//! partition of its own kind; this module is the only place that spells a
//! key, so adapters cannot disagree about them (docs/data-model.md lists the
//! entities and their access patterns).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// The table's partition key attribute.
pub const PARTITION_KEY: &str = "pk";
/// The table's sort key attribute.
pub const SORT_KEY: &str = "sk";
/// Items with this attribute (Unix seconds) are deleted by DynamoDB's TTL.
pub const EXPIRES_AT: &str = "expiresAt";

/// The kinds of item the table holds, by the partition key they live under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// `ORDER#<orderId>` / `ORDER`: an order (written by ingest, marked by notify).
    Order,
    /// `NOTIFY#<orderId>` / `<time>`: an operator's request to send an
    /// order's email again (written by the dashboard, acted on by notify).
    NotifyRequest,
    /// `USER` / `USER#<email>`: a dashboard user; `USER` / `ADMINS`: how
    /// many enabled admins there are (never more than there really are).
    User,
    /// `THROTTLE` / `<subject>`: sign-in attempt counters.
    Throttle,
    /// `AUDIT#<day>` / `<time>#<id>`: the activity log, a partition a UTC day.
    Audit,
    /// `DRAFT#<email>` / `<id>`: an operator's edit of a dead letter, in progress.
    Draft,
    /// `MAIL` / `SCHEDULE`: the order topic's first free publish slot, shared
    /// by every publisher.
    Mail,
    /// `CATALOG` / `PRODUCT#<sku>`: the price list admins keep;
    /// `CATALOG` / `VERSION`: bumped by every change, so ingest rereads it.
    Catalog,
    /// `REFUSED` / `<UTC day>`: orders ingest refused for their prices (a
    /// partition apart, so ingest may count without being able to write
    /// the catalog).
    PriceRefusals,
}

impl Entity {
    /// The partition key, or its prefix for kinds with one partition per item or day.
    pub const fn partition_prefix(self) -> &'static str {
        match self {
            Entity::Order => "ORDER#",
            Entity::NotifyRequest => "NOTIFY#",
            Entity::User => "USER",
            Entity::Throttle => "THROTTLE",
            Entity::Audit => "AUDIT#",
            Entity::Draft => "DRAFT#",
            Entity::Mail => "MAIL",
            Entity::Catalog => "CATALOG",
            Entity::PriceRefusals => "REFUSED",
        }
    }

    /// What IAM's `dynamodb:LeadingKeys` condition matches for this kind.
    pub const fn leading_key_pattern(self) -> &'static str {
        match self {
            Entity::Order => "ORDER#*",
            Entity::NotifyRequest => "NOTIFY#*",
            Entity::User => "USER",
            Entity::Throttle => "THROTTLE",
            Entity::Audit => "AUDIT#*",
            Entity::Draft => "DRAFT#*",
            Entity::Mail => "MAIL",
            Entity::Catalog => "CATALOG",
            Entity::PriceRefusals => "REFUSED",
        }
    }
}

/// The kinds the dashboard writes; its role may write nothing else
/// (`infra/template.yaml`, checked by the agreement test).
pub const DASHBOARD_WRITES: [Entity; 7] = [
    Entity::NotifyRequest,
    Entity::User,
    Entity::Throttle,
    Entity::Audit,
    Entity::Draft,
    Entity::Mail,
    Entity::Catalog,
];

/// The kinds notify writes: orders (their marks) and the email schedule.
pub const NOTIFY_WRITES: [Entity; 2] = [Entity::Order, Entity::Mail];

/// The kinds ingest writes: orders only.
pub const INGEST_WRITES: [Entity; 1] = [Entity::Order];

/// The start of every user's sort key.
pub const USER_SORT_PREFIX: &str = "USER#";

/// The sort key of an order's own item.
pub const ORDER_SORT_KEY: &str = "ORDER";

/// A primary key of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn order(order_id: &str) -> Self {
        Self {
            pk: format!("{}{order_id}", Entity::Order.partition_prefix()),
            sk: ORDER_SORT_KEY.to_owned(),
        }
    }

    pub fn notify_request(order_id: &str, at: &str) -> Self {
        Self {
            pk: format!("{}{order_id}", Entity::NotifyRequest.partition_prefix()),
            sk: at.to_owned(),
        }
    }

    pub fn user(email: &str) -> Self {
        Self {
            pk: Entity::User.partition_prefix().to_owned(),
            sk: format!("{USER_SORT_PREFIX}{email}"),
        }
    }

    /// The count of enabled admins, beside the users.
    pub fn admin_count() -> Self {
        Self {
            pk: Entity::User.partition_prefix().to_owned(),
            sk: "ADMINS".to_owned(),
        }
    }

    pub fn throttle(subject: &str) -> Self {
        Self {
            pk: Entity::Throttle.partition_prefix().to_owned(),
            sk: subject.to_owned(),
        }
    }

    pub fn audit(day: &str, sort: String) -> Self {
        Self {
            pk: audit_partition(day),
            sk: sort,
        }
    }

    pub fn draft(owner: &str, id: &str) -> Self {
        Self {
            pk: format!("{}{owner}", Entity::Draft.partition_prefix()),
            sk: id.to_owned(),
        }
    }

    /// The order topic's publish schedule.
    pub fn email_schedule() -> Self {
        Self {
            pk: Entity::Mail.partition_prefix().to_owned(),
            sk: "SCHEDULE".to_owned(),
        }
    }

    /// The key as the SDK's `Key` parameter.
    pub fn to_attributes(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PARTITION_KEY.to_owned(), AttributeValue::S(self.pk.clone())),
            (SORT_KEY.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    /// The kind of item this key names, if it is one of ours.
    pub fn entity(&self) -> Option<Entity> {
        entity_of(&self.pk, &self.sk)
    }
}

/// The partition of the activity log for one UTC day (`2026-11-24`).
/// A `Query` of one partition of the table.
pub fn query_partition(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: impl Into<String>,
) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(partition.into()))
}

/// A `Query` of the items of one partition whose sort key starts with `prefix`.
pub fn query_sort_prefix(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: impl Into<String>,
    prefix: impl Into<String>,
) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
    query_partition(client, table, partition)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
}

pub fn audit_partition(day: &str) -> String {
    format!("{}{day}", Entity::Audit.partition_prefix())
}

/// The partition of the users.
pub fn user_partition() -> &'static str {
    Entity::User.partition_prefix()
}

/// The partition of one user's drafts.
pub fn draft_partition(owner: &str) -> String {
    format!("{}{owner}", Entity::Draft.partition_prefix())
}

/// The kind of item a key names.
pub fn entity_of(pk: &str, sk: &str) -> Option<Entity> {
    if pk.starts_with(Entity::Order.partition_prefix()) && sk == ORDER_SORT_KEY {
        Some(Entity::Order)
    } else if pk.starts_with(Entity::NotifyRequest.partition_prefix()) {
        Some(Entity::NotifyRequest)
    } else if pk == Entity::User.partition_prefix() {
        Some(Entity::User)
    } else if pk == Entity::Throttle.partition_prefix() {
        Some(Entity::Throttle)
    } else if pk.starts_with(Entity::Audit.partition_prefix()) {
        Some(Entity::Audit)
    } else if pk.starts_with(Entity::Draft.partition_prefix()) {
        Some(Entity::Draft)
    } else if pk == Entity::Mail.partition_prefix() {
        Some(Entity::Mail)
    } else if pk == Entity::Catalog.partition_prefix() {
        Some(Entity::Catalog)
    } else if pk == Entity::PriceRefusals.partition_prefix() {
        Some(Entity::PriceRefusals)
    } else {
        None
    }
}

/// The order id in an order's or a notify request's partition key.
pub fn order_id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix(Entity::Order.partition_prefix())
        .or_else(|| pk.strip_prefix(Entity::NotifyRequest.partition_prefix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_entity() {
        for (key, entity) in [
            (Key::order("abc-12345"), Entity::Order),
            (
                Key::notify_request("abc-12345", "2026-11-24T10:00:00.000Z"),
                Entity::NotifyRequest,
            ),
            (Key::user("ana@example.com"), Entity::User),
            (Key::throttle("pair#a#b"), Entity::Throttle),
            (Key::audit("2026-11-24", "x".into()), Entity::Audit),
            (Key::draft("ana@example.com", "d1"), Entity::Draft),
            (Key::email_schedule(), Entity::Mail),
        ] {
            assert_eq!(key.entity(), Some(entity), "{key:?}");
        }
        assert_eq!(entity_of("SOMETHING", "ELSE"), None);
        assert_eq!(order_id_of("ORDER#abc-12345"), Some("abc-12345"));
        assert_eq!(order_id_of("NOTIFY#abc-12345"), Some("abc-12345"));
    }

    #[test]
    fn the_dashboard_writes_none_of_the_orders() {
        assert!(!DASHBOARD_WRITES.contains(&Entity::Order));
        for entity in DASHBOARD_WRITES {
            let pattern = entity.leading_key_pattern();
            let prefix = pattern.trim_end_matches('*');
            assert!(
                !Entity::Order.partition_prefix().starts_with(prefix),
                "{pattern} would match orders"
            );
        }
    }
}
