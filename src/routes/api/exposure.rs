//! Exposure over HTTP (spec §10): the series of scheduled drills, and a
//! run measured on demand.

use app::{
    error::AppError,
    exposure::{
        db,
        model::{ExposureFilter, ExposurePoint},
    },
    state::AppState,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    Json,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ApiError;
use crate::auth::api::{Operator, Reader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, measure))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExposureQuery {
    /// Only this service's drills.
    service: Option<String>,
    /// Only the drills of the services at either end of this relation, with
    /// `by_relation` narrowed to it.
    relation: Option<String>,
    /// Only points measured at or after this RFC 3339 time.
    since: Option<String>,
}

/// The exposure series, oldest first (the newest 10,000 points): per
/// measurement run and service, what a restore to its latest backup would
/// break, per kind and per relation.
#[utoipa::path(
    get,
    path = "/api/v1/exposure",
    operation_id = "list_exposure",
    tag = "restores",
    params(ExposureQuery),
    responses(
        (status = 200, description = "The points", body = Vec<ExposurePoint>),
        (status = 404, description = "Unknown service or relation", body = super::error::ErrorBody),
        (status = 422, description = "`since` is not an RFC 3339 time", body = super::error::ErrorBody)
    )
)]
async fn list(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<ExposureQuery>,
) -> Result<Json<Vec<ExposurePoint>>, ApiError> {
    let since = query
        .since
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AppError::Invalid {
                    field: "since".into(),
                    message: format!("{s:?} is not an RFC 3339 time"),
                })
        })
        .transpose()?;
    let filter = ExposureFilter {
        service: query.service.filter(|s| !s.is_empty()),
        relation: query.relation.filter(|s| !s.is_empty()),
        since,
    };
    Ok(Json(db::list(&state.pool, &filter).await?))
}

/// Runs one measurement now, as the schedule does: every service with a
/// backup drilled to its latest one. Returns the run's points.
#[utoipa::path(
    post,
    path = "/api/v1/exposure",
    operation_id = "measure_exposure",
    tag = "restores",
    responses((status = 201, description = "The run's points", body = Vec<ExposurePoint>))
)]
async fn measure(
    _: Operator,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Vec<ExposurePoint>>), ApiError> {
    Ok((StatusCode::CREATED, Json(db::measure(&state.pool).await?)))
}
