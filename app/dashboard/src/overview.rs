//! The overview: orders today and in the last hour, orders per hour over the
//! last day, the backlog, dead letters and the topic's subscriptions.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{Dashboard, QueueStats, SubscriptionStatus};
use pipeline::aws::AwsError;
use pipeline::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub orders_today: usize,
    pub orders_last_hour: usize,
    /// Orders in each of the last 24 hours, oldest first; the last is the current hour.
    pub hourly: Vec<(DateTime<Utc>, usize)>,
    pub queue: QueueStats,
    pub dead_letter_queue: QueueStats,
    pub confirmed_subscriptions: usize,
    pub pending_subscriptions: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Buckets creation times into the 24 hours ending with the hour of `now`.
pub fn hourly_counts(times: &[DateTime<Utc>], now: DateTime<Utc>) -> Vec<(DateTime<Utc>, usize)> {
    let current_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let first = current_hour - Duration::hours(23);
    let mut buckets: Vec<(DateTime<Utc>, usize)> =
        (0..24).map(|h| (first + Duration::hours(h), 0)).collect();
    for at in times {
        if *at >= first && *at <= now {
            let index = ((*at - first).num_hours()).clamp(0, 23) as usize;
            buckets[index].1 += 1;
        }
    }
    buckets
}

impl Dashboard {
    pub async fn overview(&self, now: DateTime<Utc>) -> Result<Overview, OverviewError> {
        let day_start = now.duration_trunc(Duration::days(1)).unwrap_or(now);
        let window_start = (now.duration_trunc(Duration::hours(1)).unwrap_or(now)
            - Duration::hours(23))
        .min(day_start);
        let (times, queue, dead_letter_queue, subscriptions) = tokio::join!(
            self.orders.created_between(window_start, now),
            self.queues.stats(&self.order_queue_url),
            self.queues.stats(&self.dead_letter_queue_url),
            self.subscriptions.list(),
        );
        let times = times?;
        let subscriptions = subscriptions?;
        let confirmed = subscriptions
            .iter()
            .filter(|s| matches!(s.status, SubscriptionStatus::Confirmed { .. }))
            .count();
        Ok(Overview {
            orders_today: times.iter().filter(|at| **at >= day_start).count(),
            orders_last_hour: times
                .iter()
                .filter(|at| **at > now - Duration::hours(1))
                .count(),
            hourly: hourly_counts(&times, now),
            queue: queue?,
            dead_letter_queue: dead_letter_queue?,
            confirmed_subscriptions: confirmed,
            pending_subscriptions: subscriptions.len() - confirmed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn orders_fall_into_their_hour() {
        let now = at("2026-11-24T10:30:00Z");
        let times = [
            at("2026-11-24T10:05:00Z"),
            at("2026-11-24T10:29:59Z"),
            at("2026-11-24T09:59:59Z"),
            at("2026-11-23T11:00:00Z"),
            at("2026-11-23T10:59:59Z"),
        ];
        let buckets = hourly_counts(&times, now);
        assert_eq!(buckets.len(), 24);
        assert_eq!(buckets[23], (at("2026-11-24T10:00:00Z"), 2));
        assert_eq!(buckets[22].1, 1);
        assert_eq!(buckets[0], (at("2026-11-23T11:00:00Z"), 1));
        assert_eq!(
            buckets.iter().map(|b| b.1).sum::<usize>(),
            4,
            "the one before the window is left out"
        );
    }
}
