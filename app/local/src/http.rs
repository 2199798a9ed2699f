//! The local HTTP server, with a limit on every wait a client can impose:
//! headers must arrive within [`HEADER_READ`], a body within [`BODY_READ`]
//! (a slow or short body gets 408), so a client that trickles or stops
//! cannot hold a connection open.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// How long a client may take to send a request's headers.
pub const HEADER_READ: Duration = Duration::from_secs(5);
/// How long a client may take to send a request's body.
pub const BODY_READ: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until the task is dropped; each request
/// knows its peer's address (`ConnectInfo`).
pub async fn serve(listener: TcpListener, router: Router) {
    let router = router.layer(RequestBodyTimeoutLayer::new(BODY_READ));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service =
            router
                .clone()
                .map_request(move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request = request.map(axum::body::Body::new);
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    request
                });
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ);
            let connection =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "a connection ended with an error");
            }
        });
    }
}
