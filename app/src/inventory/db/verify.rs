//! Findings that verify themselves (spec §5b). After every inventory write,
//! restore and scan, the findings still to be worked whose entities it
//! touched are checked again, set-based: one whose condition is gone is
//! resolved by Lockstep (`resolved_by` "inventory" or "restore", with
//! `verified_at` and a note saying what showed it) and its claim released;
//! an accepted or dismissed one is marked cleared, so that the condition,
//! should it come back, is a new finding. Both go into the audit trail.
//!
//! The candidates are collected first, each by an index probe from a key
//! the write touched (lateral subqueries: a plan that cannot turn into a
//! scan of the whole queue, whatever the statistics say), then judged in
//! one statement.

use sqlx::PgConnection;

use super::ServiceRef;
use crate::causes::tally::tally;
use crate::error::AppError;

/// Who the audit trail names for a verification.
const ACTOR: &str = "lockstep";

/// A finding is pending while it is open or claimed, or accepted or
/// dismissed with its condition not yet cleared.
const PENDING: &str = "(f.status in ('open', 'claimed')
    or (f.status in ('accepted', 'dismissed') and f.cleared_at is null))";

/// What showed a finding's condition gone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verifier {
    Inventory,
    Restore,
}

impl Verifier {
    fn as_str(self) -> &'static str {
        match self {
            Verifier::Inventory => "inventory",
            Verifier::Restore => "restore",
        }
    }
}

/// After a write recorded in the change tables (`changes::track`): the
/// pending findings of the entities written, on either side; those of the
/// references written (found from their source's side, and for a mirror
/// reference the missing state of its pair); and the orphan
/// candidates among the references' targets, which a new reference adopts.
/// A reference written into a target does not touch the other findings on
/// it (a broken link from elsewhere stays broken). The last two parts are
/// skipped when one probe shows nothing pending they could find.
pub async fn after_write(conn: &mut PgConnection, service: ServiceRef) -> Result<u64, AppError> {
    touched(conn, service, Verifier::Inventory, None).await
}

/// The same after a restore's rollback. Its own findings, just written,
/// hold by construction and are not looked at again.
pub async fn after_restore(
    conn: &mut PgConnection,
    service: ServiceRef,
    restore_id: i64,
) -> Result<u64, AppError> {
    touched(conn, service, Verifier::Restore, Some(restore_id)).await
}

async fn touched(
    conn: &mut PgConnection,
    service: ServiceRef,
    verifier: Verifier,
    own: Option<i64>,
) -> Result<u64, AppError> {
    if !start(conn).await? {
        return Ok(0);
    }
    for statement in candidates_of_write() {
        sqlx::query(&statement)
            .bind(service.service_id)
            .bind(own)
            .execute(&mut *conn)
            .await?;
    }
    judge(conn, verifier).await
}

/// The candidates of a write, in four statements over the change tables
/// (`$1` the service, `$2` a restore whose own findings are left out): each
/// row of the keys it touched probes the queue's index for the pending
/// findings it may have cleared, and each part is skipped when its guard
/// (one probe) shows it could find none.
fn candidates_of_write() -> [String; 4] {
    let probe = |keys: &str, finding: &str, guard: &str| {
        format!(
            "insert into verify_candidate
             select f.target_service_id, f.finding_id
             from ({keys}) t
             cross join lateral (select * from finding f
                                 where {finding} and {PENDING}
                                   and ($2::bigint is null or f.restore_id is distinct from $2)) f
             where {guard}"
        )
    };
    [
        // The service's own entities as targets.
        probe(
            "select distinct key from touched_entity",
            "f.target_service_id = $1 and f.target_key = t.key",
            "true",
        ),
        // The missing state of pairs its own mirror references make (a pair
        // of different keys is verified by the reference, not by an entity).
        probe(
            "select distinct source_key as key from touched_reference",
            "f.target_service_id = $1 and f.target_key = t.key and f.kind = 'missing_state'",
            "exists (select 1 from relation where from_service_id = $1 and kind = 'mirror')",
        ),
        // Its entities and references as sources.
        probe(
            "select key from touched_entity union select source_key from touched_reference",
            "f.source_service_id = $1 and f.source_key = t.key",
            &format!(
                "exists (select 1 from finding f where f.source_service_id = $1 and {PENDING})"
            ),
        ),
        // Orphan candidates its references point at in other services (a
        // reference into its own entity adopts none).
        probe(
            "select distinct target_service_id, target_key from touched_reference
             where target_service_id <> $1",
            "f.target_service_id = t.target_service_id and f.target_key = t.target_key
             and f.kind = 'orphan_candidate'",
            &format!(
                "exists (select 1 from finding f where f.kind = 'orphan_candidate' and {PENDING})"
            ),
        ),
    ]
}

/// The statements composed here at run time, for the test that prepares
/// every statement against the schema (`tests/it/statements.rs`).
pub fn composed_statements() -> Vec<(&'static str, String)> {
    let mut statements: Vec<(&'static str, String)> =
        ["by entity", "by mirror pair", "by source", "orphans"]
            .into_iter()
            .zip(candidates_of_write())
            .collect();
    statements.push(("after a first load", after_load_candidates()));
    statements.push(("after a full scan", after_scan_candidates(true)));
    statements.push(("after an incremental scan", after_scan_candidates(false)));
    statements.push(("judgement", judgement()));
    statements
}

/// After a service's first load (written without change tables): the
/// pending findings of the service on either side, and the orphan
/// candidates among the services it refers to (a reference may adopt one).
pub async fn after_load(conn: &mut PgConnection, service: ServiceRef) -> Result<u64, AppError> {
    if !start(conn).await? {
        return Ok(0);
    }
    sqlx::query(&after_load_candidates())
        .bind(service.service_id)
        .execute(&mut *conn)
        .await?;
    judge(conn, Verifier::Inventory).await
}

/// After an integrity scan: every pending finding for a full pass, those
/// whose target the pass looks at (`scan_target`) for an incremental one.
/// The writers verify what their writes touch; a pass checks again only
/// where its marks say something changed.
pub async fn after_scan(conn: &mut PgConnection, full: bool) -> Result<u64, AppError> {
    if !start(conn).await? {
        return Ok(0);
    }
    sqlx::query(&after_scan_candidates(full))
        .execute(&mut *conn)
        .await?;
    judge(conn, Verifier::Inventory).await
}

fn after_load_candidates() -> String {
    format!(
        "insert into verify_candidate
         select f.target_service_id, f.finding_id from finding f
         where {PENDING} and (f.target_service_id = $1 or f.source_service_id = $1
               or (f.kind = 'orphan_candidate' and f.target_service_id in
                   (select to_service_id from relation where from_service_id = $1)))"
    )
}

fn after_scan_candidates(full: bool) -> String {
    // A probe of the target index per mark, as the scan finds its entities.
    let findings = if full {
        "finding f"
    } else {
        "scan_target t cross join lateral
             (select * from finding f
              where f.target_service_id = t.service_id and f.target_key = t.key offset 0) f"
    };
    format!(
        "insert into verify_candidate
         select f.target_service_id, f.finding_id from {findings} where {PENDING}"
    )
}

/// Whether any finding in the queue is pending (one probe of the status
/// index): when none is, there is nothing to verify or to add a cause to.
pub async fn anything_pending(conn: &mut PgConnection) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from finding
                        where status = any('{open,claimed,accepted,dismissed}'))",
    )
    .fetch_one(conn)
    .await?)
}

/// Creates the candidate table, unless nothing in the queue is pending.
async fn start(conn: &mut PgConnection) -> Result<bool, AppError> {
    let pending = anything_pending(&mut *conn).await?;
    if pending {
        sqlx::query(
            "create temp table if not exists verify_candidate
                 (target_service_id bigint, finding_id bigint) on commit drop",
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query("truncate verify_candidate")
            .execute(&mut *conn)
            .await?;
    }
    Ok(pending)
}

/// Checks every candidate's condition against the current inventory (spec
/// §5, as it holds now) and closes those whose condition is gone. Returns
/// how many were resolved.
///
/// - broken link, dangling delete: the reference is live and its target
///   does not exist;
/// - stale reference: the reference is live, its target exists and is older
///   than what the reference observed;
/// - missing state: the surviving entity exists and its counterpart does not
///   (or, for a pair of different keys that the restored side's own mirror
///   reference made, that reference is not back);
/// - orphan candidate: the entity exists and no other service refers to it.
async fn judge(conn: &mut PgConnection, verifier: Verifier) -> Result<u64, AppError> {
    // Probes, never a scan of the queue (a snapshot's comparison turns
    // nested loops off for its own statements).
    sqlx::query("set local enable_nestloop = on")
        .execute(&mut *conn)
        .await?;
    let resolved: i64 = sqlx::query_scalar(&judgement())
        .bind(verifier.as_str())
        .bind(ACTOR)
        .fetch_one(&mut *conn)
        .await?;
    if resolved > 0 {
        sqlx::query("select pg_notify('lockstep_findings', '')")
            .execute(&mut *conn)
            .await?;
    }
    Ok(resolved as u64)
}

/// The statement of `judge`: each candidate's condition checked again, the
/// findings it no longer holds for resolved (or, decided ones, cleared),
/// with their audit rows and their causes' counts.
fn judgement() -> String {
    // A resolved finding was open or claimed: that status is its bucket.
    let tallied = tally("resolved", "from_status", "'verified'");
    format!(
        "with checked as (
             select f.target_service_id, f.finding_id, f.status, c.holds, c.note
             from (select distinct target_service_id, finding_id from verify_candidate) v
             cross join lateral (select * from finding f
                                 where f.target_service_id = v.target_service_id
                                   and f.finding_id = v.finding_id) f
             left join lateral (select e.updated_at, e.epoch, not e.deleted as live from entity e
                                where e.service_id = f.target_service_id and e.key = f.target_key) t on true
             left join lateral (select not e.deleted as live from entity e
                                where e.service_id = f.source_service_id and e.key = f.source_key) s on true
             left join lateral (select true as live, r.observed_at from reference_version r
                                where r.target_service_id = f.target_service_id and r.target_key = f.target_key
                                  and r.source_service_id = f.source_service_id and r.source_key = f.source_key
                                  and r.relation_id = f.relation_id and r.valid_to is null and not r.removed
                                limit 1) r on true
             left join lateral (select true as any from reference_version o
                                where f.kind = 'orphan_candidate'
                                  and o.target_service_id = f.target_service_id and o.target_key = f.target_key
                                  and o.source_service_id <> o.target_service_id
                                  and o.valid_to is null and not o.removed
                                limit 1) o on true
             left join lateral (select true as live from reference_version m
                                where f.kind = 'missing_state' and f.source_key <> f.target_key
                                  and m.source_service_id = f.target_service_id and m.source_key = f.target_key
                                  and m.target_service_id = f.source_service_id and m.target_key = f.source_key
                                  and m.relation_id = f.relation_id and m.valid_to is null and not m.removed
                                limit 1) m on true
             left join lateral (select rel.from_service_id = f.target_service_id
                                       and f.source_key <> f.target_key as own
                                from relation rel
                                where f.kind = 'missing_state' and rel.relation_id = f.relation_id) pair on true
             cross join lateral (select coalesce(t.live, false) as target_live,
                                        coalesce(s.live, false) as source_live,
                                        r.live is not null as reference_live) live
             cross join lateral (select
                 case f.kind
                     when 'stale_reference' then live.reference_live and live.target_live
                                                 and r.observed_at > t.updated_at
                     when 'missing_state' then live.source_live
                                               and (not live.target_live or (pair.own and m.live is null))
                     when 'orphan_candidate' then live.target_live and o.any is null
                     else live.reference_live and not live.target_live
                 end as holds,
                 case
                     when f.kind in ('broken_link', 'dangling_delete', 'stale_reference')
                          and not live.reference_live then
                         case when live.source_live then format('the reference from %s was removed', f.source_key)
                              else format('%s no longer exists', f.source_key) end
                     when f.kind = 'stale_reference' and not live.target_live then
                         format('%s no longer exists', f.target_key)
                     when f.kind = 'stale_reference' then
                         format('%s is up to date again, epoch %s, %s', f.target_key, t.epoch,
                                to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'))
                     when f.kind = 'orphan_candidate' and not live.target_live then
                         format('%s was deleted', f.target_key)
                     when f.kind = 'orphan_candidate' then format('%s is referred to again', f.target_key)
                     when f.kind = 'missing_state' and live.target_live and pair.own then
                         format('%s mirrors %s again', f.target_key, f.source_key)
                     when live.target_live then
                         format('%s exists again, epoch %s, %s', f.target_key, t.epoch,
                                to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'))
                     else format('%s no longer exists', f.source_key)
                 end as note) c
         ), resolved as (
             update finding f
             set status = 'resolved', resolved_by = $1, verified_at = now(), assignee = null, note = c.note
             from checked c
             where f.target_service_id = c.target_service_id and f.finding_id = c.finding_id
               and not c.holds and c.status in ('open', 'claimed')
             returning f.target_service_id, f.finding_id, f.cause_id, c.status as from_status, c.note
         ), cleared as (
             update finding f set cleared_at = now()
             from checked c
             where f.target_service_id = c.target_service_id and f.finding_id = c.finding_id
               and not c.holds and c.status in ('accepted', 'dismissed')
             returning f.target_service_id, f.finding_id, c.status as from_status, c.note
         ), audit as (
             insert into finding_event (target_service_id, finding_id, actor, action, from_status,
                                        to_status, note)
             select target_service_id, finding_id, $2, 'verify', from_status, 'resolved', note
             from resolved
             union all
             select target_service_id, finding_id, $2, 'clear', from_status, from_status, note
             from cleared
         ), {tallied}
         select count(*) from resolved"
    )
}
