//! The stylesheet, script and images, compiled into the binary (Lambda has no
//! files to serve from) and served under content-hashed names, so browsers
//! may cache them for a year and still never see a stale one.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "../../style/"]
struct Style;

#[derive(RustEmbed)]
#[folder = "../../public/"]
struct Public;

pub const PREFIX: &str = "/assets";

struct Asset {
    name: String,
    /// `name.<hash>.ext`
    hashed_name: String,
    bytes: Cow<'static, [u8]>,
}

fn embedded(name: &str) -> Option<Cow<'static, [u8]>> {
    Style::get(name)
        .or_else(|| Public::get(name))
        .map(|file| file.data)
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    Style::iter()
        .chain(Public::iter())
        .filter_map(|name| {
            let bytes = embedded(&name)?;
            let hash: String = Sha256::digest(&bytes)
                .iter()
                .take(5)
                .map(|b| format!("{b:02x}"))
                .collect();
            let hashed_name = match name.rsplit_once('.') {
                Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
                None => format!("{name}.{hash}"),
            };
            Some(Asset {
                name: name.into_owned(),
                hashed_name,
                bytes,
            })
        })
        .collect()
});

/// The URL of an embedded file, by its plain name (`dashboard.css`).
pub fn url(name: &str) -> String {
    let hashed = ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .map(|asset| asset.hashed_name.as_str())
        .unwrap_or(name);
    format!("{PREFIX}/{hashed}")
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// `GET /assets/{file}`
pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.hashed_name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, content_type(&file)),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// The favicon at the root, where browsers look for it uninvited.
pub async fn favicon() -> Response {
    match embedded("favicon.svg") {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
