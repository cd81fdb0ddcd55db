//! The queue page's "Export CSV" link: the current filter's findings as a
//! download, the same export as the API's `/api/v1/findings/export.csv`
//! (with the browser's session instead of a token).

use app::state::AppState;
use axum::{routing::get, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/queue/export.csv", get(super::api::findings::export))
}
