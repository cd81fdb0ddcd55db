//! The queue page's "Export CSV" link: the current filter's findings as a
//! download. (The API's `/api/v1/findings/export.csv` is the same export for
//! token holders.)

use app::{queue::db, state::AppState};
use axum::{
    extract::{Query, State},
    response::Response,
    routing::get,
    Router,
};

use super::api::{auth::Reader, csv_response, filter_and_page, ApiError, FindingQuery};

pub fn router() -> Router<AppState> {
    Router::new().route("/queue/export.csv", get(export))
}

async fn export(
    _: Reader,
    State(state): State<AppState>,
    Query(query): Query<FindingQuery>,
) -> Result<Response, ApiError> {
    let (filter, _) = filter_and_page(&query)?;
    Ok(csv_response(db::export_csv(&state.pool, &filter).await?))
}
