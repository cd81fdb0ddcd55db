//! Restores and drills: `POST /api/v1/services/{service}/restores`, and the
//! restore history.

use app::{
    error::AppError,
    restores::{
        engine::{self, RestorePoint, RestoreRequest},
        history,
        model::{RestoreProgress, RestoreReport},
        progress,
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    auth::{Operator, Reader},
    parse_id, ApiError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services/{service}/restores", post(post_restore))
        .route(
            "/api/v1/services/{service}/restores/progress",
            get(restore_progress),
        )
        .route("/api/v1/restores", get(list_restores))
        .route("/api/v1/restores/{id}", get(get_restore))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRestore {
    backup_id: Option<i64>,
    taken_at: Option<DateTime<Utc>>,
    restored_at: Option<DateTime<Utc>>,
    #[serde(default)]
    drill: bool,
}

const RESTORE_SHAPE: &str =
    "expected {\"backup_id\": id | \"taken_at\": RFC 3339, \"restored_at\"?: RFC 3339, \"drill\"?: bool}";

/// Records a restore (or computes a drill) and reports its amnesia interval
/// and finding counts.
async fn post_restore(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Path(service): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<RestoreReport>), ApiError> {
    let invalid = |message: String| AppError::Invalid {
        field: "body".into(),
        message,
    };
    let input: NewRestore = serde_json::from_slice(&body)
        .map_err(|error| invalid(format!("{RESTORE_SHAPE}: {error}")))?;
    let point = match (input.backup_id, input.taken_at) {
        (Some(id), None) => RestorePoint::Backup(id),
        (None, Some(at)) => RestorePoint::At(at),
        _ => {
            return Err(invalid(format!(
                "give exactly one of backup_id and taken_at; {RESTORE_SHAPE}"
            ))
            .into())
        }
    };
    let report = engine::record(
        &state.pool,
        RestoreRequest {
            service,
            point,
            restored_at: input.restored_at,
            drill: input.drill,
            actor,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Where the restore or drill of the service that this server is computing
/// is (`POST …/restores` answers only when it is done); 404 when none runs.
async fn restore_progress(
    _: Reader,
    Path(service): Path<String>,
) -> Result<Json<RestoreProgress>, ApiError> {
    progress::of(&service)
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("a running restore of {service:?}")).into())
}

async fn list_restores(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Vec<RestoreReport>>, ApiError> {
    Ok(Json(history::list(&state.pool, None).await?))
}

async fn get_restore(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RestoreReport>, ApiError> {
    Ok(Json(history::get(&state.pool, parse_id(&id)?).await?))
}
