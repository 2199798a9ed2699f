//! The SNS topic that emails every subscribed address about new orders, no
//! faster than its [`EmailSchedule`] allows.

use std::collections::HashMap;

use std::time::Duration;

use aws_sdk_sns::types::MessageAttributeValue;

use crate::aws::{AwsError, AwsErrorKind};
use crate::email_rate::{EmailRate, EmailSchedule, START_LATENESS_MS, wait_for};
use domain::OrderEmail;
use domain::notification::AttributeValue;

#[derive(Clone, Debug)]
pub struct OrderTopic {
    client: aws_sdk_sns::Client,
    arn: String,
    schedule: EmailSchedule,
}

impl OrderTopic {
    /// The topic; every publish books a slot of `schedule` first.
    pub fn new(
        client: aws_sdk_sns::Client,
        arn: impl Into<String>,
        schedule: EmailSchedule,
    ) -> Self {
        Self {
            client,
            arn: arn.into(),
            schedule,
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub fn rate(&self) -> EmailRate {
        self.schedule.rate()
    }

    /// Publishes one email in a slot that starts within `within`; returns
    /// SNS's message id, or a `Throttled` error when the schedule is fuller.
    pub async fn publish(&self, email: &OrderEmail, within: Duration) -> Result<String, AwsError> {
        match self.publish_each(&[email], within).await? {
            Some(mut results) => results.remove(0),
            None => Err(booked_up(self.rate(), within)),
        }
    }

    /// Publishes each email in a slot of its own, if slots for all of them
    /// start within `within`; `None`, and nothing published, when the
    /// schedule is fuller. One result an email, in order.
    pub async fn publish_each(
        &self,
        emails: &[&OrderEmail],
        within: Duration,
    ) -> Result<Option<Vec<Result<String, AwsError>>>, AwsError> {
        Ok(self
            .publish_first(&[(emails, within)])
            .await?
            .map(|(_, results)| results))
    }

    /// Publishes the first of `choices` (emails, and how soon the last of
    /// their slots must start) that the schedule has room for, each email in
    /// a slot of its own; returns which, and one result an email. `None`:
    /// none fits, nothing published.
    pub async fn publish_first(
        &self,
        choices: &[(&[&OrderEmail], Duration)],
    ) -> Result<Option<(usize, Vec<Result<String, AwsError>>)>, AwsError> {
        let counts: Vec<(u32, Duration)> = choices
            .iter()
            .map(|(emails, within)| (emails.len() as u32, *within))
            .collect();
        let Some((choice, mut slots)) = self.schedule.book_first(&counts).await? else {
            return Ok(None);
        };
        let emails = choices[choice].0;
        let mut results = Vec::with_capacity(emails.len());
        let mut next = 0;
        while let Some(email) = emails.get(results.len()) {
            let late = wait_for(slots[next]).await;
            if late > Duration::from_millis(START_LATENESS_MS) {
                // Slow to get here (a long publish, a paused instance): the
                // rest take new slots rather than crowd into the next second.
                let left = (emails.len() - results.len()) as u32;
                slots = self
                    .schedule
                    .book(left, MAX_REBOOKING_WAIT)
                    .await?
                    .ok_or_else(|| booked_up(self.rate(), MAX_REBOOKING_WAIT))?;
                next = 0;
                continue;
            }
            results.push(self.publish_now(email).await);
            next += 1;
        }
        Ok(Some((choice, results)))
    }

    async fn publish_now(&self, email: &OrderEmail) -> Result<String, AwsError> {
        let output = self
            .client
            .publish()
            .topic_arn(&self.arn)
            .subject(&email.subject)
            .message(&email.body)
            .set_message_attributes(Some(attributes(email)))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("publishing an order email", error))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// How long the rest of a booking that ran late may wait for new slots.
const MAX_REBOOKING_WAIT: Duration = Duration::from_secs(20);

/// The error for a schedule with no room soon enough.
pub fn booked_up(rate: EmailRate, within: Duration) -> AwsError {
    AwsError {
        action: "booking a slot for the order emails".to_owned(),
        kind: AwsErrorKind::Throttled,
        code: None,
        message: format!(
            "the order topic sends at most {} emails a second and is booked for more than {} s ahead",
            rate.per_second(),
            within.as_secs()
        ),
    }
}

/// The email's attributes, which subscriptions' filter policies match.
fn attributes(email: &OrderEmail) -> HashMap<String, MessageAttributeValue> {
    email
        .attributes
        .iter()
        .map(|(name, value)| {
            let (data_type, text) = match value {
                AttributeValue::String(text) => ("String", text.clone()),
                AttributeValue::Number(number) => ("Number", number.to_string()),
            };
            let attribute = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(text)
                .build()
                .expect("data type is set");
            ((*name).to_owned(), attribute)
        })
        .collect()
}
