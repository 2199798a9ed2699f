//! The listing a URL asks for (`/orders` and its CSV export): each field
//! read from the query string, corrected where unusable, with what was wrong
//! said by field.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::OrderStatus;

use super::{Cursor, Filter, MAX_RANGE_DAYS, customer_filter, day_start};
use crate::outcome::FieldProblem;

/// Days shown when no range is given.
const DEFAULT_DAYS: u64 = 30;
/// The shortest search: one character matches too much to be useful.
pub const SHORTEST_SEARCH: usize = 2;

/// The listing a URL asks for; every field comes from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<OrderStatus>,
    /// The shop's days, first and last shown.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// An email, or `@domain`.
    pub email: String,
    /// A search: the start of an id or a name, an email, `@domain`.
    pub search: String,
    pub cursor: Option<Cursor>,
    /// What was wrong with the query string, by field, to show beside the form.
    pub problems: Vec<FieldProblem>,
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

impl Filters {
    pub fn from_query(get: impl Fn(&str) -> Option<String>, today: NaiveDate) -> Self {
        let mut problems = Vec::new();
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
        let latest = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date");
        let today = today.clamp(earliest, latest);
        let mut date = |key: &str, default: NaiveDate| match get(key)
            .filter(|v| !v.trim().is_empty())
        {
            None => default,
            Some(text) => match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(day) if (earliest..=latest).contains(&day) => day,
                _ => {
                    problems.push(problem(
                        key,
                        format!("“{text}” is not a date like 2026-11-24 between 2000 and 2100; showing the default."),
                    ));
                    default
                }
            },
        };
        let to = date("to", today);
        let from = date("from", (to - Days::new(DEFAULT_DAYS - 1)).max(earliest));
        let (from, to) = if from > to { (to, from) } else { (from, to) };
        let from = if (to - from).num_days() >= MAX_RANGE_DAYS {
            problems.push(problem(
                "from",
                format!("A range covers at most {MAX_RANGE_DAYS} days; showing the last {MAX_RANGE_DAYS}."),
            ));
            (to - Days::new(MAX_RANGE_DAYS as u64 - 1)).max(earliest)
        } else {
            from
        };
        let status = match get("status").as_deref().map(str::trim) {
            None | Some("") => None,
            Some("stored") => Some(OrderStatus::Stored),
            Some("notified") => Some(OrderStatus::Notified),
            Some(other) => {
                problems.push(problem(
                    "status",
                    format!("“{other}” is not a status; showing any."),
                ));
                None
            }
        };
        let email = get("email").unwrap_or_default().trim().to_owned();
        if !email.is_empty() && customer_filter(&email).is_none() {
            problems.push(problem(
                "email",
                format!("“{email}” is not an email address; write one like ana@example.com, or @example.com for a domain."),
            ));
        }
        let search = get("q")
            .or_else(|| get("order"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !search.is_empty() && search.chars().count() < SHORTEST_SEARCH {
            problems.push(problem(
                "q",
                format!("Type at least {SHORTEST_SEARCH} characters to search."),
            ));
        }
        let cursor = match get("cursor") {
            None => None,
            Some(text) => {
                let cursor = Cursor::decode(&text);
                if cursor.is_none() {
                    problems.push(problem(
                        "cursor",
                        "That page link is broken; showing the newest orders.",
                    ));
                }
                cursor
            }
        };
        Self {
            status,
            from,
            to,
            email,
            search,
            cursor,
            problems,
        }
    }

    /// The listing these filters ask for, unless a field is unusable.
    pub fn listing(&self) -> Option<Filter> {
        if self.email.is_empty() {
            return Some(self.status.map_or(Filter::All, Filter::Status));
        }
        customer_filter(&self.email)
    }

    /// The instants the shop's days cover.
    pub fn interval(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = self.to.succ_opt().unwrap_or(self.to);
        (
            day_start(self.from, zone),
            day_start(end, zone) - chrono::Duration::milliseconds(1),
        )
    }

    /// The query string's pairs that give these filters (without the cursor).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&str, String)> =
            vec![("from", self.from.to_string()), ("to", self.to.to_string())];
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        if !self.email.is_empty() {
            pairs.push(("email", self.email.clone()));
        }
        pairs
    }

    /// The date presets, each this listing over other days (from its first
    /// page): what it is called, its filters, and whether it is the one shown.
    pub fn presets(&self, today: NaiveDate) -> Vec<(&'static str, Self, bool)> {
        let yesterday = today.pred_opt().unwrap_or(today);
        let month_start = today.with_day(1).unwrap_or(today);
        [
            ("Today", today, today),
            ("Yesterday", yesterday, yesterday),
            ("Last 7 days", today - Days::new(6), today),
            ("This month", month_start, today),
            ("Last 30 days", today - Days::new(DEFAULT_DAYS - 1), today),
        ]
        .into_iter()
        .map(|(name, from, to)| {
            let preset = Self {
                from,
                to,
                cursor: None,
                ..self.clone()
            };
            let current = (self.from, self.to) == (from, to);
            (name, preset, current)
        })
        .collect()
    }

    /// What was wrong with one field of the query string.
    pub fn problem(&self, field: &str) -> Option<String> {
        self.problems
            .iter()
            .find(|problem| problem.field == field)
            .map(|problem| problem.message.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn filters(pairs: &[(&str, &str)]) -> Filters {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Filters::from_query(
            |key| map.get(key).cloned(),
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        )
    }

    #[test]
    fn defaults_show_the_last_thirty_days() {
        let filters = filters(&[]);
        assert_eq!(filters.to.to_string(), "2026-11-24");
        assert_eq!(filters.from.to_string(), "2026-10-26");
        assert!(filters.problems.is_empty());
    }

    #[test]
    fn bad_and_reversed_values_are_corrected_and_said_by_field() {
        let swapped = filters(&[("from", "2026-11-20"), ("to", "2026-11-10")]);
        assert_eq!(
            (swapped.from.to_string(), swapped.to.to_string()),
            ("2026-11-10".into(), "2026-11-20".into())
        );
        let bad = filters(&[
            ("from", "yesterday"),
            ("status", "lost"),
            ("email", "ana@"),
            ("q", "x"),
            ("cursor", "nope"),
        ]);
        let fields: Vec<&str> = bad.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["from", "status", "email", "q", "cursor"]);
        let long = filters(&[("from", "2020-01-01")]);
        assert_eq!((long.to - long.from).num_days(), MAX_RANGE_DAYS - 1);
        let hostile = filters(&[("to", "-262143-01-05"), ("from", "+262142-12-31")]);
        assert_eq!(
            hostile.problems.len(),
            2,
            "out-of-range dates are refused, not a panic"
        );
    }

    #[test]
    fn days_are_the_shops() {
        let filters = filters(&[("from", "2026-11-26"), ("to", "2026-11-26")]);
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let (from, to) = filters.interval(tokyo);
        assert_eq!(from.to_rfc3339(), "2026-11-25T15:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-26T14:59:59.999+00:00");
    }
}
