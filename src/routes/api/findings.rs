//! The reconciliation queue over HTTP: `GET /api/v1/findings` (keyset
//! pages), one finding with its audit trail, the operators' actions, bulk
//! actions, "claim the next one", counts and a CSV export.

use std::collections::HashMap;

use app::{
    error::AppError,
    queue::{
        db,
        model::{
            Action, ActionInput, BulkOutcome, CountRow, Filter, FindingDetail, FindingPage, Page,
            Selection,
        },
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;

use super::{
    auth::{Operator, Reader},
    parse_id, ApiError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/findings", get(list))
        .route("/api/v1/findings/counts", get(counts))
        .route("/api/v1/findings/export.csv", get(export))
        .route("/api/v1/findings/bulk", post(bulk))
        .route("/api/v1/findings/claim-next", post(claim_next))
        .route("/api/v1/findings/{id}", get(one))
        .route("/api/v1/findings/{id}/{action}", post(act))
}

/// The filter and page from the query string; a bad value is a 422 that
/// names the parameter.
pub(crate) fn filter_and_page(query: &HashMap<String, String>) -> Result<(Filter, Page), AppError> {
    let number = |name: &str| -> Result<Option<i64>, AppError> {
        query
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse().map_err(|_| AppError::Invalid {
                    field: name.into(),
                    message: format!("{v:?} is not a number"),
                })
            })
            .transpose()
    };
    let text = |name: &str| query.get(name).filter(|v| !v.is_empty()).cloned();
    let newest_first = match query.get("order").map(String::as_str) {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(AppError::Invalid {
                field: "order".into(),
                message: format!("{other:?}: asc or desc"),
            })
        }
    };
    let filter = Filter {
        restore: number("restore")?,
        kind: text("kind"),
        status: text("status"),
        service: text("service"),
        relation: text("relation"),
    };
    let page = Page {
        after: number("after")?,
        limit: number("limit")?,
        newest_first,
    };
    Ok((filter, page))
}

async fn list(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<FindingPage>, ApiError> {
    let (filter, page) = filter_and_page(&query)?;
    Ok(Json(db::list(&state.pool, &filter, page).await?))
}

async fn counts(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<CountRow>>, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    Ok(Json(db::counts(&state.pool, &filter).await?))
}

async fn export(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    Ok(csv_response(db::export_csv(&state.pool, &filter).await?))
}

/// A CSV download named findings.csv.
pub(crate) fn csv_response(csv: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"findings.csv\"",
            ),
        ],
        csv,
    )
        .into_response()
}

async fn one(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<FindingDetail>, ApiError> {
    Ok(Json(db::get(&state.pool, parse_id(&id)?).await?))
}

/// An optional JSON body: empty means no note and no strategy.
fn action_input(body: &[u8]) -> Result<ActionInput, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionInput::default());
    }
    serde_json::from_slice(body).map_err(|error| AppError::Invalid {
        field: "body".into(),
        message: format!("expected {{\"note\"?: string, \"strategy\"?: string}}: {error}"),
    })
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    action: String,
    ids: Option<Vec<i64>>,
    filter: Option<Filter>,
    note: Option<String>,
    strategy: Option<String>,
}

/// `{"action", "ids"? | "filter"?, "note"?, "strategy"?}` → `{changed, skipped}`.
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

/// Claims the oldest open finding under the query's filter; 204 when none.
async fn claim_next(
    Operator(actor): Operator,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    Ok(match db::claim_next(&state.pool, &filter, &actor).await? {
        Some(detail) => Json(detail).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
