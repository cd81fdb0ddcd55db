//! `PUT/GET /api/v1/topology` and `GET /api/v1/lockstep-groups`.

use app::{
    accounts::db as accounts,
    error::AppError,
    state::AppState,
    topology::{
        api, db, document,
        groups::lockstep_groups,
        model::{ImportReport, LockstepGroup},
        runbook,
    },
};
use axum::{
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::{
    auth::{Architect, Reader},
    utf8, ApiError,
};

/// A topology of 5,000 services and 50,000 relations is about 6 MiB of YAML.
const TOPOLOGY_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/topology",
            get(get_topology)
                .put(put_topology)
                .layer(DefaultBodyLimit::max(TOPOLOGY_BODY_LIMIT)),
        )
        .route("/api/v1/lockstep-groups", get(get_groups))
        .route("/api/v1/lockstep-groups/{id}/runbook", get(get_runbook))
        .route(
            "/api/v1/import/backstage",
            post(import_backstage).layer(DefaultBodyLimit::max(TOPOLOGY_BODY_LIMIT)),
        )
        .route("/topology.yaml", get(download_yaml))
        .route("/groups/{id}/runbook.md", get(download_runbook))
}

async fn runbook(state: &AppState, id: &str) -> Result<String, ApiError> {
    let topology = db::load(&state.pool).await?;
    let group = lockstep_groups(&topology)
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| AppError::NotFound(format!("lockstep group {id:?}")))?;
    Ok(runbook::markdown(&group, &topology))
}

async fn get_runbook(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let markdown = runbook(&state, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        markdown,
    )
        .into_response())
}

/// The group card's "download runbook" link.
async fn download_runbook(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let markdown = runbook(&state, &id).await?;
    let disposition = format!("attachment; filename=\"runbook-{id}.md\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        markdown,
    )
        .into_response())
}

/// The dashboard's "download topology.yaml" link (the browser has a
/// session, not a bearer token).
async fn download_yaml(_: Reader, State(state): State<AppState>) -> Result<Response, ApiError> {
    let topology = db::load(&state.pool).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"topology.yaml\"",
            ),
        ],
        document::to_yaml(&topology),
    )
        .into_response())
}

/// `?force=true`: allow a change that drops reported inventory.
#[derive(serde::Deserialize)]
struct Force {
    #[serde(default)]
    force: bool,
}

/// YAML when the client asks for it, JSON otherwise.
async fn get_topology(
    _: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let topology = db::load(&state.pool).await?;
    let wants_yaml = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("yaml"));
    Ok(if wants_yaml {
        (
            [(header::CONTENT_TYPE, "application/yaml")],
            document::to_yaml(&topology),
        )
            .into_response()
    } else {
        Json(document::to_json(&topology)).into_response()
    })
}

/// Replaces the whole model. The body is YAML or JSON (JSON is YAML 1.2, so
/// one reader locates problems in both); on any problem, 422 lists them all
/// and nothing changes. Dropping a service or relation that holds inventory
/// is a 409 unless `?force=true`.
async fn put_topology(
    Architect(actor): Architect,
    State(state): State<AppState>,
    Query(force): Query<Force>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = utf8(&body)?;
    let topology = document::parse(text).map_err(AppError::Rejected)?;
    db::replace(&state.pool, &topology, force.force).await?;
    let detail = json!({"services": topology.services.len(), "relations": topology.relations.len(), "force": force.force});
    accounts::audit(
        &state.pool,
        &actor,
        "upload topology",
        "topology",
        Some(detail),
    )
    .await?;
    Ok((
        StatusCode::OK,
        Json(document::to_json(&db::load(&state.pool).await?)),
    ))
}

/// Merges a multi-document Backstage catalog into the model; reports what
/// was imported and what was skipped and why.
async fn import_backstage(
    Architect(actor): Architect,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let text = utf8(&body)?;
    let report = api::apply_backstage_catalog(&state.pool, text).await?;
    accounts::audit(&state.pool, &actor, "import backstage", "topology", None).await?;
    Ok(Json(report))
}

async fn get_groups(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Vec<LockstepGroup>>, ApiError> {
    let topology = db::load(&state.pool).await?;
    Ok(Json(lockstep_groups(&topology)))
}
