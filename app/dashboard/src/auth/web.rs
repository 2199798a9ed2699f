//! The guard in front of every dashboard request:
//!
//! 1. Security headers on every answer (a strict Content-Security-Policy,
//!    no framing, no sniffing, same-origin referrers, no caching of pages).
//! 2. Cross-site requests that change state are refused (Fetch Metadata and
//!    Origin, for sign-in too).
//! 3. Every path but sign-in and assets needs a valid session: pages send
//!    the browser to `/login`, actions answer 401.
//! 4. The path's role (`role::required_role`) is checked: 403 otherwise.
//! 5. Every form post must carry the session's anti-forgery token.
//! 6. The session cookie is refreshed, sliding its idle timeout.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::role::{Role, required_role};
use super::{Auth, CurrentUser, session};

const MAX_FORM_BYTES: usize = 64 * 1024;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The address sign-in throttling counts against: the last `X-Forwarded-For`
/// hop, which AWS's front end appends (earlier ones are whatever the client sent).
pub fn client_address(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

/// Whether a state-changing request comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = value("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    match (value("origin"), value("host")) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        _ => false,
    }
}

/// The value of one field of a URL-encoded form.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body).ok()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn refusal(status: StatusCode, message: &str) -> Response {
    let message = escape(message);
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status}</title></head>\
         <body><h1>{message}</h1><p><a href=\"/\">Back to the dashboard</a></p></body></html>"
    );
    (status, Html(page)).into_response()
}

fn secure_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

pub async fn guard(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    let mut response = check(&auth, request, next).await;
    secure_headers(&mut response);
    response
}

async fn check(auth: &Auth, request: Request, next: Next) -> Response {
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes_state && cross_site(request.headers()) {
        return refusal(StatusCode::FORBIDDEN, "Cross-site requests are refused.");
    }
    let path = request.uri().path().to_owned();
    let Some(needed) = required_role(&path) else {
        return next.run(request).await;
    };
    let now = chrono::Utc::now().timestamp();
    let cookie = request
        .headers()
        .get(header::COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(session::from_header)
        .map(str::to_owned);
    let had_cookie = cookie.is_some();
    let signed_in = match cookie {
        None => None,
        Some(cookie) => match auth.authenticate(&cookie, now).await {
            Ok(found) => found,
            Err(error) => {
                return refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("Sign-in could not be checked: {error}"),
                );
            }
        },
    };
    let Some((user, session)) = signed_in else {
        let mut response = if changes_state || path.starts_with("/api/") {
            refusal(StatusCode::UNAUTHORIZED, "Sign in first.")
        } else {
            let next = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!(
                "/login?next={}",
                utf8_percent_encode(next, NON_ALPHANUMERIC)
            ))
            .into_response()
        };
        if had_cookie
            && let Ok(removal) = HeaderValue::from_str(&session::removal(auth.secure_cookies))
        {
            response.headers_mut().append(header::SET_COOKIE, removal);
        }
        return response;
    };
    if user.role < needed {
        return refusal(
            StatusCode::FORBIDDEN,
            &format!(
                "This needs the {needed} role; you are signed in as {} ({}).",
                user.email, user.role
            ),
        );
    }
    let mut request = request;
    if changes_state {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return refusal(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
        };
        if form_field(&bytes, "csrf").as_deref() != Some(session.csrf.as_str()) {
            return refusal(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this dashboard. Reload the page and try again.",
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(CurrentUser {
        email: user.email.clone(),
        role: user.role,
        csrf: session.csrf.clone(),
    });
    let mut response = next.run(request).await;
    let ends_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.starts_with(&format!("{}=", session::COOKIE)))
        });
    if !ends_session
        && let Ok(cookie) = HeaderValue::from_str(&session::cookie(
            &auth.refresh(session, now),
            auth.secure_cookies,
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The role a signed-in viewer of this request has, for pages and actions.
pub fn current_user() -> Option<CurrentUser> {
    leptos::prelude::use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<CurrentUser>()
        .cloned()
}

/// True when the signed-in user has at least `role`.
pub fn allowed(role: Role) -> bool {
    current_user().is_some_and(|user| user.role >= role)
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn refusals_escape_what_they_repeat() {
        assert_eq!(
            escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn the_client_address_is_the_last_hop() {
        assert_eq!(
            client_address(&headers(&[("x-forwarded-for", "10.0.0.1, 203.0.113.9")])),
            "203.0.113.9"
        );
        assert_eq!(client_address(&headers(&[])), "local");
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(
            form_field(b"a=1&csrf=x%2By+z&b=2", "csrf").as_deref(),
            Some("x+y z")
        );
        assert_eq!(form_field(b"a=1", "csrf"), None);
    }
}
