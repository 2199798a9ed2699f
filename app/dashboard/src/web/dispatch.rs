//! Runs an action (a Leptos server function) and answers the way its caller
//! needs: a browser's form post gets a redirect to the page with a one-time
//! message (what happened, or what was wrong with which field and what was
//! typed); a script gets JSON with the action's status code.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::server_fn::error::FromServerFnError;
use serde_json::json;

use super::canonical;
use super::cookies::Cookies;
use super::gate::MAX_FORM_BYTES;
use crate::outcome::{ActionError, Done, SessionChange};
use crate::request::flash::Flash;

/// Form fields never echoed back into a failed form.
fn secret(field: &str) -> bool {
    field == "csrf" || field == "return_to" || field.contains("password")
}

/// Longest value echoed back in the flash cookie (cookies hold about 4 KB).
const MAX_ECHO_CHARS: usize = 300;

fn echo(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(field, value)| !secret(field) && value.chars().count() <= MAX_ECHO_CHARS)
        .take(12)
        .collect()
}

/// A browser posting a form, as opposed to a script wanting JSON.
fn from_a_form(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    !accept.contains("application/json")
}

/// The page a form asks to come back to (`return_to`), if it is one of ours.
fn return_to(body: &[u8]) -> Option<String> {
    let path = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(field, _)| field == "return_to")?
        .1;
    let safe = canonical::safe_next(&path);
    (safe == path).then_some(safe)
}

/// The page a form was on, if the browser said and it is one of ours.
fn came_from(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer.split_once("://")?.1;
    let path = rest.strip_prefix(host)?;
    let path = if path.is_empty() { "/" } else { path };
    let safe = canonical::safe_next(path);
    (safe == path).then_some(safe)
}

/// The cookies a session change leaves: a new session also marks the
/// browser as one its account signed in from (`Cookies::with_device`).
fn session_cookies(
    cookies: &Cookies,
    jar: axum_extra::extract::cookie::PrivateCookieJar,
    change: &SessionChange,
) -> axum_extra::extract::cookie::PrivateCookieJar {
    match change {
        SessionChange::Keep => jar,
        SessionChange::Start(session) => {
            let jar = cookies.with_device(jar, &session.email);
            cookies.with_session(jar, session)
        }
        SessionChange::End => cookies.without_session(jar),
    }
}

/// Runs the action at `path`, coming back to `page` unless the form says where.
pub async fn run(
    path: &'static str,
    page: &'static str,
    cookies: Arc<Cookies>,
    context: impl Fn() + Clone + Send + 'static,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return super::refusal::page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
    };
    let form = from_a_form(&parts.headers);
    let back = return_to(&bytes)
        .or_else(|| came_from(&parts.headers))
        .unwrap_or_else(|| page.to_owned());
    let jar = cookies.jar(&parts.headers);
    parts
        .extensions
        .insert(crate::auth::SignedInBefore(cookies.device(&jar)));
    // Leptos would redirect form posts to the Referer itself, and lose the outcome.
    parts.headers.remove(header::REFERER);
    parts.headers.insert(
        header::ACCEPT,
        header::HeaderValue::from_static("application/json"),
    );
    let echoed = echo(&bytes);
    let answer = leptos_axum::handle_server_fns_with_context(
        context,
        Request::from_parts(parts, Body::from(bytes)),
    )
    .await
    .into_response();
    let failed = answer.headers().contains_key("serverfnerror") || !answer.status().is_success();
    let body = to_bytes(answer.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let outcome: Result<Done, ActionError> = if failed {
        Err(ActionError::de(body))
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ActionError::Unreadable(format!("the action's answer: {error}")))
    };
    if let Err(error @ (ActionError::SignInFirst | ActionError::NotAllowed { .. })) = &outcome {
        return super::refusal::page(error.status(), &error.to_string());
    }
    match (outcome, form) {
        (Ok(done), true) => {
            let jar = session_cookies(&cookies, jar, &done.session);
            let jar = if done.message.is_empty() {
                jar
            } else {
                cookies.with_flash(jar, &Flash::success(&done.message))
            };
            let to = done.go_to.unwrap_or(back);
            (jar, Redirect::to(&to)).into_response()
        }
        (Err(error), true) => {
            let mut flash = Flash::error(error.to_string());
            if let ActionError::Invalid { fields, .. } = &error {
                flash.fields = fields
                    .iter()
                    .map(|problem| (problem.field.clone(), problem.message.clone()))
                    .collect();
            }
            flash.input = echoed;
            flash.form = path.to_owned();
            let jar = cookies.with_flash(jar, &flash);
            (jar, Redirect::to(&back)).into_response()
        }
        (Ok(done), false) => {
            let jar = session_cookies(&cookies, jar, &done.session);
            (
                jar,
                axum::Json(json!({"message": done.message, "goTo": done.go_to})),
            )
                .into_response()
        }
        (Err(error), false) => {
            let fields = match &error {
                ActionError::Invalid { fields, .. } => fields.clone(),
                _ => Vec::new(),
            };
            (
                error.status(),
                axum::Json(json!({"message": error.to_string(), "errors": fields})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn failed_forms_echo_everything_but_secrets() {
        let echoed = echo(b"email=a%40b.co&password=hunter2hunter2&csrf=t&role=viewer");
        assert_eq!(
            echoed,
            [
                ("email".to_owned(), "a@b.co".to_owned()),
                ("role".to_owned(), "viewer".to_owned())
            ]
        );
    }

    #[test]
    fn only_our_own_pages_are_gone_back_to() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert(
            header::REFERER,
            HeaderValue::from_static("http://127.0.0.1:3000/orders/abc-12345?x=1"),
        );
        assert_eq!(
            came_from(&headers).as_deref(),
            Some("/orders/abc-12345?x=1")
        );
        headers.insert(
            header::REFERER,
            HeaderValue::from_static("https://evil.example/orders"),
        );
        assert_eq!(came_from(&headers), None);
        headers.insert(
            header::REFERER,
            HeaderValue::from_static("http://127.0.0.1:3000//evil.example"),
        );
        assert_eq!(came_from(&headers), None);
    }
}
