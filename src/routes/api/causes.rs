//! Causes over HTTP (spec §8): the causes of a restore or scan, one
//! decision for all the pending findings of a cause, and its repair kit.

use app::{
    causes::{
        db, kit,
        model::{CauseFilter, CauseSummary, KitFormat},
    },
    error::AppError,
    queue::model::{Action, BulkOutcome},
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{findings::action_input, parse_id, ApiError};
use crate::auth::api::{Operator, Reader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(repair_kit))
        .routes(routes!(decide))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CauseQuery {
    /// Only this restore's causes.
    #[param(value_type = Option<i64>)]
    restore: Option<String>,
    /// Only this scan's causes.
    #[param(value_type = Option<i64>)]
    scan: Option<String>,
    /// Causes with at least one finding that is open, claimed, resolved,
    /// verified, accepted or dismissed.
    status: Option<String>,
}

fn number(name: &str, value: &Option<String>) -> Result<Option<i64>, AppError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse().map_err(|_| AppError::Invalid {
                field: name.into(),
                message: format!("{v:?} is not a number"),
            })
        })
        .transpose()
}

/// The causes under the filter, biggest first (at most 1,000): one row per
/// kind, relation, pair of services and suggested strategy of a restore or
/// scan, with its findings' counts.
#[utoipa::path(
    get,
    path = "/api/v1/findings/causes",
    operation_id = "list_causes",
    tag = "findings",
    params(CauseQuery),
    responses((status = 200, description = "The causes", body = Vec<CauseSummary>))
)]
async fn list(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<CauseQuery>,
) -> Result<Json<Vec<CauseSummary>>, ApiError> {
    let filter = CauseFilter {
        restore: number("restore", &query.restore)?,
        scan: number("scan", &query.scan)?,
        status: query.status.filter(|s| !s.is_empty()),
    };
    Ok(Json(db::list(&state.pool, &filter).await?))
}

/// Resolves, accepts or dismisses every pending finding of the cause in
/// one transaction, each with its audit entry. Findings another operator
/// has claimed are left to them and counted in `skipped`.
#[utoipa::path(
    post,
    path = "/api/v1/findings/causes/{id}/{action}",
    operation_id = "decide_cause",
    tag = "findings",
    params(
        ("id" = i64, Path, description = "The cause's id"),
        ("action" = String, Path, description = "resolve, accept or dismiss")
    ),
    request_body(content = Option<app::queue::model::ActionInput>, description = "Optional: a note and the strategy used"),
    responses((status = 200, description = "How many findings changed and how many were skipped", body = BulkOutcome))
)]
async fn decide(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<BulkOutcome>, ApiError> {
    let id = parse_id(&id)?;
    let action = Action::parse(&action)
        .filter(|a| matches!(a, Action::Resolve | Action::Accept | Action::Dismiss))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no decision {action:?} on a cause: resolve, accept or dismiss"),
            )
        })?;
    let input = action_input(&body)?;
    Ok(Json(
        db::decide(&state.pool, id, action, &input, &actor).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KitQuery {
    /// `ndjson` or `csv`, for a link that cannot set `Accept`.
    format: Option<String>,
}

/// The cause's repair kit, one line a key of its pending findings, in the
/// format `Accept` (or `format`) asks for: `application/x-ndjson` (the
/// default) or `text/csv`. Its lines depend on the cause: the newest
/// cached copy of each lost target (`cache`), each lost write (`replay`),
/// each surviving counterpart (missing state), the referrers of each
/// missing key (`reconstruct`), or each orphan's last referrer.
#[utoipa::path(
    get,
    path = "/api/v1/findings/causes/{id}/repair-kit",
    operation_id = "cause_repair_kit",
    tag = "findings",
    params(("id" = i64, Path, description = "The cause's id"), KitQuery),
    responses(
        (status = 200, description = "The kit, streamed",
         content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 406, description = "Neither NDJSON nor CSV is acceptable", body = super::error::ErrorBody)
    )
)]
async fn repair_kit(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<KitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = KitFormat::negotiate(query.format.as_deref(), accept).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "a repair kit comes as application/x-ndjson or text/csv (format=ndjson or csv)",
        )
    })?;
    let (cause, target_service_id) = db::get(&state.pool, id).await?;
    let file = format!(
        "attachment; filename=\"repair-kit-cause-{id}.{}\"",
        format.extension()
    );
    let body = axum::body::Body::from_stream(kit::stream(
        state.pool.clone(),
        cause,
        target_service_id,
        format,
    ));
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
        .into_response())
}
