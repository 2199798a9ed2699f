//! `POST /orders` on this machine, answering exactly as the deployed API
//! Gateway integration does (`infra/template.yaml`; the contract test runs
//! both on one table of cases), in the same order of checks:
//!
//! 0. browser mode only: an `Origin` that is not listed, 403 (WAF), and
//!    CORS headers on every other answer, a preflight answered with them
//!    ([`browser`]);
//! 1. another method: 405, `Allow: POST`;
//! 2. signed callers only (`OrderApiAuth::Signed`, the default): no
//!    Signature Version 4, or one that does not hold for the checkout's key
//!    and this body: 403 ([`signature`]);
//! 3. a `Content-Type` other than exactly `application/json` (parameters
//!    and capitals included, as AWS documents no other match): 415;
//! 4. a body that is not a valid order as API Gateway's validator reads it
//!    (its first JSON value, a repeated key's last value): 400;
//! 5. no `Content-Type` at all: 415;
//! 6. an `Idempotency-Key` header (any case) that is not 8 to 64 of
//!    `A-Z a-z 0-9 - _`, or more than one: 400;
//! 7. a body over 64 KiB (UTF-8 bytes): 413;
//! 8. anything after the JSON object, or a key twice in one object: 400;
//! 9. queued: 202 `{"orderId": …}`, or 503 with `Retry-After` when the queue
//!    cannot be reached.
//!
//! A refused request queues nothing. Locally a 400 lists every field at
//! fault; API Gateway cannot, and `ErrorDetail::AsDeployed` answers as it does.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use domain::request::MAX_BODY_BYTES;
use domain::{FieldError, OrderId, OrderRequest};
use pipeline::queue::OrderQueue;
use serde::Serialize;

pub mod browser;
pub mod signature;

use browser::AllowedOrigins;
use signature::{CheckoutKey, Refusal};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The most the local API reads of a body at all (API Gateway's is 10 MB);
/// bodies between 64 KiB and this are validated first, as on AWS.
pub const READ_LIMIT: usize = 1024 * 1024;

/// How a refused body is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorDetail {
    /// Every field at fault, with its path (the local API's own answer).
    #[default]
    FieldLevel,
    /// What API Gateway's request validator answers: no field.
    AsDeployed,
}

/// Who may place orders: the template's `OrderApiAuth` (`ORDER_API_AUTH`).
#[derive(Debug, Clone)]
pub enum OrderApiAuth {
    /// `iam`: only requests signed with the checkout's key.
    Signed(CheckoutKey),
    /// `none`: browser mode, from the listed origins only
    /// (`ORDER_API_ALLOWED_ORIGINS`).
    Browser(AllowedOrigins),
}

impl OrderApiAuth {
    pub const VAR: &'static str = "ORDER_API_AUTH";

    /// `ORDER_API_AUTH` (`iam`, the default, or `none`) with the checkout's
    /// key from the environment, or `generated` when it sets none.
    pub fn from_env(generated: impl FnOnce() -> CheckoutKey) -> anyhow::Result<Self> {
        let mode = std::env::var(Self::VAR).unwrap_or_default();
        match mode.to_ascii_lowercase().as_str() {
            "" | "iam" => Ok(Self::Signed(
                CheckoutKey::from_env()?.unwrap_or_else(generated),
            )),
            "none" => Ok(Self::Browser(
                AllowedOrigins::from_env().map_err(anyhow::Error::msg)?,
            )),
            other => anyhow::bail!(
                "{} must be iam (signed callers only) or none (browser mode), not {other:?}",
                Self::VAR
            ),
        }
    }
}

#[derive(Clone)]
struct Api {
    queue: OrderQueue,
    detail: ErrorDetail,
    auth: OrderApiAuth,
}

pub fn router(queue: OrderQueue, detail: ErrorDetail, auth: OrderApiAuth) -> Router {
    let method = post(place_order).fallback(other_method);
    let method = match &auth {
        OrderApiAuth::Signed(_) => method,
        OrderApiAuth::Browser(origins) => browser::front_door(method, origins),
    };
    Router::new().route("/orders", method).with_state(Api {
        queue,
        detail,
        auth,
    })
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub order_id: String,
}

/// The error body of every refusal: a sentence, and the fields at fault.
#[derive(Debug, Serialize)]
pub struct Problem {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

fn problem(status: StatusCode, message: &str, errors: Option<Vec<FieldError>>) -> Response {
    let body = Problem {
        message: message.to_owned(),
        errors,
    };
    (status, Json(body)).into_response()
}

pub const NOT_JSON: &str = "Send the order as JSON with the header Content-Type: application/json.";
pub const TOO_LARGE: &str = "The order body is larger than 64 KiB.";
pub const INVALID: &str = "The order is not valid; see errors.";
pub const INVALID_AS_DEPLOYED: &str = "The order is not valid: it is not one JSON object that matches the order schema, each key once. The deployed API cannot say which field; check the order against the API documentation.";
pub const NOT_QUEUED: &str =
    "The order could not be queued just now; send it again with the same Idempotency-Key.";
pub const BODY_LATE: &str = "The order body did not arrive in time (or was shorter than its Content-Length); send it again.";
pub const ONLY_POST: &str = "Only POST is allowed here: send the order as JSON with POST.";

fn refused(refusal: Refusal) -> Response {
    tracing::info!(
        ?refusal,
        "refused an order request that is not signed with the checkout's key"
    );
    problem(StatusCode::FORBIDDEN, refusal.message(), None)
}

async fn other_method() -> Response {
    let mut response = problem(StatusCode::METHOD_NOT_ALLOWED, ONLY_POST, None);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// The one Content-Type an order may come with.
const JSON_MEDIA_TYPE: &str = "application/json";

/// Whether reading a body failed on the size limit (not on the clock).
fn too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl Api {
    fn invalid(&self, errors: Vec<FieldError>) -> Response {
        match self.detail {
            ErrorDetail::FieldLevel => problem(StatusCode::BAD_REQUEST, INVALID, Some(errors)),
            ErrorDetail::AsDeployed => problem(
                StatusCode::BAD_REQUEST,
                INVALID_AS_DEPLOYED,
                Some(Vec::new()),
            ),
        }
    }
}

async fn place_order(State(api): State<Api>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if declared_length(&parts.headers).is_some_and(|length| length > READ_LIMIT as u64) {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE, None);
    }
    // The signature covers the body, so it is read before anything is judged.
    let bytes = match to_bytes(Body::new(body), READ_LIMIT).await {
        Ok(bytes) => bytes,
        Err(error) if too_large(&error) => {
            return problem(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE, None);
        }
        Err(_) => return problem(StatusCode::REQUEST_TIMEOUT, BODY_LATE, None),
    };
    if let OrderApiAuth::Signed(key) = &api.auth {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/orders", |path| path.as_str());
        if let Err(refusal) = signature::verify(
            key,
            parts.method.as_str(),
            path_and_query,
            &parts.headers,
            &bytes,
            std::time::SystemTime::now(),
        ) {
            return refused(refusal);
        }
    }
    let media = parts.headers.get(header::CONTENT_TYPE);
    if media.is_some_and(|media| media != JSON_MEDIA_TYPE) {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, NOT_JSON, None);
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return api.invalid(vec![field_error("", "body is not UTF-8 text")]);
    };
    // What API Gateway's validator lets through, its templates refuse after
    // the header and size checks: anything after the object, a key twice.
    let shape_refusal = match OrderRequest::parse(text) {
        Ok(_) => None,
        Err(rejected) => match OrderRequest::parse_as_jackson_reads(text) {
            Ok(_) => Some(rejected),
            Err(_) => return api.invalid(rejected.0),
        },
    };
    if media.is_none() {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, NOT_JSON, None);
    }
    let id = match idempotency_key(&parts.headers) {
        Ok(id) => id,
        Err(message) => {
            return problem(
                StatusCode::BAD_REQUEST,
                INVALID,
                Some(vec![field_error("Idempotency-Key", message)]),
            );
        }
    };
    if bytes.len() > MAX_BODY_BYTES {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE, None);
    }
    if let Some(rejected) = shape_refusal {
        return api.invalid(rejected.0);
    }
    match api.queue.enqueue(&id, Utc::now(), text).await {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(Accepted {
                order_id: id.to_string(),
            }),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, order_id = %id, "could not queue an order");
            let mut response = problem(StatusCode::SERVICE_UNAVAILABLE, NOT_QUEUED, None);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// The order's id: the `Idempotency-Key` header, or a new one without it.
fn idempotency_key(headers: &HeaderMap) -> Result<OrderId, &'static str> {
    let mut keys = headers.get_all(IDEMPOTENCY_KEY).iter();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        if headers.contains_key(IDEMPOTENCY_KEY) {
            return Err("must be sent once: two Idempotency-Key headers name two orders");
        }
        return Ok(OrderId::generate());
    };
    key.to_str()
        .ok()
        .and_then(|key| OrderId::parse(key).ok())
        .ok_or("must be 8 to 64 characters of letters, digits, '-' and '_'")
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}
