//! The email a shop owner gets for a new order: a subject that says what
//! came in, a plain-text body to read at a glance, and attributes that
//! subscription filter policies can match on.

use std::fmt::Write;

use super::order::Order;

/// SNS allows subjects of fewer than 100 characters.
const MAX_SUBJECT_CHARS: usize = 99;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    String(String),
    Number(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEmail {
    pub subject: String,
    pub body: String,
    /// `total` (minor units), `currency`, `lineCount`: what filter policies may use.
    pub attributes: Vec<(&'static str, AttributeValue)>,
}

impl OrderEmail {
    pub fn for_order(order: &Order) -> Self {
        Self {
            subject: subject(order),
            body: body(order),
            attributes: vec![
                ("total", AttributeValue::Number(order.total.get())),
                (
                    "currency",
                    AttributeValue::String(order.currency.code().to_owned()),
                ),
                (
                    "lineCount",
                    AttributeValue::Number(order.items.len() as u64),
                ),
            ],
        }
    }
}

fn subject(order: &Order) -> String {
    single_line_subject(format!(
        "New order {}: {} from {}",
        order.id,
        order.formatted_total(),
        order.customer.name
    ))
}

/// A subject SNS accepts: one line, fewer than 100 characters.
pub(crate) fn single_line_subject(subject: String) -> String {
    // Line breaks are not allowed in a subject; names cannot hold them, but be sure.
    let single_line: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if single_line.chars().count() <= MAX_SUBJECT_CHARS {
        single_line
    } else {
        let mut cut: String = single_line.chars().take(MAX_SUBJECT_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

fn body(order: &Order) -> String {
    let mut text = String::with_capacity(512);
    let currency = order.currency;
    // Writing to a String cannot fail.
    let _ = writeln!(text, "New order {}", order.id);
    let _ = writeln!(
        text,
        "Received {}",
        order.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "Customer: {} <{}>",
        order.customer.name, order.customer.email
    );
    let _ = writeln!(text);
    for line in &order.items {
        let _ = writeln!(
            text,
            "  {:>3} x {} ({}) at {} = {}",
            line.quantity.get(),
            line.name,
            line.sku,
            line.unit_price.format(currency),
            line.subtotal().format(currency)
        );
    }
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "Total: {} ({} items)",
        order.formatted_total(),
        order.unit_count()
    );
    match &order.shipping_address {
        Some(address) => {
            let _ = writeln!(text);
            let _ = writeln!(text, "Ship to:");
            let _ = writeln!(text, "  {}", address.line1);
            if let Some(line2) = &address.line2 {
                let _ = writeln!(text, "  {line2}");
            }
            let region = address
                .region
                .as_ref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default();
            let _ = writeln!(text, "  {}{region} {}", address.city, address.postal_code);
            let _ = writeln!(text, "  {}", address.country.as_str());
        }
        None => {
            let _ = writeln!(text);
            let _ = writeln!(text, "No shipping address given (pick-up or digital).");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;

    use super::*;
    use crate::{OrderId, OrderRequest};

    fn order(name: &str, address: Option<serde_json::Value>) -> Order {
        let mut body = json!({
            "customer": {"name": name, "email": "ana@example.com"},
            "items": [
                {"sku": "GC-500", "name": "Glass cleaner 500 ml", "quantity": 2, "unitPrice": 1299},
                {"sku": "MF-10", "name": "Microfibre cloths", "quantity": 1, "unitPrice": 899}
            ],
            "currency": "USD"
        });
        if let Some(address) = address {
            body["shippingAddress"] = address;
        }
        let at = DateTime::parse_from_rfc3339("2026-11-24T10:30:00Z")
            .unwrap()
            .to_utc();
        Order::accept(
            OrderId::parse("order-0001").unwrap(),
            at,
            at,
            OrderRequest::from_json(&body).unwrap(),
        )
    }

    #[test]
    fn the_email_says_who_ordered_what_for_how_much() {
        let email = OrderEmail::for_order(&order(
            "Ana Souza",
            Some(
                json!({"line1": "1 Main St", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}),
            ),
        ));
        assert_eq!(
            email.subject,
            "New order order-0001: USD 34.97 from Ana Souza"
        );
        assert!(email.body.contains("Customer: Ana Souza <ana@example.com>"));
        assert!(
            email
                .body
                .contains("2 x Glass cleaner 500 ml (GC-500) at USD 12.99 = USD 25.98")
        );
        assert!(email.body.contains("Total: USD 34.97 (3 items)"));
        assert!(email.body.contains("Springfield, IL 62701"));
        assert!(email.body.contains("Received 2026-11-24 10:30:00 UTC"));
        assert_eq!(email.attributes[0], ("total", AttributeValue::Number(3497)));
        assert_eq!(
            email.attributes[1],
            ("currency", AttributeValue::String("USD".into()))
        );
    }

    #[test]
    fn long_subjects_are_cut_below_the_sns_limit() {
        let email = OrderEmail::for_order(&order(&"Å".repeat(100), None));
        assert_eq!(email.subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(email.subject.ends_with('…'));
        assert!(email.body.contains("No shipping address given"));
    }
}
