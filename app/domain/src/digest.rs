//! One email for many orders, sent when orders come faster than the topic
//! may mail them one by one. A digest holds orders of one currency, so the
//! `currency` and `total` attributes that subscription filter policies match
//! keep their meaning: `total` is the digest's largest order, and a
//! subscriber with a minimum gets every digest that holds at least one order
//! at or above it.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::notification::{AttributeValue, OrderEmail, single_line_subject};
use crate::{Currency, MinorUnits, Order, OrderId};

/// A digest's body stays below this many bytes. SNS takes 262,144 bytes a
/// message, subject and attributes included.
pub const DIGEST_BODY_LIMIT: usize = 240 * 1024;

/// One digest email, and the orders it names (in the order it lists them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub email: OrderEmail,
    pub orders: Vec<OrderId>,
}

/// What a digest says beside its orders.
#[derive(Debug, Clone, Default)]
pub struct DigestContext {
    /// The most emails the topic sends a second, to explain the digest.
    pub emails_per_second: u32,
    /// The dashboard's orders page for the orders' window, when known.
    pub link: Option<String>,
}

/// Digests for these orders: one currency each, oldest order first, split so
/// no body exceeds `body_limit` bytes. Every order is in exactly one.
pub fn digests(orders: &[&Order], context: &DigestContext, body_limit: usize) -> Vec<Digest> {
    let mut sorted: Vec<&Order> = orders.to_vec();
    sorted.sort_by(|a, b| {
        (a.currency.code(), a.created_at, a.id.as_str()).cmp(&(
            b.currency.code(),
            b.created_at,
            b.id.as_str(),
        ))
    });
    let mut parts: Vec<Vec<&Order>> = Vec::new();
    let mut bytes = 0;
    for order in sorted {
        let size = line(order).len() + 1;
        let starts_part = match parts.last() {
            None => true,
            Some(part) => {
                part[0].currency != order.currency || bytes + size > body_limit - HEADER_ALLOWANCE
            }
        };
        if starts_part {
            parts.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        parts.last_mut().expect("a part was pushed").push(order);
    }
    let mut digests = Vec::with_capacity(parts.len());
    for currency_parts in parts.chunk_by(|a, b| a[0].currency == b[0].currency) {
        let count = currency_parts.len();
        for (index, part) in currency_parts.iter().enumerate() {
            let numbering = (count > 1).then_some((index + 1, count));
            digests.push(Digest {
                email: digest_email(part, context, numbering),
                orders: part.iter().map(|order| order.id.clone()).collect(),
            });
        }
    }
    digests
}

/// Room kept in each part for the header lines above the orders.
const HEADER_ALLOWANCE: usize = 2048;

/// The digest's figures: what its header and attributes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestTotals {
    pub currency: Currency,
    pub orders: usize,
    pub total: MinorUnits,
    pub items: u32,
    pub largest: MinorUnits,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

impl DigestTotals {
    /// The figures of a non-empty list of orders of one currency.
    pub fn of(orders: &[&Order]) -> Self {
        Self {
            currency: orders[0].currency,
            orders: orders.len(),
            total: orders.iter().map(|order| order.total).sum(),
            items: orders.iter().map(|order| order.unit_count()).sum(),
            largest: orders
                .iter()
                .map(|order| order.total)
                .max()
                .unwrap_or_default(),
            first: orders
                .iter()
                .map(|order| order.created_at)
                .min()
                .unwrap_or_default(),
            last: orders
                .iter()
                .map(|order| order.created_at)
                .max()
                .unwrap_or_default(),
        }
    }
}

fn digest_email(
    orders: &[&Order],
    context: &DigestContext,
    numbering: Option<(usize, usize)>,
) -> OrderEmail {
    let totals = DigestTotals::of(orders);
    let currency = totals.currency;
    let part = numbering
        .map(|(index, count)| format!(" (part {index} of {count})"))
        .unwrap_or_default();
    let orders_word = if totals.orders == 1 {
        "order"
    } else {
        "orders"
    };
    let subject = single_line_subject(format!(
        "{} new {orders_word}, {}{part}: largest {}",
        totals.orders,
        totals.total.format(currency),
        totals.largest.format(currency)
    ));
    let mut body = String::with_capacity(256 + orders.len() * 96);
    // Writing to a String cannot fail.
    let _ = writeln!(
        body,
        "{} new {orders_word} in {}{part}, received {} to {}",
        totals.orders,
        currency.code(),
        totals.first.format("%Y-%m-%d %H:%M:%S"),
        totals.last.format("%H:%M:%S UTC"),
    );
    let _ = writeln!(
        body,
        "Total: {} ({} items) · largest order {}",
        totals.total.format(currency),
        totals.items,
        totals.largest.format(currency)
    );
    let _ = writeln!(body);
    let _ = writeln!(
        body,
        "Orders came in faster than one email each can go out (the order emails go at most {} a second), so they are listed together. Every order is in exactly one email.",
        context.emails_per_second
    );
    if let Some(link) = &context.link {
        let _ = writeln!(body, "On the dashboard: {link}");
    }
    let _ = writeln!(body);
    for order in orders {
        let _ = writeln!(body, "{}", line(order));
    }
    OrderEmail {
        subject,
        body,
        attributes: vec![
            ("total", AttributeValue::Number(totals.largest.get())),
            (
                "currency",
                AttributeValue::String(currency.code().to_owned()),
            ),
            ("digestOrders", AttributeValue::Number(totals.orders as u64)),
        ],
    }
}

/// The ids of the orders an order email or a digest names, as it lists them.
pub fn orders_named(subject: &str, body: &str) -> Vec<String> {
    if let Some(rest) = subject.strip_prefix("New order ") {
        return rest
            .split(':')
            .next()
            .map(str::to_owned)
            .into_iter()
            .collect();
    }
    body.lines()
        .filter(|line| line.starts_with("  ") && line.ends_with(" items)"))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// `order-0001  10:00:01  Ana Souza <ana@example.com>  USD 25.98 (2 items)`
fn line(order: &Order) -> String {
    format!(
        "  {}  {}  {} <{}>  {} ({} items)",
        order.id,
        order.created_at.format("%H:%M:%S"),
        order.customer.name,
        order.customer.email,
        order.formatted_total(),
        order.unit_count()
    )
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use serde_json::json;

    use super::*;
    use crate::OrderRequest;

    fn order(id: &str, seconds: i64, currency: &str, price: u64) -> Order {
        let body = json!({
            "customer": {"name": "Ana Souza", "email": "ana@example.com"},
            "items": [{"sku": "GC-500", "name": "Glass cleaner", "quantity": 2, "unitPrice": price}],
            "currency": currency
        });
        let at = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::seconds(seconds);
        Order::accept(
            OrderId::parse(id).unwrap(),
            at,
            at,
            OrderRequest::from_json(&body).unwrap(),
        )
    }

    fn context() -> DigestContext {
        DigestContext {
            emails_per_second: 5,
            link: Some("https://dash.example/orders?from=2026-11-24&to=2026-11-24".to_owned()),
        }
    }

    fn ids(digest: &Digest) -> Vec<&str> {
        digest.orders.iter().map(OrderId::as_str).collect()
    }

    #[test]
    fn a_digest_lists_its_orders_oldest_first_with_their_totals() {
        let orders = [
            order("order-0003", 3, "USD", 1000),
            order("order-0001", 1, "USD", 250),
            order("order-0002", 2, "USD", 4999),
        ];
        let refs: Vec<&Order> = orders.iter().collect();
        let digests = digests(&refs, &context(), DIGEST_BODY_LIMIT);
        assert_eq!(digests.len(), 1);
        let digest = &digests[0];
        assert_eq!(ids(digest), ["order-0001", "order-0002", "order-0003"]);
        assert_eq!(
            digest.email.subject,
            "3 new orders, USD 124.98: largest USD 99.98"
        );
        let body = &digest.email.body;
        assert!(
            body.starts_with("3 new orders in USD, received 2026-11-24 10:00:01 to 10:00:03 UTC\n")
        );
        assert!(body.contains("Total: USD 124.98 (6 items) · largest order USD 99.98"));
        assert!(body.contains("at most 5 a second"));
        assert!(body.contains("On the dashboard: https://dash.example/orders?from=2026-11-24"));
        assert!(body.contains(
            "  order-0002  10:00:02  Ana Souza <ana@example.com>  USD 99.98 (2 items)\n"
        ));
        let first = body.find("order-0001 ").unwrap();
        assert!(
            first < body.find("order-0002 ").unwrap()
                && body.find("order-0002 ").unwrap() < body.find("order-0003 ").unwrap()
        );
    }

    #[test]
    fn an_order_email_names_its_order() {
        let order = order("order-0007", 1, "USD", 100);
        let email = OrderEmail::for_order(&order);
        assert_eq!(orders_named(&email.subject, &email.body), ["order-0007"]);
        assert!(orders_named("Test notification", "  2 x Glass (GC-500)").is_empty());
    }

    #[test]
    fn each_currency_gets_its_own_digest_with_filter_attributes() {
        let orders = [
            order("order-0001", 1, "EUR", 100),
            order("order-0002", 2, "USD", 3000),
            order("order-0003", 3, "EUR", 7000),
        ];
        let refs: Vec<&Order> = orders.iter().collect();
        let digests = digests(&refs, &context(), DIGEST_BODY_LIMIT);
        assert_eq!(digests.len(), 2);
        let eur = digests
            .iter()
            .find(|d| ids(d) == ["order-0001", "order-0003"])
            .unwrap();
        assert_eq!(
            eur.email.attributes,
            vec![
                ("total", AttributeValue::Number(14_000)),
                ("currency", AttributeValue::String("EUR".into())),
                ("digestOrders", AttributeValue::Number(2)),
            ],
            "total is the largest order, so a minimum still means: at least one order this large"
        );
        assert!(eur.email.body.contains("Total: EUR 142.00 (4 items)"));
        let usd = digests.iter().find(|d| ids(d) == ["order-0002"]).unwrap();
        assert!(
            usd.email
                .attributes
                .contains(&("total", AttributeValue::Number(6000)))
        );
    }

    #[test]
    fn digests_split_below_the_size_limit_and_keep_every_order_once() {
        let orders: Vec<Order> = (0..1000)
            .map(|n| order(&format!("order-{n:04}"), n, "USD", 100 + n as u64))
            .collect();
        let refs: Vec<&Order> = orders.iter().collect();
        let limit = 20 * 1024;
        let digests = digests(&refs, &context(), limit);
        assert!(digests.len() > 1, "a thousand lines do not fit in 20 KiB");
        for digest in &digests {
            assert!(
                digest.email.body.len() <= limit,
                "{} bytes",
                digest.email.body.len()
            );
            assert!(digest.email.subject.chars().count() < 100);
        }
        assert!(
            digests[0]
                .email
                .subject
                .contains(&format!("(part 1 of {})", digests.len()))
        );
        let named: Vec<&str> = digests.iter().flat_map(ids).collect();
        let expected: Vec<String> = (0..1000).map(|n| format!("order-{n:04}")).collect();
        assert_eq!(named, expected, "every order once, oldest first");
        let named: Vec<String> = digests
            .iter()
            .flat_map(|digest| orders_named(&digest.email.subject, &digest.email.body))
            .collect();
        assert_eq!(named, expected, "a digest's orders can be read back");
        // At the real limit a thousand orders are one message.
        assert_eq!(
            super::digests(&refs, &context(), DIGEST_BODY_LIMIT).len(),
            1
        );
    }
}
