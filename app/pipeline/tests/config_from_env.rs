//! The configuration a Lambda function builds from its environment. This
//! is the only test in its binary, so setting the environment races nothing.

use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use pipeline::aws::{Patience, config_from_env};

#[test]
fn a_function_takes_region_credentials_and_endpoint_from_its_environment() {
    // SAFETY: no other thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("AWS_REGION", "eu-west-3");
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMLAMBDA");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-from-lambda");
        std::env::set_var("AWS_SESSION_TOKEN", "session-from-lambda");
        std::env::set_var("AWS_ENDPOINT_URL", "http://127.0.0.1:5999");
    }
    let config = futures::executor::block_on(config_from_env(Patience::PIPELINE));

    assert_eq!(
        config.region().map(|region| region.as_ref()),
        Some("eu-west-3")
    );
    assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5999"));
    let credentials = futures::executor::block_on(
        config
            .credentials_provider()
            .expect("a credentials provider")
            .provide_credentials(),
    )
    .expect("the environment's credentials");
    assert_eq!(credentials.access_key_id(), "AKIDFROMLAMBDA");
    assert_eq!(credentials.secret_access_key(), "secret-from-lambda");
    assert_eq!(credentials.session_token(), Some("session-from-lambda"));

    let timeouts = config.timeout_config().expect("timeouts");
    assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(1)));
    assert_eq!(
        timeouts.operation_attempt_timeout(),
        Some(Duration::from_secs(2))
    );
    assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(6)));
    assert_eq!(config.retry_config().expect("retries").max_attempts(), 3);
    assert!(
        config.http_client().is_some(),
        "the rustls/ring HTTPS client"
    );
}
