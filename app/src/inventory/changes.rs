//! What follows from a write to the inventory: the version chains, the
//! current entities and the dependency counters of whatever changed, and
//! the service's overview counts marked stale.
//!
//! Every writer (events, snapshots, a restore's rollback) records what it
//! changed in two temporary tables, filled straight from its INSERT's
//! RETURNING; the statements here read them. The changed keys never travel
//! to Rust and back — for a snapshot of 150,000 references that round trip
//! cost more than the statements that use them. They are read as arrays
//! (`key = any(array(select …))`), which the primary keys serve whatever the
//! planner believes about rows written moments ago; as joins, stale
//! statistics made PostgreSQL loop over the change table for every row of
//! a service it believed empty.

use sqlx::PgConnection;

use super::db::ServiceRef;
use crate::error::AppError;

/// Creates the transaction's change tables (dropped at commit):
/// `touched_entity (key, at)` — entity keys of the service written, with the
/// time of the write — and `touched_reference (target_service_id,
/// target_key, source_key)` — references the service holds that were
/// written.
pub async fn track(conn: &mut PgConnection) -> Result<(), AppError> {
    for table in [
        "create temp table touched_entity (key text collate \"C\", at timestamptz) on commit drop",
        "create temp table touched_reference (target_service_id bigint, target_key text collate \"C\",
                                              source_key text collate \"C\") on commit drop",
    ] {
        sqlx::query(table).execute(&mut *conn).await?;
    }
    Ok(())
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
    if histories.entities {
        chain_entity_versions(conn, service).await?;
    }
    if histories.references {
        chain_reference_versions(conn, service).await?;
    }
    refresh_entities(conn, service).await?;
    refresh_dependents(conn, service, histories).await?;
    // The overview's counts of this service are stale from now on.
    sqlx::query(
        "insert into service_count (service_id, changes, last_event) values ($1, 1, now())
         on conflict (service_id) do update
             set changes = service_count.changes + 1, last_event = excluded.last_event",
    )
    .bind(service.service_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Re-links each touched entity's versions in time order (events may arrive
/// out of order): every version is valid until the next one.
async fn chain_entity_versions(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<(), AppError> {
    sqlx::query(
        "update entity_version v set valid_to = n.next
         from (select key, updated_at,
                      lead(updated_at) over (partition by key order by updated_at) as next
               from entity_version
               where service_id = $1 and key = any(array(select key from touched_entity))) n
         where v.service_id = $1 and v.key = n.key and v.updated_at = n.updated_at
           and v.valid_to is distinct from n.next",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The same for the touched references, found by the primary key from the
/// target's side: every version from a touched source key to a touched
/// target key (a few more than were touched; re-linking those is a no-op).
async fn chain_reference_versions(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<(), AppError> {
    sqlx::query(
        "update reference_version v set valid_to = n.next
         from (select target_service_id, target_key, source_key, relation_id, valid_from,
                      lead(valid_from) over (partition by target_service_id, target_key, source_key, relation_id
                                             order by valid_from) as next
               from reference_version
               where target_service_id = any(array(select distinct target_service_id from touched_reference))
                 and target_key = any(array(select distinct target_key from touched_reference))
                 and source_service_id = $1
                 and source_key = any(array(select distinct source_key from touched_reference))) n
         where v.target_service_id = n.target_service_id and v.target_key = n.target_key
           and v.source_service_id = $1 and v.source_key = n.source_key
           and v.relation_id = n.relation_id and v.valid_from = n.valid_from
           and v.valid_to is distinct from n.next",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Brings the current-state rows of the touched entities up to their
/// latest version.
async fn refresh_entities(conn: &mut PgConnection, service: ServiceRef) -> Result<(), AppError> {
    sqlx::query(
        "insert into entity (service_id, key, updated_at, epoch, deleted)
         select distinct on (key) service_id, key, updated_at, epoch, deleted
         from entity_version
         where service_id = $1 and key = any(array(select key from touched_entity))
         order by key, updated_at desc
         on conflict (service_id, key) do update
             set updated_at = excluded.updated_at, epoch = excluded.epoch, deleted = excluded.deleted",
    )
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Brings the dependency counters (live incoming references) of the
/// entities whose count may have changed up to date: the targets of touched
/// references and the touched entities themselves (a new entity may already
/// be referred to). An entity deleted while still referred to is flagged
/// `to_delete` (spec §2).
///
/// When the service held no references before, every touched reference is
/// a new live one: its target's counter grows by the number of them, from
/// one aggregate of the change table — recounting each target's references
/// cost a first snapshot of 150,000 references two seconds. (Adding also
/// stays right when another service's ingest updates the same counter at
/// once: the row lock orders the two additions.) Otherwise, and for the
/// service's own touched entities, the counters are counted again.
async fn refresh_dependents(
    conn: &mut PgConnection,
    service: ServiceRef,
    histories: Histories,
) -> Result<(), AppError> {
    let recounted = if histories.references {
        "select target_service_id as service_id, target_key as key from touched_reference union"
    } else {
        sqlx::query(
            "update entity e set dependents = e.dependents + a.n,
                                 to_delete = e.deleted and e.dependents + a.n > 0
             from (select target_service_id, target_key, count(*)::int as n
                   from touched_reference group by target_service_id, target_key) a
             where e.service_id = a.target_service_id and e.key = a.target_key
               and e.service_id = any(array(select distinct target_service_id from touched_reference))",
        )
        .execute(&mut *conn)
        .await?;
        ""
    };
    sqlx::query(&format!(
        "update entity e set dependents = c.n, to_delete = e.deleted and c.n > 0
         from (select t.service_id, t.key,
                      (select count(*) from reference_version r
                       where r.target_service_id = t.service_id and r.target_key = t.key
                         and r.valid_to is null and not r.removed)::int as n
               from ({recounted} select $1::bigint as service_id, key from touched_entity) t) c
         where e.service_id = c.service_id and e.key = c.key
           and e.service_id = any(array(select distinct target_service_id from touched_reference) || $1)
           and (e.dependents, e.to_delete) is distinct from (c.n, e.deleted and c.n > 0)"
    ))
    .bind(service.service_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first write after a restore ends the amnesia (spec §2): of each
/// restored entity written now, and of the restore itself.
pub async fn close_amnesia(conn: &mut PgConnection, service: ServiceRef) -> Result<(), AppError> {
    if service.epoch == 0 {
        return Ok(()); // never restored
    }
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
