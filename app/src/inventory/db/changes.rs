//! What follows from a write to the inventory: the version chains, the
//! current entities and the dependency counters of whatever changed, and
//! the service's overview counts marked stale.
//!
//! Every writer (events, snapshots, a restore's rollback) records what it
//! changed in two temporary tables, filled straight from its INSERT's
//! RETURNING; the statements here read them. The changed keys never travel
//! to Rust and back — for a snapshot of 150,000 references that round trip
//! cost more than the statements that use them. Each touched row's versions
//! are found by a lateral subquery (an index probe per row) or the keys are
//! read as arrays (`key = any(array(select …))`), which the primary keys
//! serve whatever the planner believes about rows written moments ago; as
//! plain joins, stale statistics made PostgreSQL loop over the change table
//! for every row of a service it believed empty.

use sqlx::PgConnection;

use super::ServiceRef;
use crate::error::AppError;

/// Creates the transaction's change tables (dropped at commit):
/// `touched_entity (key, at)` — entity keys of the service written, with the
/// write's position on the timeline — and `touched_reference
/// (target_service_id, target_key, source_key, at, relation_id,
/// had_versions, was_live, previous, now_live)` — references the service
/// holds that were written, with theirs. A writer that knows a reference's
/// state before its write (events: `recording_references`; snapshots of a
/// service that held references, from their comparison) fills the last
/// five: whether the reference had versions (a writer may leave lost ones
/// out: the write is then the only version of its current branch),
/// whether it was live (null when not known), the row address of its
/// current version when the write comes after it, and whether the write
/// leaves it live when the write becomes its current version. Left null
/// (a restore's rollback, and a snapshot of a service that held no
/// references, insert the first four columns only), the reference's
/// history is re-linked and its target's counter counted again. Writes of a lost branch change nothing current
/// and are not recorded.
pub async fn track(conn: &mut PgConnection) -> Result<(), AppError> {
    for table in [
        "create temp table touched_entity (key text collate \"C\", at timestamptz) on commit drop",
        "create temp table touched_reference (target_service_id bigint, target_key text collate \"C\",
                                              source_key text collate \"C\", at timestamptz,
                                              relation_id bigint, had_versions boolean, was_live boolean,
                                              previous tid, now_live boolean)
         on commit drop",
    ] {
        sqlx::query(table).execute(&mut *conn).await?;
    }
    Ok(())
}

/// `write`, an INSERT into `reference_version` returning the versions it
/// wrote (`target_service_id, target_key, source_key, relation_id,
/// valid_from, removed, lost`; the source service is `$1`), followed by
/// recording each in `touched_reference` with its state before the write,
/// from its latest version read in the statement's snapshot (which does not
/// see the insert): whether it had any history, and whether it was live —
/// so that only changed histories are re-linked and counters move by the
/// difference (`follow`). When that version is of a lost branch, whether
/// the reference was live is left unknown (its target is counted again).
/// When it was current and older than the write, its row address is kept: a
/// write appended to a history ends that version and nothing else. A write
/// that starts or is appended to a history is its new current version: it
/// tells whether the reference is live now. Writes of a lost branch are not
/// recorded.
pub fn recording_references(write: &str) -> String {
    format!(
        "with written as ({write})
         insert into touched_reference
         select w.target_service_id, w.target_key, w.source_key, w.valid_from, w.relation_id,
                not k.first,
                case when before.lost then null else coalesce(not before.removed, false) end,
                case when k.appended then before.version end,
                case when k.first or k.appended then not w.removed end
         from written w
         left join lateral (select ctid as version, valid_from, valid_to, removed, lost
                            from reference_version v
                            where v.target_service_id = w.target_service_id and v.target_key = w.target_key
                              and v.source_service_id = (select $1::bigint) and v.source_key = w.source_key
                              and v.relation_id = w.relation_id
                            order by v.valid_from desc limit 1) before on true
         cross join lateral (
             select before.lost is null as first,
                    coalesce(not before.lost and before.valid_to is null
                             and before.valid_from < w.valid_from, false) as appended) k
         where not w.lost"
    )
}

/// The number of entity and reference writes recorded.
pub async fn count(conn: &mut PgConnection) -> Result<usize, AppError> {
    let n: i64 = sqlx::query_scalar(
        "select (select count(*) from touched_entity) + (select count(*) from touched_reference)",
    )
    .fetch_one(conn)
    .await?;
    Ok(n as usize)
}

/// Which of the service's histories existed before this write. A history
/// that did not exist needs no re-linking: every version just written is
/// the only one of its entity or reference.
#[derive(Debug, Clone, Copy)]
pub struct Histories {
    pub entities: bool,
    pub references: bool,
}

impl Histories {
    pub const ALL: Histories = Histories {
        entities: true,
        references: true,
    };

    /// Asked before the write.
    pub async fn of(conn: &mut PgConnection, service: ServiceRef) -> Result<Self, AppError> {
        let (entities, references): (bool, bool) = sqlx::query_as(
            "select exists (select 1 from entity where service_id = $1),
                    exists (select 1 from reference_version where source_service_id = $1)",
        )
        .bind(service.service_id)
        .fetch_one(conn)
        .await?;
        Ok(Histories {
            entities,
            references,
        })
    }
}

/// Brings everything derived from the versions up to date with the writes.
pub async fn follow(
    conn: &mut PgConnection,
    service: ServiceRef,
    histories: Histories,
) -> Result<(), AppError> {
    for table in ["analyze touched_entity", "analyze touched_reference"] {
        sqlx::query(table).execute(&mut *conn).await?;
    }
    chain_and_refresh_entities(conn, service).await?;
    if histories.references {
        chain_reference_versions(conn, service).await?;
    }
    refresh_dependents(conn, service, histories).await?;
    mark_references_to_own_deleted(conn, service).await?;
    mark_changed(conn, service).await
}

/// Marks for the integrity scan the service's deleted entities that a
/// reference of the service just written points at. A deleted entity that
/// another service refers to anew is marked by its counter's trigger
/// (migration `…20261206000100`), but the counter leaves a service's
/// references into itself out. Without a relation into itself (most
/// services), the one-time check skips reading the batch's references.
async fn mark_references_to_own_deleted(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<(), AppError> {
    sqlx::query(
        "insert into scan_mark (service_id, key)
         select distinct e.service_id, e.key
         from touched_reference t
         join entity e on e.service_id = t.target_service_id and e.key = t.target_key
         where t.target_service_id = $1 and e.deleted
           and exists (select 1 from relation where from_service_id = $1 and to_service_id = $1)
         on conflict do nothing",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The overview's counts of this service are stale from now on.
pub async fn mark_changed(conn: &mut PgConnection, service: ServiceRef) -> Result<(), AppError> {
    sqlx::query(
        "insert into service_count (service_id, changes, last_event) values ($1, 1, now())
         on conflict (service_id) do update
             set changes = service_count.changes + 1, last_event = excluded.last_event",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds new live references to their targets' counters: `(services, keys,
/// counts)`, one entry per target entity. (Adding stays right when another
/// service's ingest adds to the same counter at once: the row lock orders
/// the two.) Targets not reported yet have no row; their own first load
/// counts them.
pub async fn add_dependents<K: AsRef<str>>(
    conn: &mut PgConnection,
    (services, keys, counts): (Vec<i64>, Vec<K>, Vec<i32>),
) -> Result<(), AppError> {
    if services.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
    let mut distinct = services.clone();
    distinct.sort_unstable();
    distinct.dedup();
    sqlx::query(
        "update entity e set dependents = e.dependents + c.n,
                             to_delete = e.deleted and e.dependents + c.n > 0
         from unnest($1::bigint[], $2::text[], $3::int[]) c(service_id, key, n)
         where e.service_id = c.service_id and e.key = c.key and e.service_id = any($4)",
    )
    .bind(&services)
    .bind(&keys)
    .bind(&counts)
    .bind(&distinct)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts the live references into a service whose entities were all just
/// created (its first load): references other services reported before it
/// did — none at all for most services. The counts are fetched first and
/// added as any others: joined in one statement, statistics that had not
/// seen the new entities yet made the planner loop over them and run the
/// aggregate again for each.
pub async fn count_dependents_of_new(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<(), AppError> {
    let (keys, counts): (Vec<String>, Vec<i32>) = sqlx::query_as(
        "select coalesce(array_agg(target_key), '{}'), coalesce(array_agg(n), '{}')
         from (select target_key, count(*)::int as n from reference_version
               where target_service_id = $1 and valid_to is null and not removed
                 and source_service_id <> $1
               group by target_key) c",
    )
    .bind(service.service_id)
    .fetch_one(&mut *conn)
    .await?;
    let services = vec![service.service_id; keys.len()];
    add_dependents(conn, (services, keys, counts)).await
}

/// Re-links each touched entity's versions on the current branch (events
/// may arrive out of order) and brings its current-state row up to its
/// latest version, in one statement that reads each entity's versions once.
/// In epoch order, and by time within an epoch, every version is valid
/// until the next one's position (spec §5b: any write of a newer epoch
/// supersedes the older one, whatever its time); the last one is the
/// current state. Versions of a lost branch keep their empty validity. An
/// entity whose every version was lost by a restore (it was created after
/// the backup) is gone: deleted.
///
/// The chains leave the planner no join to choose. Each touched entity's
/// versions are read by a lateral subquery (an index probe per touched key)
/// with the start of the next version beside each; those whose end is wrong
/// are updated by their row addresses (a TID scan per row, the service
/// being locked by the writer), the new ends handed over as arrays. As
/// joins, a service just loaded by COPY looked empty to its statistics and
/// the planner looped over one side for every row of the other: 40 s, once
/// 520 s, for a snapshot changing 15,000 of 150,000 references. Reading
/// the versions once for both the chain and the current row, and taking
/// each end from the window instead of one more probe per version, cut
/// 10,000 entity updates from 0.28 s to 0.18 s.
async fn chain_and_refresh_entities(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<(), AppError> {
    sqlx::query(
        "with versions as materialized (
             select t.key, n.version, n.valid_to, n.next, n.updated_at, n.epoch, n.deleted
             from (select distinct key from touched_entity) t
             cross join lateral (
                 select ctid as version, valid_to, updated_at, epoch, deleted,
                        lead(coalesce(valid_from, updated_at)) over (order by epoch, updated_at) as next
                 from entity_version where service_id = $1 and key = t.key and not lost) n),
         chained as (
             update entity_version v set valid_to = c.next
             from (select unnest(a.versions) as version, unnest(a.nexts) as next
                   from (select array_agg(version) as versions, array_agg(next) as nexts
                         from versions where valid_to is distinct from next) a) c
             where v.ctid = c.version)
         insert into entity (service_id, key, updated_at, epoch, deleted)
         select $1, key, updated_at, epoch, deleted from versions where next is null
         order by key
         on conflict (service_id, key) do update
             set updated_at = excluded.updated_at, epoch = excluded.epoch, deleted = excluded.deleted",
    )
    .bind(service.service_id)
    .execute(&mut *conn)
    .await?;
    if service.epoch == 0 {
        return Ok(()); // never restored: nothing was lost
    }
    sqlx::query(
        "update entity e set deleted = true, epoch = $2
         where e.service_id = $1 and e.key = any(array(select distinct key from touched_entity))
           and not e.deleted
           and not exists (select 1 from entity_version v
                           where v.service_id = $1 and v.key = e.key and not v.lost)",
    )
    .bind(service.service_id)
    .bind(service.epoch)
    .execute(conn)
    .await?;
    Ok(())
}

/// The touched references' chains, as the entities' (without a current
/// row), whose versions the primary key finds from the target's side.
///
/// Most writes need less. A reference written once after its current
/// version (`previous`) ends that version where it begins: one update by
/// row address, no probe (20,000 re-observed references: 0.36 s → 0.15 s).
/// One written once with no history before is its own chain: skipped (a
/// batch of new references re-links nothing). The rest are re-linked
/// whole, after those appends. The source service is compared with
/// `(select $1::bigint)`, a value the planner does not know: as a constant, after a
/// first load that statistics had not seen yet, the source index looked as
/// if it held one row of the service and was probed instead of the primary
/// key — reading all of the service's references for each touched one
/// (275 s for 15,000). Unknown, the service is priced at its share of the
/// table, and the primary key's four columns win.
async fn chain_reference_versions(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<(), AppError> {
    sqlx::query(
        "update reference_version v set valid_to = a.at
         from (select unnest(array_agg(previous)) as previous, unnest(array_agg(at)) as at
               from (select min(previous) as previous, min(at) as at from touched_reference
                     group by target_service_id, target_key, source_key, relation_id
                     having count(*) = 1 and bool_and(previous is not null)) appended) a
         where v.ctid = a.previous",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update reference_version v
         set valid_to = (select min(w.valid_from) from reference_version w
                         where w.target_service_id = v.target_service_id and w.target_key = v.target_key
                           and w.source_service_id = v.source_service_id and w.source_key = v.source_key
                           and w.relation_id = v.relation_id and w.valid_from > v.valid_from
                           and not w.lost)
         where v.ctid = any(array(
             select n.version
             from (select target_service_id, target_key, source_key from touched_reference
                   group by target_service_id, target_key, source_key
                   having count(*) > 1 or bool_or(had_versions is not false and previous is null)) t
             cross join lateral (
                 select ctid as version, valid_to,
                        lead(valid_from) over (partition by relation_id order by valid_from) as next
                 from reference_version
                 where target_service_id = t.target_service_id and target_key = t.target_key
                   and source_service_id = (select $1::bigint) and source_key = t.source_key
                   and not lost) n
             where n.valid_to is distinct from n.next))",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Brings the dependency counters (live incoming references from other
/// services: spec §5b) of the entities whose count may have changed up to
/// date: the targets of touched references and the touched entities
/// themselves (a new entity may already be referred to). An entity deleted
/// while still referred to is flagged `to_delete` (spec §2).
///
/// Counters move by a difference wherever it is known, and are counted
/// again only where it is not. (Adding stays right when another service's
/// ingest updates the same counter at once: the row lock orders the two.)
/// - When the service held no references before, every touched reference
///   is a new live one: its target's counter grows by the number of them,
///   from one aggregate of the change table — recounting each target's
///   references cost a first snapshot of 150,000 references two seconds.
/// - A reference whose state before the write is recorded (`was_live`)
///   adds the difference between it and its state now — known from the
///   write when it was written once and became the current version, else
///   one probe of its own versions: re-observing 20,000 references changes
///   no counter, where counting each target's references again read all
///   their versions (0.3 s a batch).
/// - The other touched references' targets, and the service's own touched
///   entities, are counted again — the latter only when another service
///   may refer to it at all (a relation leads there): 10,000 updated orders
///   nobody refers to cost 55 ms of counting nothing.
async fn refresh_dependents(
    conn: &mut PgConnection,
    service: ServiceRef,
    histories: Histories,
) -> Result<(), AppError> {
    let recounted = if histories.references {
        add_differences(conn, service).await?;
        "select target_service_id as service_id, target_key as key from touched_reference
         where was_live is null union"
    } else {
        sqlx::query(
            "update entity e set dependents = e.dependents + a.n,
                                 to_delete = e.deleted and e.dependents + a.n > 0
             from (select target_service_id, target_key, count(*)::int as n
                   from touched_reference where target_service_id <> $1
                   group by target_service_id, target_key) a
             where e.service_id = a.target_service_id and e.key = a.target_key
               and e.service_id = any(array(select distinct target_service_id from touched_reference))",
        )
        .bind(service.service_id)
        .execute(&mut *conn)
        .await?;
        ""
    };
    // Each key's count is an index probe, and the counts are handed to the
    // update as arrays, which it applies by key with one more probe each:
    // left a join, the planner hashed the touched keys against a scan of
    // every entity of every service (0.6 s for a batch of 10,000 entity
    // updates in a service of 1,000,000).
    sqlx::query(&format!(
        "update entity e set dependents = d.n, to_delete = e.deleted and d.n > 0
         from (select unnest(a.ids) as service_id, unnest(a.keys) as key, unnest(a.ns) as n from (
             select array_agg(t.service_id) as ids, array_agg(t.key) as keys, array_agg(c.n) as ns
             from ({recounted}
                   select $1::bigint as service_id, key from touched_entity
                   where exists (select 1 from relation
                                 where to_service_id = $1 and from_service_id <> $1)) t
             cross join lateral (select count(*)::int as n from reference_version r
                                 where r.target_service_id = t.service_id and r.target_key = t.key
                                   and r.valid_to is null and not r.removed
                                   and r.source_service_id <> t.service_id) c) a) d
         where e.service_id = d.service_id and e.key = d.key
           and (e.dependents, e.to_delete) is distinct from (d.n, e.deleted and d.n > 0)"
    ))
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds to each target's counter the difference its touched references
/// (those with a recorded state before the write, into other services)
/// made: live now (from the write, or one probe when the reference was
/// written more than once or not at its end) against live before. Only targets whose
/// counter moves are updated, by key, from arrays (as the recount is). The
/// probe is a lateral with a limit: as `exists`, the planner hashed every
/// reference of the service instead (a scan that grows with the service,
/// not with the batch).
async fn add_differences(conn: &mut PgConnection, service: ServiceRef) -> Result<(), AppError> {
    sqlx::query(
        "update entity e set dependents = e.dependents + d.n,
                             to_delete = e.deleted and e.dependents + d.n > 0
         from (select unnest(a.ids) as service_id, unnest(a.keys) as key, unnest(a.ns) as n from (
             select array_agg(c.target_service_id) as ids, array_agg(c.target_key) as keys,
                    array_agg(c.n) as ns
             from (select t.target_service_id, t.target_key,
                          sum(coalesce(t.now_live, now.live is not null)::int - t.was_live::int)::int as n
                   from (select target_service_id, target_key, source_key, relation_id,
                                bool_and(was_live) as was_live,
                                case when count(*) = 1 then bool_and(now_live) end as now_live
                         from touched_reference
                         where was_live is not null and target_service_id <> $1
                         group by target_service_id, target_key, source_key, relation_id) t
                   left join lateral (select true as live from reference_version r
                                      where t.now_live is null
                                        and r.target_service_id = t.target_service_id
                                        and r.target_key = t.target_key
                                        and r.source_service_id = (select $1::bigint)
                                        and r.source_key = t.source_key and r.relation_id = t.relation_id
                                        and r.valid_to is null and not r.removed
                                      limit 1) now on true
                   group by t.target_service_id, t.target_key) c
             where c.n <> 0) a) d
         where e.service_id = d.service_id and e.key = d.key",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first write after a restore ends the amnesia (spec §5b): of each
/// restored entity written now, and of the restore itself; a re-applied one
/// moves its start. So does the
/// first read of a restored entity, a reference into it that another
/// service reports in its new epoch.
pub async fn close_amnesia(conn: &mut PgConnection, service: ServiceRef) -> Result<(), AppError> {
    sqlx::query(
        "update finding f set amnesia_to = w.at
         from (select target_service_id, target_key, min(at) as at from touched_reference
               where target_service_id = any(array(select service_id from service where epoch > 0))
                 and target_service_id <> $1
               group by target_service_id, target_key) w, restore r
         where f.target_service_id = w.target_service_id and f.target_key = w.target_key
           and f.restore_id = r.restore_id and r.service_id = f.target_service_id
           and f.amnesia_from is not null and f.amnesia_to is null and w.at >= r.restored_at",
    )
    .bind(service.service_id)
    .execute(&mut *conn)
    .await?;
    if service.epoch == 0 {
        return Ok(()); // never restored
    }
    // A write of the new epoch older than the restore re-applies known state
    // (from a cached copy): the amnesia starts no earlier than it. (The
    // change table holds the write's place in the timeline, the restore's
    // time for such a write; the entity row holds its own time.)
    sqlx::query(
        "update finding f set amnesia_from = e.updated_at
         from (select distinct key from touched_entity) w
         join entity e on e.service_id = $1 and e.key = w.key and e.epoch = $2 and not e.deleted
         join restore r on r.service_id = $1 and r.epoch = $2 and not r.drill
         where f.target_service_id = $1 and f.target_key = w.key and f.restore_id = r.restore_id
           and e.updated_at < r.restored_at and f.amnesia_from < e.updated_at",
    )
    .bind(service.service_id)
    .bind(service.epoch)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update finding f set amnesia_to = w.at
         from (select key, min(at) as at from touched_entity group by key) w, restore r
         where f.target_service_id = $1 and f.target_key = w.key and f.restore_id = r.restore_id
           and f.amnesia_from is not null and f.amnesia_to is null and w.at >= r.restored_at",
    )
    .bind(service.service_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update restore r
         set amnesia_to = (select min(w.at) from touched_entity w where w.at >= r.restored_at)
         where r.service_id = $1 and not r.drill and r.amnesia_to is null
           and exists (select 1 from touched_entity w where w.at >= r.restored_at)",
    )
    .bind(service.service_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
