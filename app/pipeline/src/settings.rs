//! Names and settings of the deployed resources, in one place: the local
//! stack creates its resources from these, and `infra/` must agree with them.

use std::time::Duration;

/// Environment variables the functions read, and which function reads
/// which: `infra/template.yaml` must set each (a test checks it).
pub mod env {
    pub const ORDERS_TABLE: &str = "ORDERS_TABLE";
    pub const ORDER_QUEUE_URL: &str = "ORDER_QUEUE_URL";
    pub const DEAD_LETTER_QUEUE_URL: &str = "DEAD_LETTER_QUEUE_URL";
    pub const ORDER_TOPIC_ARN: &str = "ORDER_TOPIC_ARN";

    pub const INGEST: [&str; 2] = [ORDERS_TABLE, DEAD_LETTER_QUEUE_URL];
    /// `true`: every order's lines must be active SKUs at the catalog's
    /// prices (always in browser mode); `false` or unset: no check.
    pub const CHECK_PRICES: &str = "CHECK_PRICES";
    /// What ingest reads when set and does without when not.
    pub const INGEST_OPTIONAL: [&str; 1] = [CHECK_PRICES];
    pub const NOTIFY: [&str; 2] = [ORDERS_TABLE, ORDER_TOPIC_ARN];
    /// Most messages a second the order topic publishes (1 to 10, 5 unset):
    /// every publisher, notify and the dashboard, reads it.
    pub const ORDER_EMAILS_PER_SECOND: &str = "ORDER_EMAILS_PER_SECOND";
    /// The dashboard's address, for the link in a digest (none unset).
    pub const DASHBOARD_URL: &str = "DASHBOARD_URL";
    /// What notify reads when set and does without when not.
    pub const NOTIFY_OPTIONAL: [&str; 3] = [ORDER_EMAILS_PER_SECOND, DASHBOARD_URL, SHOP_TIME_ZONE];
    pub const SESSION_SECRET_ARN: &str = "SESSION_SECRET_ARN";
    pub const ADMIN_EMAIL: &str = "ADMIN_EMAIL";
    pub const ADMIN_PASSWORD_SECRET_ARN: &str = "ADMIN_PASSWORD_SECRET_ARN";

    pub const DASHBOARD: [&str; 4] = [
        ORDERS_TABLE,
        ORDER_QUEUE_URL,
        DEAD_LETTER_QUEUE_URL,
        ORDER_TOPIC_ARN,
    ];
    /// The shop's time zone (an IANA name like `Europe/Lisbon`; UTC when unset):
    /// the dashboard's days, "today" and charts follow it.
    pub const SHOP_TIME_ZONE: &str = "SHOP_TIME_ZONE";
    /// What the dashboard reads when set and does without when not.
    pub const DASHBOARD_OPTIONAL: [&str; 3] =
        [SHOP_TIME_ZONE, ORDER_EMAILS_PER_SECOND, CHECK_PRICES];
    /// The dashboard's sign-in settings, on AWS (locally `cargo run` makes its own).
    pub const DASHBOARD_AUTH: [&str; 3] =
        [SESSION_SECRET_ARN, ADMIN_EMAIL, ADMIN_PASSWORD_SECRET_ARN];
}

/// Reads the named environment variables, in order, saying which is missing.
pub fn read_env<const N: usize>(names: [&str; N]) -> Result<[String; N], MissingSetting> {
    let mut values = Vec::with_capacity(N);
    for name in names {
        let value = optional_env(name).ok_or_else(|| MissingSetting(name.to_owned()))?;
        values.push(value);
    }
    Ok(values.try_into().expect("one value a name"))
}

#[derive(Debug, thiserror::Error)]
#[error(
    "environment variable {0} is not set: the deployment template (or the local stack) must set it"
)]
pub struct MissingSetting(pub String);

/// A setting that is there but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BadSetting {
    #[error(transparent)]
    Missing(#[from] MissingSetting),
    #[error(
        "SHOP_TIME_ZONE {0:?} is not an IANA time zone name like Europe/Lisbon or America/New_York"
    )]
    UnknownZone(String),
    #[error("ORDER_EMAILS_PER_SECOND {0}")]
    EmailRate(String),
    #[error("CHECK_PRICES must be true or false, not {0:?}")]
    CheckPrices(String),
}

/// An optional setting: `None` when unset or blank.
pub fn optional_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// The shop's time zone from its name; UTC for an empty one.
pub fn parse_zone(name: &str) -> Result<chrono_tz::Tz, BadSetting> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(chrono_tz::Tz::UTC);
    }
    name.parse()
        .map_err(|_| BadSetting::UnknownZone(name.to_owned()))
}

/// The shop's time zone from `SHOP_TIME_ZONE` (UTC unset).
/// `CHECK_PRICES`: whether orders must match the catalog.
pub fn check_prices_from_env() -> Result<bool, BadSetting> {
    match optional_env(env::CHECK_PRICES).as_deref().map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(BadSetting::CheckPrices(other.to_owned())),
    }
}

pub fn zone_from_env() -> Result<chrono_tz::Tz, BadSetting> {
    parse_zone(&optional_env(env::SHOP_TIME_ZONE).unwrap_or_default())
}

/// The order topic's rate from `ORDER_EMAILS_PER_SECOND` (5 unset).
pub fn email_rate_from_env() -> Result<crate::email_rate::EmailRate, BadSetting> {
    optional_env(env::ORDER_EMAILS_PER_SECOND)
        .map_or(Ok(crate::email_rate::EmailRate::DEFAULT), |text| {
            crate::email_rate::EmailRate::parse(&text)
        })
        .map_err(BadSetting::EmailRate)
}

/// How long ingest may run on one batch.
pub const INGEST_TIMEOUT: Duration = Duration::from_secs(30);
/// At least six times ingest's timeout, as AWS advises for SQS event sources.
pub const QUEUE_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(6 * 30);
/// Deliveries before SQS moves a message to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;
pub const QUEUE_RETENTION: Duration = Duration::from_secs(4 * 24 * 3600);
/// Dead letters wait longer than orders, for ops to look at them.
pub const DEAD_LETTER_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);
pub const INGEST_BATCH_SIZE: i32 = 10;
/// Large, so that under a full email schedule a digest covers all that waited.
pub const NOTIFY_BATCH_SIZE: usize = 1000;
/// Attempts at one stream batch before it goes to notify's on-failure queue.
pub const NOTIFY_MAX_RETRY_ATTEMPTS: u32 = 10;

/// The names of one deployment's resources. On AWS the template names them;
/// locally (and in tests) they derive from a prefix so stacks never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    pub table: String,
    pub queue: String,
    pub dead_letter_queue: String,
    pub topic: String,
    pub notify_failures_queue: String,
}

impl ResourceNames {
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            table: format!("{prefix}-orders"),
            queue: format!("{prefix}-orders"),
            dead_letter_queue: format!("{prefix}-orders-dlq"),
            topic: format!("{prefix}-order-emails"),
            notify_failures_queue: format!("{prefix}-notify-failures"),
        }
    }
}
