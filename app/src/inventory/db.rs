//! The inventory's SQL: applying a batch of events set-based (arrays
//! unnested in one statement per table, never a loop of inserts); what the
//! writes change is followed up by `changes`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::changes;
use super::events::{Events, ReferenceEvent};
use crate::error::AppError;
use crate::problem::Problem;
use crate::retry;
use crate::topology::db as topology;

/// A service as the ingest sees it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ServiceRef {
    pub service_id: i64,
    pub epoch: i32,
}

pub async fn find_service(db: &PgPool, name: &str) -> Result<ServiceRef, AppError> {
    sqlx::query_as::<_, ServiceRef>("select service_id, epoch from service where name = $1")
        .bind(name)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("service {name:?}")))
}

/// What an ingest did.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Applied {
    /// Events applied now.
    pub applied: usize,
    /// Events skipped because their `seq` had been applied before.
    pub replayed: usize,
}

#[derive(sqlx::FromRow)]
pub(super) struct RelationEnds {
    pub name: String,
    pub relation_id: i64,
    pub from_service_id: i64,
    pub to_service_id: i64,
}

/// Applies a batch of events in one transaction: every check first, then
/// the writes; any problem rolls everything back. A transaction aborted by
/// a concurrent one is run again.
pub async fn apply(db: &PgPool, service: ServiceRef, events: Events) -> Result<Applied, AppError> {
    let events = &events;
    retry::when_contended(move || apply_once(db, service, events)).await
}

async fn apply_once(
    db: &PgPool,
    service: ServiceRef,
    events: &Events,
) -> Result<Applied, AppError> {
    let mut tx = db.begin().await?;
    let service = lock(&mut tx, service).await?;
    let total = events.len();
    let events = drop_replays(&mut tx, service, events).await?;
    let relations = check(&mut tx, service, &events).await?;

    changes::track(&mut tx).await?;
    write_entities(&mut tx, service, &events).await?;
    write_references(&mut tx, service, &events.references, &relations).await?;
    changes::follow(&mut tx, service, changes::Histories::ALL).await?;
    changes::close_amnesia(&mut tx, service).await?;

    tx.commit().await?;
    let applied = events.len();
    Ok(Applied {
        applied,
        replayed: total - applied,
    })
}

/// Takes the service for this transaction: one ingest or restore of a
/// service at a time, so two writers never insert the same version and a
/// restore's new epoch is never written over. Returns the service with its
/// epoch as of now (a restore may have begun a new one since it was looked
/// up), or not found when a topology change removed it meanwhile.
pub(super) async fn lock(
    conn: &mut PgConnection,
    service: ServiceRef,
) -> Result<ServiceRef, AppError> {
    topology::share_topology(&mut *conn).await?;
    sqlx::query_as::<_, ServiceRef>(
        "select service_id, epoch from service where service_id = $1 for no key update",
    )
    .bind(service.service_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound("service (removed from the topology meanwhile)".into()))
}

/// Records the batch's sequence numbers; events whose number was already
/// recorded are dropped, so a replayed request changes nothing. The batch
/// is copied only when it holds replays (a retried transaction needs the
/// whole batch again).
async fn drop_replays<'a>(
    conn: &mut PgConnection,
    service: ServiceRef,
    events: &'a Events,
) -> Result<Cow<'a, Events>, AppError> {
    let seqs: Vec<i64> = events
        .entities
        .iter()
        .filter_map(|e| e.seq)
        .chain(events.references.iter().filter_map(|r| r.seq))
        .collect();
    if seqs.is_empty() {
        return Ok(Cow::Borrowed(events));
    }
    let fresh: HashSet<i64> = sqlx::query_scalar(
        "insert into ingested_event (service_id, seq) select $1, unnest($2::bigint[])
         on conflict do nothing returning seq",
    )
    .bind(service.service_id)
    .bind(&seqs)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let keep = |seq: Option<i64>| seq.is_none_or(|s| fresh.contains(&s));
    if seqs.iter().all(|&s| keep(Some(s))) {
        return Ok(Cow::Borrowed(events));
    }
    let mut kept = events.clone();
    kept.entities.retain(|e| keep(e.seq));
    kept.references.retain(|r| keep(r.seq));
    Ok(Cow::Owned(kept))
}

/// The checks that need the database: each relation exists and starts at
/// this service, and each reference comes from an entity the service owns
/// (known already, or reported in the same batch).
pub(super) async fn check(
    conn: &mut PgConnection,
    service: ServiceRef,
    events: &Events,
) -> Result<HashMap<String, RelationEnds>, AppError> {
    // Each name once: a snapshot names a handful of relations many times.
    let names: Vec<&str> = events
        .references
        .iter()
        .map(|r| r.relation.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let relations: HashMap<String, RelationEnds> = sqlx::query_as::<_, RelationEnds>(
        "select name, relation_id, from_service_id, to_service_id from relation where name = any($1)",
    )
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.name.clone(), r))
    .collect();
    // Only sources the batch does not report itself are looked up.
    let mut owned: HashSet<&str> = events.entities.iter().map(|e| e.key.as_str()).collect();
    let asked: HashSet<&str> = events
        .references
        .iter()
        .map(|r| r.from.as_str())
        .filter(|from| !owned.contains(from))
        .collect();
    let earlier: Vec<String> = if asked.is_empty() {
        Vec::new()
    } else {
        sqlx::query_scalar("select key from entity where service_id = $1 and key = any($2)")
            .bind(service.service_id)
            .bind(asked.into_iter().collect::<Vec<_>>())
            .fetch_all(&mut *conn)
            .await?
    };
    owned.extend(earlier.iter().map(String::as_str));

    let mut problems = Vec::new();
    for r in &events.references {
        match relations.get(&r.relation) {
            None => problems.push(Problem::new(
                Some(r.line),
                "relation",
                format!("unknown relation {:?}", r.relation),
            )),
            Some(ends) if ends.from_service_id != service.service_id => {
                problems.push(Problem::new(
                    Some(r.line),
                    "relation",
                    format!("relation {:?} does not start at this service", r.relation),
                ))
            }
            Some(_) => {}
        }
        if !owned.contains(r.from.as_str()) {
            problems.push(Problem::new(
                Some(r.line),
                "from",
                format!(
                    "{:?} is not an entity of this service: report it first",
                    r.from
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(relations)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(AppError::Rejected(problems))
    }
}

async fn write_entities(
    conn: &mut PgConnection,
    service: ServiceRef,
    events: &Events,
) -> Result<(), AppError> {
    if events.entities.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = events.entities.iter().map(|e| e.key.as_str()).collect();
    let ats: Vec<DateTime<Utc>> = events.entities.iter().map(|e| e.at).collect();
    let deleted: Vec<bool> = events.entities.iter().map(|e| e.deleted).collect();
    let data: Vec<Option<Value>> = events.entities.iter().map(|e| e.data.clone()).collect();
    // Two events for the same key and instant: the later line wins.
    sqlx::query(
        "with written as (
         insert into entity_version (service_id, key, updated_at, epoch, deleted, data)
         select distinct on (key, at) $1, key, at, $2, deleted, data
         from unnest($3::text[], $4::timestamptz[], $5::bool[], $6::jsonb[]) with ordinality
              as e(key, at, deleted, data, n)
         order by key, at, n desc
         on conflict (service_id, key, updated_at) do update
             set deleted = excluded.deleted, data = excluded.data, epoch = excluded.epoch
         returning key, updated_at)
         insert into touched_entity select key, updated_at from written",
    )
    .bind(service.service_id)
    .bind(service.epoch)
    .bind(&keys)
    .bind(&ats)
    .bind(&deleted)
    .bind(&data)
    .execute(conn)
    .await?;
    Ok(())
}

async fn write_references(
    conn: &mut PgConnection,
    service: ServiceRef,
    references: &[ReferenceEvent],
    relations: &HashMap<String, RelationEnds>,
) -> Result<(), AppError> {
    if references.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&ReferenceEvent) -> String| references.iter().map(f).collect::<Vec<_>>();
    let relation_ids: Vec<i64> = references
        .iter()
        .map(|r| relations[&r.relation].relation_id)
        .collect();
    let targets: Vec<i64> = references
        .iter()
        .map(|r| relations[&r.relation].to_service_id)
        .collect();
    let observed: Vec<Option<DateTime<Utc>>> = references.iter().map(|r| r.observed).collect();
    let ats: Vec<DateTime<Utc>> = references.iter().map(|r| r.at).collect();
    let caches: Vec<Option<Value>> = references.iter().map(|r| r.cache.clone()).collect();
    let removed: Vec<bool> = references.iter().map(|r| r.removed).collect();
    sqlx::query(
        "with written as (
         insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, cache, removed, valid_from)
         select distinct on (target, to_key, from_key, relation_id, at)
                target, to_key, $1, from_key, relation_id, observed, cache, removed, at
         from unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[],
                     $7::jsonb[], $8::bool[], $9::timestamptz[]) with ordinality
              as r(target, to_key, from_key, relation_id, observed, cache, removed, at, n)
         order by target, to_key, from_key, relation_id, at, n desc
         on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
         do update set observed_at = excluded.observed_at, cache = excluded.cache, removed = excluded.removed
         returning target_service_id, target_key, source_key)
         insert into touched_reference select * from written",
    )
    .bind(service.service_id)
    .bind(&targets)
    .bind(column(|r| r.to.clone()))
    .bind(column(|r| r.from.clone()))
    .bind(&relation_ids)
    .bind(&observed)
    .bind(&caches)
    .bind(&removed)
    .bind(&ats)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a backup of the service, in its current epoch.
pub async fn record_backup(
    db: &PgPool,
    service: ServiceRef,
    taken_at: DateTime<Utc>,
    label: Option<&str>,
) -> Result<i64, AppError> {
    // Through the service row, held until the insert is done: a service a
    // topology change removed meanwhile is not found, rather than a
    // foreign key violation.
    sqlx::query_scalar(
        "insert into backup (service_id, taken_at, epoch, label)
         select service_id, $2, epoch, $3 from service where service_id = $1 for key share
         returning backup_id",
    )
    .bind(service.service_id)
    .bind(taken_at)
    .bind(label)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("service (removed from the topology meanwhile)".into()))
}
