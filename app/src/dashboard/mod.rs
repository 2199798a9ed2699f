//! What the admin dashboard reads and does, free of any HTML: order
//! listings, queue figures, dead letters and email subscriptions.

pub mod dead_letters;
pub mod overview;
pub mod queues;
pub mod subscriptions;

use crate::aws::Clients;
use crate::settings::{MissingSetting, env, read_env};
use crate::store::OrderStore;
use crate::topic::OrderTopic;

pub use dead_letters::{DeadLetter, DeadLetters, Moved};
pub use overview::Overview;
pub use queues::{QueueMonitor, QueueStats};
pub use subscriptions::{EmailSubscription, SubscriptionStatus, Subscriptions};

/// Everything the dashboard talks to; cheap to clone (clients share connections).
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub orders: OrderStore,
    pub queues: QueueMonitor,
    pub dead_letters: DeadLetters,
    pub subscriptions: Subscriptions,
    pub topic: OrderTopic,
    pub order_queue_url: String,
    pub dead_letter_queue_url: String,
}

/// Where a deployment's resources are.
#[derive(Clone, Debug)]
pub struct DashboardResources {
    pub table: String,
    pub order_queue_url: String,
    pub dead_letter_queue_url: String,
    pub topic_arn: String,
}

impl DashboardResources {
    pub fn from_env() -> Result<Self, MissingSetting> {
        let [table, order_queue_url, dead_letter_queue_url, topic_arn] = read_env(env::DASHBOARD)?;
        Ok(Self {
            table,
            order_queue_url,
            dead_letter_queue_url,
            topic_arn,
        })
    }
}

impl Dashboard {
    pub fn new(clients: &Clients, resources: DashboardResources) -> Self {
        Self {
            orders: OrderStore::new(clients.dynamodb.clone(), resources.table),
            queues: QueueMonitor::new(clients.sqs.clone(), clients.cloudwatch.clone()),
            dead_letters: DeadLetters::new(
                clients.sqs.clone(),
                &resources.dead_letter_queue_url,
                &resources.order_queue_url,
            ),
            subscriptions: Subscriptions::new(clients.sns.clone(), &resources.topic_arn),
            topic: OrderTopic::new(clients.sns.clone(), resources.topic_arn),
            order_queue_url: resources.order_queue_url,
            dead_letter_queue_url: resources.dead_letter_queue_url,
        }
    }
}
