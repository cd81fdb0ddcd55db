//! `PUT/GET /api/v1/topology` and `GET /api/v1/lockstep-groups`.

use app::{
    error::AppError,
    state::AppState,
    topology::{
        commands, db,
        document::{self, TopologyDocument},
        groups::lockstep_groups,
        model::{ImportReport, LockstepGroup},
        runbook,
    },
};
use axum::{
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json,
};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::auth::api::{Architect, Reader};

use super::{error::ErrorBody, utf8, ApiError};

/// A topology of 5,000 services and 50,000 relations is about 6 MiB of YAML.
const TOPOLOGY_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(
            routes!(get_topology, put_topology).layer(DefaultBodyLimit::max(TOPOLOGY_BODY_LIMIT)),
        )
        .routes(routes!(get_groups))
        .routes(routes!(get_runbook))
        .routes(routes!(import_backstage).layer(DefaultBodyLimit::max(TOPOLOGY_BODY_LIMIT)))
        // The dashboard's download links (session, not API).
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

/// The group's backup-and-restore runbook as Markdown.
#[utoipa::path(
    get,
    path = "/api/v1/lockstep-groups/{id}/runbook",
    tag = "topology",
    params(("id" = String, Path, description = "The group's id (its first member's name)")),
    responses((status = 200, description = "The runbook", content_type = "text/markdown", body = String))
)]
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
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Force {
    /// Apply even if services or relations that hold inventory are dropped.
    #[serde(default)]
    force: bool,
}

/// The whole model: JSON, or YAML with `Accept: application/yaml`.
#[utoipa::path(
    get,
    path = "/api/v1/topology",
    tag = "topology",
    responses((status = 200, description = "The topology", content(
        (TopologyDocument = "application/json"),
        (String = "application/yaml")
    )))
)]
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

/// Replaces the whole model atomically. The body is YAML or JSON (JSON is YAML 1.2, so
/// one reader locates problems in both); on any problem, 422 lists them all
/// and nothing changes. Dropping a service or relation that holds inventory
/// is a 409 unless `?force=true`.
#[utoipa::path(
    put,
    path = "/api/v1/topology",
    tag = "topology",
    params(Force),
    request_body(description = "`{services: [...], relations: [...]}` as YAML or JSON", content(
        (TopologyDocument = "application/json"),
        (String = "application/yaml")
    )),
    responses(
        (status = 200, description = "The model as stored", body = TopologyDocument),
        (status = 409, description = "The change drops services or relations that hold inventory (use force=true)", body = ErrorBody)
    )
)]
async fn put_topology(
    Architect(actor): Architect,
    State(state): State<AppState>,
    Query(force): Query<Force>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TopologyDocument>), ApiError> {
    commands::upload(&state.pool, &actor, utf8(&body)?, force.force).await?;
    Ok((
        StatusCode::OK,
        Json(document::to_json(&db::load(&state.pool).await?)),
    ))
}

/// Merges a multi-document Backstage catalog into the model; reports what
/// was imported and what was skipped and why.
#[utoipa::path(
    post,
    path = "/api/v1/import/backstage",
    tag = "topology",
    request_body(description = "Backstage catalog-info documents (YAML, `---` separated)", content = String, content_type = "application/yaml"),
    responses((status = 200, description = "What was imported and skipped", body = ImportReport))
)]
async fn import_backstage(
    Architect(actor): Architect,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let report = commands::import_backstage(&state.pool, &actor, utf8(&body)?).await?;
    Ok(Json(report))
}

/// The services that must be backed up together, with their write-freeze
/// windows; singletons included, sorted by their first member.
#[utoipa::path(
    get,
    path = "/api/v1/lockstep-groups",
    tag = "topology",
    responses((status = 200, description = "The lockstep groups", body = Vec<LockstepGroup>))
)]
async fn get_groups(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Vec<LockstepGroup>>, ApiError> {
    let topology = db::load(&state.pool).await?;
    Ok(Json(lockstep_groups(&topology)))
}
