//! `POST /orders`, as API Gateway's direct SQS integration serves it: check
//! the content type, size and body; queue the raw body with the order id;
//! answer 202 with the id. A refused request queues nothing.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;

use domain::request::MAX_BODY_BYTES;
use domain::{FieldError, OrderId, OrderRequest};
use pipeline::queue::OrderQueue;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub fn router(queue: OrderQueue) -> Router {
    Router::new()
        .route("/orders", post(place_order))
        .with_state(queue)
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

fn problem(status: StatusCode, message: impl Into<String>, errors: Vec<FieldError>) -> Response {
    let body = Problem {
        message: message.into(),
        errors,
    };
    (status, Json(body)).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

async fn place_order(State(queue): State<OrderQueue>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if !is_json(&parts.headers) {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the order as JSON with the header Content-Type: application/json.",
            vec![],
        );
    }
    let id = match parts.headers.get(IDEMPOTENCY_KEY) {
        None => OrderId::generate(),
        Some(value) => match value.to_str().ok().map(OrderId::parse) {
            Some(Ok(id)) => id,
            Some(Err(error)) => return invalid(vec![field_error("Idempotency-Key", error.0)]),
            None => return invalid(vec![field_error("Idempotency-Key", "must be plain ASCII")]),
        },
    };
    let Ok(bytes) = to_bytes(Body::new(body), MAX_BODY_BYTES).await else {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The order body is larger than {} KiB.",
                MAX_BODY_BYTES / 1024
            ),
            vec![],
        );
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return invalid(vec![field_error("", "body is not UTF-8 text")]);
    };
    if let Err(rejected) = OrderRequest::parse(text) {
        return invalid(rejected.0);
    }
    match queue.enqueue(&id, Utc::now(), text).await {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(Accepted {
                order_id: id.to_string(),
            }),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, order_id = %id, "could not queue an order");
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The order could not be queued just now; send it again with the same Idempotency-Key.",
                vec![],
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn invalid(errors: Vec<FieldError>) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "The order is not valid; see errors.",
        errors,
    )
}
