//! Queue figures for ops: backlog, in flight, delayed, redrive policy,
//! visibility timeout and, where CloudWatch has it, the oldest message's age.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use aws_sdk_sqs::types::QueueAttributeName as Name;
use chrono::Utc;

use pipeline::aws::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    pub name: String,
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
    /// From the redrive policy; `None` for a queue without one (the DLQ).
    pub max_receive_count: Option<u32>,
    pub visibility_timeout: Duration,
    pub retention: Duration,
    /// `None` where CloudWatch has no figure (always so locally).
    pub oldest_message_age: Option<Duration>,
}

impl QueueStats {
    pub fn total(&self) -> u64 {
        self.visible + self.in_flight + self.delayed
    }
}

/// The name at the end of a queue URL.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

#[derive(Clone, Debug)]
pub struct QueueMonitor {
    sqs: aws_sdk_sqs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl QueueMonitor {
    pub fn new(sqs: aws_sdk_sqs::Client, cloudwatch: aws_sdk_cloudwatch::Client) -> Self {
        Self { sqs, cloudwatch }
    }

    pub async fn stats(&self, url: &str) -> Result<QueueStats, AwsError> {
        let name = queue_name(url).to_owned();
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(Name::All)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("reading queue {name}"), error))?
            .attributes
            .unwrap_or_default();
        let number = |key: Name| {
            attributes
                .get(&key)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let max_receive_count = attributes
            .get(&Name::RedrivePolicy)
            .and_then(|policy| serde_json::from_str::<serde_json::Value>(policy).ok())
            .and_then(|policy| match &policy["maxReceiveCount"] {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .and_then(|n| u32::try_from(n).ok());
        let oldest_message_age = self.oldest_message_age(&name).await;
        Ok(QueueStats {
            visible: number(Name::ApproximateNumberOfMessages),
            in_flight: number(Name::ApproximateNumberOfMessagesNotVisible),
            delayed: number(Name::ApproximateNumberOfMessagesDelayed),
            max_receive_count,
            visibility_timeout: Duration::from_secs(number(Name::VisibilityTimeout)),
            retention: Duration::from_secs(number(Name::MessageRetentionPeriod)),
            oldest_message_age,
            name,
        })
    }

    /// CloudWatch's count of messages sent to a queue over the last
    /// `window`; `None` where CloudWatch has no figure (always so locally).
    pub async fn messages_sent(&self, url: &str, window: chrono::Duration) -> Option<u64> {
        let now = Utc::now();
        let output = self
            .cloudwatch
            .get_metric_statistics()
            .namespace("AWS/SQS")
            .metric_name("NumberOfMessagesSent")
            .dimensions(
                Dimension::builder()
                    .name("QueueName")
                    .value(queue_name(url))
                    .build(),
            )
            .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                (now - window).timestamp(),
            ))
            .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                now.timestamp(),
            ))
            .period(
                i32::try_from(window.num_seconds())
                    .unwrap_or(86_400)
                    .max(60),
            )
            .statistics(Statistic::Sum)
            .send()
            .await
            .ok()?;
        let points = output.datapoints.unwrap_or_default();
        if points.is_empty() {
            return None;
        }
        Some(
            points
                .iter()
                .filter_map(|point| point.sum)
                .sum::<f64>()
                .max(0.0) as u64,
        )
    }

    /// CloudWatch's `ApproximateAgeOfOldestMessage`, latest minute of the last ten.
    async fn oldest_message_age(&self, queue_name: &str) -> Option<Duration> {
        let now = Utc::now();
        let output = self
            .cloudwatch
            .get_metric_statistics()
            .namespace("AWS/SQS")
            .metric_name("ApproximateAgeOfOldestMessage")
            .dimensions(
                Dimension::builder()
                    .name("QueueName")
                    .value(queue_name)
                    .build(),
            )
            .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                (now.timestamp() - 600).max(0),
            ))
            .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                now.timestamp(),
            ))
            .period(60)
            .statistics(Statistic::Maximum)
            .send()
            .await
            .ok()?;
        let latest = output
            .datapoints
            .unwrap_or_default()
            .into_iter()
            .filter(|point| point.maximum.is_some())
            .max_by_key(|point| point.timestamp.map(|t| t.secs()))?;
        latest
            .maximum
            .map(|seconds| Duration::from_secs_f64(seconds.max(0.0)))
    }
}
