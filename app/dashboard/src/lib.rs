//! The admin dashboard: what it reads and does (order listings, queue
//! figures, dead letters, email subscriptions, users), with the rules and the
//! activity log of every action, free of any HTML; sign-in and roles
//! (`auth`); the server-rendered pages (`ui`); and HTTP (`web`).

pub mod auth;
pub mod dead_letters;
pub mod orders;
pub mod outcome;
pub mod overview;
pub mod products;
pub mod queues;
pub mod request;
pub mod resend;
pub mod spreadsheet;
pub mod subscriptions;
pub mod team;
pub mod ui;
pub mod web;

use chrono_tz::Tz;
use domain::Email;
use pipeline::aws::Aws;
use pipeline::email_rate::{EmailRate, EmailSchedule};
use pipeline::settings::{
    check_prices_from_env, email_rate_from_env, env, read_env, zone_from_env,
};
use pipeline::store::OrderStore;
use pipeline::topic::OrderTopic;

use auth::Auth;
use auth::password::Password;

pub use dead_letters::{DeadLetter, DeadLetters};
pub use overview::Overview;
pub use queues::{QueueMonitor, QueueStats};
pub use subscriptions::{EmailSubscription, SubscriptionStatus, Subscriptions};

/// Every AWS call the dashboard makes, as IAM names it: its role allows
/// exactly these, a test checks both ways.
pub const AWS_CALLS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
    "sns:ListSubscriptionsByTopic",
    "sns:GetSubscriptionAttributes",
    "sns:Subscribe",
    "sns:SetSubscriptionAttributes",
    "sns:Unsubscribe",
    "sns:Publish",
    "cloudwatch:GetMetricStatistics",
    "secretsmanager:GetSecretValue",
];

/// Everything the dashboard talks to; cheap to clone (clients share connections).
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub orders: orders::Orders,
    /// The shop's time zone: days, "today" and the charts follow it.
    pub zone: Tz,
    pub queues: QueueMonitor,
    pub dead_letters: DeadLetters,
    pub drafts: dead_letters::Drafts,
    pub subscriptions: Subscriptions,
    pub topic: OrderTopic,
    pub auth: Auth,
    pub products: products::Products,
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
    pub zone: Tz,
    /// Most messages a second the order topic publishes, shared with notify.
    pub email_rate: EmailRate,
    /// Whether ingest checks orders against the catalog (`CHECK_PRICES`).
    pub check_prices: bool,
}

impl DashboardResources {
    pub fn from_env() -> anyhow::Result<Self> {
        let [table, order_queue_url, dead_letter_queue_url, topic_arn] = read_env(env::DASHBOARD)?;
        Ok(Self {
            table,
            order_queue_url,
            dead_letter_queue_url,
            topic_arn,
            zone: zone_from_env()?,
            email_rate: email_rate_from_env()?,
            check_prices: check_prices_from_env()?,
        })
    }
}

impl Dashboard {
    pub fn new(aws: &Aws, resources: DashboardResources) -> Self {
        let dynamodb = aws.dynamodb();
        let sqs = aws.sqs();
        let sns = aws.sns();
        Self {
            auth: Auth::new(dynamodb.clone(), &resources.table),
            products: products::Products::new(
                pipeline::store::products::ProductStore::new(dynamodb.clone(), &resources.table),
                resources.check_prices,
            ),
            drafts: dead_letters::Drafts::new(dynamodb.clone(), &resources.table),
            orders: orders::Orders::new(OrderStore::new(dynamodb.clone(), &resources.table)),
            zone: resources.zone,
            queues: QueueMonitor::new(sqs.clone(), pipeline::aws_client!(aws_sdk_cloudwatch, aws)),
            dead_letters: {
                let letters = DeadLetters::new(
                    sqs,
                    &resources.dead_letter_queue_url,
                    &resources.order_queue_url,
                    OrderStore::new(dynamodb.clone(), &resources.table),
                );
                if resources.check_prices {
                    letters.checking_prices(pipeline::store::products::ProductStore::new(
                        dynamodb.clone(),
                        &resources.table,
                    ))
                } else {
                    letters
                }
            },
            subscriptions: Subscriptions::new(sns.clone(), &resources.topic_arn),
            topic: OrderTopic::new(
                sns,
                resources.topic_arn,
                EmailSchedule::new(dynamodb.clone(), &resources.table, resources.email_rate),
            ),
            order_queue_url: resources.order_queue_url,
            dead_letter_queue_url: resources.dead_letter_queue_url,
        }
    }

    /// The dashboard as deployed: resources from the environment, and the
    /// first admin (address from `ADMIN_EMAIL`, password from Secrets
    /// Manager) created when that address has no account yet. Returns the
    /// session secret, also from Secrets Manager.
    pub async fn from_env(aws: &Aws) -> anyhow::Result<(Self, String)> {
        let secrets = pipeline::aws_client!(aws_sdk_secretsmanager, aws);
        let resources = DashboardResources::from_env()?;
        let [session_secret_arn, admin_email, admin_password_arn] = read_env(env::DASHBOARD_AUTH)?;
        let (session_secret, admin_password) = tokio::try_join!(
            read_secret(&secrets, &session_secret_arn),
            read_secret(&secrets, &admin_password_arn),
        )?;
        let dashboard = Self::new(aws, resources);
        let admin =
            Email::parse(admin_email).map_err(|error| anyhow::anyhow!("ADMIN_EMAIL {error}"))?;
        let password = Password::parse(admin_password)
            .map_err(|error| anyhow::anyhow!("the first admin's password {error}"))?;
        dashboard.auth.ensure_admin(&admin, &password).await?;
        Ok((dashboard, session_secret))
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
