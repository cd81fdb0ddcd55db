//! Restores and drills (spec §5): what a restore of service B to a backup
//! taken at `t_b` breaks, computed by set-based SQL over the inventory's
//! history, and — for a real restore — B's inventory rolled back to `t_b`
//! in a new epoch. A drill runs the same detection and changes nothing but
//! the restore history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::model::{Amnesia, RestoreReport, ServiceCount, KINDS};
use super::progress::Tracker;
use crate::error::AppError;
use crate::inventory::{changes, db::ServiceRef};
use crate::topology::db as topology;

/// Which state the service goes back to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RestorePoint {
    /// A recorded backup of the service.
    Backup(i64),
    /// Any point in time (a point-in-time recovery).
    At(DateTime<Utc>),
}

#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub service: String,
    pub point: RestorePoint,
    /// When the restored service came back; `now()` when absent.
    pub restored_at: Option<DateTime<Utc>>,
    pub drill: bool,
    /// Who recorded it (an operator, or the API caller).
    pub actor: String,
}

/// The detection, as CTEs ending in `findings`: every finding of a restore
/// of `$1` to `$2`, without the cached copies. `restored` is B's state at
/// `t_b` (one version per key); the three branches are the references into
/// B (broken links, stale references, missing state over mirrors), B's lost
/// references (orphan candidates) and B's lost mirror entities (missing
/// state seen from B's side). A drill only counts these rows: nothing in
/// them stops PostgreSQL from scanning the references in parallel.
const FINDINGS: &str = "
restored as not materialized (
    select key, updated_at, deleted from entity_version
    where service_id = $1 and updated_at <= $2 and (valid_to is null or valid_to > $2)
), lost as (
    -- B's live references that were not live at t_b: the restore drops them
    -- (lost mirrors are missing state, below).
    select r.relation_id, r.source_key, r.target_service_id, r.target_key, r.observed_at
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id and rel.kind = 'reference'
    where r.source_service_id = $1 and r.target_service_id <> $1
      and r.valid_to is null and not r.removed and r.valid_from > $2
), findings as (
    select case when x.key is not null and not x.deleted then 'stale_reference'
                when rel.kind = 'mirror' then 'missing_state'
                else 'broken_link' end as kind,
           r.relation_id, r.source_service_id, r.source_key, $1::bigint as target_service_id, r.target_key,
           r.observed_at, x.updated_at as target_updated_at, $2::timestamptz as amnesia_from,
           rel.on_broken, rel.required, true as incoming
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id
    left join restored x on x.key = r.target_key
    where r.target_service_id = $1 and r.source_service_id <> $1
      and r.valid_to is null and not r.removed
      and (x.key is null or x.deleted or r.observed_at > x.updated_at)
    union all
    select * from (
        select distinct on (l.target_service_id, l.target_key)
               'orphan_candidate', l.relation_id, $1::bigint, l.source_key, l.target_service_id, l.target_key,
               l.observed_at, e.updated_at, null::timestamptz, null::text, null::boolean, false
        from lost l
        left join entity e on e.service_id = l.target_service_id and e.key = l.target_key
        where not coalesce(e.deleted, false)
          and not exists (
              select 1 from reference_version p
              where p.target_service_id = l.target_service_id and p.target_key = l.target_key
                and p.source_service_id = $1 and not p.removed
                and p.valid_from <= $2 and (p.valid_to is null or p.valid_to > $2))
          and not exists (
              select 1 from reference_version o
              where o.target_service_id = l.target_service_id and o.target_key = l.target_key
                and o.source_service_id <> $1 and o.valid_to is null and not o.removed)
        order by l.target_service_id, l.target_key, l.source_key
    ) orphans
    union all
    select 'missing_state', r.relation_id, r.target_service_id, r.target_key, $1, r.source_key,
           r.observed_at, x.updated_at, $2, null, null, false
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id and rel.kind = 'mirror'
    left join restored x on x.key = r.source_key
    where r.source_service_id = $1 and r.target_service_id <> $1
      and r.valid_to is null and not r.removed
      and (x.key is null or x.deleted)
)";

/// A real restore's findings with their evidence (the rows of `detected`): the
/// recovery protocol's newest cached copy a referrer holds of each target
/// (it shrinks the amnesia and suggests repairing from the cache), and the
/// suggested strategy.
const DETECT: &str = "
copies as (
    select distinct on (r.target_key) r.target_key, r.observed_at as copy_at, r.cache
    from reference_version r
    where r.target_service_id = $1 and r.source_service_id <> $1
      and r.valid_to is null and not r.removed and r.cache is not null
    order by r.target_key, r.observed_at desc nulls last
)
select f.kind, f.relation_id, f.source_service_id, f.source_key, f.target_service_id, f.target_key,
       f.observed_at, f.target_updated_at, greatest(f.amnesia_from, c.copy_at) as amnesia_from,
       suggested_strategy(f.kind, f.on_broken, f.required, c.cache is not null, $3) as strategy,
       c.cache as cached
from findings f left join copies c on f.incoming and c.target_key = f.target_key";

/// Findings per kind and referring service (of an orphan: the service that
/// still holds the target), from a relation of findings named `{from}`.
fn count_query(with: &str, from: &str) -> String {
    format!(
        "{with} select f.kind, s.name, count(*)
         from {from} f
         join service s on s.service_id = case f.kind when 'orphan_candidate' then f.target_service_id
                                                      else f.source_service_id end
         group by f.kind, s.name order by f.kind, s.name"
    )
}

/// Records a restore or a drill in one transaction and reports it.
pub async fn record(db: &PgPool, request: RestoreRequest) -> Result<RestoreReport, AppError> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await?;
    topology::share_topology(&mut tx).await?;
    // One restore of a service at a time, and no ingest in between.
    let (service_id, epoch, event_sourced): (i64, i32, bool) = sqlx::query_as(
        "select service_id, epoch, coalesce(pattern = 'event-sourced', false)
         from service where name = $1 for update",
    )
    .bind(&request.service)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("service {:?}", request.service)))?;

    let (backup_id, taken_at) = match request.point {
        RestorePoint::Backup(id) => {
            let taken_at: DateTime<Utc> = sqlx::query_scalar(
                "select taken_at from backup where backup_id = $1 and service_id = $2",
            )
            .bind(id)
            .bind(service_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("backup {id} of service {:?}", request.service))
            })?;
            (Some(id), taken_at)
        }
        RestorePoint::At(at) => (None, at),
    };
    let restored_at = match request.restored_at {
        Some(at) => at,
        None => {
            sqlx::query_scalar("select now()")
                .fetch_one(&mut *tx)
                .await?
        }
    };
    if restored_at < taken_at {
        return Err(AppError::Invalid {
            field: "restored_at".into(),
            message: format!("{restored_at} is before the backup was taken ({taken_at})"),
        });
    }

    // One set-based statement over a million references: hash tables and
    // sorts that spill to disk at the default 4 MB of work memory. The
    // planner expects about four times as many findings as there are (it
    // cannot tell how many references outlive the backup) and, at the
    // default price of passing a row from a worker, kept the statement
    // serial; priced lower, it scans the references with parallel workers
    // and takes half the time (1.1–1.4 s instead of 2.1–2.5 s for 100k
    // findings among 1M references, BENCHMARKS.md).
    for setting in [
        "set local work_mem = '64MB'",
        "set local parallel_tuple_cost = 0.01",
    ] {
        sqlx::query(setting).execute(&mut *tx).await?;
    }
    let mut tracker = Tracker::start(
        &request.service,
        request.drill,
        if request.drill { 1 } else { 4 },
    );
    tracker.step(format!(
        "Finding what restoring {} to {} {}",
        request.service,
        taken_at.format("%Y-%m-%d %H:%M"),
        if request.drill {
            "would break"
        } else {
            "breaks"
        }
    ));
    let counted: Vec<(String, String, i64)> = if request.drill {
        sqlx::query_as(&count_query(&format!("with {FINDINGS}"), "findings"))
            .bind(service_id)
            .bind(taken_at)
            .fetch_all(&mut *tx)
            .await?
    } else {
        // CREATE TABLE AS rather than INSERT … SELECT: PostgreSQL may plan
        // the SELECT of a CTAS with parallel workers, never that of an INSERT.
        sqlx::query(&format!(
            "create temp table detected on commit drop as with {FINDINGS}, {DETECT}"
        ))
        .bind(service_id)
        .bind(taken_at)
        .bind(event_sourced)
        .execute(&mut *tx)
        .await?;
        sqlx::query_as(&count_query("", "detected"))
            .fetch_all(&mut *tx)
            .await?
    };
    let mut counts: BTreeMap<String, i64> = KINDS[..4].iter().map(|k| (k.to_string(), 0)).collect();
    for (kind, _, n) in &counted {
        *counts.entry(kind.clone()).or_default() += n;
    }
    let by_service: Vec<ServiceCount> = counted
        .into_iter()
        .map(|(kind, service, count)| ServiceCount {
            service,
            kind,
            count,
        })
        .collect();

    let new_epoch = epoch + 1;
    let (restore_id, created_at): (i64, DateTime<Utc>) = sqlx::query_as(
        "insert into restore (service_id, backup_id, backup_taken_at, restored_at, drill, epoch,
                              amnesia_from, counts, by_service, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $3, $7, $8, $9) returning restore_id, created_at",
    )
    .bind(service_id)
    .bind(backup_id)
    .bind(taken_at)
    .bind(restored_at)
    .bind(request.drill)
    .bind(new_epoch)
    .bind(sqlx::types::Json(&counts))
    .bind(sqlx::types::Json(&by_service))
    .bind(&request.actor)
    .fetch_one(&mut *tx)
    .await?;

    crate::accounts::db::audit(
        &mut *tx,
        &request.actor,
        if request.drill { "drill restore" } else { "record restore" },
        &request.service,
        Some(serde_json::json!({"restore": restore_id, "backup_taken_at": taken_at, "counts": counts})),
    )
    .await?;
    if !request.drill {
        tracker.step(format!(
            "Writing {} findings into the queue",
            counts.values().sum::<i64>()
        ));
        sqlx::query(
            "insert into finding (restore_id, kind, relation_id, source_service_id, source_key,
                                  target_service_id, target_key, observed_at, target_updated_at,
                                  amnesia_from, strategy, cached)
             select $1, kind, relation_id, source_service_id, source_key, target_service_id, target_key,
                    observed_at, target_updated_at, amnesia_from, strategy, cached
             from detected",
        )
        .bind(restore_id)
        .execute(&mut *tx)
        .await?;
        let service = ServiceRef {
            service_id,
            epoch: new_epoch,
        };
        tracker.step(format!(
            "Rolling {} back to its state at the backup",
            request.service
        ));
        roll_back(&mut tx, service, taken_at, restored_at, &mut tracker).await?;
        sqlx::query("update service set epoch = $2 where service_id = $1")
            .bind(service_id)
            .bind(new_epoch)
            .execute(&mut *tx)
            .await?;
        sqlx::query("select pg_notify('lockstep_findings', $1::text)")
            .bind(restore_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    crate::metrics::METRICS.computed(request.drill, started.elapsed(), &counts);
    if !request.drill {
        refresh_visibility(db.clone());
    }

    Ok(RestoreReport {
        id: restore_id,
        service: request.service,
        drill: request.drill,
        backup_id,
        backup_taken_at: taken_at,
        restored_at,
        epoch: new_epoch,
        amnesia: Amnesia {
            from: taken_at,
            to: None,
        },
        counts,
        by_service,
        recorded_by: request.actor,
        created_at,
        steps: tracker.finish(),
    })
}

/// Vacuums the queue in the background once a restore has added to it.
/// Until then PostgreSQL cannot tell the new rows visible from the index
/// alone, prices the queue's index-only page reads as heap reads, and walks
/// the primary key instead (30 ms rather than 0.2 ms per page at a million
/// findings); autovacuum would wait for a fifth of the table to be new.
fn refresh_visibility(db: PgPool) {
    tokio::spawn(async move {
        if let Err(error) = sqlx::query("vacuum (analyze) finding").execute(&db).await {
            tracing::warn!(%error, "vacuuming the queue after a restore");
        }
    });
}

/// Brings B's inventory back to its state at `t_b`, as new versions at
/// `restored_at` in the new epoch (history keeps what was lost): every
/// entity and reference of B changed after `t_b` gets the version it had
/// then, or a deletion/removal when it did not exist yet. Each reference's
/// version at `t_b` is probed with the source service hidden from the
/// planner, as in `changes::chain_reference_versions` (statistics that have
/// not seen the service would send the probe to the source index).
async fn roll_back(
    conn: &mut PgConnection,
    service: ServiceRef,
    taken_at: DateTime<Utc>,
    restored_at: DateTime<Utc>,
    tracker: &mut Tracker,
) -> Result<(), AppError> {
    changes::track(conn).await?;
    sqlx::query(
        "with written as (
         insert into entity_version (service_id, key, updated_at, epoch, deleted, data)
         select $1, c.key, $3, $4, coalesce(v.deleted, true), v.data
         from (select distinct key from entity_version where service_id = $1 and updated_at > $2) c
         left join lateral (
             select deleted, data from entity_version v
             where v.service_id = $1 and v.key = c.key and v.updated_at <= $2
             order by v.updated_at desc limit 1) v on true
         on conflict (service_id, key, updated_at) do update
             set deleted = excluded.deleted, data = excluded.data, epoch = excluded.epoch
         returning key, updated_at)
         insert into touched_entity select * from written",
    )
    .bind(service.service_id)
    .bind(taken_at)
    .bind(restored_at)
    .bind(service.epoch)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "with written as (
         insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, cache, removed, valid_from)
         select c.target_service_id, c.target_key, $1, c.source_key, c.relation_id,
                v.observed_at, v.cache, coalesce(v.removed, true), $3
         from (select distinct target_service_id, target_key, source_key, relation_id
               from reference_version where source_service_id = $1 and valid_from > $2) c
         left join lateral (
             select observed_at, cache, removed from reference_version v
             where v.target_service_id = c.target_service_id and v.target_key = c.target_key
               and v.source_service_id = (select $1::bigint) and v.source_key = c.source_key
               and v.relation_id = c.relation_id and v.valid_from <= $2
             order by v.valid_from desc limit 1) v on true
         on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
         do update set observed_at = excluded.observed_at, cache = excluded.cache, removed = excluded.removed
         returning target_service_id, target_key, source_key)
         insert into touched_reference select * from written",
    )
    .bind(service.service_id)
    .bind(taken_at)
    .bind(restored_at)
    .execute(&mut *conn)
    .await?;

    tracker.step("Re-linking version histories and dependency counters");
    changes::follow(conn, service, changes::Histories::ALL).await
}
