//! How fast the order topic may publish, across every publisher at once.
//!
//! SNS suspends an email subscription that gets more than 10 messages a
//! second, and every email subscriber gets every unfiltered message, so the
//! topic's publish rate is each subscriber's rate. Every publisher (each
//! notify instance, one per stream shard and more with ParallelizationFactor,
//! and the dashboard) books a slot in one schedule item of the table before
//! it publishes, and publishes no earlier than its slot: a generic cell rate
//! algorithm whose one number, the first free slot, moves forward by a
//! conditional write, so two publishers never get the same slot.
//! docs/pipeline.md says why this holds with retries and clock skew.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use crate::aws::{AwsError, AwsErrorKind};
use crate::table::Key;

/// How late after its slot a message may reach SNS: a publisher starts at
/// most [`START_LATENESS_MS`] late (later, it books again), the rest is the
/// call's own way to SNS.
pub const LATENESS_ALLOWANCE_MS: u64 = 100;
/// A publish that would start later than this after its slot books again.
pub const START_LATENESS_MS: u64 = 50;

/// Where the schedule keeps its first free slot (Unix milliseconds).
const NEXT_FREE: &str = "nextFreeMs";

/// Messages a second the order topic publishes at most: 1 to 10, 5 unless set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailRate(u32);

impl EmailRate {
    /// SNS's hard limit for one email subscription.
    pub const SNS_EMAIL_LIMIT: u32 = 10;
    pub const DEFAULT: Self = Self(5);

    pub fn new(per_second: u32) -> Result<Self, String> {
        if (1..=Self::SNS_EMAIL_LIMIT).contains(&per_second) {
            Ok(Self(per_second))
        } else {
            Err(format!(
                "must be 1 to {} emails a second (SNS suspends an email subscription above {}), not {per_second}",
                Self::SNS_EMAIL_LIMIT,
                Self::SNS_EMAIL_LIMIT
            ))
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let number = text
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("must be a whole number of emails a second, not {text:?}"))?;
        Self::new(number)
    }

    pub fn per_second(self) -> u32 {
        self.0
    }

    /// The time between two slots, in milliseconds: R slots and the
    /// lateness a publish may have ([`LATENESS_ALLOWANCE_MS`]) fit in one
    /// second, so no second ever holds more than R messages.
    pub fn interval_ms(self) -> i64 {
        (1000 + LATENESS_ALLOWANCE_MS as u32).div_ceil(self.0) as i64
    }
}

impl Default for EmailRate {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A booking of `count` consecutive slots: where the first starts and where
/// the schedule's first free slot moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking {
    pub first_ms: i64,
    pub next_free_ms: i64,
}

impl Booking {
    /// Slots for `count` messages after the schedule's first free slot, never
    /// in the past: a schedule idle for a while does not let a burst through.
    pub fn plan(next_free_ms: i64, now_ms: i64, count: u32, rate: EmailRate) -> Self {
        let first_ms = next_free_ms.max(now_ms);
        Self {
            first_ms,
            next_free_ms: first_ms + i64::from(count) * rate.interval_ms(),
        }
    }

    /// When the last booked slot starts.
    pub fn last_ms(&self, rate: EmailRate) -> i64 {
        self.next_free_ms - rate.interval_ms()
    }

    pub fn slots(&self, rate: EmailRate) -> Vec<DateTime<Utc>> {
        (self.first_ms..self.next_free_ms)
            .step_by(rate.interval_ms() as usize)
            .map(|ms| DateTime::from_timestamp_millis(ms).unwrap_or_default())
            .collect()
    }
}

/// The order topic's schedule, in the orders table.
#[derive(Clone, Debug)]
pub struct EmailSchedule {
    client: aws_sdk_dynamodb::Client,
    table: String,
    rate: EmailRate,
    /// The first free slot as this publisher last saw it (`Some(None)`: no
    /// schedule item yet). Others only ever move it forward, so a booking
    /// planned on it either fits or learns the real value from the refusal.
    last_seen: Arc<Mutex<Option<Option<i64>>>>,
}

/// Conditional writes lost to other publishers before giving up for now.
const MAX_CONTENDED_ATTEMPTS: u32 = 40;

const ACTION: &str = "booking order email slots";

impl EmailSchedule {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        rate: EmailRate,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            rate,
            last_seen: Arc::default(),
        }
    }

    pub fn rate(&self) -> EmailRate {
        self.rate
    }

    /// Books `count` slots if the last of them starts within `within` of now;
    /// `None` (nothing booked) when the schedule is fuller than that.
    pub async fn book(
        &self,
        count: u32,
        within: Duration,
    ) -> Result<Option<Vec<DateTime<Utc>>>, AwsError> {
        Ok(self
            .book_first(&[(count, within)])
            .await?
            .map(|(_, slots)| slots))
    }

    /// Books the first of `choices` (a number of slots, and how soon the
    /// last must start) that the schedule has room for; returns which, and
    /// its slots. `None`: none fits, nothing booked. One conditional write
    /// when nobody else booked since this publisher's last booking; a read
    /// only the first time.
    pub async fn book_first(
        &self,
        choices: &[(u32, Duration)],
    ) -> Result<Option<(usize, Vec<DateTime<Utc>>)>, AwsError> {
        if let Some(empty) = choices.iter().position(|(count, _)| *count == 0) {
            return Ok(Some((empty, Vec::new())));
        }
        let key = Key::email_schedule().to_attributes();
        let mut known = *self.last_seen.lock().expect("schedule lock");
        for attempt in 0..MAX_CONTENDED_ATTEMPTS {
            let next_free = match known {
                Some(next_free) => next_free,
                None => self.read().await?,
            };
            let now_ms = Utc::now().timestamp_millis();
            let fitting = choices
                .iter()
                .enumerate()
                .find_map(|(index, (count, within))| {
                    let booking = Booking::plan(next_free.unwrap_or(0), now_ms, *count, self.rate);
                    (booking.last_ms(self.rate) - now_ms <= within.as_millis() as i64)
                        .then_some((index, booking))
                });
            // What we knew can only be earlier than the truth: no fit, no fit.
            let Some((choice, booking)) = fitting else {
                return Ok(None);
            };
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .update_expression("SET #next = :next")
                .expression_attribute_names("#next", NEXT_FREE)
                .expression_attribute_values(
                    ":next",
                    AttributeValue::N(booking.next_free_ms.to_string()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            update = match next_free {
                None => update.condition_expression("attribute_not_exists(#next)"),
                Some(old) => update
                    .condition_expression("#next = :old")
                    .expression_attribute_values(":old", AttributeValue::N(old.to_string())),
            };
            match update.send().await {
                Ok(_) => {
                    *self.last_seen.lock().expect("schedule lock") =
                        Some(Some(booking.next_free_ms));
                    return Ok(Some((choice, booking.slots(self.rate))));
                }
                Err(SdkError::ServiceError(refused))
                    if refused.err().is_conditional_check_failed_exception() =>
                {
                    // Another publisher moved the schedule first; the refusal says where to.
                    known = match refused.err() {
                        UpdateItemError::ConditionalCheckFailedException(failed) => {
                            Some(next_free_of(failed.item())?)
                        }
                        _ => None,
                    };
                    *self.last_seen.lock().expect("schedule lock") = known;
                    let jitter =
                        u64::from(Utc::now().timestamp_subsec_nanos() % 7) + u64::from(attempt);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(error) => return Err(AwsError::from_sdk(ACTION, error)),
            }
        }
        Err(AwsError {
            action: ACTION.to_owned(),
            kind: AwsErrorKind::Throttled,
            code: None,
            message: format!(
                "{MAX_CONTENDED_ATTEMPTS} other publishers booked first; trying again later"
            ),
        })
    }

    /// The first free slot as stored (`None`: no schedule item yet).
    async fn read(&self) -> Result<Option<i64>, AwsError> {
        let stored = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Key::email_schedule().to_attributes()))
            .consistent_read(true)
            .projection_expression(NEXT_FREE)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading the order emails' schedule", error))?;
        next_free_of(stored.item.as_ref())
    }
}

/// The first free slot an item of the schedule holds (`None`: no item).
fn next_free_of(item: Option<&HashMap<String, AttributeValue>>) -> Result<Option<i64>, AwsError> {
    match item.and_then(|item| item.get(NEXT_FREE)) {
        None => Ok(None),
        Some(AttributeValue::N(ms)) => ms
            .parse::<i64>()
            .map(Some)
            .map_err(|error| AwsError::corrupt("reading the order emails' schedule", error)),
        Some(other) => Err(AwsError::corrupt(
            "reading the order emails' schedule",
            format!("{NEXT_FREE} is {other:?}"),
        )),
    }
}

/// Waits until `slot`; returns how late the wait ended (zero when on time).
pub async fn wait_for(slot: DateTime<Utc>) -> Duration {
    let now = Utc::now();
    if let Ok(early) = (slot - now).to_std() {
        tokio::time::sleep(early).await;
    }
    (Utc::now() - slot).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_one_to_ten_a_second() {
        assert_eq!(EmailRate::default().per_second(), 5);
        assert_eq!(EmailRate::parse(" 10 ").unwrap().per_second(), 10);
        assert!(EmailRate::parse("11").unwrap_err().contains("SNS suspends"));
        assert!(EmailRate::parse("0").is_err());
        assert!(
            EmailRate::parse("five")
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(EmailRate::new(5).unwrap().interval_ms(), 220);
        assert_eq!(EmailRate::new(10).unwrap().interval_ms(), 110);
        assert_eq!(
            EmailRate::new(3).unwrap().interval_ms(),
            367,
            "rounded up: never faster"
        );
    }

    #[test]
    fn bookings_follow_each_other_and_never_start_in_the_past() {
        let rate = EmailRate::new(5).unwrap();
        // An idle schedule starts now, not at its old first free slot.
        let first = Booking::plan(1_000, 50_000, 3, rate);
        assert_eq!(first.first_ms, 50_000);
        assert_eq!(first.next_free_ms, 50_660);
        assert_eq!(first.last_ms(rate), 50_440);
        let slots: Vec<i64> = first
            .slots(rate)
            .iter()
            .map(|at| at.timestamp_millis())
            .collect();
        assert_eq!(slots, [50_000, 50_220, 50_440]);
        // The next publisher, a moment later, queues behind.
        let second = Booking::plan(first.next_free_ms, 50_010, 2, rate);
        assert_eq!(second.first_ms, 50_660);
        assert_eq!(second.next_free_ms, 51_100);
    }

    #[test]
    fn no_second_holds_more_slots_than_the_rate() {
        for per_second in 1..=10 {
            let rate = EmailRate::new(per_second).unwrap();
            let mut next = 0;
            let mut slots = Vec::new();
            for (now, count) in [(0, 7), (10, 1), (300, 4), (301, 12), (5_000, 3), (5_001, 9)] {
                let booking = Booking::plan(next, now, count, rate);
                next = booking.next_free_ms;
                slots.extend(booking.slots(rate).iter().map(|at| at.timestamp_millis()));
            }
            // Each message reaches SNS anywhere from its slot to the allowance
            // after it: the worst case is one late, the next ones on time.
            let allowance = LATENESS_ALLOWANCE_MS as i64;
            for (index, &late) in slots.iter().enumerate() {
                let arrivals: Vec<i64> = slots
                    .iter()
                    .enumerate()
                    .map(|(other, &at)| if other == index { at + allowance } else { at })
                    .collect();
                for &start in &arrivals {
                    let in_window = arrivals
                        .iter()
                        .filter(|&&at| at >= start && at < start + 1000)
                        .count();
                    assert!(
                        in_window <= per_second as usize,
                        "{in_window} in a second at {per_second}/s with the slot at {late} late"
                    );
                }
            }
        }
    }
}
