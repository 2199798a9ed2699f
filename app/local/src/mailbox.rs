//! SNS cannot send email from this machine, so the local stack subscribes a
//! queue of its own to the order topic and prints each notification as the
//! email it would have been, addressed to the topic's email subscribers.
//!
//! It keeps SNS's rule for email too: an email subscription that gets more
//! than 10 messages in one second is suspended (on AWS it goes back to
//! "pending confirmation" and is deleted after 48 hours unless confirmed
//! again). The mailbox then stops delivering to that address and says so
//! loudly, so a stack that mails too fast fails here as it would on AWS.
//! It counts every message for every address, filter policies aside, which
//! is stricter than SNS for a subscriber with a minimum.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::Clients;
use crate::provision::create_queue;
use dashboard::Subscriptions;

/// One notification as the subscribers received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredEmail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub message_id: String,
}

impl DeliveredEmail {
    /// The orders this email names: its own, or a digest's.
    pub fn order_ids(&self) -> Vec<String> {
        domain::digest::orders_named(&self.subject, &self.body)
    }
}

/// What SNS puts in an SQS subscriber's message.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    message_id: String,
    #[serde(default)]
    subject: Option<String>,
    message: String,
}

/// An email subscription the mailbox suspended, as SNS would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    pub email: String,
    /// When the message over the limit was sent.
    pub at: DateTime<Utc>,
    /// Messages the address got in the second that ended with it.
    pub in_one_second: usize,
}

/// SNS's hard limit: messages a second to one email subscription.
pub const SNS_EMAIL_LIMIT: usize = 10;

/// Send times (Unix milliseconds) of the messages each address got lately.
#[derive(Debug, Default)]
struct DeliveryRate {
    sent: HashMap<String, Vec<i64>>,
}

impl DeliveryRate {
    /// Counts a message to `email` sent at `sent_ms`; returns the most
    /// messages in any one second around it.
    fn count(&mut self, email: &str, sent_ms: i64) -> usize {
        let times = self.sent.entry(email.to_owned()).or_default();
        let at = times.partition_point(|&t| t <= sent_ms);
        times.insert(at, sent_ms);
        // Messages reach the mailbox a little out of order; a few seconds is plenty.
        let newest = *times.last().expect("just inserted");
        times.retain(|&t| t > newest - 5_000);
        times
            .iter()
            .filter(|&&start| start > sent_ms - 1_000 && start <= sent_ms)
            .map(|&start| {
                times
                    .iter()
                    .filter(|&&t| t >= start && t < start + 1_000)
                    .count()
            })
            .max()
            .unwrap_or(1)
    }
}

pub struct Mailbox {
    clients: Clients,
    queue_url: String,
    subscriptions: Subscriptions,
    delivered: Arc<Mutex<Vec<DeliveredEmail>>>,
    suspended: Arc<Mutex<Vec<Suspension>>>,
    rate: Mutex<DeliveryRate>,
    print: bool,
}

impl Mailbox {
    /// Creates the mailbox queue and subscribes it to the topic.
    pub async fn subscribe(
        clients: &Clients,
        queue_name: &str,
        topic_arn: &str,
        print: bool,
    ) -> anyhow::Result<Self> {
        let (queue_url, queue_arn) = create_queue(
            clients,
            queue_name,
            Vec::<(QueueAttributeName, String)>::new(),
        )
        .await?;
        clients
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .context("subscribing the local mailbox to the order topic")?;
        Ok(Self {
            clients: clients.clone(),
            queue_url,
            subscriptions: Subscriptions::new(clients.sns.clone(), topic_arn),
            delivered: Arc::default(),
            suspended: Arc::default(),
            rate: Mutex::default(),
            print,
        })
    }

    /// Every email delivered so far (shared with the running mailbox).
    pub fn delivered(&self) -> Arc<Mutex<Vec<DeliveredEmail>>> {
        Arc::clone(&self.delivered)
    }

    /// The subscriptions suspended so far (shared with the running mailbox).
    pub fn suspended(&self) -> Arc<Mutex<Vec<Suspension>>> {
        Arc::clone(&self.suspended)
    }

    pub async fn run(self) {
        loop {
            if let Err(error) = self.poll_once().await {
                tracing::warn!(error = %format!("{error:#}"), "reading the local mailbox failed; trying again");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }

    async fn poll_once(&self) -> anyhow::Result<()> {
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let to = self.email_subscribers().await?;
        for message in messages {
            let envelope: Envelope = serde_json::from_str(message.body().unwrap_or_default())
                .context("the mailbox got a message that is not an SNS notification")?;
            let sent_ms = message
                .attributes()
                .and_then(|attributes| attributes.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|ms| ms.parse::<i64>().ok())
                .unwrap_or_else(|| Utc::now().timestamp_millis());
            let email = DeliveredEmail {
                to: self.deliver_to(&to, sent_ms),
                subject: envelope.subject.unwrap_or_default(),
                body: envelope.message,
                message_id: envelope.message_id,
            };
            if self.print {
                print_email(&email);
            }
            self.delivered.lock().expect("mailbox lock").push(email);
            if let Some(receipt) = message.receipt_handle() {
                self.clients
                    .sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await?;
            }
        }
        Ok(())
    }

    /// Who gets a message sent at `sent_ms`: the subscribers not suspended,
    /// suspending those it takes over SNS's limit.
    fn deliver_to(&self, subscribers: &[String], sent_ms: i64) -> Vec<String> {
        let mut suspended = self.suspended.lock().expect("mailbox lock");
        let mut rate = self.rate.lock().expect("mailbox lock");
        let mut to = Vec::new();
        for email in subscribers {
            if suspended
                .iter()
                .any(|suspension| &suspension.email == email)
            {
                continue;
            }
            let in_one_second = rate.count(email, sent_ms);
            if in_one_second > SNS_EMAIL_LIMIT {
                let at = DateTime::from_timestamp_millis(sent_ms).unwrap_or_default();
                eprintln!(
                    "\n🚨 SNS WOULD SUSPEND {email}: {in_one_second} messages in one second (at {at}), over SNS's limit of {SNS_EMAIL_LIMIT} a second for an email subscription. On AWS the subscription goes back to pending confirmation and is deleted after 48 hours unless confirmed again; the local mailbox delivers nothing more to it.\n"
                );
                tracing::error!(%email, in_one_second, "email subscription suspended: over SNS's limit of 10 messages a second");
                suspended.push(Suspension {
                    email: email.clone(),
                    at,
                    in_one_second,
                });
                continue;
            }
            to.push(email.clone());
        }
        to
    }

    /// Confirmed email subscribers: who SNS would mail.
    async fn email_subscribers(&self) -> anyhow::Result<Vec<String>> {
        let subscriptions = self.subscriptions.list().await?;
        Ok(subscriptions
            .into_iter()
            .filter(|subscription| subscription.arn().is_some())
            .map(|subscription| subscription.email)
            .collect())
    }
}

fn print_email(email: &DeliveredEmail) {
    let to = if email.to.is_empty() {
        "(no email subscribers)".to_owned()
    } else {
        email.to.join(", ")
    };
    let mut text = format!("\n📧 email to {to}: {}\n", email.subject);
    for line in email.body.lines() {
        text.push_str("   │ ");
        text.push_str(line);
        text.push('\n');
    }
    println!("{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_most_messages_in_any_one_second() {
        let mut rate = DeliveryRate::default();
        for (n, ms) in [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
            .iter()
            .enumerate()
        {
            assert_eq!(rate.count("a@example.com", *ms), n + 1);
        }
        // 1,000 ms after the first: a new second, holding nine of the others.
        assert_eq!(rate.count("a@example.com", 1_000), 10);
        // Out of order: a message sent at 950 makes 11 in [0, 1000).
        assert_eq!(rate.count("a@example.com", 950), 11);
        assert_eq!(
            rate.count("b@example.com", 950),
            1,
            "each address counts alone"
        );
    }
}
