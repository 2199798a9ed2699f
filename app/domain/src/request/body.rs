//! Reading a body as the order API's contract reads it, stricter than JSON
//! allows in the two places where readers differ (RFC 8259 leaves both to
//! them, and API Gateway's reader, Jackson, and serde_json choose unalike):
//! one JSON value and nothing after it, and each key once in an object. A
//! body that one reader takes one way and the next another is refused.
//!
//! It also tells whether any number is written with a fraction or an
//! exponent: serde_json reads `-0` and `-0.0` alike (as the float -0.0),
//! while API Gateway's validator takes `-0` as the integer zero and `-0.0` as
//! no integer, so only the text can tell them apart.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A body read: its value, and whether any number in it was written with a
/// fraction or an exponent.
pub struct Body {
    pub value: Value,
    pub writes_fractions: bool,
}

/// Reads `text` as exactly one JSON value with no key twice in one object.
pub fn read(text: &str) -> Result<Body, serde_json::Error> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let Strict(value) = Strict::deserialize(&mut reader)?;
    reader.end()?;
    Ok(Body {
        value,
        writes_fractions: writes_fractions(text),
    })
}

/// Reads `text` as API Gateway's validator does (Jackson's defaults): the
/// first JSON value, whatever follows it, and a repeated key's last value.
pub fn read_as_jackson(text: &str) -> Result<Body, serde_json::Error> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = match values.next() {
        Some(value) => value?,
        None => return Err(serde::de::Error::custom("the body holds no JSON value")),
    };
    Ok(Body {
        value,
        writes_fractions: writes_fractions(&text[..values.byte_offset()]),
    })
}

/// Whether a number outside every string has a `.` or an exponent. Outside
/// strings a `.` is only ever a number's, and an `e` or `E` is an
/// exponent's exactly when a digit comes right before it (`true` and
/// `false` have theirs after a letter). Run on a body that parsed.
fn writes_fractions(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut previous = 0u8;
    for &byte in text.as_bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'.' => return true,
                b'e' | b'E' if previous.is_ascii_digit() => return true,
                _ => {}
            }
        }
        previous = byte;
    }
    false
}

/// A JSON value whose objects may not repeat a key.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut list = Vec::new();
        while let Some(Strict(value)) = seq.next_element()? {
            list.push(value);
        }
        Ok(Value::Array(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key \"{key}\" appears twice in one object (send each key once)"
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_and_nothing_after_it() {
        assert!(read(" {\"a\": 1}\n").is_ok());
        for text in ["{\"a\": 1} junk", "{} {}", "{}]", "{\"a\": 1},"] {
            assert!(read(text).is_err(), "{text}");
        }
    }

    #[test]
    fn jackson_reads_the_first_value_and_a_keys_last() {
        let body = read_as_jackson(r#"{"a": 1, "a": -0} junk 1.5"#).unwrap();
        assert_eq!(body.value["a"], -0.0);
        assert!(!body.writes_fractions);
        assert!(read_as_jackson("").is_err());
        assert!(read_as_jackson("{oops").is_err());
    }

    #[test]
    fn each_key_once_however_it_is_written() {
        assert!(read(r#"{"a": {"b": 1}, "b": {"b": 2}}"#).is_ok());
        for text in [
            r#"{"a": 1, "a": 1}"#,
            r#"{"a": 1, "\u0061": 2}"#,
            r#"{"x": [{"a": 1, "b": 2, "a": 3}]}"#,
        ] {
            let error = read(text).err().unwrap_or_else(|| panic!("{text}"));
            assert!(
                error.to_string().contains("appears twice"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn fractions_and_exponents_are_told_from_the_text() {
        for (text, fractions) in [
            (r#"{"n": -0}"#, false),
            (r#"{"n": -0.0}"#, true),
            (r#"{"n": 1e2}"#, true),
            (r#"{"n": 1E+2}"#, true),
            (r#"{"t": true, "f": false, "s": "1.5e3 \" 2.0"}"#, false),
            (r#"{"s": "\\", "n": 2.5}"#, true),
        ] {
            assert_eq!(read(text).unwrap().writes_fractions, fractions, "{text}");
        }
    }
}
