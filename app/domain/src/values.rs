//! Small value types that validate on construction, so that an `Order` built
//! from them cannot hold an invalid email, SKU, quantity or amount.
//!
//! The limits here are the ones of `infra/schemas/order-request.json`; the
//! schema-agreement test in `app/tests/schema_agreement.rs` keeps them equal.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{self, TextProblem};

/// Why a value was refused, phrased for the client who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

fn char_count(value: &str) -> usize {
    value.chars().count()
}

/// Free text a person typed: at least one visible character, bounded length
/// (counted in characters, as JSON Schema counts `maxLength`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(value: impl Into<String>) -> Result<Self, Invalid> {
        let value = value.into();
        match crate::text::check(&value) {
            Ok(()) => {}
            Err(TextProblem::Blank) => return Err(invalid("must not be blank")),
            Err(TextProblem::Forbidden(c)) => {
                return Err(invalid(format!(
                    "must not contain the control character U+{:04X}",
                    u32::from(c)
                )));
            }
        }
        if char_count(&value) > MAX {
            return Err(invalid(format!("must be at most {MAX} characters")));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Self::parse(value)
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(value: Text<MAX>) -> String {
        value.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type PersonName = Text<100>;
pub type ProductName = Text<200>;
pub type AddressLine = Text<200>;
pub type City = Text<100>;
pub type Region = Text<100>;
pub type PostalCode = Text<20>;

/// A customer's email address: one `@`, a dotted domain, no spaces, at most
/// 254 characters. Kept as given; [`Email::normalized`] is the lookup key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(value: impl Into<String>) -> Result<Self, Invalid> {
        let value = value.into();
        let refuse = || invalid("must be an email address like name@example.com");
        if char_count(&value) > Self::MAX_LEN {
            return Err(invalid(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        let (local, domain) = value.split_once('@').ok_or_else(refuse)?;
        let clean = |part: &str| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c != '@'
                        && !text::EMAIL_SPECIALS.contains(&c)
                        && !text::is_whitespace(c)
                        && !text::is_forbidden(c)
                })
        };
        let dotted = domain
            .char_indices()
            .any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len());
        if clean(local) && clean(domain) && dotted {
            Ok(Self(value))
        } else {
            Err(refuse())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to find a customer's orders, whatever case they typed.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A stock keeping unit: 2 to 32 characters of `A-Z`, `0-9` and `-`, starting
/// with a letter or digit (`GC-500`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(value: impl Into<String>) -> Result<Self, Invalid> {
        let value = value.into();
        let mut chars = value.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok && (2..=32).contains(&value.len()) {
            Ok(Self(value))
        } else {
            Err(invalid(
                "must be 2 to 32 characters of A-Z, 0-9 and '-', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many units of one product a line orders: 1 to 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 999;

    pub fn new(value: u32) -> Result<Self, Invalid> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(invalid(format!("must be from 1 to {}", Self::MAX)))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = Invalid;
    fn try_from(value: u32) -> Result<Self, Invalid> {
        Self::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> u32 {
        value.0
    }
}

/// The currencies the shop sells in, with their ISO 4217 minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Currency {
    Aud,
    Brl,
    Cad,
    Chf,
    Dkk,
    Eur,
    Gbp,
    Jpy,
    Mxn,
    Nok,
    Pln,
    Sek,
    Usd,
}

impl Currency {
    pub const ALL: [Currency; 13] = [
        Currency::Aud,
        Currency::Brl,
        Currency::Cad,
        Currency::Chf,
        Currency::Dkk,
        Currency::Eur,
        Currency::Gbp,
        Currency::Jpy,
        Currency::Mxn,
        Currency::Nok,
        Currency::Pln,
        Currency::Sek,
        Currency::Usd,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Aud => "AUD",
            Currency::Brl => "BRL",
            Currency::Cad => "CAD",
            Currency::Chf => "CHF",
            Currency::Dkk => "DKK",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Mxn => "MXN",
            Currency::Nok => "NOK",
            Currency::Pln => "PLN",
            Currency::Sek => "SEK",
            Currency::Usd => "USD",
        }
    }

    /// Digits after the decimal point: amounts are stored in minor units.
    pub fn minor_digits(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    pub fn parse(code: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|currency| currency.code() == code)
            .ok_or_else(|| {
                let codes: Vec<_> = Self::ALL.iter().map(|c| c.code()).collect();
                invalid(format!("must be one of {}", codes.join(", ")))
            })
    }
}

impl TryFrom<String> for Currency {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in a currency's minor units (cents for USD). Never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(u64);

impl MinorUnits {
    /// The largest unit price a line may carry (100,000.00 in a two-digit currency).
    pub const MAX_UNIT_PRICE: u64 = 10_000_000;

    pub fn unit_price(value: u64) -> Result<Self, Invalid> {
        if value <= Self::MAX_UNIT_PRICE {
            Ok(Self(value))
        } else {
            Err(invalid(format!(
                "must be at most {} (minor units, e.g. cents)",
                Self::MAX_UNIT_PRICE
            )))
        }
    }

    /// Any amount, such as a total: only unit prices have an upper limit.
    pub const fn from_minor(value: u64) -> Self {
        Self(value)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Reads an amount typed in major units (`50`, `49.90`, `49,90`,
    /// `1,250.50`, `1.250,50`) for a currency, with its minor digits. Either
    /// `.` or `,` may separate the decimals or group thousands, as long as
    /// only one reading fits: `50,00` is fifty (groups have three digits),
    /// `1,250` is twelve hundred and fifty in a two-digit currency (its
    /// decimals cannot have three). Anything else is refused with a reason.
    pub fn parse_major(text: &str, currency: Currency) -> Result<Self, Invalid> {
        let digits = currency.minor_digits() as usize;
        let example = if digits == 0 { "4990" } else { "49.90" };
        let refuse = |why: &str| {
            invalid(format!(
                "must be an amount like {example} in {} ({why})",
                currency.code()
            ))
        };
        let text = text.trim();
        if text.is_empty()
            || !text
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        {
            return Err(refuse("digits, with . or , as separators"));
        }
        let separators: Vec<(usize, char)> = text
            .char_indices()
            .filter(|(_, c)| !c.is_ascii_digit())
            .collect();
        let kinds: Vec<char> = {
            let mut kinds: Vec<char> = separators.iter().map(|(_, c)| *c).collect();
            kinds.dedup();
            kinds.sort_unstable();
            kinds.dedup();
            kinds
        };
        // Which separator, if any, marks the decimals.
        let decimal: Option<usize> = match kinds.len() {
            0 => None,
            2 => {
                let (last_at, last) = *separators.last().expect("two kinds");
                if separators.iter().filter(|(_, c)| *c == last).count() > 1 {
                    return Err(refuse("the decimal separator may appear once, last"));
                }
                Some(last_at)
            }
            _ if separators.len() > 1 => None,
            _ => {
                let (at, _) = separators[0];
                let after = text.len() - at - 1;
                let as_decimals = after >= 1 && after <= digits;
                let as_group = after == 3;
                match (as_decimals, as_group) {
                    (true, false) => Some(at),
                    (false, true) => None,
                    (true, true) => {
                        return Err(refuse("ambiguous: write it without a thousands separator"));
                    }
                    (false, false) if digits == 0 => {
                        return Err(refuse("it has no decimals"));
                    }
                    (false, false) => {
                        return Err(refuse(&format!("at most {digits} decimals")));
                    }
                }
            }
        };
        let (whole, fraction) = match decimal {
            Some(at) => (&text[..at], &text[at + 1..]),
            None => (text, ""),
        };
        if fraction.len() > digits {
            return Err(refuse(&format!("at most {digits} decimals")));
        }
        if decimal.is_some() && fraction.is_empty() {
            return Err(refuse("digits after the decimal separator"));
        }
        // Thousands groups: one to three digits, then groups of exactly three.
        let groups: Vec<&str> = whole.split(['.', ',']).collect();
        let grouped = groups.len() > 1;
        if groups[0].is_empty()
            || (grouped && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)))
        {
            return Err(refuse("thousands are grouped by three digits"));
        }
        let whole: u64 = groups.concat().parse().map_err(|_| refuse("too large"))?;
        let fraction: u64 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<digits$}")
                .parse()
                .map_err(|_| refuse("too large"))?
        };
        whole
            .checked_mul(10u64.pow(digits as u32))
            .and_then(|minor| minor.checked_add(fraction))
            .map(Self)
            .ok_or_else(|| refuse("too large"))
    }

    /// The amount in major units, as typed back into a form (`1250.50`).
    pub fn plain(self, currency: Currency) -> String {
        let digits = currency.minor_digits();
        let scale = 10u64.pow(digits);
        if digits == 0 {
            self.0.to_string()
        } else {
            format!(
                "{}.{:0width$}",
                self.0 / scale,
                self.0 % scale,
                width = digits as usize
            )
        }
    }

    /// `unit × quantity`; cannot overflow within the validated limits.
    pub fn times(self, quantity: Quantity) -> Self {
        Self(self.0 * u64::from(quantity.get()))
    }

    pub fn format(self, currency: Currency) -> String {
        let digits = currency.minor_digits();
        let scale = 10u64.pow(digits);
        let whole = group_thousands(self.0 / scale);
        if digits == 0 {
            format!("{} {whole}", currency.code())
        } else {
            let fraction = self.0 % scale;
            format!(
                "{} {whole}.{fraction:0width$}",
                currency.code(),
                width = digits as usize
            )
        }
    }
}

impl std::iter::Sum for MinorUnits {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        Self(iter.map(|amount| amount.0).sum())
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A two-letter ISO 3166-1 country code, upper case (`US`, `BR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(value: impl Into<String>) -> Result<Self, Invalid> {
        let value = value.into();
        if value.len() == 2 && value.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(value))
        } else {
            Err(invalid("must be a two-letter ISO country code like US"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The conversions a validated text type needs (serde goes through
/// `String`, and it prints as itself): it wraps a `String` and has `parse`.
macro_rules! validated_text {
    ($($name:ident),+) => {$(
        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(value: String) -> Result<Self, Invalid> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}
pub(crate) use validated_text;

validated_text!(Email, Sku, CountryCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in [
            "ana@example.com",
            "a.b+c@sub.example.co",
            "x@y.z",
            "o'neil@example.ie",
            "zoë@exämple.de",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@.com",
            "ana@example.",
            "a b@example.com",
            "a@b@example.com",
            "a\u{85}b@example.com",
            "a\u{FEFF}b@example.com",
            "ana@example.com?cc=evil@example.com",
            "\"ana\"@example.com",
            "Ana <ana@example.com>",
            "ana@[127.0.0.1]",
            "a,b@example.com",
            "a;b@example.com",
            "a:b@example.com",
            "a(b)@example.com",
            "a\\b@example.com",
            "ana@exa mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse("Ana@Example.COM").unwrap().normalized(),
            "ana@example.com"
        );
    }

    #[test]
    fn skus() {
        assert!(Sku::parse("GC-500").is_ok());
        assert!(Sku::parse("9X").is_ok());
        for bad in ["", "G", "-GC", "gc-500", "GC 500", &"A".repeat(33)] {
            assert!(Sku::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(1).is_ok());
        assert!(Quantity::new(999).is_ok());
        assert!(Quantity::new(1000).is_err());
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        assert!(PersonName::parse("ç".repeat(100)).is_ok());
        assert!(PersonName::parse("ç".repeat(101)).is_err());
        assert!(PersonName::parse(" \u{3000} ").is_err());
        assert!(
            PersonName::parse("\u{FEFF}").is_err(),
            "U+FEFF is whitespace to ECMAScript"
        );
        assert!(
            PersonName::parse("Ana\nSouza").is_err(),
            "no line breaks in a name"
        );
    }

    #[test]
    fn money_formats_with_the_currency_digits() {
        assert_eq!(MinorUnits(259_800).format(Currency::Usd), "USD 2,598.00");
        assert_eq!(MinorUnits(5).format(Currency::Eur), "EUR 0.05");
        assert_eq!(MinorUnits(1_234_567).format(Currency::Jpy), "JPY 1,234,567");
        assert_eq!(MinorUnits(0).format(Currency::Usd), "USD 0.00");
    }

    #[test]
    fn amounts_typed_in_major_units() {
        let usd = |text: &str| MinorUnits::parse_major(text, Currency::Usd);
        let eur = |text: &str| MinorUnits::parse_major(text, Currency::Eur);
        let jpy = |text: &str| MinorUnits::parse_major(text, Currency::Jpy);
        assert_eq!(usd("50"), Ok(MinorUnits(5000)));
        assert_eq!(usd(" 49.9 "), Ok(MinorUnits(4990)));
        assert_eq!(eur("50,00"), Ok(MinorUnits(5000)), "a decimal comma");
        assert_eq!(eur("49,9"), Ok(MinorUnits(4990)));
        assert_eq!(usd("1,250"), Ok(MinorUnits(125_000)), "grouped thousands");
        assert_eq!(eur("1.250"), Ok(MinorUnits(125_000)));
        assert_eq!(usd("1,250.05"), Ok(MinorUnits(125_005)));
        assert_eq!(eur("1.250,05"), Ok(MinorUnits(125_005)));
        assert_eq!(usd("1,234,567"), Ok(MinorUnits(123_456_700)));
        assert_eq!(jpy("300"), Ok(MinorUnits(300)));
        assert_eq!(jpy("1,500"), Ok(MinorUnits(1500)));
        assert_eq!(jpy("1.500"), Ok(MinorUnits(1500)));
        for bad in [
            "",
            "abc",
            "-5",
            "1.2.3",
            ".5",
            "5.",
            "1,2345",
            "12,34,567",
            "1.234,5,6",
            "1,23.456",
            "1.2345",
            "99999999999999999999",
            "1 250",
        ] {
            assert!(usd(bad).is_err(), "{bad}");
        }
        assert!(jpy("12,5").is_err(), "yen have no decimals");
        assert!(jpy("1.5").is_err());
        assert!(usd("1.234").is_ok());
        assert_eq!(MinorUnits(125_005).plain(Currency::Usd), "1250.05");
        assert_eq!(MinorUnits(1500).plain(Currency::Jpy), "1500");
    }

    #[test]
    fn currencies_round_trip_their_codes() {
        for currency in Currency::ALL {
            assert_eq!(Currency::parse(currency.code()), Ok(currency));
        }
        assert!(Currency::parse("usd").is_err());
    }
}
