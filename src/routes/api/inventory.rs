//! The services' side of the API: events, snapshots, backups, tokens, and
//! what their collectors report about themselves.

use app::{
    error::AppError,
    inventory::{
        db::{self, collectors, scan, snapshot, tokens},
        events,
        model::CollectorStatus,
    },
    metrics::METRICS,
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::StatusCode,
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::auth::api::{Admin, Caller, Operator};

use super::{utf8, ApiError};

/// One request's events are applied in one transaction; beyond this size a
/// service should split its batch (or send a snapshot).
const EVENTS_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// A snapshot is a service's whole state: allow more.
const SNAPSHOT_BODY_LIMIT: usize = 256 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_events).layer(DefaultBodyLimit::max(EVENTS_BODY_LIMIT)))
        .routes(routes!(put_inventory).layer(DefaultBodyLimit::max(SNAPSHOT_BODY_LIMIT)))
        .routes(routes!(post_backup))
        .routes(routes!(post_token))
        .routes(routes!(post_scan))
        .routes(routes!(put_collector, get_collector))
}

/// The service in the path.
const SERVICE: &str = "The reporting service's name";

/// What an NDJSON line may hold (documentation of the line format; the
/// lines are read by `inventory::events`, which reports bad lines by number).
const EVENT_LINES: &str = "NDJSON, one event a line:\n\
    `{\"type\":\"entity\",\"key\":\"C/3\",\"at\":RFC3339,\"deleted\"?:bool,\"data\"?:{},\"seq\"?:n}` or\n\
    `{\"type\":\"reference\",\"from\":\"O/3\",\"relation\":\"order.customer\",\"to\":\"C/3\",\"observed\":RFC3339,\"at\":RFC3339,\"cache\"?:{},\"removed\"?:bool,\"seq\"?:n}`";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ScanQuery {
    /// Read every deleted entity and every pending finding, not only what
    /// changed since the last pass (a safety net; the background scan does
    /// this now and then).
    #[param(value_type = Option<bool>)]
    full: Option<String>,
}

impl ScanQuery {
    fn pass(&self) -> Result<scan::Pass, AppError> {
        match self.full.as_deref() {
            None | Some("" | "false") => Ok(scan::Pass::Incremental),
            Some("true") => Ok(scan::Pass::Full),
            Some(other) => Err(AppError::Invalid {
                field: "full".into(),
                message: format!("{other:?} is neither true nor false"),
            }),
        }
    }
}

/// Runs the integrity scan now: flags dangling deletes and clears
/// `to_delete` flags nobody needs any more. Incremental unless `full`.
#[utoipa::path(
    post,
    path = "/api/v1/scans",
    tag = "inventory",
    params(ScanQuery),
    responses((status = 200, description = "The scan's id and counts", body = scan::ScanReport))
)]
async fn post_scan(
    _: Operator,
    State(state): State<AppState>,
    Query(query): Query<ScanQuery>,
) -> Result<Json<scan::ScanReport>, ApiError> {
    Ok(Json(scan::run(&state.pool, query.pass()?).await?))
}

/// NDJSON events, all applied or none: 422 lists every bad line by number.
/// Idempotent on `(service, seq)`; events are placed by their timestamps.
#[utoipa::path(
    post,
    path = "/api/v1/services/{service}/events",
    tag = "inventory",
    params(("service" = String, Path, description = SERVICE)),
    request_body(description = EVENT_LINES, content = String, content_type = "application/x-ndjson"),
    responses((status = 200, description = "How many events were applied and how many were replays", body = db::Applied))
)]
async fn post_events(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<db::Applied>, ApiError> {
    let service = db::find_service(&state.pool, &name).await?;
    caller.may_write(service.service_id)?;
    let events = events::parse(utf8(&body)?).map_err(AppError::Rejected)?;
    let applied = db::apply(&state.pool, service, events).await?;
    METRICS.ingested(&name, applied.applied, body.len());
    Ok(Json(applied))
}

/// `?at=`: when the snapshot was taken.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SnapshotTime {
    /// RFC 3339; what the snapshot lacks is removed as of this time.
    #[param(value_type = String, format = DateTime)]
    at: Option<String>,
}

/// The service's complete state as NDJSON; the difference with the live
/// inventory is recorded at `at` (what is absent is removed as of `at`).
#[utoipa::path(
    put,
    path = "/api/v1/services/{service}/inventory",
    tag = "inventory",
    params(("service" = String, Path, description = SERVICE), SnapshotTime),
    request_body(description = "The complete state, as the same NDJSON lines as events (`at` may be left out)", content = String, content_type = "application/x-ndjson"),
    responses((status = 200, description = "How many events the difference made", body = db::Applied))
)]
async fn put_inventory(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<SnapshotTime>,
    body: Bytes,
) -> Result<Json<db::Applied>, ApiError> {
    let service = db::find_service(&state.pool, &name).await?;
    caller.may_write(service.service_id)?;
    let at = query
        .at
        .as_deref()
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::Invalid {
            field: "at".into(),
            message: "the query parameter at=<RFC 3339 timestamp> is required".into(),
        })?;
    let snapshot =
        events::parse_with_default(utf8(&body)?, Some(at)).map_err(AppError::Rejected)?;
    let applied = snapshot::apply(&state.pool, service, at, snapshot).await?;
    METRICS.ingested(&name, applied.applied, body.len());
    Ok(Json(applied))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewBackup {
    taken_at: DateTime<Utc>,
    label: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: i64,
}

/// Records a backup of the service (restores and drills start from one).
#[utoipa::path(
    post,
    path = "/api/v1/services/{service}/backups",
    tag = "inventory",
    params(("service" = String, Path, description = SERVICE)),
    request_body = NewBackup,
    responses((status = 201, description = "The backup's id", body = Created))
)]
async fn post_backup(
    caller: Caller,
    State(state): State<AppState>,
    Path(service): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MintedToken {
    service: String,
    /// Shown only in this response; stored hashed.
    token: String,
}

/// Mints a token that may only post this service's events, snapshots and
/// backups; it is shown only in this response.
#[utoipa::path(
    post,
    path = "/api/v1/services/{service}/tokens",
    tag = "inventory",
    params(("service" = String, Path, description = SERVICE)),
    responses((status = 201, description = "The new token", body = MintedToken))
)]
async fn post_token(
    Admin(actor): Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<MintedToken>), ApiError> {
    let service = db::find_service(&state.pool, &name).await?;
    let token = tokens::mint(&state.pool, service.service_id).await?;
    app::accounts::db::audit(&state.pool, &actor, "mint service token", &name, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(MintedToken {
            service: name,
            token,
        }),
    ))
}

/// A collector's report of its own progress (rows, lag, last error) and
/// resume point; with the service's token.
#[utoipa::path(
    put,
    path = "/api/v1/services/{service}/collector",
    tag = "inventory",
    params(("service" = String, Path, description = SERVICE)),
    request_body = collectors::Report,
    responses((status = 204, description = "Kept"))
)]
async fn put_collector(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let service = db::find_service(&state.pool, &name).await?;
    caller.may_write(service.service_id)?;
    let report: collectors::Report =
        serde_json::from_slice(&body).map_err(|error| AppError::Invalid {
            field: "body".into(),
            message: format!(
                "expected {{\"collector\": string, \"rows\"?: n, \"lag_seconds\"?: n, \"error\"?: string, \"watermarks\"?: {{}}}}: {error}"
            ),
        })?;
    collectors::report(&state.pool, service, &report, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the service's collector last reported (404 before its first
/// report): a collector reads its watermarks back when it starts.
#[utoipa::path(
    get,
    path = "/api/v1/services/{service}/collector",
    tag = "inventory",
    params(("service" = String, Path, description = SERVICE)),
    responses((status = 200, description = "The collector's last report", body = CollectorStatus))
)]
async fn get_collector(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<CollectorStatus>, ApiError> {
    let service = db::find_service(&state.pool, &name).await?;
    caller.may_write(service.service_id)?;
    collectors::of_service(&state.pool, service)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("a collector of {name:?}")).into())
}
