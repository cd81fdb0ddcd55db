//! The reconciliation queue over HTTP: `GET /api/v1/findings` (keyset
//! pages), one finding with its audit trail, the operators' actions, bulk
//! actions, "claim the next one", counts and a CSV export.

use app::{
    error::AppError,
    queue::{
        db,
        model::{
            read_query, Action, ActionInput, BulkOutcome, CountRow, Filter, FindingDetail,
            FindingPage, Page, Selection,
        },
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::api::{Operator, Reader};

use super::{parse_id, ApiError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(counts))
        .routes(routes!(export))
        .routes(routes!(bulk))
        .routes(routes!(claim_next))
        .routes(routes!(one))
        .routes(routes!(act))
}

/// The queue's filter and page in a query string. Values stay text until
/// `filter_and_page` reads them, so a bad number is a 422 naming the
/// parameter rather than a bare 400.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FindingQuery {
    /// Only this restore's findings.
    #[param(value_type = Option<i64>)]
    restore: Option<String>,
    /// broken_link, stale_reference, orphan_candidate, missing_state or dangling_delete.
    kind: Option<String>,
    /// open, claimed, resolved, accepted or dismissed.
    status: Option<String>,
    /// A service on either side.
    service: Option<String>,
    /// A relation's name.
    relation: Option<String>,
    /// Only this cause's findings (see `/api/v1/findings/causes`).
    #[param(value_type = Option<i64>)]
    cause: Option<String>,
    /// The `next` of the previous page.
    #[param(value_type = Option<i64>)]
    after: Option<String>,
    /// Items per page (default 50, at most 500).
    #[param(value_type = Option<i64>)]
    limit: Option<String>,
    /// `asc` (oldest first, the default) or `desc`.
    order: Option<String>,
}

/// The filter and page from the query string (`queue::model::read_query`,
/// the queue page's own reading): a bad value is a 422 naming it.
pub(crate) fn filter_and_page(query: &FindingQuery) -> Result<(Filter, Page), AppError> {
    read_query(|name| {
        match name {
            "restore" => &query.restore,
            "kind" => &query.kind,
            "status" => &query.status,
            "service" => &query.service,
            "relation" => &query.relation,
            "cause" => &query.cause,
            "after" => &query.after,
            "limit" => &query.limit,
            "order" => &query.order,
            _ => &None,
        }
        .clone()
    })
}

/// A page of findings under the filter (keyset pagination: pass `next` as
/// `after`; `next` is null on the last page).
#[utoipa::path(
    get,
    path = "/api/v1/findings",
    operation_id = "list_findings",
    tag = "findings",
    params(FindingQuery),
    responses((status = 200, description = "One page", body = FindingPage))
)]
async fn list(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<FindingQuery>,
) -> Result<Json<FindingPage>, ApiError> {
    let (filter, page) = filter_and_page(&query)?;
    Ok(Json(db::list(&state.pool, &filter, page).await?))
}

/// Findings per kind and status under the filter.
#[utoipa::path(
    get,
    path = "/api/v1/findings/counts",
    operation_id = "count_findings",
    tag = "findings",
    params(FindingQuery),
    responses((status = 200, description = "Counts", body = Vec<CountRow>))
)]
async fn counts(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<FindingQuery>,
) -> Result<Json<Vec<CountRow>>, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    Ok(Json(db::counts(&state.pool, &filter).await?))
}

/// Every finding under the filter as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/findings/export.csv",
    operation_id = "export_findings",
    tag = "findings",
    params(FindingQuery),
    responses((status = 200, description = "findings.csv", content_type = "text/csv", body = String))
)]
pub(crate) async fn export(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<FindingQuery>,
) -> Result<Response, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    let csv = db::export_csv(state.pool.clone(), filter)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"findings.csv\"",
            ),
        ],
        axum::body::Body::from_stream(csv),
    )
        .into_response())
}

/// One finding with its audit trail.
#[utoipa::path(
    get,
    path = "/api/v1/findings/{id}",
    operation_id = "get_finding",
    tag = "findings",
    params(("id" = i64, Path, description = "The finding's id")),
    responses((status = 200, description = "The finding", body = FindingDetail))
)]
async fn one(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<FindingDetail>, ApiError> {
    Ok(Json(db::get(&state.pool, parse_id(&id)?).await?))
}

/// An optional JSON body: empty means no note and no strategy.
pub(crate) fn action_input(body: &[u8]) -> Result<ActionInput, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionInput::default());
    }
    serde_json::from_slice(body).map_err(|error| AppError::Invalid {
        field: "body".into(),
        message: format!("expected {{\"note\"?: string, \"strategy\"?: string}}: {error}"),
    })
}

/// Claims, resolves, accepts, dismisses or reopens one finding. A claim
/// held by another operator is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/findings/{id}/{action}",
    operation_id = "act_on_finding",
    tag = "findings",
    params(
        ("id" = i64, Path, description = "The finding's id"),
        ("action" = String, Path, description = "claim, resolve, accept, dismiss or reopen")
    ),
    request_body(content = Option<ActionInput>, description = "Optional: a note and the strategy used"),
    responses((status = 200, description = "The finding after the action", body = FindingDetail))
)]
async fn act(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<FindingDetail>, ApiError> {
    let id = parse_id(&id)?;
    let action = Action::parse(&action).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no action {action:?}: claim, resolve, accept, dismiss or reopen"),
        )
    })?;
    let input = action_input(&body)?;
    Ok(Json(
        db::act(&state.pool, id, action, &input, &actor).await?,
    ))
}

/// Exactly one of `ids` and `filter`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    /// claim, resolve, accept, dismiss or reopen.
    action: String,
    ids: Option<Vec<i64>>,
    filter: Option<Filter>,
    note: Option<String>,
    strategy: Option<String>,
}

/// One action on a selection (`ids`) or on everything matching a filter;
/// findings another operator holds are skipped and counted.
#[utoipa::path(
    post,
    path = "/api/v1/findings/bulk",
    operation_id = "act_on_findings",
    tag = "findings",
    request_body = BulkRequest,
    responses((status = 200, description = "How many changed and how many were skipped", body = BulkOutcome))
)]
async fn bulk(
    Operator(actor): Operator,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<BulkOutcome>, ApiError> {
    let invalid = |message: String| AppError::Invalid {
        field: "body".into(),
        message,
    };
    let request: BulkRequest = serde_json::from_slice(&body).map_err(|e| {
        invalid(format!(
            "expected {{\"action\", \"ids\"?: [id], \"filter\"?: {{…}}, \"note\"?, \"strategy\"?}}: {e}"
        ))
    })?;
    let action = Action::parse(&request.action)
        .ok_or_else(|| invalid(format!("unknown action {:?}", request.action)))?;
    let selection = match (request.ids, request.filter) {
        (Some(ids), None) => Selection::Ids(ids),
        (None, Some(filter)) => Selection::Filter(filter),
        _ => return Err(invalid("give exactly one of ids and filter".into()).into()),
    };
    let input = ActionInput {
        note: request.note,
        strategy: request.strategy,
    };
    Ok(Json(
        db::bulk(&state.pool, &selection, action, &input, &actor).await?,
    ))
}

/// Claims the oldest open finding under the query's filter (`FOR UPDATE
/// SKIP LOCKED`: two operators never get the same one); 204 when none.
#[utoipa::path(
    post,
    path = "/api/v1/findings/claim-next",
    operation_id = "claim_next_finding",
    tag = "findings",
    params(FindingQuery),
    responses(
        (status = 200, description = "The claimed finding", body = FindingDetail),
        (status = 204, description = "Nothing open under the filter")
    )
)]
async fn claim_next(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Query(query): Query<FindingQuery>,
) -> Result<Response, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    Ok(match db::claim_next(&state.pool, &filter, &actor).await? {
        Some(detail) => Json(detail).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
