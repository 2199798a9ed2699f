//! Pages the gate answers with before any page code runs (400, 401, 403,
//! 404, 413, 503): small Leptos views, rendered whole, with the dashboard's
//! stylesheet and no data from anywhere but the message.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;

use crate::ui::assets;

/// A complete page saying `message`, with `status`.
pub fn page(status: StatusCode, message: &str) -> Response {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let message = message.to_owned();
    let html = Owner::new().with(|| {
        view! {
            <html lang="en">
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <meta name="color-scheme" content="light dark"/>
                    <title>{title.clone()} " · Orders"</title>
                    <link rel="stylesheet" href=assets::url("dashboard.css")/>
                </head>
                <body>
                    <header class="top">
                        <a class="brand" href="/"><span class="logo" aria-hidden="true">"✦"</span>" Orders"</a>
                    </header>
                    <main id="main">
                        <div class="heading"><h1>{title}</h1></div>
                        <div class="empty">
                            <p>{message}</p>
                            <p><a href="/">"Go to the overview"</a></p>
                        </div>
                    </main>
                </body>
            </html>
        }
        .to_html()
    });
    let mut response = (status, Html(format!("<!DOCTYPE html>{html}"))).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The answer for a path that is no page of the dashboard: static, so an
/// unknown path never renders the app or asks who is signed in.
pub async fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "This address is not a page of the dashboard.",
    )
}
