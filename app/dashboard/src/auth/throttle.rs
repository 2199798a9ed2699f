//! Sign-in throttling that concurrency cannot race and an attacker cannot
//! turn against the owner.
//!
//! Every attempt is counted atomically *before* the password is checked (one
//! `UpdateItem … ADD`, deciding on the count it returns), so N requests in
//! parallel never check more passwords than the policy allows:
//!
//! - **Per client address**, over all accounts: at most [`ADDRESS_BUDGET`]
//!   attempts in a [`WINDOW_SECS`] window, counted first, so one address
//!   cannot make the dashboard hash passwords without end.
//! - **Per account and client address**: at most [`ATTEMPTS_PER_ADDRESS`]
//!   attempts in a window; then that address is locked out of that account
//!   until the window ends. Someone elsewhere cannot lock the owner out.
//! - **Per account**, from all addresses together: [`UNPACED_ATTEMPTS`] in a
//!   window, then one attempt per pause, the pause doubling from
//!   [`FIRST_PAUSE_SECS`] up to [`MAX_PAUSE_SECS`]: a botnet is slowed to a
//!   trickle. Pacing cannot be timed against the owner: a refusal does not
//!   say when the next turn opens, an attempt refused for pacing is given
//!   back to its address, and a browser the account signed in from before
//!   ([`Known::Device`]) is not paced at all, whoever else claims the turns.
//!
//! Counters live in the table (`pk = THROTTLE`), so every Lambda instance
//! sees them, and expire by themselves through DynamoDB's TTL.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use pipeline::aws::AwsError;
use pipeline::table::{EXPIRES_AT, Key};

use super::ClientAddress;

pub const ADDRESS_BUDGET: i64 = 20;
pub const ATTEMPTS_PER_ADDRESS: i64 = 5;
pub const WINDOW_SECS: i64 = 15 * 60;
pub const UNPACED_ATTEMPTS: i64 = 5;
pub const FIRST_PAUSE_SECS: i64 = 1;
pub const MAX_PAUSE_SECS: i64 = 30;

/// What the throttle allows for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Check the password.
    Check,
    /// Too many attempts from this address for this account; `locked_now`
    /// is true for the one attempt that crossed the limit.
    Locked { until: i64, locked_now: bool },
    /// The account is being paced; try again later (when is not said).
    Paused,
    /// This address tried too often, over all accounts, in this window.
    OverBudget,
}

/// Whether the attempt comes from a browser the account signed in from
/// before (it holds the sealed cookie a successful sign-in leaves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Device,
    Stranger,
}

/// How long the account's pause is after `attempts` attempts in its window.
pub fn pause_after(attempts: i64) -> i64 {
    let doublings = (attempts - UNPACED_ATTEMPTS - 1).clamp(0, 10);
    (FIRST_PAUSE_SECS << doublings).min(MAX_PAUSE_SECS)
}

#[derive(Clone, Debug)]
pub struct Throttle {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn pair_subject(account: &str, address: &ClientAddress) -> String {
    format!("pair#{account}#{address}")
}

fn address_subject(address: &ClientAddress) -> String {
    format!("address#{address}")
}

fn account_subject(account: &str) -> String {
    format!("account#{account}")
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl Throttle {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Counts an attempt to sign in to `account` from `address` and says
    /// whether its password may be checked.
    pub async fn admit(
        &self,
        account: &str,
        address: &ClientAddress,
        known: Known,
        now: i64,
    ) -> Result<Admission, AwsError> {
        let (from_address, _) = self.count(&address_subject(address), now).await?;
        if from_address > ADDRESS_BUDGET {
            return Ok(Admission::OverBudget);
        }
        let (attempts, window_start) = self.count(&pair_subject(account, address), now).await?;
        if attempts > ATTEMPTS_PER_ADDRESS {
            return Ok(Admission::Locked {
                until: window_start + WINDOW_SECS,
                locked_now: attempts == ATTEMPTS_PER_ADDRESS + 1,
            });
        }
        if known == Known::Device {
            return Ok(Admission::Check);
        }
        let (account_attempts, _) = self.count(&account_subject(account), now).await?;
        if account_attempts <= UNPACED_ATTEMPTS {
            return Ok(Admission::Check);
        }
        let admission = self
            .claim_turn(account, now, pause_after(account_attempts))
            .await?;
        if admission == Admission::Paused {
            // No password was checked: the address keeps its allowance, so
            // an owner who retries while a botnet paces the account is
            // slowed, never locked out of their own address.
            self.refund(&pair_subject(account, address)).await?;
            self.refund(&address_subject(address)).await?;
        }
        Ok(admission)
    }

    /// Takes back one attempt of a counter.
    async fn refund(&self, subject: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::throttle(subject).to_attributes()))
            .update_expression("ADD attempts :minus_one")
            .condition_expression("attempts > :zero")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".to_owned()))
            .expression_attribute_values(":zero", AttributeValue::N("0".to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(AwsError::from_sdk("counting a sign-in attempt", error)),
        }
    }

    /// Forgets the counters of a successful sign-in.
    pub async fn succeeded(&self, account: &str, address: &ClientAddress) -> Result<(), AwsError> {
        for subject in [pair_subject(account, address), account_subject(account)] {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(Key::throttle(&subject).to_attributes()))
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("clearing sign-in attempts", error))?;
        }
        Ok(())
    }

    /// Adds one attempt to a counter whose window started at its first
    /// attempt; returns the count and the window's start.
    async fn count(&self, subject: &str, now: i64) -> Result<(i64, i64), AwsError> {
        let key = Key::throttle(subject).to_attributes();
        let expires = AttributeValue::N((now + 2 * WINDOW_SECS).to_string());
        // Both updates name the same values: the window's start, its floor
        // (a window that started before it is over), one attempt, the expiry.
        let update = || {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .expression_attribute_names("#expires", EXPIRES_AT)
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_values(
                    ":floor",
                    AttributeValue::N((now - WINDOW_SECS).to_string()),
                )
                .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
                .expression_attribute_values(":expires", expires.clone())
        };
        // Two tries: a concurrent attempt may have started a new window in between.
        for _ in 0..2 {
            let added = update()
                .update_expression(
                    "SET windowStart = if_not_exists(windowStart, :now), #expires = :expires ADD attempts :one",
                )
                .condition_expression("attribute_not_exists(windowStart) OR windowStart > :floor")
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match added {
                Ok(output) => {
                    let item = output.attributes.unwrap_or_default();
                    return Ok((
                        number(&item, "attempts").unwrap_or(1),
                        number(&item, "windowStart").unwrap_or(now),
                    ));
                }
                Err(error) if is_condition_failure(&error) => {}
                Err(error) => return Err(AwsError::from_sdk("counting a sign-in attempt", error)),
            }
            // The window is over: start a new one, unless someone else just did.
            let restarted = update()
                .update_expression("SET windowStart = :now, attempts = :one, #expires = :expires")
                .condition_expression("windowStart <= :floor")
                .send()
                .await;
            match restarted {
                Ok(_) => return Ok((1, now)),
                Err(error) if is_condition_failure(&error) => {}
                Err(error) => return Err(AwsError::from_sdk("counting a sign-in attempt", error)),
            }
        }
        // Two windows started under us within one request: count it as over the limit.
        Ok((i64::MAX, now))
    }

    /// Takes the account's next turn if its pause is over.
    async fn claim_turn(&self, account: &str, now: i64, pause: i64) -> Result<Admission, AwsError> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(
                Key::throttle(&account_subject(account)).to_attributes(),
            ))
            .update_expression("SET nextTurn = :next")
            .condition_expression("attribute_not_exists(nextTurn) OR nextTurn <= :now")
            .expression_attribute_values(":next", AttributeValue::N((now + pause).to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(Admission::Check),
            Err(error) if is_condition_failure(&error) => Ok(Admission::Paused),
            Err(error) => Err(AwsError::from_sdk("pacing sign-in attempts", error)),
        }
    }
}

fn is_condition_failure<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|service| service.code())
        == Some("ConditionalCheckFailedException")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_its_limit() {
        assert_eq!(pause_after(UNPACED_ATTEMPTS + 1), 1);
        assert_eq!(pause_after(UNPACED_ATTEMPTS + 2), 2);
        assert_eq!(pause_after(UNPACED_ATTEMPTS + 4), 8);
        assert_eq!(pause_after(UNPACED_ATTEMPTS + 9), MAX_PAUSE_SECS);
        assert_eq!(pause_after(i64::MAX), MAX_PAUSE_SECS);
    }
}
