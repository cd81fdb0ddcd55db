//! The `/api/v1` contract of SPEC.md §6: JSON (or YAML/NDJSON where the
//! spec says so), bearer tokens, errors as `{"error", "details"}`.

mod auth;
mod error;
mod inventory;
mod topology;

use app::state::AppState;
use axum::Router;

pub use error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(topology::router())
        .merge(inventory::router())
}

/// Request bodies are text; anything else is a 400 before any parsing.
fn utf8(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "the body is not UTF-8 text",
        )
    })
}
