//! The JSON Schema API Gateway validates order bodies with and the Rust
//! validator must accept exactly the same bodies. The schema is run by Ajv
//! (ECMAScript regular expressions, as API Gateway's validator), not by a
//! Rust implementation that would share Rust's idea of whitespace: on a
//! table of bodies, and on generated ones around every edge.

use domain::OrderRequest;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::contract::{request_template_sends, validator};
use serde_json::{Value, json};

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/schemas/order-request.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
        .expect("schema is JSON")
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
            "name of only U+FEFF (ECMAScript whitespace)",
            false,
            with(&["customer", "name"], json!("\u{FEFF}")),
        ),
        (
            "name of only U+0085 (Unicode whitespace, and a control character)",
            false,
            with(&["customer", "name"], json!("\u{85}")),
        ),
        (
            "email with U+0085",
            false,
            with(&["customer", "email"], json!("ana\u{85}x@example.com")),
        ),
        (
            "email with U+FEFF",
            false,
            with(&["customer", "email"], json!("ana\u{FEFF}x@example.com")),
        ),
        (
            "name with a tab",
            false,
            with(&["customer", "name"], json!("Ana\tSouza")),
        ),
        (
            "name with U+FFFF",
            false,
            with(&["customer", "name"], json!("Ana\u{FFFF}")),
        ),
        (
            "name with an emoji and a combining accent",
            true,
            with(&["customer", "name"], json!("Zoe\u{301} 😀")),
        ),
        (
            "name of 100 emoji (100 characters, 200 UTF-16 units)",
            true,
            with(&["customer", "name"], json!("😀".repeat(100))),
        ),
        (
            "name of ideographic spaces around a letter",
            true,
            with(&["customer", "name"], json!("\u{3000}A\u{3000}")),
        ),
        (
            "price written as 1e2 (a floating-point number to Jackson)",
            false,
            with(&["items", "0", "unitPrice"], json!(1e2)),
        ),
        (
            "quantity written as 2.0 (a floating-point number to Jackson)",
            false,
            with(&["items", "0", "quantity"], json!(2.0)),
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
    let bodies: Vec<String> = cases.iter().map(|(_, _, body)| body.to_string()).collect();
    let verdicts = validator(&bodies);
    let mut disagreements = Vec::new();
    for ((name, expected, body), by_schema) in cases.iter().zip(verdicts) {
        let by_schema = by_schema == Some(true);
        let by_rust = OrderRequest::from_json(body).is_ok();
        if by_schema != *expected || by_rust != *expected {
            disagreements.push(format!(
                "{name}: expected {expected}, schema says {by_schema}, Rust says {by_rust}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn the_schema_spells_the_domains_text_rules() {
    let schema = schema();
    let text = domain::text::text_pattern();
    for definition in ["text100", "text200"] {
        assert_eq!(
            schema["definitions"][definition]["pattern"],
            text.as_str(),
            "{definition}"
        );
    }
    assert_eq!(
        schema["properties"]["shippingAddress"]["properties"]["postalCode"]["pattern"],
        text.as_str()
    );
    assert_eq!(
        schema["properties"]["customer"]["properties"]["email"]["pattern"],
        domain::text::email_pattern().as_str()
    );
}

/// A JSON string literal as a client might write it: any characters, some
/// escaped, some not, lone surrogates included.
fn string_literal() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        30 => "[a-zA-Z]{1,4}",
        1 => "[ .@-]",
        3 => proptest::sample::select(domain::text::WHITESPACE.to_vec()).prop_map(|c| c.to_string()),
        3 => proptest::sample::select(vec!['\u{7}', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}', '\u{FFFE}', '\u{FFFF}', '\u{FDD0}', 'é', '€', '😀', '\u{301}', '\u{E000}'])
            .prop_map(|c| c.to_string()),
        1 => Just("\\ud800".to_owned()),
        1 => Just("\\udfff".to_owned()),
        1 => Just("\\ud83d\\ude00".to_owned()),
        1 => Just("\\u0000".to_owned()),
        1 => Just("\\t".to_owned()),
        1 => Just("\\\"".to_owned()),
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|pieces| {
        let text: String = pieces.concat();
        // Raw control characters are not JSON; a client escapes them.
        let escaped: String = text
            .chars()
            .map(|c| {
                if u32::from(c) < 0x20 {
                    format!("\\u{:04x}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect();
        format!("\"{escaped}\"")
    })
}

fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => proptest::sample::select(vec![
            "0", "-0", "1", "2.0", "1e2", "1E+2", "-1", "0.5", "999", "1000", "10000000",
            "10000001", "1e400", "-0.0", "12.99",
        ])
        .prop_map(str::to_owned),
        3 => (1u64..1000).prop_map(|n| n.to_string()),
    ]
}

/// Now and then a key written twice (its first value hidden from a reader
/// that keeps the last) and something after the object.
fn around() -> impl Strategy<Value = (&'static str, &'static str)> {
    (
        prop_oneof![
            12 => Just(""),
            1 => Just(r#""currency":"EUR","#),
            1 => Just(r#""currency":"\uFFFF","#),
            1 => Just(r#""\u0063urrency":"EUR","#),
        ],
        prop_oneof![
            12 => Just(""),
            1 => Just(" \n"),
            1 => Just(" junk"),
            1 => Just("{}"),
            1 => Just("]"),
        ],
    )
}

#[test]
fn generated_bodies_get_the_same_verdict_from_both() {
    let strategy = (
        string_literal(),
        string_literal(),
        number_literal(),
        number_literal(),
        string_literal(),
        around(),
    )
        .prop_map(|(name, email_local, quantity, price, product, (repeated, after))| {
            let email = format!("{}@example.com\"", email_local.trim_end_matches('"'));
            format!(
                r#"{{{repeated}"customer":{{"name":{name},"email":{email}}},"items":[{{"sku":"GC-500","name":{product},"quantity":{quantity},"unitPrice":{price}}}],"currency":"USD"}}{after}"#,
            )
        });
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
    );
    let bodies: Vec<String> = (0..2000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let verdicts = validator(&bodies);
    // The deployed API queues what its validator passes and its request
    // template then sends (the template refuses what follows the object and
    // repeated keys).
    let valid: Vec<String> = bodies
        .iter()
        .zip(&verdicts)
        .filter(|(_, verdict)| **verdict == Some(true))
        .map(|(body, _)| body.clone())
        .collect();
    let mut sent = request_template_sends(&valid).into_iter();
    let verdicts: Vec<Option<bool>> = verdicts
        .into_iter()
        .map(|verdict| verdict.map(|valid| valid && sent.next().expect("a rendering")))
        .collect();
    let mut accepted = 0;
    let mut disagreements = Vec::new();
    for (body, by_schema) in bodies.iter().zip(verdicts) {
        let by_schema = by_schema == Some(true);
        let by_rust = OrderRequest::parse(body).is_ok();
        accepted += usize::from(by_rust);
        if by_schema != by_rust {
            disagreements.push(format!("schema {by_schema}, Rust {by_rust}: {body}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} disagree:\n{}",
        disagreements.len(),
        bodies.len(),
        disagreements
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        accepted > 100 && accepted < 1900,
        "the cases cover both verdicts: {accepted} accepted"
    );
}

/// API Gateway's validator runs the patterns in `java.util.regex`: each
/// gives the verdict its field's rule gives, on everyday texts and on 64 KiB
/// hostile ones, and none overflows Java's stack (the benchmark
/// `schema_patterns` times them).
#[test]
fn java_reads_every_pattern_as_meant_and_never_overflows() {
    use local_stack::java_patterns::{
        Field, everyday_probes, hostile_probes, run, schema_patterns,
    };
    let patterns = schema_patterns();
    assert!(
        patterns.len() >= 6,
        "found the schema's patterns: {patterns:?}"
    );
    let probes: Vec<_> = everyday_probes()
        .into_iter()
        .chain(hostile_probes())
        .collect();
    let verdicts = run(&patterns, &probes, 1);
    let mut wrong = Vec::new();
    let pairs = patterns
        .iter()
        .flat_map(|pattern| probes.iter().map(move |probe| (pattern, probe)));
    for (((path, _), probe), (verdict, _)) in pairs.zip(&verdicts) {
        let expected = probe.expected(Field::of(path));
        if *verdict != expected {
            wrong.push(format!(
                "{path} on {}: {verdict:?}, not {expected:?}",
                probe.name
            ));
        }
    }
    assert_eq!(verdicts.len(), patterns.len() * probes.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
