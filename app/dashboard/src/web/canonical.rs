//! Paths are checked once, before routing: the dashboard's paths (pages,
//! order ids, message ids, hashed asset names) only ever use letters, digits
//! and `- . _ ~`, so anything else (dot segments, percent-encoding of any
//! kind, backslashes, empty segments, a trailing slash, `;` parameters,
//! control characters) is refused with a plain 400 before it can reach a
//! route, a page or the sign-in check.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Why a path is not in canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotCanonical {
    #[error("the path must start with /")]
    Relative,
    #[error("the path has a character the dashboard never uses")]
    Character,
    #[error("the path has an empty segment (// or a trailing /)")]
    EmptySegment,
    #[error("the path has a . or .. segment")]
    DotSegment,
}

/// Checks that `path` is a plain absolute path of the dashboard.
pub fn check(path: &str) -> Result<(), NotCanonical> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(NotCanonical::Relative);
    };
    if rest.is_empty() {
        return Ok(());
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/');
    if !rest.chars().all(plain) {
        return Err(NotCanonical::Character);
    }
    for segment in rest.split('/') {
        match segment {
            "" => return Err(NotCanonical::EmptySegment),
            "." | ".." => return Err(NotCanonical::DotSegment),
            _ => {}
        }
    }
    Ok(())
}

/// Where to go after signing in: only a canonical path of this dashboard,
/// with its query; anything else goes to the overview.
pub fn safe_next(next: &str) -> String {
    let (path, query) = next.split_once('?').unwrap_or((next, ""));
    let query_ok = query
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '\\' && c != '#');
    if check(path).is_ok() && query_ok {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Middleware: refuses a request whose path is not canonical.
pub async fn refuse_non_canonical(request: Request, next: Next) -> Response {
    match check(request.uri().path()) {
        Ok(()) => next.run(request).await,
        Err(problem) => (
            StatusCode::BAD_REQUEST,
            format!("400 Bad Request: {problem}.\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass() {
        for path in [
            "/",
            "/orders",
            "/orders/3f2b8c1e-0d4a-4c55-9f7e-8a1b2c3d4e5f",
            "/orders/my_key-01",
            "/assets/dashboard.0a1b2c3d4e.css",
            "/api/dead-letters/redrive",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn every_other_form_is_refused() {
        for path in [
            "",
            "users",
            "/assets/../users",
            "/assets/%2e%2e/users",
            "/assets/%2E%2E/users",
            "/%2e/users",
            "/./queues",
            "/orders/../users",
            "/assets/x/../../dead-letters",
            "//users",
            "/users/",
            "/users//",
            "/users;x",
            "/users%2f",
            "/assets%5c..%5cusers",
            "/assets\\..\\users",
            "/users\t",
            "/us%00ers",
            "/users?",
            "/ünicode",
            "/a b",
        ] {
            assert!(check(path).is_err(), "{path:?}");
        }
    }

    #[test]
    fn next_stays_on_the_dashboard() {
        assert_eq!(safe_next("/orders?status=stored"), "/orders?status=stored");
        for hostile in [
            "//evil.example/",
            "/%09/evil.example/",
            "/\t/evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/orders?x=\u{7}",
            "",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
