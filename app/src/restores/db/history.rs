//! The restore history: restores and drills as they were recorded.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgPool};

use crate::error::AppError;
use crate::restores::model::{Amnesia, RestoreReport, ServiceCount};

#[derive(sqlx::FromRow)]
struct RestoreRow {
    restore_id: i64,
    service: String,
    drill: bool,
    backup_id: Option<i64>,
    backup_taken_at: DateTime<Utc>,
    restored_at: DateTime<Utc>,
    epoch: i32,
    amnesia_from: DateTime<Utc>,
    amnesia_to: Option<DateTime<Utc>>,
    counts: Json<std::collections::BTreeMap<String, i64>>,
    by_service: Json<Vec<ServiceCount>>,
    left: i64,
    recorded_by: String,
    created_at: DateTime<Utc>,
}

impl From<RestoreRow> for RestoreReport {
    fn from(r: RestoreRow) -> Self {
        RestoreReport {
            id: r.restore_id,
            service: r.service,
            drill: r.drill,
            backup_id: r.backup_id,
            backup_taken_at: r.backup_taken_at,
            restored_at: r.restored_at,
            epoch: r.epoch,
            amnesia: Amnesia {
                from: r.amnesia_from,
                to: r.amnesia_to,
            },
            counts: r.counts.0,
            by_service: r.by_service.0,
            left: r.left,
            recorded_by: r.recorded_by,
            created_at: r.created_at,
            steps: Vec::new(),
        }
    }
}

const SELECT: &str =
    "select r.restore_id, s.name as service, r.drill, r.backup_id, r.backup_taken_at,
        r.restored_at, r.epoch, r.amnesia_from, r.amnesia_to, r.counts, r.by_service,
        (select coalesce(sum(c.open + c.claimed), 0) from cause c
         where c.restore_id = r.restore_id)::bigint as left,
        r.recorded_by, r.created_at
    from restore r join service s on s.service_id = r.service_id";

/// Newest first; of one service when named.
pub async fn list(db: &PgPool, service: Option<&str>) -> Result<Vec<RestoreReport>, AppError> {
    let rows: Vec<RestoreRow> = sqlx::query_as(&format!(
        "{SELECT} where $1::text is null or s.name = $1 order by r.restore_id desc limit 200"
    ))
    .bind(service)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(RestoreReport::from).collect())
}

pub async fn get(db: &PgPool, id: i64) -> Result<RestoreReport, AppError> {
    sqlx::query_as::<_, RestoreRow>(&format!("{SELECT} where r.restore_id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(RestoreReport::from)
        .ok_or_else(|| AppError::NotFound(format!("restore {id}")))
}
