//! The tracked files of `public/` at the site root (the favicon, robots.txt),
//! built into the binary so that every build serves them, whatever its site
//! folder holds. cargo-leptos copies the same folder into the site for the
//! static-file fallback.

use app::state::AppState;
use axum::{http::header, response::IntoResponse, routing::get, Router};

/// A file, its type, and how long a browser may keep it.
fn file(content_type: &'static str, bytes: &'static [u8]) -> impl IntoResponse + Clone {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
}

pub fn router() -> Router<AppState> {
    let favicon = file("image/x-icon", include_bytes!("../../public/favicon.ico"));
    let svg = file("image/svg+xml", include_bytes!("../../public/favicon.svg"));
    let robots = file(
        "text/plain; charset=utf-8",
        include_bytes!("../../public/robots.txt"),
    );
    Router::new()
        .route("/favicon.ico", get(move || async move { favicon }))
        .route("/favicon.svg", get(move || async move { svg }))
        .route("/robots.txt", get(move || async move { robots }))
}
