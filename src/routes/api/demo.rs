//! `POST /api/v1/demo`: loads the demo shop (topology, three days of
//! inventory, backups and a recorded restore of orders) into an empty
//! database — a fresh start for a trial, and the end-to-end suite's fixture.

use app::state::AppState;
use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use serde_json::{json, Value};

use super::{auth::Admin, ApiError};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/demo", post(load))
}

async fn load(
    _: Admin,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match crate::demo::load_if_empty(&state.pool).await {
        Ok(true) => Ok((StatusCode::CREATED, Json(json!({"loaded": true})))),
        Ok(false) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the database already holds a topology; the demo loads only into an empty one",
        )),
        Err(error) => {
            tracing::error!(%error, "loading the demo");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "loading the demo failed; see the server log",
            ))
        }
    }
}
