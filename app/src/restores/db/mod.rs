//! The restores' SQL: the engine that detects, records and rolls back, the
//! history of restores and drills, the statistics a restore plans from, and
//! what the restores page offers to restore from, and the restores a
//! collected snapshot makes Lockstep suspect.

pub mod counted;
pub mod engine;
pub mod history;
pub mod plan;
mod statistics;
pub mod story;
pub mod suspected;

use sqlx::PgPool;

use super::api::RestoreChoice;
use crate::error::AppError;
use crate::inventory::model::BackupRow;

/// Every service with the backups a restore can start from, newest first.
pub async fn choices(db: &PgPool) -> Result<Vec<RestoreChoice>, AppError> {
    let rows: Vec<(String, Option<sqlx::types::Json<Vec<BackupRow>>>)> = sqlx::query_as(
        "select s.name, (select json_agg(json_build_object('id', b.backup_id, 'taken_at', b.taken_at,
                                                           'epoch', b.epoch, 'label', b.label)
                                         order by b.taken_at desc)
                         from backup b where b.service_id = s.service_id)
         from service s order by s.name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(service, backups)| RestoreChoice {
            service,
            backups: backups.map(|b| b.0).unwrap_or_default(),
        })
        .collect())
}
