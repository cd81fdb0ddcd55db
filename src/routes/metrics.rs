//! `GET /metrics`: Prometheus exposition text (OpenMetrics). Open like
//! `/healthz`, for the scraper; DEPLOY.md shows how to keep it off the
//! public side of the reverse proxy.

use app::{metrics::METRICS, state::AppState};
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        METRICS.render(&state.pool).await,
    )
        .into_response()
}
