//! The body of `POST /orders`, validated field by field so that a client gets
//! every mistake at once, each with the path of the field it concerns.
//!
//! This accepts exactly what `infra/schemas/order-request.json` accepts (the
//! JSON Schema API Gateway validates with); `tests/schema_agreement.rs`
//! checks the two on a table of bodies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod body;

use super::values::{
    AddressLine, City, CountryCode, Currency, Email, Invalid, MinorUnits, PersonName, PostalCode,
    ProductName, Quantity, Region, Sku,
};

/// The largest body the API accepts, as API Gateway's SQS integration can carry.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub name: PersonName,
    pub email: Email,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub sku: Sku,
    pub name: ProductName,
    pub quantity: Quantity,
    pub unit_price: MinorUnits,
}

impl LineItem {
    pub fn subtotal(&self) -> MinorUnits {
        self.unit_price.times(self.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    pub line1: AddressLine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<AddressLine>,
    pub city: City,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    pub postal_code: PostalCode,
    pub country: CountryCode,
}

/// A valid order request: what a client asked for, before the shop gives it
/// an id and a total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    pub customer: Customer,
    pub items: Vec<LineItem>,
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<ShippingAddress>,
}

/// One thing wrong with a request body. `field` is a path like `items[0].sku`
/// (empty for the body as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Every reason a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.summary())]
pub struct Rejected(pub Vec<FieldError>);

impl Rejected {
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        parts.join("; ")
    }
}

impl OrderRequest {
    /// Parses and validates a raw body: one JSON object, each key once.
    pub fn parse(text: &str) -> Result<Self, Rejected> {
        let body = body::read(text).map_err(not_json)?;
        Self::check(&body.value, !body.writes_fractions)
    }

    /// Parses and validates a body as API Gateway's validator reads it (its
    /// first JSON value, a repeated key's last value): only for answering
    /// in the deployed API's order of checks, which refuses what `parse`
    /// refuses besides only later.
    pub fn parse_as_jackson_reads(text: &str) -> Result<Self, Rejected> {
        let body = body::read_as_jackson(text).map_err(not_json)?;
        Self::check(&body.value, !body.writes_fractions)
    }

    /// Validates a value; a floating-point number in it counts as written
    /// with a fraction (`-0.0` too).
    pub fn from_json(value: &Value) -> Result<Self, Rejected> {
        Self::check(value, false)
    }

    fn check(value: &Value, minus_zero_is_zero: bool) -> Result<Self, Rejected> {
        let mut check = Checker {
            errors: Vec::new(),
            minus_zero_is_zero,
        };
        let request = check.order(value);
        match request {
            Some(request) if check.errors.is_empty() => Ok(request),
            _ => Err(Rejected(check.errors)),
        }
    }

    pub fn total(&self) -> MinorUnits {
        self.items.iter().map(LineItem::subtotal).sum()
    }
}

fn not_json(error: serde_json::Error) -> Rejected {
    Rejected(vec![FieldError {
        field: String::new(),
        message: format!("body is not valid JSON: {error}"),
    }])
}

struct Checker {
    errors: Vec<FieldError>,
    /// The body wrote no number with a fraction or exponent, so a -0.0 in
    /// it was written `-0`: the integer zero.
    minus_zero_is_zero: bool,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// The value as an object with only `known` keys (reporting each other key).
    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.fail(path, "must be an object");
            return None;
        };
        for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
            self.fail(&join(path, key), "is not a known field");
        }
        Some(map)
    }

    fn field<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let value = map.get(key);
        if value.is_none() {
            self.fail(&join(path, key), "is required");
        }
        value
    }

    fn parsed<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        result
            .map_err(|Invalid(message)| self.fail(field, message))
            .ok()
    }

    fn string<T>(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        parse: impl FnOnce(String) -> Result<T, Invalid>,
    ) -> Option<T> {
        let value = self.field(map, path, key)?;
        self.string_value(value, &join(path, key), parse)
    }

    fn optional_string<T>(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        parse: impl FnOnce(String) -> Result<T, Invalid>,
    ) -> Result<Option<T>, ()> {
        match map.get(key) {
            None => Ok(None),
            Some(value) => self
                .string_value(value, &join(path, key), parse)
                .map(Some)
                .ok_or(()),
        }
    }

    fn string_value<T>(
        &mut self,
        value: &Value,
        field: &str,
        parse: impl FnOnce(String) -> Result<T, Invalid>,
    ) -> Option<T> {
        match value.as_str() {
            Some(text) => self.parsed(field, parse(text.to_owned())),
            None => {
                self.fail(field, "must be a string");
                None
            }
        }
    }

    /// A whole number, as API Gateway's validator sees one: written as an
    /// integer (`3`, `-0`); `2.0` and `1e2` are floating-point numbers to it
    /// (Jackson reads them so), and so they are here.
    fn whole_number(&mut self, map: &Map<String, Value>, path: &str, key: &str) -> Option<u64> {
        let value = self.field(map, path, key)?;
        let minus_zero = |float: f64| float == 0.0 && float.is_sign_negative();
        let (number, message) = match value {
            Value::Number(number) if number.is_f64() => {
                let zero = self.minus_zero_is_zero && number.as_f64().is_some_and(minus_zero);
                (
                    zero.then_some(0),
                    "must be a whole number written without a fraction or exponent (2, not 2.0 or 2e0)",
                )
            }
            Value::Number(number) => (number.as_u64(), "must not be negative"),
            _ => (None, "must be a whole number"),
        };
        if number.is_none() {
            self.fail(&join(path, key), message);
        }
        number
    }

    fn order(&mut self, value: &Value) -> Option<OrderRequest> {
        let map = self.object(
            value,
            "",
            &["customer", "items", "currency", "shippingAddress"],
        )?;
        let customer = self
            .field(map, "", "customer")
            .and_then(|value| self.customer(value));
        let items = self
            .field(map, "", "items")
            .and_then(|value| self.items(value));
        let currency = self.string(map, "", "currency", |code| Currency::parse(&code));
        let shipping_address = match map.get("shippingAddress") {
            None => Some(None),
            Some(value) => self.address(value).map(Some),
        };
        Some(OrderRequest {
            customer: customer?,
            items: items?,
            currency: currency?,
            shipping_address: shipping_address?,
        })
    }

    fn customer(&mut self, value: &Value) -> Option<Customer> {
        let path = "customer";
        let map = self.object(value, path, &["name", "email"])?;
        let name = self.string(map, path, "name", PersonName::parse);
        let email = self.string(map, path, "email", Email::parse);
        Some(Customer {
            name: name?,
            email: email?,
        })
    }

    fn items(&mut self, value: &Value) -> Option<Vec<LineItem>> {
        let Some(list) = value.as_array() else {
            self.fail("items", "must be a list of line items");
            return None;
        };
        if list.is_empty() {
            self.fail("items", "must contain at least one line item");
        }
        if list.len() > MAX_LINES {
            self.fail(
                "items",
                format!("must contain at most {MAX_LINES} line items"),
            );
        }
        let lines: Vec<Option<LineItem>> = list
            .iter()
            .enumerate()
            .map(|(index, line)| self.line(line, &format!("items[{index}]")))
            .collect();
        lines.into_iter().collect()
    }

    fn line(&mut self, value: &Value, path: &str) -> Option<LineItem> {
        let map = self.object(value, path, &["sku", "name", "quantity", "unitPrice"])?;
        let sku = self.string(map, path, "sku", Sku::parse);
        let name = self.string(map, path, "name", ProductName::parse);
        let quantity = self.whole_number(map, path, "quantity").and_then(|number| {
            let number = u32::try_from(number).unwrap_or(u32::MAX);
            self.parsed(&join(path, "quantity"), Quantity::new(number))
        });
        let unit_price = self
            .whole_number(map, path, "unitPrice")
            .and_then(|number| {
                self.parsed(&join(path, "unitPrice"), MinorUnits::unit_price(number))
            });
        Some(LineItem {
            sku: sku?,
            name: name?,
            quantity: quantity?,
            unit_price: unit_price?,
        })
    }

    fn address(&mut self, value: &Value) -> Option<ShippingAddress> {
        let path = "shippingAddress";
        let map = self.object(
            value,
            path,
            &["line1", "line2", "city", "region", "postalCode", "country"],
        )?;
        let line1 = self.string(map, path, "line1", AddressLine::parse);
        let line2 = self.optional_string(map, path, "line2", AddressLine::parse);
        let city = self.string(map, path, "city", City::parse);
        let region = self.optional_string(map, path, "region", Region::parse);
        let postal_code = self.string(map, path, "postalCode", PostalCode::parse);
        let country = self.string(map, path, "country", CountryCode::parse);
        Some(ShippingAddress {
            line1: line1?,
            line2: line2.ok()?,
            city: city?,
            region: region.ok()?,
            postal_code: postal_code?,
            country: country?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({
            "customer": {"name": "Ana Souza", "email": "ana@example.com"},
            "items": [
                {"sku": "GC-500", "name": "Glass cleaner 500 ml", "quantity": 2, "unitPrice": 1299},
                {"sku": "MF-10", "name": "Microfibre cloths (10)", "quantity": 1, "unitPrice": 899}
            ],
            "currency": "USD"
        })
    }

    fn fields(body: Value) -> Vec<String> {
        OrderRequest::from_json(&body)
            .unwrap_err()
            .0
            .into_iter()
            .map(|error| error.field)
            .collect()
    }

    #[test]
    fn a_valid_body_gives_its_total() {
        let request = OrderRequest::from_json(&valid()).unwrap();
        assert_eq!(request.total().get(), 2 * 1299 + 899);
        assert_eq!(request.shipping_address, None);
    }

    #[test]
    fn every_mistake_is_reported_with_its_path() {
        let mut body = valid();
        body["customer"]["email"] = json!("not-an-email");
        body["items"][0]["quantity"] = json!(0);
        body["items"][1]["unitPrice"] = json!(-5);
        body["currency"] = json!("XYZ");
        body["colour"] = json!("blue");
        let mut got = fields(body);
        got.sort();
        assert_eq!(
            got,
            [
                "colour",
                "currency",
                "customer.email",
                "items[0].quantity",
                "items[1].unitPrice"
            ]
        );
    }

    #[test]
    fn missing_and_mistyped_fields() {
        assert_eq!(fields(json!({})), ["customer", "items", "currency"]);
        assert_eq!(fields(json!([])), [""]);
        let mut body = valid();
        body["items"] = json!({});
        assert_eq!(fields(body), ["items"]);
        let mut body = valid();
        body["items"][0]["quantity"] = json!(1.5);
        assert_eq!(fields(body), ["items[0].quantity"]);
        let mut body = valid();
        body["items"][0]["quantity"] = json!(-2);
        assert_eq!(fields(body), ["items[0].quantity"]);
    }

    #[test]
    fn whole_numbers_are_written_as_integers() {
        let with_price = |written: &str| {
            valid()
                .to_string()
                .replace("\"unitPrice\":1299", &format!("\"unitPrice\":{written}"))
        };
        for (written, expected) in [("-0", 0), ("3", 3), ("0", 0)] {
            let request = OrderRequest::parse(&with_price(written))
                .unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(request.items[0].unit_price.get(), expected, "{written}");
        }
        for written in ["2.0", "1e2", "1E2", "-0.0", "2.5", "-2"] {
            let rejected = OrderRequest::parse(&with_price(written)).unwrap_err();
            assert_eq!(rejected.0.len(), 1, "{written}: {rejected}");
            assert_eq!(rejected.0[0].field, "items[0].unitPrice", "{written}");
        }
    }

    #[test]
    fn a_minus_zero_next_to_a_fraction_is_still_refused_only_where_written() {
        let body = valid()
            .to_string()
            .replace("\"unitPrice\":1299", "\"unitPrice\":-0")
            .replace("\"quantity\":2", "\"quantity\":2.0");
        let fields: Vec<String> = OrderRequest::parse(&body)
            .unwrap_err()
            .0
            .into_iter()
            .map(|error| error.field)
            .collect();
        assert!(
            fields.contains(&"items[0].quantity".to_owned()),
            "{fields:?}"
        );
    }

    #[test]
    fn trailing_content_and_repeated_keys_are_refused_as_a_whole() {
        let body = valid().to_string();
        for text in [
            format!("{body} junk"),
            format!("{body}{body}"),
            format!("{{\"currency\":\"\\uFFFF\",{}", &body[1..]),
        ] {
            let rejected = OrderRequest::parse(&text).unwrap_err();
            assert_eq!(rejected.0.len(), 1, "{text}");
            assert_eq!(rejected.0[0].field, "", "{text}");
        }
    }

    #[test]
    fn line_count_is_bounded() {
        let line = valid()["items"][0].clone();
        let mut body = valid();
        body["items"] = json!([]);
        assert_eq!(fields(body.clone()), ["items"]);
        body["items"] = Value::Array(vec![line; MAX_LINES + 1]);
        assert_eq!(fields(body.clone()), ["items"]);
        body["items"].as_array_mut().unwrap().pop();
        assert!(OrderRequest::from_json(&body).is_ok());
    }

    #[test]
    fn the_address_is_optional_but_checked_when_given() {
        let mut body = valid();
        body["shippingAddress"] = json!({"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"});
        assert!(OrderRequest::from_json(&body).is_ok());
        body["shippingAddress"]["country"] = json!("usa");
        body["shippingAddress"]["line2"] = json!(7);
        let mut got = fields(body);
        got.sort();
        assert_eq!(got, ["shippingAddress.country", "shippingAddress.line2"]);
    }

    #[test]
    fn a_body_that_is_not_json_is_refused_as_a_whole() {
        let rejected = OrderRequest::parse("{nope").unwrap_err();
        assert_eq!(rejected.0.len(), 1);
        assert!(rejected.0[0].message.starts_with("body is not valid JSON"));
    }

    #[test]
    fn the_validated_form_round_trips_through_serde() {
        let request = OrderRequest::from_json(&valid()).unwrap();
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json, valid());
        assert_eq!(
            serde_json::from_value::<OrderRequest>(json).unwrap(),
            request
        );
    }
}
