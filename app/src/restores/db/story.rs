//! A restore's story, for its pictures: the lost writes, the repairs and
//! the burndown of its findings. The burndown reads when each finding
//! reached the state it is in now (Lockstep's verification, or the last
//! operator decision), one pass over the restore's findings by its index,
//! counted per moment in SQL and summed up here.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::error::AppError;
use crate::restores::model::{BurndownPoint, RestoreStory, STORY_SAMPLES};

/// How many moments the burndown has.
const BURNDOWN_POINTS: i64 = 24;

/// The restore as recorded.
#[derive(sqlx::FromRow)]
struct Recorded {
    service_id: i64,
    service: String,
    backup_taken_at: DateTime<Utc>,
    restored_at: DateTime<Utc>,
    amnesia_to: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

pub async fn get(db: &PgPool, id: i64) -> Result<RestoreStory, AppError> {
    let Recorded {
        service_id,
        service,
        backup_taken_at: taken_at,
        restored_at,
        amnesia_to,
        created_at,
    } = sqlx::query_as(
        "select r.service_id, s.name as service, r.backup_taken_at, r.restored_at, r.amnesia_to,
                r.created_at
         from restore r join service s on s.service_id = r.service_id
         where r.restore_id = $1 and not r.drill",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("restore {id}")))?;
    // Every n-th of an ordered set, so a picture of a million writes draws
    // a few hundred marks spread as the writes were.
    let (lost_total, lost_writes): (i64, Vec<DateTime<Utc>>) = sqlx::query_as(
        "with lost as (
             select coalesce(valid_from, updated_at) as at,
                    row_number() over (order by coalesce(valid_from, updated_at)) as n,
                    count(*) over () as total
             from entity_version
             where service_id = $1 and lost
               and coalesce(valid_from, updated_at) > $2 and coalesce(valid_from, updated_at) <= $3)
         select coalesce(max(total), 0), coalesce(array_agg(at order by at), '{}')
         from lost where n % greatest(1, total / $4) = 0",
    )
    .bind(service_id)
    .bind(taken_at)
    .bind(restored_at)
    .bind(STORY_SAMPLES)
    .fetch_one(db)
    .await?;
    let repairs: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "with repaired as (
             select verified_at as at, row_number() over (order by verified_at) as n,
                    count(*) over () as total
             from finding where restore_id = $1 and verified_at is not null)
         select coalesce(array_agg(at order by at), '{}') from repaired
         where n % greatest(1, total / $2) = 0",
    )
    .bind(id)
    .bind(STORY_SAMPLES)
    .fetch_one(db)
    .await?;
    let end = Utc::now().max(created_at + chrono::Duration::minutes(1));
    let step = (end - created_at).num_milliseconds() as f64 / 1000.0 / BURNDOWN_POINTS as f64;
    // Per moment k (0..=BURNDOWN_POINTS, `step` seconds apart from the
    // restore), how many findings reached their state since moment k-1.
    let reached: Vec<(i32, i64, i64)> = sqlx::query_as(
        "with states as (
             select case when status = 'resolved' and resolved_by in ('inventory', 'restore')
                         then verified_at end as verified,
                    case when status in ('resolved', 'accepted', 'dismissed')
                              and resolved_by is distinct from 'inventory'
                              and resolved_by is distinct from 'restore'
                         then updated_at end as decided
             from finding where restore_id = $1)
         select least($4, greatest(0, ceil(extract(epoch from coalesce(verified, decided) - $2) / $3)))::int,
                count(verified), count(decided)
         from states where coalesce(verified, decided) is not null
         group by 1",
    )
    .bind(id)
    .bind(created_at)
    .bind(step)
    .bind(BURNDOWN_POINTS as i32)
    .fetch_all(db)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "select coalesce(sum(open + claimed + resolved + verified + accepted + dismissed), 0)::bigint
         from cause where restore_id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    let (mut verified, mut decided) = (0, 0);
    let burndown = (0..=BURNDOWN_POINTS)
        .map(|k| {
            for (_, v, d) in reached.iter().filter(|(at, ..)| i64::from(*at) == k) {
                verified += v;
                decided += d;
            }
            BurndownPoint {
                at: created_at + chrono::Duration::milliseconds((step * 1000.0 * k as f64) as i64),
                pending: total - verified - decided,
                verified,
                decided,
            }
        })
        .collect();
    Ok(RestoreStory {
        id,
        service,
        backup_taken_at: taken_at,
        restored_at,
        amnesia_to,
        lost_writes,
        lost_total,
        repairs,
        burndown,
    })
}
