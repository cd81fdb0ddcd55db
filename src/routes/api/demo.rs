//! `POST /api/v1/demo`: loads the demo shop (topology, three days of
//! inventory, backups and a recorded restore of orders) into an empty
//! database — a fresh start for a trial, and the end-to-end suite's fixture.

use app::state::AppState;
use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{error::ErrorBody, ApiError};
use crate::auth::api::Admin;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(load))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Loaded {
    loaded: bool,
}

/// Loads the demo shop into an empty database.
#[utoipa::path(
    post,
    path = "/api/v1/demo",
    operation_id = "load_demo",
    tag = "meta",
    responses(
        (status = 201, description = "The demo is loaded", body = Loaded),
        (status = 409, description = "The database already holds a topology, or another change replaced it while the demo was loading", body = ErrorBody)
    )
)]
async fn load(
    _: Admin,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Loaded>), ApiError> {
    match crate::demo::load_if_empty(&state.pool).await {
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
