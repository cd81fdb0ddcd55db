//! `GET /healthz`: 200 when the database answers, 503 with the reason when
//! it does not. Load balancers and the end-to-end suite wait on it.

use std::time::Duration;

use app::state::AppState;
use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let check = crate::db::ping(&state.pool);
    match tokio::time::timeout(DB_CHECK_TIMEOUT, check).await {
        Ok(Ok(_)) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "up"})),
        ),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database unreachable");
            unavailable("database unreachable")
        }
        Err(_) => unavailable("database did not answer within 2 s"),
    }
}

fn unavailable(reason: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "database": "down", "reason": reason})),
    )
}
