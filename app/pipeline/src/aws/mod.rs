//! How the functions reach AWS: one SDK configuration per kind of caller,
//! with a limit on every wait, and one error type for every failed call.

mod error;

pub use error::{AwsError, AwsErrorKind, conditional};

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// How long a caller waits for AWS and how often it tries. Every client is
/// built with one of these, so no call can wait without limit; the reasons
/// for each figure are in docs/pipeline.md ("Faults").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patience {
    /// Opening a connection.
    pub connect: Duration,
    /// One HTTP attempt, from sending the request to the last byte of the answer.
    pub attempt: Duration,
    /// The whole call, retries and back-off included.
    pub operation: Duration,
    /// Attempts in all (the SDK's standard retry mode, with jittered back-off).
    pub max_attempts: u32,
}

impl Patience {
    /// The local order API: a client must get 202 or 503 well within the
    /// five seconds shop front ends wait.
    pub const ORDER_API: Patience = Patience {
        connect: Duration::from_millis(500),
        attempt: Duration::from_millis(1200),
        operation: Duration::from_millis(2500),
        max_attempts: 2,
    };
    /// ingest and notify: every call of a batch must finish or fail well
    /// inside the functions' 30-second timeout, so the batch can report its
    /// failures instead of being killed.
    pub const PIPELINE: Patience = Patience {
        connect: Duration::from_secs(1),
        attempt: Duration::from_secs(2),
        operation: Duration::from_secs(6),
        max_attempts: 3,
    };
    /// The dashboard: a page shows a readable error rather than hang.
    pub const DASHBOARD: Patience = Patience {
        connect: Duration::from_secs(1),
        attempt: Duration::from_secs(3),
        operation: Duration::from_secs(8),
        max_attempts: 3,
    };

    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }

    fn retries(&self) -> RetryConfig {
        RetryConfig::standard().with_max_attempts(self.max_attempts)
    }
}

/// The SDK configuration a Lambda function gets: region and credentials
/// from the environment (which also honours `AWS_ENDPOINT_URL`).
pub async fn config_from_env(patience: Patience) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(patience.timeouts())
        .retry_config(patience.retries())
        .load()
        .await
}

/// The configuration for a local emulator at `endpoint`, with dummy
/// credentials so that nothing probes for real ones.
pub async fn config_for_endpoint(endpoint: &str, patience: Patience) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "local-stack",
        ))
        .timeout_config(patience.timeouts())
        .retry_config(patience.retries())
        .load()
        .await
}
