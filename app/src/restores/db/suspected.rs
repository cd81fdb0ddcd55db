//! Suspected restores (spec §9): a collected snapshot that shows the
//! service's state going back in time.
//!
//! A restore to a backup taken at `b` and noticed at `r` leaves a gap in
//! what the service holds: every entity last written between `b` and `r`
//! is gone (created after `b`) or back at an older version (updated after
//! `b`), and nothing last written in that span survives as Lockstep knew
//! it. Ordinary hard deletes remove entities of any age, among survivors
//! of the same age: they leave no gap. Only what Lockstep knew as of the
//! snapshot's own time is evidence, so a snapshot that is merely late (the
//! service wrote more since it was taken) shows nothing.
//!
//! Entities back at an older version are the telling sign (a service does
//! not move its own update times back). When entities only vanished, the
//! gap must start right after a recorded backup (nothing written since that
//! backup survived) and hold more than one entity: a single vanished entity
//! is far more often a plain delete. Two deletes of the only entities
//! written since a backup look like a restore, and are raised as one: the
//! operator dismisses it.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool};

use super::engine::{self, RestorePoint, RestoreRequest};
use crate::error::AppError;
use crate::inventory::db::ServiceRef;
use crate::restores::model::{RestoreReport, SuspectedRestore};

/// The channel a new or renewed suspicion is announced on (the live stream).
pub const CHANNEL: &str = "lockstep_suspected_restores";

/// How many entities must vanish, none regressing, to suspect a restore.
const MIN_VANISHED: i64 = 2;

/// What the staged snapshot (`snapshot_entity`) shows against the live
/// inventory, before the difference is written.
#[derive(sqlx::FromRow)]
struct Regression {
    vanished: i64,
    regressed: i64,
    first_lost_at: Option<DateTime<Utc>>,
    last_lost_at: Option<DateTime<Utc>>,
    /// The newest version the snapshot still shows of a regressed entity.
    restored_state_at: Option<DateTime<Utc>>,
}

/// Looks for a regression in the staged snapshot taken at `at`, and raises
/// (or renews) the service's open suspicion when there is one. A renewal
/// keeps the largest evidence seen: the first snapshot already wrote the
/// vanished entities' deletions, so the next one only sees the regressed.
pub async fn detect(
    conn: &mut PgConnection,
    service: ServiceRef,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let found: Regression = sqlx::query_as(
        "select count(*) filter (where s.key is null) as vanished,
                count(*) filter (where s.key is not null) as regressed,
                min(e.updated_at) as first_lost_at, max(e.updated_at) as last_lost_at,
                max(s.updated_at) as restored_state_at
         from entity e
         left join snapshot_entity s on s.key = e.key
         where e.service_id = $1 and not e.deleted and e.updated_at <= $2
           and (s.key is null or s.updated_at < e.updated_at)",
    )
    .bind(service.service_id)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    let (Some(first_lost), Some(last_lost)) = (found.first_lost_at, found.last_lost_at) else {
        return Ok(());
    };
    // The backup it came from: the newest taken before the first lost
    // write (and not before the state that regressed entities show).
    let backup: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
        "select backup_id, taken_at from backup
         where service_id = $1 and taken_at < $2 and ($3::timestamptz is null or taken_at >= $3)
         order by taken_at desc limit 1",
    )
    .bind(service.service_id)
    .bind(first_lost)
    .bind(found.restored_state_at)
    .fetch_optional(&mut *conn)
    .await?;
    let gap_from = match (found.regressed, backup) {
        (0, Some((_, taken_at))) if found.vanished >= MIN_VANISHED => taken_at,
        (0, _) => return Ok(()),
        _ => first_lost,
    };
    if survivor_within(conn, service, gap_from, last_lost).await? {
        return Ok(());
    }
    sqlx::query(
        "insert into suspected_restore as o (service_id, seen_at, last_seen_at, first_lost_at,
                                             restored_state_at, backup_id, vanished, regressed)
         values ($1, $2, $2, $3, $4, $5, $6, $7)
         on conflict (service_id) where status = 'open' do update
             set last_seen_at = greatest(o.last_seen_at, excluded.last_seen_at),
                 first_lost_at = least(o.first_lost_at, excluded.first_lost_at),
                 restored_state_at = excluded.restored_state_at,
                 backup_id = excluded.backup_id,
                 vanished = greatest(o.vanished, excluded.vanished),
                 regressed = greatest(o.regressed, excluded.regressed)",
    )
    .bind(service.service_id)
    .bind(at)
    .bind(first_lost)
    .bind(found.restored_state_at)
    .bind(backup.map(|(id, _)| id))
    .bind(found.vanished)
    .bind(found.regressed)
    .execute(&mut *conn)
    .await?;
    sqlx::query("select pg_notify($1, name) from service where service_id = $2")
        .bind(CHANNEL)
        .bind(service.service_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether an entity last written in `[from, to]` is in the snapshot as
/// Lockstep knew it: a survivor inside the span means no gap.
async fn survivor_within(
    conn: &mut PgConnection,
    service: ServiceRef,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "select exists (
             select 1 from entity e
             join snapshot_entity s on s.key = e.key and s.updated_at = e.updated_at
             where e.service_id = $1 and not e.deleted and e.updated_at between $2 and $3)",
    )
    .bind(service.service_id)
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await?)
}

/// A recorded restore of the service settles its open suspicion.
pub async fn settle(
    conn: &mut PgConnection,
    service_id: i64,
    restore_id: i64,
    actor: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "update suspected_restore set status = 'recorded', restore_id = $2, decided_by = $3,
                                      decided_at = now()
         where service_id = $1 and status = 'open'",
    )
    .bind(service_id)
    .bind(restore_id)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

const SELECT: &str = "
    select x.suspected_restore_id as id, s.name as service, x.seen_at, x.last_seen_at, x.backup_id,
           b.taken_at, json_build_object('vanished', x.vanished, 'regressed', x.regressed,
                                         'first_lost_at', x.first_lost_at) as evidence,
           x.status, x.restore_id
    from suspected_restore x
    join service s on s.service_id = x.service_id
    left join backup b on b.backup_id = x.backup_id";

/// A service's suspicions, newest first.
pub async fn of_service(db: &PgPool, service: &str) -> Result<Vec<SuspectedRestore>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} where s.name = $1 order by x.seen_at desc, x.suspected_restore_id desc"
    ))
    .bind(service)
    .fetch_all(db)
    .await?)
}

/// Every open suspicion, for the restores page.
pub async fn open(db: &PgPool) -> Result<Vec<SuspectedRestore>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} where x.status = 'open' order by x.seen_at desc"
    ))
    .fetch_all(db)
    .await?)
}

/// One of a service's suspicions: 404 when it names another service's.
pub async fn find(db: &PgPool, service: &str, id: i64) -> Result<SuspectedRestore, AppError> {
    sqlx::query_as(&format!(
        "{SELECT} where s.name = $1 and x.suspected_restore_id = $2"
    ))
    .bind(service)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("suspected restore {id} of service {service:?}")))
}

/// Records an open suspicion as the restore it suspects: to its backup (a
/// point just before the first lost write when no backup matched), back at
/// `seen_at`. The restore settles the suspicion in its own transaction.
pub async fn record(
    db: &PgPool,
    service: &str,
    id: i64,
    actor: &str,
) -> Result<RestoreReport, AppError> {
    let suspicion = find(db, service, id).await?;
    if suspicion.status != "open" {
        return Err(decided(&suspicion));
    }
    let point = match suspicion.backup_id {
        Some(backup) => RestorePoint::Backup(backup),
        None => RestorePoint::At(suspicion.evidence.first_lost_at - TimeDelta::microseconds(1)),
    };
    engine::record(
        db,
        RestoreRequest {
            service: service.to_string(),
            point,
            restored_at: Some(suspicion.seen_at),
            drill: false,
            actor: actor.to_string(),
        },
    )
    .await
}

/// Sets an open suspicion aside; 409 when it was decided already.
pub async fn dismiss(db: &PgPool, service: &str, id: i64, actor: &str) -> Result<(), AppError> {
    let suspicion = find(db, service, id).await?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "update suspected_restore set status = 'dismissed', decided_by = $2, decided_at = now()
         where suspected_restore_id = $1 and status = 'open'",
    )
    .bind(id)
    .bind(actor)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(decided(&suspicion));
    }
    crate::accounts::db::audit(
        &mut *tx,
        actor,
        "dismiss suspected restore",
        service,
        Some(serde_json::json!({"suspected_restore": id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn decided(suspicion: &SuspectedRestore) -> AppError {
    AppError::Conflict(format!(
        "suspected restore {} was {} already",
        suspicion.id, suspicion.status
    ))
}

/// Open suspicions per service, for `/metrics`.
pub async fn open_per_service(db: &PgPool) -> Result<Vec<(String, i64)>, AppError> {
    Ok(sqlx::query_as(
        "select s.name, count(*) from suspected_restore x join service s using (service_id)
         where x.status = 'open' group by s.name order by s.name",
    )
    .fetch_all(db)
    .await?)
}
