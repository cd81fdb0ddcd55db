//! The `/api/v1` contract of SPEC.md §6: JSON (or YAML/NDJSON where the
//! spec says so), bearer tokens, errors as `{"error", "details"}`.

pub mod auth;
mod demo;
mod error;
mod findings;
mod inventory;
mod restores;
mod topology;
mod users;

use app::state::AppState;
use axum::Router;

pub use error::ApiError;
pub(crate) use findings::{csv_response, filter_and_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(topology::router())
        .merge(inventory::router())
        .merge(restores::router())
        .merge(findings::router())
        .merge(demo::router())
        .merge(users::router())
}

/// A numeric id from the path; anything else is a 404 in the API's shape.
fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("{id:?} is not an id"),
        )
    })
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
