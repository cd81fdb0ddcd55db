//! Restores and drills (spec §5): what a restore of service B to a backup
//! taken at `t_b` breaks, computed by set-based SQL over the inventory's
//! history, and — for a real restore — B's inventory rolled back to `t_b`
//! in a new epoch. A drill runs the same detection and changes nothing but
//! the restore history.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::counted::{self, Counted};
use super::statistics;
use crate::error::AppError;
use crate::inventory::db::{changes, timeline::Timeline, verify, ServiceRef};
use crate::restores::model::{Amnesia, RestoreReport};
use crate::restores::progress::Tracker;
use crate::retry;
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
/// of `$1` to `$2`, back at `$3`, without the cached copies of other
/// services. `restored` is B's state once restored (one version per key):
/// its state at `t_b`, except for what B wrote after `$3` (a restore
/// recorded late keeps that as the new epoch's). The branches are the
/// references into B (broken links, stale references), B's lost references
/// (orphan candidates), B's references that come back and point at what is
/// gone elsewhere (outgoing broken links), and the mirrors: every key the
/// other side of a mirror relation holds (its live entities, by key and by
/// the mirror references either side reported) that B will not (missing
/// state). A drill only counts these rows: nothing in them stops
/// PostgreSQL from scanning the references in parallel. They follow one of
/// the two `restored` below.
const FINDINGS: &str = "
lost as (
    -- B's live references written after t_b (and up to its return): the
    -- restore drops them (lost mirrors are missing state, below).
    select r.relation_id, r.source_key, r.target_service_id, r.target_key, r.observed_at
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id and rel.kind = 'reference'
    where r.source_service_id = $1 and r.target_service_id <> $1
      and r.valid_to is null and not r.removed and r.valid_from > $2 and r.valid_from <= $3
), mirrored as (
    -- (relation, the other side's live entity, B's key it expects): by
    -- the mirror references either side reported, and by key. `lost`: a
    -- pair only B's reference made, written in the lost window, which the
    -- restore loses even when both entities survive.
    select r.relation_id, r.source_service_id as other_id, r.source_key as other_key, r.target_key as key,
           r.observed_at, false as lost
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id and rel.kind = 'mirror'
    join entity o on o.service_id = r.source_service_id and o.key = r.source_key and not o.deleted
    where r.target_service_id = $1 and r.source_service_id <> $1 and r.valid_to is null and not r.removed
    union all
    select r.relation_id, r.target_service_id, r.target_key, r.source_key, r.observed_at,
           r.valid_from > $2 and r.valid_from <= $3 and r.source_key <> r.target_key
           and not exists (select 1 from reference_version p
                           where p.target_service_id = r.target_service_id and p.target_key = r.target_key
                             and p.source_service_id = $1 and p.source_key = r.source_key
                             and p.relation_id = r.relation_id and not p.removed and not p.lost
                             and p.valid_from <= $2 and (p.valid_to is null or p.valid_to > $2))
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id and rel.kind = 'mirror'
    join entity o on o.service_id = r.target_service_id and o.key = r.target_key and not o.deleted
    where r.source_service_id = $1 and r.target_service_id <> $1 and r.valid_to is null and not r.removed
    union all
    select rel.relation_id, e.service_id, e.key, e.key, e.updated_at, false
    from relation rel
    join entity e on e.service_id = case when rel.to_service_id = $1 then rel.from_service_id
                                         else rel.to_service_id end
    where rel.kind = 'mirror' and $1 in (rel.from_service_id, rel.to_service_id)
      and rel.from_service_id <> rel.to_service_id and not e.deleted
), findings as (
    select case when x.key is not null and not x.deleted then 'stale_reference'
                else 'broken_link' end as kind,
           r.relation_id, r.source_service_id, r.source_key, $1::bigint as target_service_id, r.target_key,
           r.observed_at, x.updated_at as target_updated_at, $2::timestamptz as amnesia_from,
           rel.on_broken, rel.required, true as incoming, null::jsonb as cache
    from reference_version r
    join relation rel on rel.relation_id = r.relation_id
    left join restored x on x.key = r.target_key
    where r.target_service_id = $1 and r.source_service_id <> $1
      and r.valid_to is null and not r.removed
      and (x.key is null or x.deleted or r.observed_at > x.updated_at)
      and (rel.kind = 'reference' or (x.key is not null and not x.deleted))
    union all
    select * from (
        select distinct on (l.target_service_id, l.target_key)
               'orphan_candidate', l.relation_id, $1::bigint, l.source_key, l.target_service_id, l.target_key,
               l.observed_at, e.updated_at, null::timestamptz, null::text, null::boolean, false, null::jsonb
        from lost l
        join entity e on e.service_id = l.target_service_id and e.key = l.target_key and not e.deleted
        where not exists (
              select 1 from reference_version p
              where p.target_service_id = l.target_service_id and p.target_key = l.target_key
                and p.source_service_id = $1 and not p.removed and not p.lost
                and p.valid_from <= $2 and (p.valid_to is null or p.valid_to > $2))
          and not exists (
              -- B's references written after its return (a restore recorded late) stay.
              select 1 from reference_version p
              where p.target_service_id = l.target_service_id and p.target_key = l.target_key
                and p.source_service_id = $1 and p.valid_to is null and not p.removed
                and p.valid_from > $3)
          and not exists (
              select 1 from reference_version o
              where o.target_service_id = l.target_service_id and o.target_key = l.target_key
                and o.source_service_id <> $1 and o.source_service_id <> o.target_service_id
                and o.valid_to is null and not o.removed)
        order by l.target_service_id, l.target_key, l.source_key
    ) orphans
    union all
    select 'broken_link', p.relation_id, $1, p.source_key, p.target_service_id, p.target_key,
           p.observed_at, e.updated_at, $2, rel.on_broken, rel.required, false, p.cache
    from reference_version p
    join relation rel on rel.relation_id = p.relation_id and rel.kind = 'reference'
    left join entity e on e.service_id = p.target_service_id and e.key = p.target_key
    where p.source_service_id = $1 and p.target_service_id <> $1 and not p.removed and not p.lost
      and p.valid_from <= $2 and p.valid_to > $2 and p.valid_to <= $3
      and coalesce(e.deleted, true)
      and not exists (
          select 1 from reference_version n
          where n.target_service_id = p.target_service_id and n.target_key = p.target_key
            and n.source_service_id = $1 and n.source_key = p.source_key
            and n.relation_id = p.relation_id and n.valid_from > $3 and not n.lost)
    union all
    select * from (
        select distinct on (m.relation_id, m.other_id, m.other_key, m.key)
               'missing_state', m.relation_id, m.other_id, m.other_key, $1::bigint, m.key,
               m.observed_at, x.updated_at, $2::timestamptz, null::text, null::boolean, false, null::jsonb
        from mirrored m
        left join restored x on x.key = m.key
        where x.key is null or x.deleted or m.lost
        order by m.relation_id, m.other_id, m.other_key, m.key, m.observed_at desc nulls last
    ) missing
)";

/// B's state at `t_b`, when B wrote nothing after `$3` (always so when the
/// restore is recorded as it happens).
const RESTORED: &str = "
restored as not materialized (
    select key, updated_at, deleted from entity_version
    where service_id = $1 and coalesce(valid_from, updated_at) <= $2 and (valid_to is null or valid_to > $2)
)";

/// B's state at `t_b`, but for the entities B wrote after `$3` (a restore
/// recorded late), which keep their current version. Only for that case:
/// its CTE keeps PostgreSQL from planning the detection in parallel.
const RESTORED_WITH_LATER: &str = "
kept as materialized (
    select key, updated_at, deleted from entity where service_id = $1 and updated_at > $3
), restored as not materialized (
    select key, updated_at, deleted from entity_version
    where service_id = $1 and coalesce(valid_from, updated_at) <= $2 and (valid_to is null or valid_to > $2)
      and key <> all(array(select key from kept))
    union all
    select key, updated_at, deleted from kept
)";

/// A real restore's findings with their evidence (the rows of `detected`): the
/// recovery protocol's newest cached copy a referrer holds of each target
/// (it shrinks the amnesia), and the suggested strategy: repairing from the
/// cache only when the copy is at least as new as what B loses of the
/// target (its current version, before the rollback).
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
       suggested_strategy(f.kind, f.on_broken, f.required,
                          f.cache is not null
                          or c.copy_at >= coalesce(cur.updated_at, '-infinity'::timestamptz), $4) as strategy,
       coalesce(f.cache, c.cache) as cached
from findings f
left join copies c on f.incoming and c.target_key = f.target_key
left join entity cur on f.incoming and cur.service_id = $1 and cur.key = f.target_key";

/// Findings per kind, referring service (of an orphan: the service that
/// still holds the target) and relation, from a relation of findings named
/// `{from}`: the rows of `Counted`.
fn count_query(with: &str, from: &str) -> String {
    format!(
        "{with} select f.kind, s.name as service, rel.name as relation, count(*) as count
         from {from} f
         join service s on s.service_id = case f.kind when 'orphan_candidate' then f.target_service_id
                                                      else f.source_service_id end
         left join relation rel on rel.relation_id = f.relation_id
         group by f.kind, s.name, rel.name order by f.kind, s.name, rel.name"
    )
}

/// A drill's counts: the findings, counted, never written.
fn drill_counts(restored: &str) -> String {
    count_query(&format!("with {restored}, {FINDINGS}"), "findings")
}

/// A restore's findings with their evidence, into the temporary table
/// `detected` (counted, queued and verified from there).
fn detection(restored: &str) -> String {
    format!("create temp table detected on commit drop as with {restored}, {FINDINGS}, {DETECT}")
}

/// The statements composed here at run time, each named, for the test that
/// prepares every statement against the schema (`tests/it/statements.rs`);
/// in the order they run, `detected` created before its readers.
pub fn composed_statements() -> Vec<(&'static str, String)> {
    vec![
        ("drill", drill_counts(RESTORED)),
        ("drill recorded late", drill_counts(RESTORED_WITH_LATER)),
        ("detection", detection(RESTORED)),
        ("detection recorded late", detection(RESTORED_WITH_LATER)),
        ("restore counts", count_query("", "detected")),
        ("causes of pending findings", queued_causes()),
        ("conditions already pending", already_pending()),
    ]
}

/// Records a restore or a drill in one transaction and reports it; run
/// again when PostgreSQL aborted it to break a deadlock (it updates
/// counters and findings of other services, as ingests do).
pub async fn record(db: &PgPool, request: RestoreRequest) -> Result<RestoreReport, AppError> {
    statistics::refresh_if_stale(db).await?;
    let request = &request;
    retry::when_contended(move || record_once(db, request.clone())).await
}

/// What a restore goes back to, read and checked under the lock of its
/// service's row (one restore of a service at a time, and no ingest in
/// between): 404 for an unknown service or backup, 422 for a `restored_at`
/// before the backup, in the future, or before the service's last restore.
struct Point {
    service: ServiceRef,
    event_sourced: bool,
    backup_id: Option<i64>,
    taken_at: DateTime<Utc>,
    restored_at: DateTime<Utc>,
}

async fn locked_point(
    conn: &mut PgConnection,
    request: &RestoreRequest,
) -> Result<Point, AppError> {
    // One restore of a service at a time, and no ingest in between.
    let (service_id, epoch, event_sourced): (i64, i32, bool) = sqlx::query_as(
        "select service_id, epoch, coalesce(pattern = 'event-sourced', false)
         from service where name = $1 for update",
    )
    .bind(&request.service)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("service {:?}", request.service)))?;
    let service = ServiceRef { service_id, epoch };

    let (backup_id, taken_at) = match request.point {
        RestorePoint::Backup(id) => {
            let taken_at: DateTime<Utc> = sqlx::query_scalar(
                "select taken_at from backup where backup_id = $1 and service_id = $2",
            )
            .bind(id)
            .bind(service_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("backup {id} of service {:?}", request.service))
            })?;
            (Some(id), taken_at)
        }
        RestorePoint::At(at) => (None, at),
    };
    let now: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&mut *conn)
        .await?;
    let restored_at = request.restored_at.unwrap_or(now);
    let invalid = |message: String| AppError::Invalid {
        field: "restored_at".into(),
        message,
    };
    if restored_at < taken_at {
        return Err(invalid(format!(
            "{restored_at} is before the backup was taken ({taken_at})"
        )));
    }
    if restored_at > now {
        return Err(invalid(format!("{restored_at} is in the future")));
    }
    if let Some(start) = Timeline::of(&mut *conn, service).await?.start() {
        if restored_at < start {
            return Err(invalid(format!(
                "{restored_at} is before the service's last restore ({start}, epoch {epoch})"
            )));
        }
    }
    Ok(Point {
        service,
        event_sourced,
        backup_id,
        taken_at,
        restored_at,
    })
}

async fn record_once(db: &PgPool, request: RestoreRequest) -> Result<RestoreReport, AppError> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await?;
    topology::share_topology(&mut tx).await?;
    let Point {
        service,
        event_sourced,
        backup_id,
        taken_at,
        restored_at,
    } = locked_point(&mut tx, &request).await?;
    let (service_id, epoch) = (service.service_id, service.epoch);

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
    let counted: Vec<Counted> = if request.drill {
        drill(&mut tx, service_id, taken_at, restored_at).await?
    } else {
        tune_detection(&mut tx).await?;
        let restored = restored_state(&mut tx, service_id, restored_at).await?;
        // CREATE TABLE AS rather than INSERT … SELECT: PostgreSQL may plan
        // the SELECT of a CTAS with parallel workers, never that of an INSERT.
        sqlx::query(&detection(restored))
            .bind(service_id)
            .bind(taken_at)
            .bind(restored_at)
            .bind(event_sourced)
            .execute(&mut *tx)
            .await?;
        sqlx::query_as(&count_query("", "detected"))
            .fetch_all(&mut *tx)
            .await?
    };
    let counts = counted::per_kind(&counted);
    let by_service = counted::per_service(&counted)?;

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
    let mut left = 0;
    if !request.drill {
        tracker.step(format!(
            "Writing {} findings into the queue",
            counts.values().sum::<i64>()
        ));
        queue_findings(&mut tx, restore_id).await?;
        let service = ServiceRef {
            service_id,
            epoch: new_epoch,
        };
        tracker.step(format!(
            "Rolling {} back to its state at the backup",
            request.service
        ));
        roll_back(&mut tx, service, taken_at, restored_at, &mut tracker).await?;
        verify::after_restore(&mut tx, service, restore_id).await?;
        super::suspected::settle(&mut tx, service_id, restore_id, &request.actor).await?;
        sqlx::query("update service set epoch = $2 where service_id = $1")
            .bind(service_id)
            .bind(new_epoch)
            .execute(&mut *tx)
            .await?;
        // Its causes keep the counts (`causes::tally`).
        left = sqlx::query_scalar(
            "select coalesce(sum(open + claimed), 0)::bigint from cause where restore_id = $1",
        )
        .bind(restore_id)
        .fetch_one(&mut *tx)
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
        left,
        recorded_by: request.actor,
        created_at,
        steps: tracker.finish(),
    })
}

/// What restoring `service_id` to its state at `taken_at`, back at
/// `restored_at`, would break, counted; nothing is written. Drills and the
/// exposure series (spec §10) count with it.
pub async fn drill(
    conn: &mut PgConnection,
    service_id: i64,
    taken_at: DateTime<Utc>,
    restored_at: DateTime<Utc>,
) -> Result<Vec<Counted>, AppError> {
    tune_detection(conn).await?;
    let restored = restored_state(conn, service_id, restored_at).await?;
    Ok(sqlx::query_as(&drill_counts(restored))
        .bind(service_id)
        .bind(taken_at)
        .bind(restored_at)
        .fetch_all(conn)
        .await?)
}

/// Settings for the detection, local to the transaction.
async fn tune_detection(conn: &mut PgConnection) -> Result<(), AppError> {
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
        sqlx::query(setting).execute(&mut *conn).await?;
    }
    Ok(())
}

/// B's state once restored: `RESTORED`, or `RESTORED_WITH_LATER` when B
/// wrote after it came back (a restore recorded late).
async fn restored_state(
    conn: &mut PgConnection,
    service_id: i64,
    restored_at: DateTime<Utc>,
) -> Result<&'static str, AppError> {
    let wrote_later: bool = sqlx::query_scalar(
        "select exists (select 1 from entity where service_id = $1 and updated_at > $2)",
    )
    .bind(service_id)
    .bind(restored_at)
    .fetch_one(conn)
    .await?;
    Ok(if wrote_later {
        RESTORED_WITH_LATER
    } else {
        RESTORED
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

/// One finding per condition (spec §5b): a detected condition that a
/// pending finding already names gets this restore as one more cause and
/// is taken out of `detected`; the rest are new findings. With nothing
/// pending in the queue there is nothing to look up.
async fn queue_findings(conn: &mut PgConnection, restore_id: i64) -> Result<(), AppError> {
    if verify::anything_pending(conn).await? {
        sqlx::query(&queued_causes())
            .bind(restore_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(&already_pending()).execute(&mut *conn).await?;
    }
    sqlx::query(NEW_FINDINGS)
        .bind(restore_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The pending finding that names the same condition as detected row `d`.
const SAME: &str = "-- a subquery of the two statements below
    select f.target_service_id, f.finding_id from finding f
    where f.target_service_id = d.target_service_id and f.target_key = d.target_key
      and f.kind = d.kind and f.source_service_id = d.source_service_id
      and f.source_key = d.source_key and f.relation_id is not distinct from d.relation_id
      and (f.status in ('open', 'claimed')
           or (f.status in ('accepted', 'dismissed') and f.cleared_at is null))
    limit 1";

/// This restore (`$1`) as one more cause of the pending findings it meets.
fn queued_causes() -> String {
    format!(
        "insert into finding_cause (target_service_id, finding_id, restore_id)
         select f.target_service_id, f.finding_id, $1
         from detected d cross join lateral ({SAME}) f"
    )
}

/// The detected conditions a pending finding names, taken out of `detected`.
fn already_pending() -> String {
    format!("delete from detected d where exists ({SAME})")
}

/// The detected conditions as new findings of restore `$1`, each under its
/// cause (spec §8), which is created with its count of open findings. The
/// causes are few: the findings find theirs by a hash join, the relation
/// compared through `coalesce` because a hash join cannot take `is not
/// distinct from`.
const NEW_FINDINGS: &str = "with causes as (
         insert into cause (target_service_id, restore_id, kind, relation_id, source_service_id,
                            strategy, open)
         select target_service_id, $1, kind, relation_id, source_service_id, strategy, count(*)
         from detected
         group by target_service_id, kind, relation_id, source_service_id, strategy
         returning target_service_id, cause_id, kind, relation_id, source_service_id, strategy)
     insert into finding (restore_id, cause_id, kind, relation_id, source_service_id, source_key,
                          target_service_id, target_key, observed_at, target_updated_at,
                          amnesia_from, strategy, cached)
     select $1, c.cause_id, d.kind, d.relation_id, d.source_service_id, d.source_key,
            d.target_service_id, d.target_key, d.observed_at, d.target_updated_at,
            d.amnesia_from, d.strategy, d.cached
     from detected d
     join causes c on c.target_service_id = d.target_service_id and c.kind = d.kind
                  and coalesce(c.relation_id, 0) = coalesce(d.relation_id, 0)
                  and c.source_service_id = d.source_service_id and c.strategy = d.strategy";

/// Brings B's inventory back to its state at `t_b` (spec §5b): what B wrote
/// after `t_b` and up to `restored_at` becomes the lost branch of its
/// history (kept, never current), and what it wrote after `restored_at` —
/// a restore recorded late — is the new epoch's. Each entity's and
/// reference's version at `t_b` is current again once the chains are
/// re-linked around the lost ones.
async fn roll_back(
    conn: &mut PgConnection,
    service: ServiceRef,
    taken_at: DateTime<Utc>,
    restored_at: DateTime<Utc>,
    tracker: &mut Tracker,
) -> Result<(), AppError> {
    changes::track(conn).await?;
    sqlx::query(
        "with kept as (
             update entity_version set epoch = $3
             where service_id = $1 and not lost and epoch < $3 and coalesce(valid_from, updated_at) > $2
             returning key, coalesce(valid_from, updated_at) as at)
         insert into touched_entity select * from kept",
    )
    .bind(service.service_id)
    .bind(restored_at)
    .bind(service.epoch)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "with lost as (
             update entity_version set lost = true, valid_to = updated_at
             where service_id = $1 and not lost
               and coalesce(valid_from, updated_at) > $2 and coalesce(valid_from, updated_at) <= $3
             returning key)
         insert into touched_entity select key, $3 from lost",
    )
    .bind(service.service_id)
    .bind(taken_at)
    .bind(restored_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "with lost as (
             update reference_version set lost = true, valid_to = valid_from
             where source_service_id = $1 and not lost and valid_from > $2 and valid_from <= $3
             returning target_service_id, target_key, source_key)
         insert into touched_reference select *, $3 from lost",
    )
    .bind(service.service_id)
    .bind(taken_at)
    .bind(restored_at)
    .execute(&mut *conn)
    .await?;

    tracker.step("Re-linking version histories and dependency counters");
    changes::follow(conn, service, changes::Histories::ALL).await
}
