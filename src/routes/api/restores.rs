//! Restores and drills: `POST /api/v1/services/{service}/restores`, and the
//! restore history, and the restores a collected snapshot made Lockstep
//! suspect (spec §9).

use app::{
    error::AppError,
    restores::{
        db::{
            engine::{self, RestorePoint, RestoreRequest},
            history, suspected,
        },
        model::{RestoreProgress, RestoreReport, SuspectedRestore},
        progress,
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::api::{Operator, Reader};

use super::{error::ErrorBody, parse_id, ApiError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_restore))
        .routes(routes!(restore_progress))
        .routes(routes!(list_restores))
        .routes(routes!(get_restore))
        .routes(routes!(list_suspected))
        .routes(routes!(record_suspected))
        .routes(routes!(dismiss_suspected))
}

/// Exactly one of `backup_id` and `taken_at`.
#[derive(Deserialize, utoipa::ToSchema)]
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
/// and finding counts. A restore starts a new epoch, rolls the inventory
/// back to the backup and queues the findings; a drill changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/services/{service}/restores",
    tag = "restores",
    params(("service" = String, Path, description = "The restored service")),
    request_body = NewRestore,
    responses((status = 201, description = "The restore or drill with its counts per kind", body = RestoreReport))
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/services/{service}/restores/progress",
    tag = "restores",
    params(("service" = String, Path, description = "The service being restored")),
    responses((status = 200, description = "The running computation's step", body = RestoreProgress))
)]
async fn restore_progress(
    _: Reader,
    Path(service): Path<String>,
) -> Result<Json<RestoreProgress>, ApiError> {
    progress::of(&service)
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("a running restore of {service:?}")).into())
}

/// Every restore and drill, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/restores",
    tag = "restores",
    responses((status = 200, description = "The restore history", body = Vec<RestoreReport>))
)]
async fn list_restores(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Vec<RestoreReport>>, ApiError> {
    Ok(Json(history::list(&state.pool, None).await?))
}

/// One restore or drill.
#[utoipa::path(
    get,
    path = "/api/v1/restores/{id}",
    tag = "restores",
    params(("id" = i64, Path, description = "The restore's id")),
    responses((status = 200, description = "The restore", body = RestoreReport))
)]
async fn get_restore(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RestoreReport>, ApiError> {
    Ok(Json(history::get(&state.pool, parse_id(&id)?).await?))
}

/// The restores Lockstep suspects of the service from its collected
/// snapshots (open, recorded or dismissed), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/services/{service}/suspected-restores",
    tag = "restores",
    params(("service" = String, Path, description = "The service")),
    responses((status = 200, description = "Its suspected restores", body = Vec<SuspectedRestore>))
)]
async fn list_suspected(
    _: Reader,
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Json<Vec<SuspectedRestore>>, ApiError> {
    app::inventory::db::find_service(&state.pool, &service).await?;
    Ok(Json(suspected::of_service(&state.pool, &service).await?))
}

/// Records an open suspicion as a restore: to the backup it most likely
/// came from, with `restored_at` when the regression was first seen; 409
/// when it was recorded or dismissed already, 422 when a restore recorded
/// since is newer (restores of a service are recorded in order).
#[utoipa::path(
    post,
    path = "/api/v1/services/{service}/suspected-restores/{id}/record",
    tag = "restores",
    params(
        ("service" = String, Path, description = "The service"),
        ("id" = i64, Path, description = "The suspected restore's id"),
    ),
    responses(
        (status = 201, description = "The recorded restore", body = RestoreReport),
        (status = 422, description = "Not recordable: a restore of the service recorded since the suspicion was first seen is newer than its `restored_at`", body = ErrorBody)
    )
)]
async fn record_suspected(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Path((service, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<RestoreReport>), ApiError> {
    let report = suspected::record(&state.pool, &service, parse_id(&id)?, &actor).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Sets an open suspicion aside (it was not a restore); 409 when it was
/// decided already.
#[utoipa::path(
    post,
    path = "/api/v1/services/{service}/suspected-restores/{id}/dismiss",
    tag = "restores",
    params(
        ("service" = String, Path, description = "The service"),
        ("id" = i64, Path, description = "The suspected restore's id"),
    ),
    responses((status = 204, description = "Dismissed"))
)]
async fn dismiss_suspected(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Path((service, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    suspected::dismiss(&state.pool, &service, parse_id(&id)?, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
