//! The JSON Schema API Gateway validates order bodies with and the Rust
//! validator must accept exactly the same bodies.

use domain::OrderRequest;
use serde_json::{Value, json};

fn schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/schemas/order-request.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
        .expect("schema is JSON");
    jsonschema::draft4::new(&schema).expect("schema compiles as draft 4")
}

fn valid() -> Value {
    json!({
        "customer": {"name": "Ana Souza", "email": "ana@example.com"},
        "items": [{"sku": "GC-500", "name": "Glass cleaner 500 ml", "quantity": 2, "unitPrice": 1299}],
        "currency": "USD"
    })
}

fn with(path: &[&str], value: Value) -> Value {
    let mut body = valid();
    let mut target = &mut body;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            break;
        }
        target = match key.parse::<usize>() {
            Ok(index) => &mut target[index],
            Err(_) => &mut target[*key],
        };
    }
    let last = path.last().expect("a path");
    match (target, value) {
        (Value::Object(map), Value::Null) => {
            map.remove(*last);
        }
        (Value::Object(map), value) => {
            map.insert((*last).to_owned(), value);
        }
        (Value::Array(list), value) => list[last.parse::<usize>().expect("index")] = value,
        _ => panic!("bad path {path:?}"),
    }
    body
}

fn address() -> Value {
    json!({"line1": "1 Main St", "line2": "Apt 4", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"})
}

fn line(sku: &str) -> Value {
    json!({"sku": sku, "name": "Thing", "quantity": 1, "unitPrice": 100})
}

#[test]
fn schema_and_validator_agree() {
    let schema = schema();
    let hundred_lines = Value::Array((0..100).map(|_| line("GC-500")).collect());
    let too_many_lines = Value::Array((0..101).map(|_| line("GC-500")).collect());
    let cases: Vec<(&str, bool, Value)> = vec![
        ("minimal", true, valid()),
        ("with address", true, with(&["shippingAddress"], address())),
        (
            "address without optional lines",
            true,
            with(
                &["shippingAddress"],
                json!({"line1": "x", "city": "y", "postalCode": "1", "country": "BR"}),
            ),
        ),
        ("100 lines", true, with(&["items"], hundred_lines)),
        (
            "free item",
            true,
            with(&["items", "0", "unitPrice"], json!(0)),
        ),
        (
            "max price",
            true,
            with(&["items", "0", "unitPrice"], json!(10_000_000)),
        ),
        (
            "max quantity",
            true,
            with(&["items", "0", "quantity"], json!(999)),
        ),
        (
            "unicode name of 100 chars",
            true,
            with(&["customer", "name"], json!("ç".repeat(100))),
        ),
        ("every currency", true, with(&["currency"], json!("JPY"))),
        ("two-char sku", true, with(&["items", "0"], line("A1"))),
        (
            "32-char sku",
            true,
            with(&["items", "0"], line(&"A".repeat(32))),
        ),
        (
            "email with plus and subdomain",
            true,
            with(&["customer", "email"], json!("a+b@mail.example.co")),
        ),
        ("not an object", false, json!([1, 2])),
        ("empty object", false, json!({})),
        ("unknown field", false, with(&["colour"], json!("blue"))),
        (
            "unknown customer field",
            false,
            with(&["customer", "phone"], json!("123")),
        ),
        (
            "unknown line field",
            false,
            with(&["items", "0", "discount"], json!(5)),
        ),
        ("no customer", false, with(&["customer"], Value::Null)),
        ("no email", false, with(&["customer", "email"], Value::Null)),
        (
            "blank name",
            false,
            with(&["customer", "name"], json!("   ")),
        ),
        ("empty name", false, with(&["customer", "name"], json!(""))),
        (
            "name of 101 chars",
            false,
            with(&["customer", "name"], json!("ç".repeat(101))),
        ),
        (
            "name is a number",
            false,
            with(&["customer", "name"], json!(5)),
        ),
        (
            "email without at",
            false,
            with(&["customer", "email"], json!("ana.example.com")),
        ),
        (
            "email without dot",
            false,
            with(&["customer", "email"], json!("ana@example")),
        ),
        (
            "email with space",
            false,
            with(&["customer", "email"], json!("ana souza@example.com")),
        ),
        (
            "email with two ats",
            false,
            with(&["customer", "email"], json!("a@b@example.com")),
        ),
        (
            "email too long",
            false,
            with(
                &["customer", "email"],
                json!(format!("{}@example.com", "a".repeat(250))),
            ),
        ),
        ("no items", false, with(&["items"], json!([]))),
        ("101 lines", false, with(&["items"], too_many_lines)),
        (
            "items not a list",
            false,
            with(&["items"], json!({"sku": "GC-500"})),
        ),
        (
            "line not an object",
            false,
            with(&["items", "0"], json!("GC-500")),
        ),
        (
            "lower-case sku",
            false,
            with(&["items", "0"], line("gc-500")),
        ),
        (
            "sku starting with dash",
            false,
            with(&["items", "0"], line("-GC")),
        ),
        ("one-char sku", false, with(&["items", "0"], line("G"))),
        (
            "33-char sku",
            false,
            with(&["items", "0"], line(&"A".repeat(33))),
        ),
        (
            "zero quantity",
            false,
            with(&["items", "0", "quantity"], json!(0)),
        ),
        (
            "quantity 1000",
            false,
            with(&["items", "0", "quantity"], json!(1000)),
        ),
        (
            "fractional quantity",
            false,
            with(&["items", "0", "quantity"], json!(1.5)),
        ),
        (
            "quantity as string",
            false,
            with(&["items", "0", "quantity"], json!("2")),
        ),
        (
            "negative price",
            false,
            with(&["items", "0", "unitPrice"], json!(-1)),
        ),
        (
            "price too high",
            false,
            with(&["items", "0", "unitPrice"], json!(10_000_001)),
        ),
        (
            "fractional price",
            false,
            with(&["items", "0", "unitPrice"], json!(12.99)),
        ),
        (
            "missing price",
            false,
            with(&["items", "0", "unitPrice"], Value::Null),
        ),
        ("unknown currency", false, with(&["currency"], json!("XYZ"))),
        (
            "lower-case currency",
            false,
            with(&["currency"], json!("usd")),
        ),
        (
            "address not an object",
            false,
            with(&["shippingAddress"], json!("1 Main St")),
        ),
        (
            "address without city",
            false,
            with(
                &["shippingAddress"],
                json!({"line1": "x", "postalCode": "1", "country": "US"}),
            ),
        ),
        (
            "three-letter country",
            false,
            with(
                &["shippingAddress"],
                json!({"line1": "x", "city": "y", "postalCode": "1", "country": "USA"}),
            ),
        ),
        (
            "blank postal code",
            false,
            with(
                &["shippingAddress"],
                json!({"line1": "x", "city": "y", "postalCode": " ", "country": "US"}),
            ),
        ),
        (
            "postal code too long",
            false,
            with(
                &["shippingAddress"],
                json!({"line1": "x", "city": "y", "postalCode": "1".repeat(21), "country": "US"}),
            ),
        ),
        (
            "null line2",
            false,
            with(
                &["shippingAddress"],
                json!({"line1": "x", "line2": null, "city": "y", "postalCode": "1", "country": "US"}),
            ),
        ),
    ];
    let mut disagreements = Vec::new();
    for (name, expected, body) in &cases {
        let by_schema = schema.is_valid(body);
        let by_rust = OrderRequest::from_json(body).is_ok();
        if by_schema != *expected || by_rust != *expected {
            disagreements.push(format!(
                "{name}: expected {expected}, schema says {by_schema}, Rust says {by_rust}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
