//! The dashboard Lambda function, behind a function URL: the same axum
//! router that `cargo run` serves locally.

use dashboard::auth::ClientAddress;
use lambda_http::request::RequestContext;
use lambda_http::{Error, Request, RequestExt};
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

// One event at a time: one thread spares the wake-ups between workers.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    pipeline::telemetry::init();
    let router = dashboard::web::from_env(&Aws::from_env(Patience::DASHBOARD).await).await?;
    let service = ServiceBuilder::new()
        .map_request(client_address)
        .service(router);
    lambda_http::run(service).await
}
