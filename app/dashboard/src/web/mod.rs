//! The dashboard over HTTP: one axum router, served by `cargo run` and by
//! the Lambda function URL alike.
//!
//! Deny by default: a request reaches code only through a route registered
//! here from `ui::ENDPOINTS`, each with the access its page or action
//! declares. Paths are checked for canonical form before routing; assets are
//! served by their exact hashed names; anything else gets a static 404.

pub mod canonical;
pub mod cookies;
pub mod dispatch;
pub mod gate;
pub mod refusal;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::generate_route_list;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::Dashboard;
use crate::auth::ClientAddress;
use crate::request::{Endpoint, Kind, Visitor};
use crate::ui::{self, App, assets};
use cookies::Cookies;
use gate::Gate;

/// `Content-Security-Policy` of every answer: scripts and styles from the
/// dashboard only, no framing, forms to the dashboard only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Why the framework and the list of endpoints disagree.
#[derive(Debug, thiserror::Error)]
pub enum Unregistered {
    #[error(
        "{kind} {path} exists but is not in ui::ENDPOINTS: declare who may reach it (impl Page or impl Action) and list it there"
    )]
    Undeclared { kind: &'static str, path: String },
    #[error("ui::ENDPOINTS lists {0}, which App does not route")]
    Unrouted(String),
}

/// The endpoints to serve: `ui::ENDPOINTS`, checked against every route of
/// `App` and every server function the framework registered.
pub fn endpoints() -> Result<Vec<Endpoint>, Unregistered> {
    let declared = ui::ENDPOINTS.to_vec();
    let paths: BTreeSet<&str> = declared.iter().map(Endpoint::path).collect();
    let pages: BTreeSet<String> = generate_route_list(App)
        .iter()
        .map(|listing| listing.path().to_owned())
        .collect();
    for page in &pages {
        if !paths.contains(page.as_str()) {
            return Err(Unregistered::Undeclared {
                kind: "page",
                path: page.clone(),
            });
        }
    }
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        if !paths.contains(path) {
            return Err(Unregistered::Undeclared {
                kind: "server function",
                path: path.to_owned(),
            });
        }
    }
    for endpoint in &declared {
        if endpoint.kind() == Kind::Page && !pages.contains(endpoint.path()) {
            return Err(Unregistered::Unrouted(endpoint.path().to_owned()));
        }
    }
    Ok(declared)
}

/// The dashboard's router. Panics when an endpoint has no declared access
/// (see [`endpoints`]): a dashboard that would serve one must not start.
pub fn router(dashboard: Dashboard, cookies: Cookies) -> Router {
    let endpoints = endpoints().unwrap_or_else(|problem| panic!("{problem}"));
    let cookies = Arc::new(cookies);
    let gate = Gate {
        auth: dashboard.auth.clone(),
        cookies: Arc::clone(&cookies),
    };
    let secure = cookies.secure;
    let page_dashboard = dashboard.clone();
    let context = move || {
        provide_context(page_dashboard.clone());
        // The nonce of this page's Content-Security-Policy, for the few
        // inline scripts Leptos writes (`script_nonce`).
        if let Some(ScriptNonce(nonce)) = use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ScriptNonce>().cloned())
        {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    };
    let render = leptos_axum::render_app_async_with_context(context.clone(), ui::shell);

    let mut gated = Router::new();
    for endpoint in endpoints {
        let check =
            middleware::from_fn_with_state((endpoint.access(), endpoint.kind()), gate::require);
        gated = match endpoint {
            Endpoint::Page { path, .. } => gated.route(
                path,
                get(render.clone())
                    .layer(check)
                    .layer(middleware::from_fn(script_nonce)),
            ),
            Endpoint::Action { path, page, .. } => {
                let cookies = Arc::clone(&cookies);
                let context = context.clone();
                let run = move |request: Request| {
                    dispatch::run(path, page, Arc::clone(&cookies), context.clone(), request)
                };
                gated.route(path, post(run).layer(check))
            }
            Endpoint::Download { path, serve, .. } => {
                let dashboard = dashboard.clone();
                let run = move |request: Request| {
                    let visitor = request
                        .extensions()
                        .get::<Visitor>()
                        .cloned()
                        .unwrap_or(Visitor::Anonymous);
                    serve(dashboard.clone(), visitor, request)
                };
                gated.route(path, get(run).layer(check))
            }
        };
    }
    let gated = gated.route_layer(middleware::from_fn_with_state(gate, gate::authenticate));

    let mut router = gated
        .route(&format!("{}/{{file}}", assets::PREFIX), get(asset))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(refusal::not_found)
        .layer(middleware::from_fn(canonical::refuse_non_canonical))
        .layer(middleware::from_fn(client_address))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    if secure {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    router
}

/// `GET /assets/{file}`: an embedded file by its exact hashed name, else the static 404.
async fn asset(Path(file): Path<String>) -> Response {
    match assets::hashed(&file) {
        Some(response) => response,
        None => refusal::not_found().await,
    }
}

/// A page's script nonce.
#[derive(Debug, Clone)]
pub struct ScriptNonce(pub String);

/// Gives a page a fresh nonce and a Content-Security-Policy that lets
/// exactly the inline scripts carrying it run (Leptos writes a few: resource
/// bookkeeping), so the browser's console stays clean.
async fn script_nonce(mut request: Request, next: Next) -> Response {
    let nonce = crate::auth::random_token();
    request.extensions_mut().insert(ScriptNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let policy = CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'",
        &format!("script-src 'self' 'nonce-{nonce}'"),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Makes sure every request knows where it came from: the Lambda entrypoint
/// sets it from the function URL's request context; locally it is the
/// socket's peer. A client-sent header never counts.
async fn client_address(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<ClientAddress>().is_none() {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        request.extensions_mut().insert(ClientAddress(peer));
    }
    next.run(request).await
}

/// The dashboard as deployed: resources from the environment, the session
/// secret and the first admin's password from Secrets Manager.
pub async fn from_env(aws: &pipeline::aws::Aws) -> anyhow::Result<Router> {
    let (dashboard, session_secret) = Dashboard::from_env(aws).await?;
    let cookies = Cookies::new(&session_secret, true)?;
    Ok(router(dashboard, cookies))
}
