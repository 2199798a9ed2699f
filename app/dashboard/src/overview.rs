//! The overview: how the shop and the pipeline are doing now. Orders today
//! (the shop's day, in its time zone) and in the last hour; orders per hour
//! over the last day; for the last hour and the last day, orders received,
//! stored and notified and how long each step took (median and 95th
//! percentile, from the timestamps on the orders); the backlog, dead
//! letters and orders whose email never went out; who gets the emails.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;

use std::collections::HashSet;

use crate::orders::{Timing, start_of_day};
use crate::outcome::ActionError;
use crate::{Dashboard, QueueStats, SubscriptionStatus};

/// An order stored this long ago without an email counts as not notified.
pub const NOT_NOTIFIED_AFTER: Duration = Duration::minutes(10);
/// The most not-notified orders the overview counts.
pub const NOT_NOTIFIED_COUNTED: usize = 100;

/// Orders of one hour: how many were mailed, how many not (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hour {
    pub start: DateTime<Utc>,
    pub notified: usize,
    pub not_notified: usize,
}

impl Hour {
    pub fn total(&self) -> usize {
        self.notified + self.not_notified
    }
}

/// Orders that went out in digests, and the digest emails that took them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digested {
    pub orders: usize,
    pub digests: usize,
}

impl Digested {
    /// Of the orders received since `since`.
    pub fn of(timings: &[Timing], since: DateTime<Utc>) -> Self {
        let messages: Vec<&String> = timings
            .iter()
            .filter(|timing| timing.received >= since)
            .filter_map(|timing| timing.digest.as_ref())
            .collect();
        Self {
            orders: messages.len(),
            digests: messages.iter().collect::<HashSet<_>>().len(),
        }
    }
}

/// A median and a 95th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub median: StdDuration,
    pub p95: StdDuration,
}

/// The pipeline over one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `last hour` or `last 24 hours`.
    pub window: &'static str,
    /// Orders the API accepted: CloudWatch's count of messages sent to the
    /// order queue where it has one, else the orders in the table plus those
    /// still waiting in the queue.
    pub received: u64,
    pub received_from_cloudwatch: bool,
    pub stored: usize,
    pub notified: usize,
    /// From received to stored.
    pub to_stored: Option<Spread>,
    /// From received to the email.
    pub to_notified: Option<Spread>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub zone: Tz,
    pub orders_today: usize,
    pub orders_last_hour: usize,
    /// The last 24 hours, oldest first; the last is the current hour.
    pub hourly: Vec<Hour>,
    pub health: [Health; 2],
    pub queue: QueueStats,
    pub dead_letter_queue: QueueStats,
    /// Orders stored more than [`NOT_NOTIFIED_AFTER`] ago without an email
    /// (at most [`NOT_NOTIFIED_COUNTED`] counted).
    pub not_notified: usize,
    /// Orders ingest refused this UTC day for prices not in the catalog;
    /// none when the price check is off.
    pub refused_for_prices: Option<u64>,
    pub confirmed_subscriptions: usize,
    /// Addresses whose subscription is not confirmed: new, or suspended by
    /// SNS for getting more than 10 messages in a second.
    pub pending_subscriptions: Vec<String>,
    /// Orders received in the last 24 hours that were mailed in digests.
    pub digested: Digested,
}

/// Buckets orders into the 24 hours ending with the hour of `now`.
pub fn hourly(timings: &[Timing], now: DateTime<Utc>) -> Vec<Hour> {
    let current_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let first = current_hour - Duration::hours(23);
    let mut hours: Vec<Hour> = (0..24)
        .map(|h| Hour {
            start: first + Duration::hours(h),
            notified: 0,
            not_notified: 0,
        })
        .collect();
    for timing in timings {
        if timing.received >= first && timing.received <= now {
            let index = ((timing.received - first).num_hours()).clamp(0, 23) as usize;
            if timing.notified.is_some() {
                hours[index].notified += 1;
            } else {
                hours[index].not_notified += 1;
            }
        }
    }
    hours
}

/// The median and 95th percentile of some durations (nearest rank).
pub fn spread(mut durations: Vec<StdDuration>) -> Option<Spread> {
    if durations.is_empty() {
        return None;
    }
    durations.sort();
    let rank = |share: f64| {
        let index =
            ((durations.len() as f64 * share).ceil() as usize).clamp(1, durations.len()) - 1;
        durations[index]
    };
    Some(Spread {
        median: rank(0.5),
        p95: rank(0.95),
    })
}

fn health(
    window: &'static str,
    timings: &[Timing],
    since: DateTime<Utc>,
    received: Option<u64>,
    waiting: u64,
) -> Health {
    let recent: Vec<&Timing> = timings.iter().filter(|t| t.received >= since).collect();
    let elapsed = |from: DateTime<Utc>, to: DateTime<Utc>| (to - from).to_std().unwrap_or_default();
    Health {
        window,
        received: received.unwrap_or(recent.len() as u64 + waiting),
        received_from_cloudwatch: received.is_some(),
        stored: recent.len(),
        notified: recent.iter().filter(|t| t.notified.is_some()).count(),
        to_stored: spread(
            recent
                .iter()
                .map(|t| elapsed(t.received, t.stored))
                .collect(),
        ),
        to_notified: spread(
            recent
                .iter()
                .filter_map(|t| t.notified.map(|at| elapsed(t.received, at)))
                .collect(),
        ),
    }
}

impl Dashboard {
    pub async fn overview(&self, now: DateTime<Utc>) -> Result<Overview, ActionError> {
        let day_start = start_of_day(now, self.zone);
        let window_start = (now.duration_trunc(Duration::hours(1)).unwrap_or(now)
            - Duration::hours(23))
        .min(day_start)
        .min(now - Duration::hours(24));
        let refused_for_prices = async {
            if self.products.checked {
                self.products.refused_today().await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (
            timings,
            queue,
            dead_letter_queue,
            subscriptions,
            not_notified,
            sent_hour,
            sent_day,
            refused_for_prices,
        ) = tokio::join!(
            self.orders.timings(window_start, now),
            self.queues.stats(&self.order_queue_url),
            self.queues.stats(&self.dead_letter_queue_url),
            self.subscriptions.list(),
            self.orders
                .not_notified(now - NOT_NOTIFIED_AFTER, NOT_NOTIFIED_COUNTED),
            self.queues
                .messages_sent(&self.order_queue_url, Duration::hours(1)),
            self.queues
                .messages_sent(&self.order_queue_url, Duration::hours(24)),
            refused_for_prices,
        );
        let timings = timings?;
        let queue = queue?;
        let subscriptions = subscriptions?;
        let confirmed = subscriptions
            .iter()
            .filter(|s| matches!(s.status, SubscriptionStatus::Confirmed { .. }))
            .count();
        let pending = crate::subscriptions::unconfirmed(&subscriptions);
        let waiting = queue.visible + queue.in_flight + queue.delayed;
        Ok(Overview {
            zone: self.zone,
            orders_today: timings.iter().filter(|t| t.received >= day_start).count(),
            orders_last_hour: timings
                .iter()
                .filter(|t| t.received > now - Duration::hours(1))
                .count(),
            hourly: hourly(&timings, now),
            health: [
                health(
                    "last hour",
                    &timings,
                    now - Duration::hours(1),
                    sent_hour,
                    waiting,
                ),
                health(
                    "last 24 hours",
                    &timings,
                    now - Duration::hours(24),
                    sent_day,
                    waiting,
                ),
            ],
            queue,
            dead_letter_queue: dead_letter_queue?,
            not_notified: not_notified?.len(),
            refused_for_prices: refused_for_prices?,
            confirmed_subscriptions: confirmed,
            pending_subscriptions: pending,
            digested: Digested::of(&timings, now - Duration::hours(24)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn timing(received: &str, stored_after_ms: i64, notified_after_ms: Option<i64>) -> Timing {
        let received = at(received);
        Timing {
            received,
            stored: received + Duration::milliseconds(stored_after_ms),
            notified: notified_after_ms.map(|ms| received + Duration::milliseconds(ms)),
            digest: None,
        }
    }

    #[test]
    fn orders_fall_into_their_hour() {
        let now = at("2026-11-24T10:30:00Z");
        let timings = [
            timing("2026-11-24T10:05:00Z", 10, Some(900)),
            timing("2026-11-24T10:29:59Z", 10, None),
            timing("2026-11-24T09:59:59Z", 10, Some(900)),
            timing("2026-11-23T11:00:00Z", 10, Some(900)),
            timing("2026-11-23T10:59:59Z", 10, Some(900)),
        ];
        let hours = hourly(&timings, now);
        assert_eq!(hours.len(), 24);
        assert_eq!(
            (hours[23].start, hours[23].notified, hours[23].not_notified),
            (at("2026-11-24T10:00:00Z"), 1, 1)
        );
        assert_eq!(hours[22].total(), 1);
        assert_eq!(hours[0].start, at("2026-11-23T11:00:00Z"));
        assert_eq!(
            hours.iter().map(Hour::total).sum::<usize>(),
            4,
            "the one before the window is left out"
        );
    }

    #[test]
    fn the_shops_day_follows_its_time_zone() {
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        // 23:30 UTC on the 25th is 08:30 on the 26th in Tokyo.
        assert_eq!(
            start_of_day(at("2026-11-25T23:30:00Z"), tokyo),
            at("2026-11-25T15:00:00Z")
        );
        assert_eq!(
            start_of_day(at("2026-11-25T23:30:00Z"), Tz::UTC),
            at("2026-11-25T00:00:00Z")
        );
        let lisbon: Tz = "Europe/Lisbon".parse().unwrap();
        assert_eq!(
            start_of_day(at("2026-07-01T12:00:00Z"), lisbon),
            at("2026-06-30T23:00:00Z"),
            "summer time"
        );
    }

    #[test]
    fn health_figures_come_from_the_timestamps() {
        let timings: Vec<Timing> = (0..20)
            .map(|n| {
                timing(
                    "2026-11-24T10:00:00Z",
                    100 * (n + 1),
                    (n < 19).then_some(1000 * (n + 1)),
                )
            })
            .collect();
        let figures = health("last hour", &timings, at("2026-11-24T09:30:00Z"), None, 3);
        assert_eq!(
            (figures.received, figures.stored, figures.notified),
            (23, 20, 19)
        );
        let stored = figures.to_stored.unwrap();
        assert_eq!(
            (stored.median, stored.p95),
            (
                StdDuration::from_millis(1000),
                StdDuration::from_millis(1900)
            )
        );
        let notified = figures.to_notified.unwrap();
        assert_eq!(
            (notified.median, notified.p95),
            (StdDuration::from_secs(10), StdDuration::from_secs(19))
        );
        assert!(spread(Vec::new()).is_none());
    }
}
