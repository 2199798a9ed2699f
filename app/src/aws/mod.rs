//! AWS clients, loaded once per process and shared by every service.

mod error;

pub use error::{AwsError, AwsErrorKind, conditional};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, Region};

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients as a Lambda function gets them: region and credentials from the
    /// environment (which also honours `AWS_ENDPOINT_URL`).
    pub async fn from_env() -> Self {
        Self::from_config(&aws_config::load_defaults(BehaviorVersion::latest()).await)
    }

    /// Clients for a local emulator at `endpoint`, with dummy credentials so
    /// that nothing probes for real ones.
    pub async fn for_endpoint(endpoint: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-stack",
            ))
            .load()
            .await;
        Self::from_config(&config)
    }

    pub fn from_config(config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
        }
    }
}
