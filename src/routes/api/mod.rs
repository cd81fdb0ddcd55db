//! The `/api/v1` contract of SPEC.md §6: JSON (or YAML/NDJSON where the
//! spec says so), bearer tokens, errors as `{"error", "details"}`.

mod auth;
mod error;
mod topology;

use app::state::AppState;
use axum::Router;

pub use error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().merge(topology::router())
}
