//! What a Lambda function builds from its environment, used for a real call
//! over TLS: region, credentials and endpoint from the environment, the
//! system's trusted roots, rustls on ring. The endpoint is a TLS server that
//! records the request and answers one `ListTables`; the subject here is the
//! client's transport and signing, not DynamoDB.
//!
//! This is the only test in its binary, so setting the environment races
//! nothing.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use pipeline::aws::{Aws, Patience, config_from_env};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS endpoint on localhost with a certificate from a new authority;
/// returns the authority's PEM, the port, and the headers of the one
/// request it answers.
async fn tls_endpoint() -> (String, u16, oneshot::Receiver<hyper::HeaderMap>) {
    let mut authority = CertificateParams::new(Vec::<String>::new()).expect("authority");
    authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let authority = CertifiedIssuer::self_signed(authority, KeyPair::generate().expect("key"))
        .expect("authority certificate");
    let server_key = KeyPair::generate().expect("key");
    let server_certificate = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server")
        .signed_by(&server_key, &authority)
        .expect("server certificate");

    let tls = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![server_certificate.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .expect("server TLS configuration");
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("address").port();
    let (seen, headers) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("a connection");
        let stream = acceptor.accept(tcp).await.expect("a TLS handshake");
        let seen = std::sync::Mutex::new(Some(seen));
        let answer = hyper::service::service_fn(move |request: Request<Incoming>| {
            if let Some(seen) = seen.lock().expect("lock").take() {
                let _ = seen.send(request.headers().clone());
            }
            async {
                Ok::<_, Infallible>(
                    Response::builder()
                        .header("content-type", "application/x-amz-json-1.0")
                        .body(Full::new(Bytes::from_static(
                            br#"{"TableNames":["orders"]}"#,
                        )))
                        .expect("response"),
                )
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), answer)
            .await;
    });
    (authority.pem(), port, headers)
}

#[tokio::test]
async fn a_function_calls_aws_over_tls_with_the_region_credentials_and_endpoint_of_its_environment()
{
    let (authority, port, headers) = tls_endpoint().await;
    let trusted = tempfile::NamedTempFile::new().expect("a file for the trusted roots");
    std::fs::write(trusted.path(), authority).expect("trusted roots written");
    // SAFETY: no other thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", trusted.path());
        std::env::remove_var("SSL_CERT_DIR");
        std::env::set_var("AWS_REGION", "eu-west-3");
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMLAMBDA");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-from-lambda");
        std::env::set_var("AWS_SESSION_TOKEN", "session-from-lambda");
        std::env::set_var("AWS_ENDPOINT_URL", format!("https://localhost:{port}"));
    }
    let config = config_from_env(Patience::PIPELINE).await;

    assert_eq!(
        config.region().map(|region| region.as_ref()),
        Some("eu-west-3")
    );
    let credentials = config
        .credentials_provider()
        .expect("a credentials provider")
        .provide_credentials()
        .await
        .expect("the environment's credentials");
    assert_eq!(credentials.access_key_id(), "AKIDFROMLAMBDA");
    assert_eq!(credentials.session_token(), Some("session-from-lambda"));
    let timeouts = config.timeout_config().expect("timeouts");
    assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(1)));
    assert_eq!(
        timeouts.operation_attempt_timeout(),
        Some(Duration::from_secs(2))
    );
    assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(6)));
    assert_eq!(config.retry_config().expect("retries").max_attempts(), 3);

    let tables = Aws::new(config)
        .dynamodb()
        .list_tables()
        .send()
        .await
        .expect("a call over TLS to a server the system trusts");
    assert_eq!(tables.table_names(), ["orders"]);

    let headers = headers.await.expect("the request's headers");
    let authorization = headers["authorization"].to_str().expect("text");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDFROMLAMBDA/")
            && authorization.contains("/eu-west-3/dynamodb/aws4_request"),
        "signed with the environment's key for its region: {authorization}"
    );
    assert_eq!(headers["x-amz-security-token"], "session-from-lambda");
    assert_eq!(headers["host"], format!("localhost:{port}").as_str());
}
