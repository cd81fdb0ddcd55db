//! The services' side of the API: events, backups, tokens.

use app::{
    error::AppError,
    inventory::{db, events, scan, snapshot, tokens},
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::StatusCode,
    routing::{post, put},
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::{Admin, Caller, Operator},
    utf8, ApiError,
};

/// One request's events are applied in one transaction; beyond this size a
/// service should split its batch (or send a snapshot).
const EVENTS_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// A snapshot is a service's whole state: allow more.
const SNAPSHOT_BODY_LIMIT: usize = 256 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/services/{service}/events",
            post(post_events).layer(DefaultBodyLimit::max(EVENTS_BODY_LIMIT)),
        )
        .route(
            "/api/v1/services/{service}/inventory",
            put(put_inventory).layer(DefaultBodyLimit::max(SNAPSHOT_BODY_LIMIT)),
        )
        .route("/api/v1/services/{service}/backups", post(post_backup))
        .route("/api/v1/services/{service}/tokens", post(post_token))
        .route("/api/v1/scans", post(post_scan))
}

/// Runs the integrity scan now.
async fn post_scan(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<scan::ScanReport>, ApiError> {
    Ok(Json(scan::run(&state.pool).await?))
}

/// NDJSON events, all applied or none: 422 lists every bad line by number.
async fn post_events(
    caller: Caller,
    State(state): State<AppState>,
    Path(service): Path<String>,
    body: Bytes,
) -> Result<Json<db::Applied>, ApiError> {
    let service = db::find_service(&state.pool, &service).await?;
    caller.may_write(service.service_id)?;
    let events = events::parse(utf8(&body)?).map_err(AppError::Rejected)?;
    Ok(Json(db::apply(&state.pool, service, events).await?))
}

/// The service's complete state as NDJSON; the difference with the live
/// inventory is recorded at `at` (what is absent is removed as of `at`).
async fn put_inventory(
    caller: Caller,
    State(state): State<AppState>,
    Path(service): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<db::Applied>, ApiError> {
    let service = db::find_service(&state.pool, &service).await?;
    caller.may_write(service.service_id)?;
    let at = query
        .get("at")
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::Invalid {
            field: "at".into(),
            message: "the query parameter at=<RFC 3339 timestamp> is required".into(),
        })?;
    let snapshot =
        events::parse_with_default(utf8(&body)?, Some(at)).map_err(AppError::Rejected)?;
    Ok(Json(
        snapshot::apply(&state.pool, service, at, snapshot).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBackup {
    taken_at: DateTime<Utc>,
    label: Option<String>,
}

async fn post_backup(
    caller: Caller,
    State(state): State<AppState>,
    Path(service): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let service = db::find_service(&state.pool, &service).await?;
    caller.may_write(service.service_id)?;
    let backup: NewBackup = serde_json::from_slice(&body).map_err(|error| AppError::Invalid {
        field: "body".into(),
        message: format!("expected {{\"taken_at\": RFC 3339, \"label\"?: string}}: {error}"),
    })?;
    let id = db::record_backup(
        &state.pool,
        service,
        backup.taken_at,
        backup.label.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

/// Mints a token for the service; it is shown only in this response.
async fn post_token(
    Admin(actor): Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let service = db::find_service(&state.pool, &name).await?;
    let token = tokens::mint(&state.pool, service.service_id).await?;
    app::accounts::db::audit(&state.pool, &actor, "mint service token", &name, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"service": name, "token": token})),
    ))
}
