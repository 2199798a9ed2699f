//! The order: what a client asked for, the id and time the shop gave it, the
//! total the shop computed, and how far it has come through the pipeline.

use std::fmt;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::request::{Customer, LineItem, OrderRequest, ShippingAddress};
use super::values::{Currency, Invalid, MinorUnits};

/// An order's id. It comes from the client's `Idempotency-Key` header when
/// given (so a retry names the same order), else from the API's request id:
/// 8 to 64 characters of letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderId(String);

impl OrderId {
    pub fn parse(value: impl Into<String>) -> Result<Self, Invalid> {
        let value = value.into();
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if (8..=64).contains(&value.len()) && value.chars().all(allowed) {
            Ok(Self(value))
        } else {
            Err(Invalid(
                "must be 8 to 64 characters of letters, digits, '-' and '_'".to_owned(),
            ))
        }
    }

    /// A fresh id for a request that brought no `Idempotency-Key`.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::values::validated_text!(OrderId);

/// Where an order is in its life. `Received` orders are still on the queue;
/// the table holds `Stored` and `Notified` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Received,
    Stored,
    Notified,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::Stored => "stored",
            OrderStatus::Notified => "notified",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Proof that the order went out in exactly one email: when, SNS's message
/// id, and whether that email was the order's own or a digest of several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notified {
    pub at: DateTime<Utc>,
    pub message_id: String,
    /// `Some(n)`: the email was a digest naming n orders, this one among them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_of: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    /// When the API accepted the request.
    pub created_at: DateTime<Utc>,
    /// When ingest wrote it to the table.
    pub stored_at: DateTime<Utc>,
    pub customer: Customer,
    pub items: Vec<LineItem>,
    pub currency: Currency,
    pub shipping_address: Option<ShippingAddress>,
    pub total: MinorUnits,
    /// A fingerprint of the request, to tell a retry from a different order
    /// that reused the same `Idempotency-Key`.
    pub request_hash: String,
    pub notified: Option<Notified>,
}

impl Order {
    /// The order a valid request becomes once the shop accepted it.
    /// Times are kept to the millisecond, as they are stored.
    pub fn accept(
        id: OrderId,
        received_at: DateTime<Utc>,
        stored_at: DateTime<Utc>,
        request: OrderRequest,
    ) -> Self {
        let request_hash = fingerprint(&request);
        let total = request.total();
        let OrderRequest {
            customer,
            items,
            currency,
            shipping_address,
        } = request;
        Self {
            id,
            created_at: received_at.trunc_subsecs(3),
            stored_at: stored_at.trunc_subsecs(3),
            customer,
            items,
            currency,
            shipping_address,
            total,
            request_hash,
            notified: None,
        }
    }

    pub fn status(&self) -> OrderStatus {
        if self.notified.is_some() {
            OrderStatus::Notified
        } else {
            OrderStatus::Stored
        }
    }

    pub fn unit_count(&self) -> u32 {
        self.items.iter().map(|line| line.quantity.get()).sum()
    }

    pub fn formatted_total(&self) -> String {
        self.total.format(self.currency)
    }
}

/// The time format of every stored timestamp: UTC with milliseconds, so that
/// strings sort in time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn fingerprint(request: &OrderRequest) -> String {
    let canonical = serde_json::to_vec(request).expect("an order request always serializes");
    hex::encode(Sha256::digest(canonical))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(quantity: u32) -> OrderRequest {
        OrderRequest::from_json(&json!({
            "customer": {"name": "Ana Souza", "email": "ana@example.com"},
            "items": [{"sku": "GC-500", "name": "Glass cleaner", "quantity": quantity, "unitPrice": 1299}],
            "currency": "USD"
        }))
        .unwrap()
    }

    #[test]
    fn order_ids() {
        assert!(OrderId::parse("3f2b8c1e-0d4a-4c55-9f7e-8a1b2c3d4e5f").is_ok());
        assert!(OrderId::parse("retry_key_01").is_ok());
        for bad in ["short", "has space 123", "semi;colon123", &"x".repeat(65)] {
            assert!(OrderId::parse(bad).is_err(), "{bad}");
        }
        assert!(OrderId::parse(OrderId::generate().as_str()).is_ok());
    }

    #[test]
    fn accepting_computes_the_total_and_starts_stored() {
        let order = Order::accept(OrderId::generate(), Utc::now(), Utc::now(), request(3));
        assert_eq!(order.total.get(), 3 * 1299);
        assert_eq!(order.status(), OrderStatus::Stored);
        assert_eq!(order.unit_count(), 3);
        assert_eq!(order.formatted_total(), "USD 38.97");
    }

    #[test]
    fn the_fingerprint_tells_same_from_different_requests() {
        let id = OrderId::generate();
        let a = Order::accept(id.clone(), Utc::now(), Utc::now(), request(1));
        let b = Order::accept(id.clone(), Utc::now(), Utc::now(), request(1));
        let c = Order::accept(id, Utc::now(), Utc::now(), request(2));
        assert_eq!(a.request_hash, b.request_hash);
        assert_ne!(a.request_hash, c.request_hash);
    }

    #[test]
    fn timestamps_sort_as_strings() {
        let earlier = DateTime::parse_from_rfc3339("2026-11-24T09:05:00Z")
            .unwrap()
            .to_utc();
        let later = DateTime::parse_from_rfc3339("2026-11-24T10:00:00.5Z")
            .unwrap()
            .to_utc();
        assert_eq!(timestamp(earlier), "2026-11-24T09:05:00.000Z");
        assert!(timestamp(earlier) < timestamp(later));
    }
}
