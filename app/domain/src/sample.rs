//! Realistic sample orders (cleaning supplies, a handful of customers), the
//! same every time: for `cargo run -- --demo N`, benchmarks and tests.

use serde_json::{Value, json};

const CATALOG: [(&str, &str, u64); 12] = [
    ("GC-500", "Glass cleaner 500 ml", 1299),
    ("MF-10", "Microfibre cloths, pack of 10", 899),
    ("AP-1L", "All-purpose cleaner 1 l", 749),
    ("DL-750", "Dish liquid 750 ml", 399),
    ("FL-5L", "Floor cleaner concentrate 5 l", 2499),
    ("BL-1L", "Bleach 1 l", 299),
    ("SP-3", "Scrub sponges, pack of 3", 349),
    ("TB-BRUSH", "Toilet brush with holder", 1199),
    ("GL-M", "Nitrile gloves, medium, 100", 1549),
    ("MOP-PRO", "Spin mop and bucket", 4999),
    ("DS-400", "Disinfectant spray 400 ml", 649),
    ("LS-2KG", "Laundry powder 2 kg", 1899),
];

const CUSTOMERS: [(&str, &str); 8] = [
    ("Ana Souza", "ana@example.com"),
    ("Bruno Lima", "bruno.lima@example.com"),
    ("Chloé Martin", "chloe.martin@example.fr"),
    ("Dev Patel", "dev@example.co.uk"),
    ("Emma Schmidt", "emma.schmidt@example.de"),
    ("Farah Khan", "farah@example.com"),
    ("Greta Olsen", "greta@example.no"),
    ("Hiro Tanaka", "hiro@example.com"),
];

const CITIES: [(&str, &str, &str); 4] = [
    ("Springfield", "IL", "62701"),
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Boston", "MA", "02108"),
];

/// A small deterministic generator, so demo runs are repeatable.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// The products the sample orders are made of, as the catalog sells them.
pub fn products() -> Vec<crate::catalog::Product> {
    CATALOG
        .iter()
        .map(|(sku, name, price)| crate::catalog::Product {
            sku: crate::Sku::parse(*sku).expect("a sample SKU"),
            name: crate::values::ProductName::parse(*name).expect("a sample name"),
            currency: crate::Currency::parse("USD").expect("USD"),
            unit_price: crate::MinorUnits::unit_price(*price).expect("a sample price"),
            active: true,
        })
        .collect()
}

/// `count` order bodies in the API's shape.
pub fn orders(count: usize) -> Vec<Value> {
    let mut random = Lcg(2026);
    (0..count)
        .map(|_| {
            let (name, email) = CUSTOMERS[random.below(CUSTOMERS.len())];
            let lines = 1 + random.below(4);
            let mut skus: Vec<usize> = Vec::new();
            while skus.len() < lines {
                let pick = random.below(CATALOG.len());
                if !skus.contains(&pick) {
                    skus.push(pick);
                }
            }
            let items: Vec<Value> = skus
                .into_iter()
                .map(|pick| {
                    let (sku, product, price) = CATALOG[pick];
                    json!({"sku": sku, "name": product, "quantity": 1 + random.below(3), "unitPrice": price})
                })
                .collect();
            let mut body = json!({"customer": {"name": name, "email": email}, "items": items, "currency": "USD"});
            if random.below(4) > 0 {
                let (city, region, postal_code) = CITIES[random.below(CITIES.len())];
                body["shippingAddress"] = json!({
                    "line1": format!("{} Main Street", 1 + random.below(900)),
                    "city": city, "region": region, "postalCode": postal_code, "country": "US"
                });
            }
            body
        })
        .collect()
}

/// How often English words start with each letter, in tenths of a percent
/// (Wikipedia, "Letter frequency", first letters of English words): flash-sale
/// names start by these.
const FIRST_LETTERS: [(char, usize); 26] = [
    ('t', 160),
    ('a', 117),
    ('o', 76),
    ('s', 78),
    ('w', 55),
    ('c', 52),
    ('b', 44),
    ('p', 43),
    ('h', 42),
    ('f', 40),
    ('m', 38),
    ('i', 39),
    ('d', 32),
    ('r', 28),
    ('l', 24),
    ('e', 28),
    ('n', 23),
    ('g', 16),
    ('u', 12),
    ('v', 8),
    ('y', 8),
    ('j', 5),
    ('k', 6),
    ('q', 2),
    ('x', 1),
    ('z', 1),
];

const SURNAMES: [&str; 8] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
];

/// A second of a flash sale: `count` orders with an id each, the way a
/// shop's checkout sends them. 40% of customers are on one mail provider
/// (`gmail.com`), names start by English first-letter frequency, every
/// idempotency key starts `order-`, and every customer is new.
pub fn flash_sale(count: usize) -> Vec<(String, Value)> {
    let mut random = Lcg(2_000);
    let letters: usize = FIRST_LETTERS.iter().map(|(_, weight)| weight).sum();
    let bodies = orders(count);
    bodies
        .into_iter()
        .enumerate()
        .map(|(n, mut body)| {
            let mut pick = random.below(letters);
            let initial = FIRST_LETTERS
                .iter()
                .find(|(_, weight)| {
                    let here = pick < *weight;
                    pick = pick.saturating_sub(*weight);
                    here
                })
                .map_or('t', |(letter, _)| *letter);
            let given = format!(
                "{}{}",
                initial.to_ascii_uppercase(),
                &"amelia"[..1 + random.below(5)]
            );
            let surname = SURNAMES[random.below(SURNAMES.len())];
            let domain = match random.below(10) {
                0..4 => "gmail.com".to_owned(),
                _ => format!("mail{}.example.com", random.below(500)),
            };
            let email = format!(
                "{}.{}{n}@{domain}",
                given.to_lowercase(),
                surname.to_lowercase()
            );
            body["customer"] = json!({"name": format!("{given} {surname}"), "email": email});
            (format!("order-{:08x}-{n:06}", random.below(1 << 30)), body)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrderRequest;

    #[test]
    fn a_flash_sale_has_the_skew_it_promises() {
        let sale = flash_sale(2_000);
        let on_gmail = sale
            .iter()
            .filter(|(_, body)| {
                body["customer"]["email"]
                    .as_str()
                    .unwrap()
                    .ends_with("@gmail.com")
            })
            .count();
        assert!((700..900).contains(&on_gmail), "{on_gmail}");
        let on_t = sale
            .iter()
            .filter(|(_, body)| body["customer"]["name"].as_str().unwrap().starts_with('T'))
            .count();
        assert!((250..400).contains(&on_t), "{on_t}");
        for (id, body) in &sale {
            assert!(id.starts_with("order-"));
            crate::OrderId::parse(id.clone()).unwrap();
            OrderRequest::from_json(body).unwrap();
        }
    }

    #[test]
    fn sample_orders_are_valid_and_repeatable() {
        let orders = orders(50);
        for body in &orders {
            OrderRequest::from_json(body).unwrap();
        }
        assert_eq!(orders, super::orders(50));
    }

    #[test]
    fn sample_orders_are_at_the_sample_catalogs_prices() {
        let catalog = crate::catalog::Catalog::new(products());
        for (index, body) in orders(50).iter().enumerate() {
            let order = crate::Order::accept(
                crate::OrderId::parse(format!("sample-{index:04}")).unwrap(),
                chrono::Utc::now(),
                chrono::Utc::now(),
                OrderRequest::from_json(body).unwrap(),
            );
            assert_eq!(catalog.check(&order), Ok(()));
        }
    }
}
