//! Who gets the order emails: the topic's email subscriptions, confirmed or
//! pending, each with an optional minimum order total per currency (an SNS
//! filter policy on the `currency` and `total` message attributes together,
//! so 50 euros is compared with euros, not dollars).

use domain::notification::AttributeValue;
use domain::{Currency, Email, MinorUnits, OrderEmail};
use pipeline::aws::{AwsError, AwsErrorKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Dashboard;
use crate::auth::CurrentUser;
use crate::auth::audit::Record;
use crate::outcome::{ActionError, Audited};

/// How long a test notification may wait for a slot on the order topic.
const TEST_NOTIFICATION_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Real SNS lists an unconfirmed subscription with this in place of its ARN.
const PENDING: &str = "PendingConfirmation";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Confirmed {
        arn: String,
    },
    /// SNS sent a confirmation email; the link in it confirms (valid 3 days).
    Pending,
}

/// Which orders a subscription gets: those at or above the minimum of their
/// currency; every order in a currency without a minimum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minimums(pub Vec<(Currency, MinorUnits)>);

impl Minimums {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The SNS filter policy; `{}` (no filter) without minimums.
    pub fn policy(&self) -> String {
        if self.0.is_empty() {
            return "{}".to_owned();
        }
        let codes: Vec<&str> = self.0.iter().map(|(currency, _)| currency.code()).collect();
        let mut branches = vec![json!({"currency": [{"anything-but": codes}]})];
        branches.extend(self.0.iter().map(|(currency, minimum)| {
            json!({"currency": [currency.code()], "total": [{"numeric": [">=", minimum.get()]}]})
        }));
        json!({"$or": branches}).to_string()
    }

    /// The minimums a filter policy of ours asks for (None: not one of ours).
    pub fn from_policy(policy: &str) -> Option<Self> {
        let policy: Value = serde_json::from_str(policy).ok()?;
        if policy.as_object().is_some_and(|map| map.is_empty()) {
            return Some(Self::default());
        }
        let mut minimums = Vec::new();
        for branch in policy.get("$or")?.as_array()? {
            let Some(total) = branch.get("total") else {
                continue;
            };
            let currency = Currency::parse(branch.get("currency")?.get(0)?.as_str()?).ok()?;
            let rule = total.get(0)?.get("numeric")?;
            if rule.get(0)?.as_str()? != ">=" {
                return None;
            }
            let minimum = MinorUnits::from_minor(rule.get(1)?.as_f64()?.max(0.0) as u64);
            minimums.push((currency, minimum));
        }
        Some(Self(minimums))
    }

    /// `every order`, or `orders of at least USD 50.00 or EUR 40.00 (every order in other currencies)`.
    pub fn describe(&self) -> String {
        if self.0.is_empty() {
            return "every order".to_owned();
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(currency, minimum)| minimum.format(*currency))
            .collect();
        format!(
            "orders of at least {} (every order in other currencies)",
            parts.join(" or ")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSubscription {
    pub email: String,
    pub status: SubscriptionStatus,
    pub minimums: Minimums,
}

impl EmailSubscription {
    pub fn arn(&self) -> Option<&str> {
        match &self.status {
            SubscriptionStatus::Confirmed { arn } => Some(arn),
            SubscriptionStatus::Pending => None,
        }
    }
}

/// The addresses of the subscriptions that are not confirmed (new, or
/// suspended by SNS), which get no order email.
pub fn unconfirmed(subscriptions: &[EmailSubscription]) -> Vec<String> {
    subscriptions
        .iter()
        .filter(|subscription| subscription.status == SubscriptionStatus::Pending)
        .map(|subscription| subscription.email.clone())
        .collect()
}

/// The order topic's email subscriptions, through SNS.
#[derive(Clone, Debug)]
pub struct Subscriptions {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Subscriptions {
    pub fn new(sns: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            sns,
            topic_arn: topic_arn.into(),
        }
    }

    pub async fn list(&self) -> Result<Vec<EmailSubscription>, AwsError> {
        let mut found = Vec::new();
        let mut pages = self
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(&self.topic_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|error| AwsError::from_sdk("listing email subscriptions", error))?;
            for subscription in page.subscriptions.unwrap_or_default() {
                if subscription.protocol.as_deref() != Some("email") {
                    continue;
                }
                let arn = subscription.subscription_arn.unwrap_or_default();
                let email = subscription.endpoint.unwrap_or_default();
                let (status, minimums) = if arn == PENDING || arn.is_empty() {
                    (SubscriptionStatus::Pending, Minimums::default())
                } else {
                    let minimums = self.minimums(&arn).await?;
                    (SubscriptionStatus::Confirmed { arn }, minimums)
                };
                found.push(EmailSubscription {
                    email,
                    status,
                    minimums,
                });
            }
        }
        found.sort_by_key(|subscription| subscription.email.to_lowercase());
        Ok(found)
    }

    async fn minimums(&self, arn: &str) -> Result<Minimums, AwsError> {
        let attributes = self
            .sns
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .await;
        match attributes {
            Ok(output) => Ok(output
                .attributes
                .and_then(|attributes| attributes.get("FilterPolicy").cloned())
                .and_then(|policy| Minimums::from_policy(&policy))
                .unwrap_or_default()),
            // Confirmed a moment ago or just removed: show it without a filter.
            Err(error) => {
                let error = AwsError::from_sdk("reading a subscription's filter", error);
                if error.kind == AwsErrorKind::NotFound {
                    Ok(Minimums::default())
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn subscribe(&self, email: &Email) -> Result<(), AwsError> {
        self.sns
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("email")
            .endpoint(email.as_str())
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("subscribing {email}"), error))?;
        Ok(())
    }

    async fn unsubscribe(&self, arn: &str) -> Result<(), AwsError> {
        self.sns
            .unsubscribe()
            .subscription_arn(arn)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("removing a subscription", error))?;
        Ok(())
    }

    async fn set_policy(&self, arn: &str, policy: String) -> Result<(), AwsError> {
        self.sns
            .set_subscription_attributes()
            .subscription_arn(arn)
            .attribute_name("FilterPolicy")
            .attribute_value(policy)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("setting a subscription's filter", error))?;
        Ok(())
    }

    /// [`Self::find`], and what the activity log names: the address, or
    /// the ARN the form sent when there is no such subscription.
    async fn find_for_audit(&self, arn: &str) -> (Result<EmailSubscription, ActionError>, String) {
        let found = self.find(arn).await;
        let target = found
            .as_ref()
            .map(|subscription| subscription.email.clone())
            .unwrap_or_else(|_| arn.to_owned());
        (found, target)
    }

    /// The confirmed subscription with this ARN on the order topic (forms
    /// can be forged: an ARN of another topic or a stale one is refused).
    async fn find(&self, arn: &str) -> Result<EmailSubscription, ActionError> {
        if !arn.starts_with(&format!("{}:", self.topic_arn)) {
            return Err(ActionError::Refused(
                "That subscription does not belong to the order topic.".to_owned(),
            ));
        }
        self.list()
            .await?
            .into_iter()
            .find(|subscription| subscription.arn() == Some(arn))
            .ok_or_else(|| {
                ActionError::NotFound(
                    "That subscription no longer exists; reload the page.".to_owned(),
                )
            })
    }
}

/// One minimum as a form sends it: a currency and an amount in major units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct MinimumField {
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub amount: String,
}

/// Reads the minimums of a form; rows with an empty amount are dropped.
pub fn parse_minimums(fields: &[MinimumField]) -> Result<Minimums, ActionError> {
    let mut minimums: Vec<(Currency, MinorUnits)> = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        if field.amount.trim().is_empty() {
            continue;
        }
        let currency = Currency::parse(field.currency.trim()).map_err(|problem| {
            ActionError::field(
                &format!("minimums[{index}][currency]"),
                format!("The currency {problem}."),
            )
        })?;
        let amount = MinorUnits::parse_major(&field.amount, currency).map_err(|problem| {
            ActionError::field(
                &format!("minimums[{index}][amount]"),
                format!("The minimum for {currency} {problem}."),
            )
        })?;
        if minimums.iter().any(|(seen, _)| *seen == currency) {
            return Err(ActionError::field(
                &format!("minimums[{index}][currency]"),
                format!("{currency} has two minimums; keep one."),
            ));
        }
        minimums.push((currency, amount));
    }
    Ok(Minimums(minimums))
}

impl Dashboard {
    /// Subscribes an address; SNS then emails it a confirmation link.
    pub async fn subscribe(
        &self,
        actor: &CurrentUser,
        address: &str,
    ) -> Result<Audited<Email>, ActionError> {
        let address = address.trim();
        let attempt = async {
            let email = Email::parse(address.to_owned()).map_err(|problem| {
                ActionError::field(
                    "email",
                    format!("{address:?} is not an email address: it {problem}."),
                )
            })?;
            self.subscriptions.subscribe(&email).await?;
            Ok(email)
        }
        .await;
        let record = Record::new(&actor.email, "subscribe", address);
        self.auth.audit.after(record, attempt).await
    }

    /// Removes a confirmed subscription; returns whose it was.
    pub async fn unsubscribe(
        &self,
        actor: &CurrentUser,
        arn: &str,
    ) -> Result<Audited<String>, ActionError> {
        let (found, target) = self.subscriptions.find_for_audit(arn).await;
        let attempt = async {
            let subscription = found?;
            self.subscriptions.unsubscribe(arn).await?;
            Ok(subscription.email)
        }
        .await;
        let record = Record::new(&actor.email, "unsubscribe", target);
        self.auth.audit.after(record, attempt).await
    }

    /// Sets the minimums of a subscription (none: every order).
    pub async fn set_minimums(
        &self,
        actor: &CurrentUser,
        arn: &str,
        fields: &[MinimumField],
    ) -> Result<Audited<(String, Minimums)>, ActionError> {
        let (found, target) = self.subscriptions.find_for_audit(arn).await;
        let attempt = async {
            let minimums = parse_minimums(fields)?;
            let subscription = found?;
            self.subscriptions
                .set_policy(arn, minimums.policy())
                .await?;
            Ok((subscription.email, minimums))
        }
        .await;
        let mut record = Record::new(&actor.email, "set subscription filter", target);
        if let Ok((_, minimums)) = &attempt {
            record = record.detail("gets", minimums.describe());
        }
        self.auth.audit.after(record, attempt).await
    }

    /// Sends a sample email to every subscriber without minimums.
    pub async fn send_test_notification(
        &self,
        actor: &CurrentUser,
    ) -> Result<Audited<String>, ActionError> {
        let email = OrderEmail {
            subject: "Test notification from the order dashboard".to_owned(),
            body: "This is a test of the order emails. If you can read it, order notifications reach you.\n\n\
                   Subscriptions with a minimum order total do not get this test."
                .to_owned(),
            attributes: vec![("test", AttributeValue::String("true".to_owned()))],
        };
        let rate = self.topic.rate().per_second();
        let attempt = self
            .topic
            .publish(&email, TEST_NOTIFICATION_WITHIN)
            .await
            .map_err(|error| match error.kind {
                AwsErrorKind::Throttled => ActionError::Unavailable {
                    what: "Sending the test notification".to_owned(),
                    reason: format!(
                        "the order emails are going out at their limit of {rate} a second, with no room in the next {} seconds.",
                        TEST_NOTIFICATION_WITHIN.as_secs()
                    ),
                    advice: "Try again in a minute, when the orders have been mailed.".to_owned(),
                },
                _ => ActionError::from(error),
            });
        let mut record = Record::new(&actor.email, "send test notification", "order topic");
        if let Ok(message_id) = &attempt {
            record = record.detail("SNS message", message_id);
        }
        self.auth.audit.after(record, attempt).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(currency: &str, amount: &str) -> MinimumField {
        MinimumField {
            currency: currency.to_owned(),
            amount: amount.to_owned(),
        }
    }

    #[test]
    fn minimums_round_trip_through_their_policy() {
        let minimums =
            parse_minimums(&[field("USD", "50"), field("EUR", "40,00"), field("", "")]).unwrap();
        assert_eq!(
            minimums,
            Minimums(vec![
                (Currency::Usd, MinorUnits::from_minor(5000)),
                (Currency::Eur, MinorUnits::from_minor(4000))
            ])
        );
        let policy = minimums.policy();
        assert_eq!(
            policy,
            r#"{"$or":[{"currency":[{"anything-but":["USD","EUR"]}]},{"currency":["USD"],"total":[{"numeric":[">=",5000]}]},{"currency":["EUR"],"total":[{"numeric":[">=",4000]}]}]}"#
        );
        assert_eq!(Minimums::from_policy(&policy), Some(minimums.clone()));
        assert_eq!(
            minimums.describe(),
            "orders of at least USD 50.00 or EUR 40.00 (every order in other currencies)"
        );
        assert_eq!(Minimums::from_policy("{}"), Some(Minimums::default()));
        assert_eq!(Minimums::default().policy(), "{}");
        assert_eq!(Minimums::from_policy("not json"), None);
    }

    #[test]
    fn bad_minimums_name_their_field() {
        let error = parse_minimums(&[field("USD", "50"), field("XXX", "5")]).unwrap_err();
        let ActionError::Invalid { fields, .. } = error else {
            panic!("not invalid")
        };
        assert_eq!(fields[0].field, "minimums[1][currency]");
        assert!(parse_minimums(&[field("USD", "1.2.3")]).is_err());
        assert!(parse_minimums(&[field("USD", "5"), field("USD", "6")]).is_err());
    }
}
