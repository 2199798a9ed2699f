//! The dashboard Lambda function, behind a function URL: the same axum
//! router that `cargo run` serves locally.

use dashboard::auth::ClientAddress;
use lambda_http::http::header::{HOST, HeaderValue};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Adapter, Error, LambdaEvent, Request, RequestExt};
use pipeline::aws::{Aws, Patience};
use tower::ServiceBuilder;

/// The caller's address as the function URL saw it (`requestContext.http.sourceIp`).
fn client_address(mut request: Request) -> Request {
    let source = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.parse().ok()),
        _ => None,
    };
    request.extensions_mut().insert(ClientAddress(source));
    request
}

/// Whether this is a host (and port) and nothing else, so that lambda_http
/// can build a request's URI from it: it parses `https://{host}{path}` with
/// `Url::parse(..).unwrap()`, so a host that does not parse (`[::1`, `a b`)
/// would panic the invocation, and one with a path or user (`h/evil`,
/// `user@h`) would change the path or the host.
fn usable_host(host: &str) -> bool {
    url::Url::parse(&format!("https://{host}/")).is_ok_and(|url| {
        url.host().is_some()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
    })
}

/// The event with the host AWS reached the function at
/// (`requestContext.domainName`) as its `Host`, in place of what the client
/// sent, and `X-Forwarded-Proto: https` (the URI's scheme comes from it):
/// lambda_http builds the request's URI from both and panics on values it
/// cannot parse, which a client must not be able to cause.
fn trusted_host(mut event: LambdaEvent<LambdaRequest>) -> LambdaEvent<LambdaRequest> {
    if let LambdaRequest::ApiGatewayV2(request) = &mut event.payload {
        let sent = request
            .headers
            .get(HOST)
            .and_then(|host| host.to_str().ok())
            .map(str::to_owned);
        let host = request
            .request_context
            .domain_name
            .clone()
            .or(sent)
            .filter(|host| usable_host(host))
            .and_then(|host| HeaderValue::from_str(&host).ok());
        request.headers.remove(HOST);
        if let Some(host) = host {
            request.headers.insert(HOST, host);
        }
        request.request_context.domain_name = None;
        request
            .headers
            .insert("x-forwarded-proto", HeaderValue::from_static("https"));
    }
    event
}

// One event at a time: one thread spares the wake-ups between workers.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    pipeline::telemetry::init();
    let router = dashboard::web::from_env(&Aws::from_env(Patience::DASHBOARD).await).await?;
    let service = ServiceBuilder::new()
        .map_request(client_address)
        .service(router);
    let handler = ServiceBuilder::new()
        .map_request(trusted_host)
        .service(Adapter::from(service));
    lambda_http::lambda_runtime::run(handler).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(host: &str, domain: Option<&str>, proto: &str) -> LambdaEvent<LambdaRequest> {
        let payload = serde_json::json!({
            "version": "2.0",
            "rawPath": "/login",
            "rawQueryString": "",
            "headers": {"host": host, "x-forwarded-proto": proto},
            "requestContext": {
                "domainName": domain,
                "http": {"method": "GET", "path": "/login", "sourceIp": "203.0.113.9"},
            },
            "isBase64Encoded": false,
        });
        LambdaEvent::new(
            serde_json::from_value(payload).expect("a function URL event"),
            Default::default(),
        )
    }

    #[test]
    fn odd_hosts_and_schemes_become_a_request_not_a_panic() {
        let domain = "abc123.lambda-url.eu-west-1.on.aws";
        for host in [
            "[::1",
            "a b",
            "%zz",
            "x:99999",
            "ü.example",
            "",
            "h/evil",
            "u@h",
            "h?x",
            "h#x",
        ] {
            for proto in ["https", "a b", "javascript:"] {
                for domain in [Some(domain), None, Some("[bad")] {
                    let request: Request = trusted_host(event(host, domain, proto)).payload.into();
                    let seen = request.uri().host().unwrap_or_default().to_owned();
                    if domain == Some("abc123.lambda-url.eu-west-1.on.aws") {
                        assert_eq!(seen, "abc123.lambda-url.eu-west-1.on.aws", "{host:?}");
                        assert_eq!(
                            request.headers()[HOST],
                            "abc123.lambda-url.eu-west-1.on.aws"
                        );
                    }
                    assert_eq!(request.uri().path(), "/login");
                }
            }
        }
    }
}
