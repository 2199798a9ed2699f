//! How the dashboard writes times, ages and durations.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The shop's time zone for this request (UTC outside one).
pub fn zone() -> Tz {
    leptos::prelude::use_context::<crate::Dashboard>().map_or(Tz::UTC, |dashboard| dashboard.zone)
}

/// `2026-11-24 21:09 WET` in the shop's time zone: every time on every page
/// is in the zone the days of the filters and charts are in.
pub fn absolute(at: DateTime<Utc>) -> String {
    absolute_in(at, zone())
}

pub fn absolute_in(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The shop's day now.
pub fn today(zone: Tz) -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&zone).date_naive()
}

/// The zone's name as people read it (`Europe/Lisbon`, `UTC`).
pub fn zone_name(zone: Tz) -> &'static str {
    zone.name()
}

/// An amount of money as shop staff read it (`USD 1,250.00`).
pub fn money(minor: u64, currency: &str) -> String {
    domain::Currency::parse(currency).map_or_else(
        |_| format!("{minor} (minor units, {currency})"),
        |currency| domain::MinorUnits::from_minor(minor).format(currency),
    )
}

/// The machine-readable form for `<time datetime=…>`.
pub fn machine(at: DateTime<Utc>) -> String {
    domain::order::timestamp(at)
}

/// `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    match seconds {
        s if s < 45 => "just now".to_owned(),
        s if s < 3600 => format!("{} min ago", (s + 30) / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 2 * 86_400 => "yesterday".to_owned(),
        s => format!("{} days ago", s / 86_400),
    }
}

/// `340 ms`, `1.4 s`, then as [`duration`]: for how long a step took.
pub fn elapsed(duration: Duration) -> String {
    match duration.as_millis() {
        ms if ms < 1000 => format!("{ms} ms"),
        ms if ms < 120_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => self::duration(duration),
    }
}

/// `45 s`, `3 min`, `4 h`, `14 days`.
pub fn duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn times_read_naturally() {
        let now = at("2026-11-24T12:00:00Z");
        assert_eq!(relative(at("2026-11-24T11:59:30Z"), now), "just now");
        assert_eq!(relative(at("2026-11-24T11:55:00Z"), now), "5 min ago");
        assert_eq!(relative(at("2026-11-24T09:00:00Z"), now), "3 h ago");
        assert_eq!(relative(at("2026-11-23T10:00:00Z"), now), "yesterday");
        assert_eq!(relative(at("2026-11-20T12:00:00Z"), now), "4 days ago");
        assert_eq!(absolute_in(now, Tz::UTC), "2026-11-24 12:00 UTC");
        assert_eq!(
            absolute_in(now, "Asia/Tokyo".parse().unwrap()),
            "2026-11-24 21:00 JST"
        );
        assert_eq!(money(125_000, "EUR"), "EUR 1,250.00");
        assert_eq!(duration(Duration::from_secs(180)), "3 min");
        assert_eq!(duration(Duration::from_secs(14 * 86_400)), "14 days");
        assert_eq!(duration(Duration::from_secs(30)), "30 s");
    }
}
