//! One-time messages after an action ("Moved 3 dead letters"): the action
//! sets a short-lived cookie before it redirects, and the next page shows it
//! and clears it. Nothing is kept on the server, so any instance can serve
//! the next request.

use axum::http::{HeaderValue, header};
use leptos::prelude::*;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

const COOKIE: &str = "flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub kind: Kind,
    pub message: String,
}

fn set_cookie(value: &str, max_age: u32) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let cookie =
            format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict");
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            response.append_header(header::SET_COOKIE, cookie);
        }
    }
}

/// Leaves a message for the next page.
pub fn set(kind: Kind, message: impl AsRef<str>) {
    let tag = match kind {
        Kind::Success => "ok",
        Kind::Error => "error",
    };
    let value =
        utf8_percent_encode(&format!("{tag}:{}", message.as_ref()), NON_ALPHANUMERIC).to_string();
    set_cookie(&value, 60);
}

/// Reads the waiting message, if any, and clears it.
pub fn take() -> Option<Flash> {
    let parts = use_context::<axum::http::request::Parts>()?;
    let value = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| {
            cookie
                .trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })?;
    set_cookie("", 0);
    let decoded = percent_decode_str(&value).decode_utf8().ok()?.into_owned();
    let (tag, message) = decoded.split_once(':')?;
    let kind = if tag == "ok" {
        Kind::Success
    } else {
        Kind::Error
    };
    (!message.is_empty()).then(|| Flash {
        kind,
        message: message.to_owned(),
    })
}
