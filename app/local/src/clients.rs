//! Every AWS client the local stack and the tests use, on one emulator.

use aws_config::SdkConfig;
use pipeline::aws::{Patience, config_for_endpoint};

#[derive(Clone, Debug)]
pub struct Clients {
    pub config: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients for the emulator at `endpoint`, waiting as `patience` says.
    pub fn for_endpoint(endpoint: &str, patience: Patience) -> Self {
        Self::from_config(config_for_endpoint(endpoint, patience))
    }

    pub fn from_config(config: SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            streams: aws_sdk_dynamodbstreams::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            config,
        }
    }
}
