//! Who gets the order emails: the topic's email subscriptions, with their
//! status and an optional minimum order total (an SNS filter policy on the
//! `total` message attribute, in minor units).

use serde_json::json;

use domain::{Email, MinorUnits};
use pipeline::aws::{AwsError, AwsErrorKind};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSubscription {
    pub email: String,
    pub status: SubscriptionStatus,
    /// Only orders with at least this total (minor units) are emailed.
    pub min_total: Option<MinorUnits>,
}

impl EmailSubscription {
    pub fn arn(&self) -> Option<&str> {
        match &self.status {
            SubscriptionStatus::Confirmed { arn } => Some(arn),
            SubscriptionStatus::Pending => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Subscriptions {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
}

/// The filter policy for "orders of at least `min_total`".
pub fn min_total_policy(min_total: MinorUnits) -> String {
    json!({"total": [{"numeric": [">=", min_total.get()]}]}).to_string()
}

/// The minimum total a filter policy of ours asks for, if it is one.
pub fn min_total_of(policy: &str) -> Option<MinorUnits> {
    let policy: serde_json::Value = serde_json::from_str(policy).ok()?;
    let rule = policy.get("total")?.get(0)?.get("numeric")?;
    (rule.get(0)?.as_str()? == ">=")
        .then(|| rule.get(1)?.as_f64())
        .flatten()
        .map(|value| MinorUnits::from_minor(value.max(0.0) as u64))
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
                let (status, min_total) = if arn == PENDING || arn.is_empty() {
                    (SubscriptionStatus::Pending, None)
                } else {
                    let min_total = self.min_total(&arn).await?;
                    (SubscriptionStatus::Confirmed { arn }, min_total)
                };
                found.push(EmailSubscription {
                    email,
                    status,
                    min_total,
                });
            }
        }
        found.sort_by_key(|subscription| subscription.email.to_lowercase());
        Ok(found)
    }

    async fn min_total(&self, arn: &str) -> Result<Option<MinorUnits>, AwsError> {
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
                .and_then(|policy| min_total_of(&policy))),
            // Confirmed a moment ago or just removed: show it without a filter.
            Err(error) => {
                let error = AwsError::from_sdk("reading a subscription's filter", error);
                if error.kind == AwsErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Subscribes an address; SNS then emails it a confirmation link.
    pub async fn subscribe(&self, email: &Email) -> Result<(), AwsError> {
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

    /// Removes a confirmed subscription of this topic.
    pub async fn unsubscribe(&self, arn: &str) -> Result<(), AwsError> {
        self.check_ours(arn)?;
        self.sns
            .unsubscribe()
            .subscription_arn(arn)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("removing a subscription", error))?;
        Ok(())
    }

    /// Emails only orders of at least `min_total`, or all orders with `None`.
    pub async fn set_min_total(
        &self,
        arn: &str,
        min_total: Option<MinorUnits>,
    ) -> Result<(), AwsError> {
        self.check_ours(arn)?;
        let policy = min_total
            .map(min_total_policy)
            .unwrap_or_else(|| "{}".to_owned());
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

    /// Refuses subscription ARNs of other topics (forms can be forged).
    fn check_ours(&self, arn: &str) -> Result<(), AwsError> {
        if arn.starts_with(&format!("{}:", self.topic_arn)) {
            Ok(())
        } else {
            Err(AwsError {
                action: "changing a subscription".to_owned(),
                kind: AwsErrorKind::Rejected,
                code: None,
                message: "that subscription does not belong to the order topic".to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_policies_round_trip() {
        let policy = min_total_policy(MinorUnits::from_minor(5000));
        assert_eq!(policy, r#"{"total":[{"numeric":[">=",5000]}]}"#);
        assert_eq!(min_total_of(&policy), Some(MinorUnits::from_minor(5000)));
        assert_eq!(min_total_of("{}"), None);
        assert_eq!(min_total_of(r#"{"currency":["USD"]}"#), None);
        assert_eq!(min_total_of("not json"), None);
    }
}
