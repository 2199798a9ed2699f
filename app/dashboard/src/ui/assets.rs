//! The stylesheet, script and images, compiled into the binary (Lambda has no
//! files to serve from) and served under content-hashed names, so browsers
//! may cache them for a year and still never see a stale one. rust-embed
//! computes each file's SHA-256 and MIME type at build time.

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

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
    file: EmbeddedFile,
}

fn embedded(name: &str) -> Option<EmbeddedFile> {
    Style::get(name).or_else(|| Public::get(name))
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    Style::iter()
        .chain(Public::iter())
        .filter_map(|name| {
            let file = embedded(&name)?;
            let hash = hex::encode(&file.metadata.sha256_hash()[..5]);
            let hashed_name = match name.rsplit_once('.') {
                Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
                None => format!("{name}.{hash}"),
            };
            Some(Asset {
                name: name.into_owned(),
                hashed_name,
                file,
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

/// Every asset URL, for the tests.
pub fn urls() -> Vec<String> {
    ASSETS
        .iter()
        .map(|asset| format!("{PREFIX}/{}", asset.hashed_name))
        .collect()
}

fn respond(file: &EmbeddedFile, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        file.data.clone(),
    )
        .into_response()
}

/// The answer for `GET /assets/{file}`: only exact hashed names have one.
pub fn hashed(file: &str) -> Option<Response> {
    ASSETS
        .iter()
        .find(|asset| asset.hashed_name == file)
        .map(|asset| respond(&asset.file, "public, max-age=31536000, immutable"))
}

/// The favicon at the root, where browsers look for it uninvited.
pub async fn favicon() -> Response {
    match embedded("favicon.svg") {
        Some(file) => respond(&file, "public, max-age=86400"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
