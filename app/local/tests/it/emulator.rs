//! The emulator itself, where the stack's behaviour rests on it.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::support::moto_endpoint;

/// AWS's endpoints keep a connection open between calls, and so must moto,
/// or every call here pays a TCP connection that Lambda does not (werkzeug's
/// server closed it after each answer; the benchmark's figures rest on this).
/// Plain HTTP on purpose: the SDK's pool would hide a closed connection.
#[tokio::test]
async fn moto_answers_several_calls_on_one_connection() {
    let address = moto_endpoint().trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("moto listens");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 connection");
    let connection = tokio::spawn(connection);
    for call in 1..=3 {
        sender.ready().await.unwrap_or_else(|error| {
            panic!("moto closed the connection before call {call}: {error}")
        });
        let request = hyper::Request::post("/")
            .header("host", address)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.ListTables")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .body(Full::new(Bytes::from_static(b"{}")))
            .expect("a request");
        let response = sender
            .send_request(request)
            .await
            .unwrap_or_else(|error| panic!("call {call} on the open connection failed: {error}"));
        assert_eq!(response.status(), 200, "call {call}");
        let asks_to_close = response
            .headers()
            .get_all(hyper::header::CONNECTION)
            .iter()
            .any(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
        response
            .into_body()
            .collect()
            .await
            .expect("the answer's body");
        assert!(
            !asks_to_close,
            "moto asked to close the connection after call {call}"
        );
    }
    drop(sender);
    connection
        .await
        .expect("the connection task")
        .expect("the connection ends cleanly");
}
