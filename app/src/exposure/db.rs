//! The exposure series' SQL: one measurement run (a drill of every
//! service to its latest backup), the points as the API lists them, the
//! newest runs for the groups page and the newest point of each service
//! for `/metrics`.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgPool};

use super::model::{ExposureFilter, ExposureOverview, ExposurePoint};
use crate::error::AppError;
use crate::restores::db::{counted, engine};

/// How long points are kept: a quarter of hourly runs is what the charts
/// and an architect's review look back over.
const RETENTION: &str = "90 days";

/// How many runs the groups page charts.
pub const CHARTED_RUNS: i64 = 24;

/// At most this many points in one answer of the API (the newest).
const LIST_LIMIT: i64 = 10_000;

/// One measurement run: every service with a backup, drilled to its
/// latest one and back now, each in its own transaction (a drill holds no
/// lock, so ingests and restores go on meanwhile). Points older than the
/// retention are dropped. Returns the run's points.
pub async fn measure(db: &PgPool) -> Result<Vec<ExposurePoint>, AppError> {
    let at: DateTime<Utc> = sqlx::query_scalar("select now()").fetch_one(db).await?;
    let latest: Vec<(i64, String, i64, DateTime<Utc>)> = sqlx::query_as(
        "select distinct on (b.service_id) b.service_id, s.name, b.backup_id, b.taken_at
         from backup b join service s on s.service_id = b.service_id
         where b.taken_at <= $1
         order by b.service_id, b.taken_at desc, b.backup_id desc",
    )
    .bind(at)
    .fetch_all(db)
    .await?;
    let mut points = Vec::with_capacity(latest.len());
    for (service_id, service, backup_id, taken_at) in latest {
        let mut tx = db.begin().await?;
        let rows = engine::drill(&mut tx, service_id, taken_at, at).await?;
        let point = ExposurePoint {
            at,
            service,
            backup_id: Some(backup_id),
            backup_taken_at: taken_at,
            counts: counted::per_kind(&rows),
            by_relation: counted::per_relation(&rows),
        };
        sqlx::query(
            "insert into exposure (service_id, at, backup_id, backup_taken_at, counts, by_relation)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(service_id)
        .bind(at)
        .bind(backup_id)
        .bind(taken_at)
        .bind(Json(&point.counts))
        .bind(Json(&point.by_relation))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        points.push(point);
    }
    sqlx::query(&format!(
        "delete from exposure where at < $1 - interval '{RETENTION}'"
    ))
    .bind(at)
    .execute(db)
    .await?;
    Ok(points)
}

/// The points under the filter, oldest first (the newest `LIST_LIMIT`).
/// An unknown service or relation is a 404.
pub async fn list(db: &PgPool, filter: &ExposureFilter) -> Result<Vec<ExposurePoint>, AppError> {
    let service_id = match &filter.service {
        Some(name) => Some(
            sqlx::query_scalar::<_, i64>("select service_id from service where name = $1")
                .bind(name)
                .fetch_optional(db)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("service {name:?}")))?,
        ),
        None => None,
    };
    if let Some(name) = &filter.relation {
        let known: bool =
            sqlx::query_scalar("select exists (select 1 from relation where name = $1)")
                .bind(name)
                .fetch_one(db)
                .await?;
        if !known {
            return Err(AppError::NotFound(format!("relation {name:?}")));
        }
    }
    Ok(sqlx::query_as(
        "select * from (
             select e.at, s.name as service, e.backup_id, e.backup_taken_at, e.counts,
                    case when $2::text is null then e.by_relation
                         else jsonb_build_object($2::text, coalesce(e.by_relation -> $2::text, '{}'))
                    end as by_relation
             from exposure e join service s on s.service_id = e.service_id
             where ($1::bigint is null or e.service_id = $1)
               and ($2::text is null or e.service_id in (
                       select from_service_id from relation where name = $2
                       union all select to_service_id from relation where name = $2))
               and ($3::timestamptz is null or e.at >= $3)
             order by e.at desc, s.name desc
             limit $4) newest
         order by at, service",
    )
    .bind(service_id)
    .bind(&filter.relation)
    .bind(filter.since)
    .bind(LIST_LIMIT)
    .fetch_all(db)
    .await?)
}

/// The newest `CHARTED_RUNS` runs, added up per service and relation.
pub async fn overview(db: &PgPool) -> Result<ExposureOverview, AppError> {
    let points: Vec<ExposurePoint> = sqlx::query_as(
        "with runs as (select distinct at from exposure order by at desc limit $1)
         select e.at, s.name as service, e.backup_id, e.backup_taken_at, e.counts, e.by_relation
         from exposure e join runs r on r.at = e.at join service s on s.service_id = e.service_id",
    )
    .bind(CHARTED_RUNS)
    .fetch_all(db)
    .await?;
    Ok(ExposureOverview::from_points(&points))
}

/// Each service's newest point (for `/metrics`).
pub async fn latest(db: &PgPool) -> Result<Vec<ExposurePoint>, AppError> {
    Ok(sqlx::query_as(
        "select distinct on (e.service_id) e.at, s.name as service, e.backup_id, e.backup_taken_at,
                e.counts, e.by_relation
         from exposure e join service s on s.service_id = e.service_id
         order by e.service_id, e.at desc",
    )
    .fetch_all(db)
    .await?)
}
