//! The shop's price list: what each SKU sells for, and whether it is on
//! sale. When the check is on (always in browser mode, where the client is
//! anyone), an order is taken only if every line is an active SKU at the
//! catalog's unit price in the order's currency; otherwise ingest refuses it
//! into the dead-letter queue with [`PriceRefusal`]'s words.

use std::collections::HashMap;
use std::fmt;

use crate::values::{Currency, MinorUnits, ProductName, Sku};
use crate::{LineItem, Order};

/// One SKU of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: Sku,
    pub name: ProductName,
    pub currency: Currency,
    pub unit_price: MinorUnits,
    /// Off: kept for the record, but orders for it are refused.
    pub active: bool,
}

/// What a refused order's dead letter says; it starts with [`PriceRefusal::PREFIX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRefusal(pub Vec<String>);

impl PriceRefusal {
    pub const PREFIX: &'static str = "prices not in the catalog";
}

impl fmt::Display for PriceRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Self::PREFIX, self.0.join("; "))
    }
}

/// The catalog as ingest reads it: every product by SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    products: HashMap<String, Product>,
}

impl Catalog {
    pub fn new(products: impl IntoIterator<Item = Product>) -> Self {
        Self {
            products: products
                .into_iter()
                .map(|product| (product.sku.as_str().to_owned(), product))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// Every line's SKU active at the catalog's price, or what is not.
    pub fn check(&self, order: &Order) -> Result<(), PriceRefusal> {
        let problems: Vec<String> = order
            .items
            .iter()
            .enumerate()
            .filter_map(|(index, line)| self.line_problem(index, line, order.currency))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PriceRefusal(problems))
        }
    }

    fn line_problem(&self, index: usize, line: &LineItem, currency: Currency) -> Option<String> {
        let sku = line.sku.as_str();
        let at = format!("items[{index}]");
        let Some(product) = self.products.get(sku) else {
            return Some(format!("{at}: SKU \"{sku}\" is not in the catalog"));
        };
        if !product.active {
            return Some(format!(
                "{at}: SKU \"{sku}\" is deactivated in the catalog (not on sale)"
            ));
        }
        if product.currency != currency {
            return Some(format!(
                "{at}: SKU \"{sku}\" is sold in \"{}\", not in \"{currency}\"",
                product.currency
            ));
        }
        (product.unit_price != line.unit_price).then(|| {
            format!(
                "{at}: SKU \"{sku}\" costs \"{}\" in the catalog, not \"{}\"",
                product.unit_price.format(currency),
                line.unit_price.format(currency)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::{OrderId, OrderRequest};

    fn product(sku: &str, price: u64, active: bool) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            name: ProductName::parse(format!("Product {sku}")).unwrap(),
            currency: Currency::parse("USD").unwrap(),
            unit_price: MinorUnits::unit_price(price).unwrap(),
            active,
        }
    }

    fn order(currency: &str, lines: &[(&str, u64)]) -> Order {
        let items: Vec<_> = lines
            .iter()
            .map(|(sku, price)| json!({"sku": sku, "name": "Thing", "quantity": 1, "unitPrice": price}))
            .collect();
        let body = json!({"customer": {"name": "Ana", "email": "ana@example.com"}, "items": items, "currency": currency});
        let request = OrderRequest::from_json(&body).unwrap();
        Order::accept(
            OrderId::parse("catalog-test-1").unwrap(),
            Utc::now(),
            Utc::now(),
            request,
        )
    }

    #[test]
    fn an_order_at_the_catalogs_prices_is_taken() {
        let catalog = Catalog::new([product("GC-500", 1299, true), product("BL-1L", 299, true)]);
        assert_eq!(
            catalog.check(&order("USD", &[("GC-500", 1299), ("BL-1L", 299)])),
            Ok(())
        );
    }

    #[test]
    fn each_line_that_does_not_match_is_named_in_plain_words() {
        let catalog = Catalog::new([product("GC-500", 1299, true), product("OLD-1", 100, false)]);
        let refusal = catalog
            .check(&order(
                "USD",
                &[
                    ("GC-500", 1),
                    ("OLD-1", 100),
                    ("NEW-9", 5),
                    ("GC-500", 1299),
                ],
            ))
            .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "prices not in the catalog: \
             items[0]: SKU \"GC-500\" costs \"USD 12.99\" in the catalog, not \"USD 0.01\"; \
             items[1]: SKU \"OLD-1\" is deactivated in the catalog (not on sale); \
             items[2]: SKU \"NEW-9\" is not in the catalog"
        );
        assert_eq!(
            catalog
                .check(&order("EUR", &[("GC-500", 1299)]))
                .unwrap_err()
                .0,
            vec!["items[0]: SKU \"GC-500\" is sold in \"USD\", not in \"EUR\"".to_owned()]
        );
    }
}
