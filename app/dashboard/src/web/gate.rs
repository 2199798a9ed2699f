//! The gate in front of every page and action (assets and the static 404 do
//! not pass it). Two layers, so that a mistake in one is caught by the other:
//!
//! 1. `authenticate`, for every endpoint: refuses state changes from other
//!    sites, reads the session cookie and checks it against the user's
//!    current session version, checks the form token of every signed-in
//!    form post, and slides the session's idle timeout.
//! 2. `require`, registered with each endpoint and its declared access:
//!    sends anonymous visitors of pages to sign in, answers actions 401, and
//!    refuses too low a role (pages in the normal layout, actions with 403)
//!    before any page code or AWS call runs.
//!
//! Each page and action then checks its level again itself (`ui::access`).

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::cookies::Cookies;
use super::refusal;
use crate::auth::{Access, Auth};
use crate::request::{Kind, Refused, Visitor};

/// The largest form the dashboard accepts (an edited dead letter of 64 KiB,
/// percent-encoded, with room to spare).
pub const MAX_FORM_BYTES: usize = 512 * 1024;

/// What the gate needs.
#[derive(Clone, Debug)]
pub struct Gate {
    pub auth: Auth,
    pub cookies: Arc<Cookies>,
}

/// Whether a state-changing request comes from another site (Fetch
/// Metadata, then `Origin` against `Host`).
pub fn cross_site(headers: &HeaderMap) -> bool {
    let value = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    match (value(header::ORIGIN), value(header::HOST)) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        (Some(_), None) => true,
        _ => false,
    }
}

#[derive(Deserialize)]
struct FormToken {
    #[serde(default)]
    csrf: String,
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Layer 1: who is asking, and is the request theirs.
pub async fn authenticate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let state_change = changes_state(request.method());
    if state_change && cross_site(request.headers()) {
        return refusal::page(
            StatusCode::FORBIDDEN,
            "Requests from other sites are refused.",
        );
    }
    let now = chrono::Utc::now().timestamp();
    let jar = gate.cookies.jar(request.headers());
    let sent_session = gate.cookies.sent_session(request.headers());
    let visitor = match gate.cookies.session(&jar) {
        None => Visitor::Anonymous,
        Some(session) => match gate.auth.authenticate(&session, now).await {
            Ok(Some(user)) => Visitor::Signed {
                user,
                session: Box::new(session),
            },
            Ok(None) => Visitor::Anonymous,
            Err(error) => {
                tracing::error!(%error, "the session could not be checked");
                return refusal::page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Your sign-in could not be checked just now. Reload the page in a moment.",
                );
            }
        },
    };
    let mut request = request;
    if state_change && let Visitor::Signed { session, .. } = &visitor {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return refusal::page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
        };
        let token = serde_urlencoded::from_bytes::<FormToken>(&bytes)
            .map(|form| form.csrf)
            .unwrap_or_default();
        if token != session.csrf {
            return refusal::page(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this dashboard. Reload the page and try again.",
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let flash = gate.cookies.flash(&jar);
    if let Some(flash) = &flash {
        request.extensions_mut().insert(flash.clone());
    }
    request.extensions_mut().insert(visitor.clone());
    let is_page = !state_change;
    let response = next.run(request).await;

    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.starts_with(&format!("{}=", gate.cookies.session_name())));
    let mut jar = jar;
    if !sets_session {
        jar = match &visitor {
            Visitor::Signed { session, .. } => gate
                .cookies
                .with_session(jar, &session.as_ref().clone().seen_at(now)),
            Visitor::Anonymous if sent_session => gate.cookies.without_session(jar),
            Visitor::Anonymous => jar,
        };
    }
    if flash.is_some() && is_page {
        jar = gate.cookies.without_flash(jar);
    }
    (jar, response).into_response()
}

/// Layer 2: the access an endpoint declared, checked before its code runs.
pub async fn require(
    State((access, kind)): State<(Access, Kind)>,
    mut request: Request,
    next: Next,
) -> Response {
    let visitor = request
        .extensions()
        .get::<Visitor>()
        .cloned()
        .unwrap_or(Visitor::Anonymous);
    let role = visitor.user().map(|user| user.role);
    if access.admits(role) {
        return next.run(request).await;
    }
    let Access::AtLeast(needs) = access else {
        unreachable!("Anyone admits everyone")
    };
    match (kind, visitor.user()) {
        (Kind::Page | Kind::Download, None) => {
            let here = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
            Redirect::to(&format!("/login?{next}")).into_response()
        }
        (Kind::Action, None) => refusal::page(StatusCode::UNAUTHORIZED, "Sign in first."),
        (Kind::Page, Some(_)) => {
            request.extensions_mut().insert(Refused { needs });
            next.run(request).await
        }
        (Kind::Action | Kind::Download, Some(user)) => refusal::page(
            StatusCode::FORBIDDEN,
            &format!(
                "This needs the {needs} role; you are signed in as {} ({}).",
                user.email, user.role
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    header::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(!cross_site(&headers(&[])));
        assert!(!cross_site(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(cross_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(cross_site(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
    }
}
