//! `POST /api/v1/demo`: loads the demo shop (topology, three days of
//! inventory, backups and a recorded restore of orders) into an empty
//! database — a fresh start for a trial, and the end-to-end suite's fixture.

use app::state::AppState;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{error::ErrorBody, ApiError};
use crate::auth::api::Admin;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(load))
        .routes(routes!(stop_live))
}

/// `?live=true`: the live demo (its databases from `LOCKSTEP_DEMO_DATABASES`).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Which {
    #[serde(default)]
    live: bool,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Loaded {
    loaded: bool,
}

/// Loads the demo shop into an empty database; with `live=true`, the live
/// demo: orders, customers and payments in real databases (the server's
/// `LOCKSTEP_DEMO_DATABASES`), collected, with a real dump each.
#[utoipa::path(
    post,
    path = "/api/v1/demo",
    operation_id = "load_demo",
    tag = "meta",
    params(Which),
    responses(
        (status = 201, description = "The demo is loaded", body = Loaded),
        (status = 409, description = "The database already holds a topology, another change replaced it while the demo was loading, or the server has no live demo databases", body = ErrorBody)
    )
)]
async fn load(
    _: Admin,
    State(state): State<AppState>,
    Query(which): Query<Which>,
) -> Result<(StatusCode, Json<Loaded>), ApiError> {
    let loaded = if which.live {
        load_live(&state).await?
    } else {
        crate::demo::load_if_empty(&state.pool).await
    };
    match loaded {
        Ok(true) => Ok((StatusCode::CREATED, Json(Loaded { loaded: true }))),
        Ok(false) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the database already holds a topology; the demo loads only into an empty one",
        )),
        Err(error) if crate::demo::changed_meanwhile(&error) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("the topology changed while the demo was loading ({error:#}); nothing more was loaded"),
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

async fn load_live(state: &AppState) -> Result<anyhow::Result<bool>, ApiError> {
    let not_live = |why: &str| ApiError::new(StatusCode::CONFLICT, format!("no live demo: {why}"));
    let settings = crate::demo::live::Settings::from_env()
        .ok_or_else(|| not_live("the server was started without LOCKSTEP_DEMO_DATABASES"))?
        .map_err(|error| not_live(&format!("{error:#}")))?;
    let token = state
        .admin_token
        .clone()
        .ok_or_else(|| not_live("its collectors need the server's LOCKSTEP_ADMIN_TOKEN"))?;
    if app::topology::db::holds_services(&state.pool).await? {
        return Ok(Ok(false));
    }
    let lockstep = format!("http://{}", state.leptos_options.site_addr);
    Ok(crate::demo::load_live(&state.demo_tasks, &state.pool, &settings, &lockstep, &token).await)
}

/// Stops the live demo's collectors and workload (its databases stay).
#[utoipa::path(
    delete,
    path = "/api/v1/demo/live",
    operation_id = "stop_live_demo",
    tag = "meta",
    responses(
        (status = 204, description = "Stopped"),
        (status = 404, description = "No live demo runs", body = ErrorBody)
    )
)]
async fn stop_live(_: Admin, State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    if state.demo_tasks.stop() {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "no live demo runs"))
    }
}
