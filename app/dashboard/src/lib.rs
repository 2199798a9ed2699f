//! The admin dashboard: what it reads and does (order listings, queue
//! figures, dead letters, email subscriptions), free of any HTML; sign-in and
//! roles (`auth`); and the server-rendered pages (`ui`).

pub mod auth;
pub mod dead_letters;
pub mod overview;
pub mod queues;
pub mod subscriptions;
pub mod ui;

use crate::auth::Auth;
use crate::auth::password::Password;
use crate::auth::session::SessionKey;
use aws_config::SdkConfig;
use domain::Email;
use pipeline::settings::{MissingSetting, env, read_env};
use pipeline::store::OrderStore;
use pipeline::topic::OrderTopic;

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
    pub auth: Auth,
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
    pub fn new(
        config: &SdkConfig,
        resources: DashboardResources,
        session_key: SessionKey,
        secure_cookies: bool,
    ) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let sns = aws_sdk_sns::Client::new(config);
        Self {
            auth: Auth::new(
                dynamodb.clone(),
                &resources.table,
                session_key,
                secure_cookies,
            ),
            orders: OrderStore::new(dynamodb, resources.table),
            queues: QueueMonitor::new(sqs.clone(), aws_sdk_cloudwatch::Client::new(config)),
            dead_letters: DeadLetters::new(
                sqs,
                &resources.dead_letter_queue_url,
                &resources.order_queue_url,
            ),
            subscriptions: Subscriptions::new(sns.clone(), &resources.topic_arn),
            topic: OrderTopic::new(sns, resources.topic_arn),
            order_queue_url: resources.order_queue_url,
            dead_letter_queue_url: resources.dead_letter_queue_url,
        }
    }
}

/// A secret's string value from Secrets Manager.
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> anyhow::Result<String> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|error| {
            pipeline::aws::AwsError::from_sdk(format!("reading secret {arn}"), error)
        })?;
    output
        .secret_string
        .ok_or_else(|| anyhow::anyhow!("secret {arn} has no string value"))
}

impl Dashboard {
    /// The dashboard as deployed: resources from the environment, the session
    /// key and the first admin's password from Secrets Manager. Creates the
    /// first admin when that address has no account yet.
    pub async fn from_env(config: &SdkConfig) -> anyhow::Result<Self> {
        let secrets = aws_sdk_secretsmanager::Client::new(config);
        let resources = DashboardResources::from_env()?;
        let [session_secret_arn, admin_email, admin_password_arn] = read_env(env::DASHBOARD_AUTH)?;
        let session_key =
            SessionKey::from_secret(&read_secret(&secrets, &session_secret_arn).await?)
                .map_err(|problem| anyhow::anyhow!(problem))?;
        let dashboard = Self::new(config, resources, session_key, true);
        let admin =
            Email::parse(admin_email).map_err(|error| anyhow::anyhow!("ADMIN_EMAIL {error}"))?;
        let password = Password::parse(read_secret(&secrets, &admin_password_arn).await?)
            .map_err(|error| anyhow::anyhow!("the first admin's password {error}"))?;
        dashboard.auth.ensure_admin(&admin, &password).await?;
        Ok(dashboard)
    }
}
