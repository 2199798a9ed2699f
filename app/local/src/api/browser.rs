//! Browser mode (`ORDER_API_AUTH=none`, the template's `OrderApiAuth: NONE`):
//! a checkout page on one of the listed origins posts orders itself. The
//! deployed API puts two things in front of the order method, and so does
//! the local one:
//!
//! 1. WAF (`OrderApiFirewall`): a request that carries an `Origin` must
//!    carry a listed one, else 403 [`BLOCKED`] without CORS headers. (WAF's
//!    rate per client address is not played here: every local caller is
//!    127.0.0.1.)
//! 2. CORS on every answer, as the template's OPTIONS mock, response
//!    templates and gateway responses give it: tower-http's `CorsLayer` with
//!    the same methods, headers and expiry.
//!
//! Which origins may be listed is [`AllowedOrigins::parse`], the template's
//! `OrderApiAllowedOrigins` pattern (a test keeps the two in agreement).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::IDEMPOTENCY_KEY;

pub const BLOCKED: &str = "Blocked before the order API: orders come only from the shop's checkout pages, and each client address may send only so many in 5 minutes. Nothing was queued.";

/// How long a browser may keep a preflight's answer.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// WAF's regex pattern sets hold at most 10 expressions.
pub const MOST_ORIGINS: usize = 10;

/// The origins of the checkout pages that may post orders: never a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<HeaderValue>);

impl AllowedOrigins {
    pub const VAR: &'static str = "ORDER_API_ALLOWED_ORIGINS";

    /// Up to ten origins, comma-separated, exactly as a browser sends them
    /// in `Origin`: `http` or `https`, a host of lower-case letters, digits,
    /// `-` and dots, an optional port; no path, no wildcard, no spaces.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err(format!(
                "{} must name the checkout pages' origins, comma-separated (https://shop.example)",
                Self::VAR
            ));
        }
        let origins: Vec<&str> = text.split(',').collect();
        if origins.len() > MOST_ORIGINS {
            return Err(format!(
                "{} lists {} origins; WAF takes at most {MOST_ORIGINS}",
                Self::VAR,
                origins.len()
            ));
        }
        origins
            .into_iter()
            .map(|origin| {
                if is_origin(origin) {
                    Ok(HeaderValue::from_str(origin).expect("an origin is a header value"))
                } else {
                    Err(format!(
                        "{} holds {origin:?}, which is not an origin as a browser sends it: \
                         http:// or https://, a lower-case host, an optional port, nothing \
                         after (no path, no trailing slash, no wildcard)",
                        Self::VAR
                    ))
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn from_env() -> Result<Self, String> {
        Self::parse(&std::env::var(Self::VAR).unwrap_or_default())
    }

    pub fn allows(&self, origin: &HeaderValue) -> bool {
        self.0.contains(origin)
    }

    /// As the template takes them (`OrderApiAllowedOrigins`).
    pub fn to_parameter(&self) -> String {
        self.0
            .iter()
            .map(|origin| origin.to_str().expect("parsed from text"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The grammar of the template's pattern for one origin (a hand-written
/// scan: `url::Url` accepts more, IPv6 and IDNs among them, than WAF's
/// escaped-dot expressions are built for).
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    host.split('.').all(label_ok)
        && port.is_none_or(|port| {
            (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The order method as browser mode serves it: WAF's origin rule outside,
/// CORS inside.
pub fn front_door<S>(method: MethodRouter<S>, origins: &AllowedOrigins) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.0.clone()))
        .allow_methods([Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static(IDEMPOTENCY_KEY),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE);
    method.layer(cors).layer(middleware::from_fn_with_state(
        origins.clone(),
        only_listed_origins,
    ))
}

/// WAF's `checkout-origins-only` rule. Two `Origin` headers are blocked
/// too: a browser sends one.
async fn only_listed_origins(
    State(origins): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    let mut given = request.headers().get_all(header::ORIGIN).iter();
    match (given.next(), given.next()) {
        (None, _) => next.run(request).await,
        (Some(origin), None) if origin.is_empty() || origins.allows(origin) => {
            next.run(request).await
        }
        _ => {
            tracing::info!(
                origin = ?request.headers().get(header::ORIGIN),
                "blocked an order request from an origin that is not a checkout page"
            );
            super::problem(StatusCode::FORBIDDEN, BLOCKED, None).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    /// Two `Origin` headers (no browser sends them; WAF and API Gateway
    /// may each read another one) are blocked, as is a listed one twice.
    #[tokio::test]
    async fn two_origins_are_blocked() {
        let origins = AllowedOrigins::parse("https://shop.example").unwrap();
        let app = Router::new().route("/orders", front_door(post(|| async { "queued" }), &origins));
        for second in ["https://evil.example", "https://shop.example"] {
            let request = Request::post("/orders")
                .header(header::ORIGIN, "https://shop.example")
                .header(header::ORIGIN, second)
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{second}");
            assert!(
                !response
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
        }
    }

    #[test]
    fn origins_as_browsers_send_them_are_taken() {
        for text in [
            "https://shop.example",
            "http://127.0.0.1:8080",
            "https://shop.example,https://www.shop.example",
            "https://a-b.c-d.example:443",
        ] {
            let origins = AllowedOrigins::parse(text).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(origins.to_parameter(), text);
        }
    }

    #[test]
    fn wildcards_paths_and_odd_spellings_are_refused_with_the_reason() {
        // The full list of what is refused is checked against the
        // template's pattern (tests/it/infra.rs); these say why.
        for text in ["", "*", "https://shop.example/checkout", "null"] {
            let error = AllowedOrigins::parse(text).expect_err(text);
            assert!(error.contains(AllowedOrigins::VAR), "{error}");
        }
        let eleven = ["https://shop.example"; 11].join(",");
        assert!(
            AllowedOrigins::parse(&eleven)
                .unwrap_err()
                .contains("at most 10")
        );
    }
}
