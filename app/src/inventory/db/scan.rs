//! The integrity scan (spec §5, last row): flags dangling deletes — an
//! entity deleted while references to it were live — and clears the
//! `to_delete` flag of entities nobody refers to any more. All set-based.
//!
//! A pass is incremental: it looks only at the entities marked in
//! `scan_mark` since the last pass (deleted, deleted and newly referred to,
//! or named by a finding that stopped being pending; see the migration
//! `…20261206000100`), so its cost grows with those changes. A full pass
//! reads every deleted entity and every pending finding, as a safety net.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::verify;
use crate::error::AppError;
use crate::retry;
use crate::topology::db as topology;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScanCounts {
    /// New dangling-delete findings.
    pub dangling_delete: i64,
    /// Entities whose `to_delete` flag was cleared.
    pub to_delete_cleared: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScanReport {
    pub id: i64,
    /// Whether the pass read the whole inventory (else only the entities
    /// marked since the last pass).
    pub full: bool,
    /// Deleted (or flagged) entities the pass looked at.
    pub examined: i64,
    pub counts: ScanCounts,
}

/// Which entities a pass looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pass {
    /// Those marked since the last pass.
    Incremental,
    /// Every deleted or flagged entity, and every pending finding.
    Full,
}

/// Runs one scan in one transaction (again when a concurrent ingest
/// aborted it: both update entities of many services).
pub async fn run(db: &PgPool, pass: Pass) -> Result<ScanReport, AppError> {
    retry::when_contended(|| run_once(db, pass)).await
}

async fn run_once(db: &PgPool, pass: Pass) -> Result<ScanReport, AppError> {
    let mut tx = db.begin().await?;
    topology::share_topology(&mut tx).await?;
    // One scan at a time: a second caller waits rather than double-flags.
    sqlx::query("select pg_advisory_xact_lock(hashtext('lockstep.scan'))")
        .execute(&mut *tx)
        .await?;
    let full = pass == Pass::Full;
    let scan_id: i64 =
        sqlx::query_scalar("insert into scan (full_pass) values ($1) returning scan_id")
            .bind(full)
            .fetch_one(&mut *tx)
            .await?;
    take_marks(&mut tx, pass).await?;
    // Recount the flagged and deleted entities' live referrers; clear the
    // flags whose counter reached zero.
    let (examined, to_delete_cleared): (i64, i64) =
        sqlx::query_as(&recount(pass)).fetch_one(&mut *tx).await?;

    // Findings whose condition is gone are closed first, so that a
    // condition that cleared and came back is raised anew below.
    verify::after_scan(&mut tx, full).await?;
    // One finding per condition: a reference a pending finding already
    // names — a dangling delete of an earlier scan, or a restore's broken
    // link or missing state (its target lost by the restore) — is not
    // flagged again; the first scan that meets it is one more of its causes
    // (each found by a probe: as a join, every finding was read).
    let dangling_delete: i64 = sqlx::query_scalar(&dangling(pass))
        .bind(scan_id)
        .fetch_one(&mut *tx)
        .await?;

    let counts = ScanCounts {
        dangling_delete,
        to_delete_cleared,
    };
    sqlx::query("update scan set finished_at = now(), counts = $2 where scan_id = $1")
        .bind(scan_id)
        .bind(sqlx::types::Json(counts))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ScanReport {
        id: scan_id,
        full,
        examined,
        counts,
    })
}

/// The entities a pass looks at, as `e`. The marked ones are each found by
/// a probe of the primary key (the lateral subquery, kept apart by `offset
/// 0`): as a plain join, PostgreSQL expected one deleted entity where there
/// were 30,000 and compared every pair, 37 s for 10,000 marks at 10M.
fn entities(pass: Pass) -> &'static str {
    match pass {
        Pass::Full => "entity e",
        Pass::Incremental => {
            "scan_target t cross join lateral
                 (select * from entity e where e.service_id = t.service_id and e.key = t.key offset 0) e"
        }
    }
}

/// The recount of the pass's deleted and flagged entities: how many it
/// looked at, and how many flags it cleared.
fn recount(pass: Pass) -> String {
    let entities = entities(pass);
    format!(
        "with counted as (
            select e.service_id, e.key,
                   (select count(*) from reference_version r
                    where r.target_service_id = e.service_id and r.target_key = e.key
                      and r.valid_to is null and not r.removed
                      and r.source_service_id <> e.service_id)::int as n
            from {entities} where e.deleted or e.to_delete
        ), updated as (
            update entity e set dependents = c.n, to_delete = e.deleted and c.n > 0
            from counted c
            where e.service_id = c.service_id and e.key = c.key
              and (e.dependents, e.to_delete) is distinct from (c.n, e.deleted and c.n > 0)
            returning e.to_delete, (c.n = 0) as free
        )
        select (select count(*) from counted),
               (select count(*) from updated where not to_delete and free)"
    )
}

/// The dangling deletes among the pass's entities, flagged ($1: the scan).
fn dangling(pass: Pass) -> String {
    let entities = entities(pass);
    format!(
        "with dangling as (
             select r.relation_id, r.source_service_id, r.source_key, r.target_service_id, r.target_key,
                    r.observed_at, e.updated_at, rel.on_broken, r.cache,
                    (select f.finding_id from finding f
                     where f.target_service_id = r.target_service_id and f.target_key = r.target_key
                       and f.source_service_id = r.source_service_id and f.source_key = r.source_key
                       and f.relation_id = r.relation_id and f.kind in ('dangling_delete', 'broken_link', 'missing_state')
                       and (f.status in ('open', 'claimed')
                            or (f.status in ('accepted', 'dismissed') and f.cleared_at is null))
                     limit 1) as existing
             from {entities}
             join reference_version r
               on r.target_service_id = e.service_id and r.target_key = e.key
              and r.valid_to is null and not r.removed
             join relation rel on rel.relation_id = r.relation_id
             where e.deleted
         ), new as (
             select *, coalesce(on_broken, case when cache is not null then 'cache' else 'reconstruct' end)
                       as strategy
             from dangling where existing is null
         ), causes as (
             insert into cause (target_service_id, scan_id, kind, relation_id, source_service_id,
                                strategy, open)
             select target_service_id, $1, 'dangling_delete', relation_id, source_service_id,
                    strategy, count(*)
             from new group by target_service_id, relation_id, source_service_id, strategy
             returning target_service_id, cause_id, relation_id, source_service_id, strategy
         ), flagged as (
             insert into finding (scan_id, cause_id, kind, relation_id, source_service_id, source_key,
                                  target_service_id, target_key, observed_at, target_updated_at,
                                  strategy, cached)
             select $1, c.cause_id, 'dangling_delete', n.relation_id, n.source_service_id, n.source_key,
                    n.target_service_id, n.target_key, n.observed_at, n.updated_at, n.strategy, n.cache
             from new n
             join causes c on c.target_service_id = n.target_service_id
                          and c.relation_id = n.relation_id
                          and c.source_service_id = n.source_service_id and c.strategy = n.strategy
             returning 1
         ), met as (
             insert into finding_cause (target_service_id, finding_id, scan_id)
             select f.target_service_id, f.finding_id, $1
             from dangling d
             cross join lateral (select * from finding f
                                 where f.target_service_id = d.target_service_id
                                   and f.finding_id = d.existing offset 0) f
             where f.scan_id is null
               and not exists (select 1 from finding_cause c
                               where c.target_service_id = f.target_service_id
                                 and c.finding_id = f.finding_id and c.scan_id is not null)
         )
         select count(*) from flagged"
    )
}

/// The statements composed here at run time, for the test that prepares
/// every statement against the schema (`tests/it/statements.rs`).
pub fn composed_statements() -> Vec<(&'static str, String)> {
    vec![
        ("recount, full", recount(Pass::Full)),
        ("recount, incremental", recount(Pass::Incremental)),
        ("dangling, full", dangling(Pass::Full)),
        ("dangling, incremental", dangling(Pass::Incremental)),
    ]
}

/// Takes the marks of the writes since the last pass: into `scan_target`
/// for an incremental pass; a full pass only clears them. Marks committed
/// while the pass runs stay for the next one.
async fn take_marks(conn: &mut PgConnection, pass: Pass) -> Result<(), AppError> {
    if pass == Pass::Full {
        sqlx::query("delete from scan_mark")
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query(
        "create temp table scan_target (service_id bigint, key text collate \"C\",
                                        primary key (service_id, key))
         on commit drop",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "with taken as (delete from scan_mark returning service_id, key)
         insert into scan_target select service_id, key from taken",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("analyze scan_target")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
