//! What the services' collectors say about themselves (`PUT …/collector`):
//! kept per service, read back by a collector that restarts (its
//! watermarks), shown on the inventory page and in `/metrics`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;

use super::ServiceRef;
use crate::error::AppError;
use crate::inventory::model::CollectorStatus;

/// One report of a collector's progress.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub collector: String,
    /// Rows reported since its previous report.
    #[serde(default)]
    pub rows: i64,
    pub lag_seconds: Option<f64>,
    /// What went wrong since its previous report, if anything (kept until
    /// the next error, with its time).
    pub error: Option<String>,
    /// Its resume point per source: an object, opaque to Lockstep.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub watermarks: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Keeps a report; watermarks left out keep the ones before.
pub async fn report(
    db: &PgPool,
    service: ServiceRef,
    report: &Report,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if report.rows < 0 {
        return Err(AppError::Invalid {
            field: "rows".into(),
            message: "a count of rows is never negative".into(),
        });
    }
    sqlx::query(
        "insert into collector_status as c (service_id, collector, last_seen_at, rows_sent, lag_seconds,
                                            last_error, last_error_at, watermarks)
         values ($1, $2, $3, $4, $5, $6, case when $6::text is not null then $3 end, coalesce($7::json, '{}'))
         on conflict (service_id) do update
             set collector = excluded.collector, last_seen_at = excluded.last_seen_at,
                 rows_sent = c.rows_sent + excluded.rows_sent, lag_seconds = excluded.lag_seconds,
                 last_error = coalesce(excluded.last_error, c.last_error),
                 last_error_at = coalesce(excluded.last_error_at, c.last_error_at),
                 watermarks = coalesce($7::json, c.watermarks)",
    )
    .bind(service.service_id)
    .bind(&report.collector)
    .bind(now)
    .bind(report.rows)
    .bind(report.lag_seconds)
    .bind(&report.error)
    // As text, so that PostgreSQL keeps it as written (`json`, not `jsonb`).
    .bind(report.watermarks.as_ref().and_then(|w| serde_json::to_string(w).ok()))
    .execute(db)
    .await?;
    Ok(())
}

const SELECT: &str = "
    select s.name as service, c.collector, c.last_seen_at, c.rows_sent, c.lag_seconds, c.last_error,
           c.last_error_at, c.watermarks
    from collector_status c join service s using (service_id)";

/// The service's collector, if one has reported.
pub async fn of_service(
    db: &PgPool,
    service: ServiceRef,
) -> Result<Option<CollectorStatus>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT} where c.service_id = $1"))
        .bind(service.service_id)
        .fetch_optional(db)
        .await?)
}

/// Every service's collector, by service name.
pub async fn all(db: &PgPool) -> Result<Vec<CollectorStatus>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT} order by s.name"))
        .fetch_all(db)
        .await?)
}
