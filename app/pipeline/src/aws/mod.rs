//! How the functions reach AWS: one SDK configuration per kind of caller,
//! with a limit on every wait, and one error type for every failed call.

mod error;

pub use error::{AwsError, AwsErrorKind, conditional};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::region::ProvideRegion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::sdk_config;

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

    /// Sets the limits on an SDK configuration: timeouts, the standard
    /// retry mode, and no stalled-stream protection. That protection polls
    /// a throughput timer on every request and response body; the attempt
    /// timeout already bounds both (no call here streams), so it only costs
    /// wake-ups: about a tenth of ingest's CPU in a profile (README,
    /// Benchmarks).
    fn apply(&self, config: sdk_config::Builder) -> sdk_config::Builder {
        config
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.connect)
                    .operation_attempt_timeout(self.attempt)
                    .operation_timeout(self.operation)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts))
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
    }
}

/// The SDK configuration a Lambda function gets: region, credentials and,
/// when set, `AWS_ENDPOINT_URL` from the environment. Lambda always puts a
/// function's credentials there; aws-config's full default chain would also
/// link its STS, SSO and instance-metadata clients, a tenth of the package.
pub async fn config_from_env(patience: Patience) -> SdkConfig {
    let region = EnvironmentVariableRegionProvider::new().region().await;
    let mut config =
        configure(patience)
            .region(region)
            .credentials_provider(SharedCredentialsProvider::new(
                EnvironmentVariableCredentialsProvider::new(),
            ));
    config.set_endpoint_url(std::env::var("AWS_ENDPOINT_URL").ok());
    config.build()
}

/// The configuration for a local emulator at `endpoint`, with dummy
/// credentials so that nothing probes for real ones.
pub fn config_for_endpoint(endpoint: &str, patience: Patience) -> SdkConfig {
    configure(patience)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "local",
            "local",
            None,
            None,
            "local-stack",
        )))
        .endpoint_url(endpoint)
        .build()
}

/// What every configuration shares: the caller's limits and the SDK's HTTPS
/// client on rustls and ring. The SDK's default client uses aws-lc, which
/// is most of a function's package and brings nothing these calls need.
fn configure(patience: Patience) -> sdk_config::Builder {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    patience.apply(
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(https),
    )
}

/// One AWS call as the SDK names it: service and operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Call {
    pub service: String,
    pub operation: String,
}

/// Records every AWS call made through the clients it is attached to: the
/// tests use it to show that a refused request made none, and that each
/// function calls exactly what its IAM role allows.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<TimedCall>>>);

/// A call and when it started.
type TimedCall = (Call, chrono::DateTime<chrono::Utc>);

impl CallLog {
    pub fn calls(&self) -> Vec<Call> {
        let calls = self.0.lock().expect("call log lock");
        calls.iter().map(|(call, _)| call.clone()).collect()
    }

    pub fn count(&self) -> usize {
        self.0.lock().expect("call log lock").len()
    }

    /// When each call of `service` / `operation` (SDK names: `SNS`,
    /// `Publish`) started, in the order they did.
    pub fn started(&self, service: &str, operation: &str) -> Vec<chrono::DateTime<chrono::Utc>> {
        let calls = self.0.lock().expect("call log lock");
        calls
            .iter()
            .filter(|(call, _)| {
                call.service.eq_ignore_ascii_case(service) && call.operation == operation
            })
            .map(|(_, at)| *at)
            .collect()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let call = Call {
                service: metadata.service().to_owned(),
                operation: metadata.name().to_owned(),
            };
            self.0
                .lock()
                .expect("call log lock")
                .push((call, chrono::Utc::now()));
        }
        Ok(())
    }
}

/// How a component reaches AWS: the SDK configuration and, in tests, a log
/// of its calls. Components build the clients they need from it.
#[derive(Debug, Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub calls: Option<CallLog>,
}

impl Aws {
    pub fn new(config: SdkConfig) -> Self {
        Self {
            config,
            calls: None,
        }
    }

    /// The configuration a Lambda function gets (see [`config_from_env`]).
    pub async fn from_env(patience: Patience) -> Self {
        Self::new(config_from_env(patience).await)
    }

    /// The same configuration, recording every call into `log`.
    pub fn recording(config: SdkConfig, log: CallLog) -> Self {
        Self {
            config,
            calls: Some(log),
        }
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        crate::aws_client!(aws_sdk_dynamodb, self)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        crate::aws_client!(aws_sdk_sqs, self)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        crate::aws_client!(aws_sdk_sns, self)
    }
}

/// A client of the SDK crate `$sdk` from an [`Aws`], with its call log attached.
#[macro_export]
macro_rules! aws_client {
    ($sdk:ident, $aws:expr) => {{
        let aws: &$crate::aws::Aws = $aws;
        let mut builder = $sdk::config::Builder::from(&aws.config);
        if let Some(log) = &aws.calls {
            builder = builder.interceptor(log.clone());
        }
        $sdk::Client::from_conf(builder.build())
    }};
}
