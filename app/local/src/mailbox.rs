//! SNS cannot send email from this machine, so the local stack subscribes a
//! queue of its own to the order topic and prints each notification as the
//! email it would have been, addressed to the topic's email subscribers.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use aws_sdk_sqs::types::QueueAttributeName;
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

/// What SNS puts in an SQS subscriber's message.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    message_id: String,
    #[serde(default)]
    subject: Option<String>,
    message: String,
}

pub struct Mailbox {
    clients: Clients,
    queue_url: String,
    subscriptions: Subscriptions,
    delivered: Arc<Mutex<Vec<DeliveredEmail>>>,
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
            print,
        })
    }

    /// Every email delivered so far (shared with the running mailbox).
    pub fn delivered(&self) -> Arc<Mutex<Vec<DeliveredEmail>>> {
        Arc::clone(&self.delivered)
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
            let email = DeliveredEmail {
                to: to.clone(),
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
