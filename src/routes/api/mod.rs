//! The `/api/v1` contract of SPEC.md §6: JSON (or YAML/NDJSON where the
//! spec says so), bearer tokens, errors as `{"error", "details"}`.
//!
//! Every route is declared with its OpenAPI description (`#[utoipa::path]`
//! on the handler, registered with `routes!`), so the document served at
//! `/api/v1/openapi.json` is generated from the same code that routes.

mod causes;
mod demo;
mod document;
mod error;
mod exposure;
pub(crate) mod findings;
mod inventory;
mod restores;
mod topology;
mod users;

use app::state::AppState;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

pub use document::json_errors;
pub use error::ApiError;

/// The API's routes and their OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, openapi) = OpenApiRouter::with_openapi(document::base())
        .merge(topology::router())
        .merge(inventory::router())
        .merge(restores::router())
        .merge(causes::router())
        .merge(exposure::router())
        .merge(findings::router())
        .merge(demo::router())
        .merge(users::router())
        .merge(document::router())
        .split_for_parts();
    (router, document::finish(openapi))
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
