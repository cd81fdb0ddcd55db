//! The inventory's SQL: applying a batch of events set-based (arrays
//! unnested in one statement per table, never a loop of inserts); what the
//! writes change is followed up by `changes`, the findings they touch
//! re-checked by `verify`. Snapshots, the integrity scan, the pages'
//! queries and the service tokens have their own modules here.

pub mod changes;
pub mod collectors;
mod copy;
pub mod queries;
pub mod scan;
pub mod snapshot;
pub mod timeline;
pub mod tokens;
pub mod verify;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use self::timeline::{newer_epoch, Placement, Timeline};
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
    // A batch's statements probe indexes a row at a time; JIT compiling
    // them (their costs pass its thresholds on a large inventory) took
    // longer than running them: 0.25 s of a 10,000-event batch.
    sqlx::query("set local jit = off").execute(&mut *tx).await?;
    let service = lock(&mut tx, service).await?;
    let timeline = Timeline::of(&mut tx, service).await?;
    let total = events.len();
    let events = drop_replays(&mut tx, service, events).await?;
    let relations = check(&mut tx, service, &events).await?;

    changes::track(&mut tx).await?;
    write_entities(&mut tx, service, &timeline, &events).await?;
    write_references(&mut tx, service, &timeline, &events.references, &relations).await?;
    changes::follow(&mut tx, service, changes::Histories::ALL).await?;
    changes::close_amnesia(&mut tx, service).await?;
    verify::after_write(&mut tx, service).await?;

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

/// Records the batch's sequence numbers, per epoch; events whose number
/// was already recorded in their epoch are dropped, so a replayed request
/// changes nothing. The batch is copied only when it holds replays (a
/// retried transaction needs the whole batch again).
async fn drop_replays<'a>(
    conn: &mut PgConnection,
    service: ServiceRef,
    events: &'a Events,
) -> Result<Cow<'a, Events>, AppError> {
    let epoch_of = |epoch: Option<i32>| epoch.unwrap_or(service.epoch);
    let numbered: Vec<(i32, i64)> = events
        .entities
        .iter()
        .filter_map(|e| Some((epoch_of(e.epoch), e.seq?)))
        .chain(
            events
                .references
                .iter()
                .filter_map(|r| Some((epoch_of(r.epoch), r.seq?))),
        )
        .collect();
    if numbered.is_empty() {
        return Ok(Cow::Borrowed(events));
    }
    let (epochs, seqs): (Vec<i32>, Vec<i64>) = numbered.iter().copied().unzip();
    let fresh: HashSet<(i32, i64)> = sqlx::query_as(
        "insert into ingested_event (service_id, epoch, seq)
         select $1, unnest($2::int[]), unnest($3::bigint[])
         on conflict do nothing returning epoch, seq",
    )
    .bind(service.service_id)
    .bind(&epochs)
    .bind(&seqs)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let keep = |epoch: Option<i32>, seq: Option<i64>| {
        seq.is_none_or(|s| fresh.contains(&(epoch_of(epoch), s)))
    };
    if fresh.len() == numbered.len() {
        return Ok(Cow::Borrowed(events));
    }
    let mut kept = events.clone();
    kept.entities.retain(|e| keep(e.epoch, e.seq));
    kept.references.retain(|r| keep(r.epoch, r.seq));
    Ok(Cow::Owned(kept))
}

/// The checks that need the database: each relation exists and starts at
/// this service, each reference comes from an entity the service owns
/// (known already, or reported in the same batch), and no event names an
/// epoch the service has not reached.
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

    let mut problems: Vec<Problem> = events
        .entities
        .iter()
        .map(|e| (e.line, e.epoch))
        .chain(events.references.iter().map(|r| (r.line, r.epoch)))
        .filter_map(|(line, epoch)| newer_epoch(service, line, epoch?))
        .collect();
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

/// Entity events as versions, each placed on the service's timeline (see
/// `timeline`). A version of a lost branch is kept with an empty validity;
/// at an instant already written, a write of a newer epoch wins and a lost
/// one never replaces what is on the current branch. Only writes on the
/// current branch are followed up.
async fn write_entities(
    conn: &mut PgConnection,
    service: ServiceRef,
    timeline: &Timeline,
    events: &Events,
) -> Result<(), AppError> {
    if events.entities.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = events.entities.iter().map(|e| e.key.as_str()).collect();
    let ats: Vec<DateTime<Utc>> = events.entities.iter().map(|e| e.at).collect();
    let deleted: Vec<bool> = events.entities.iter().map(|e| e.deleted).collect();
    let data: Vec<Option<Value>> = events.entities.iter().map(|e| e.data.clone()).collect();
    let placed: Vec<Placement> = events
        .entities
        .iter()
        .map(|e| timeline.place(e.epoch, e.at))
        .collect();
    let epochs: Vec<i32> = placed.iter().map(|p| p.epoch).collect();
    let lost: Vec<bool> = placed.iter().map(|p| p.lost).collect();
    let starts: Vec<Option<DateTime<Utc>>> = placed
        .iter()
        .zip(&ats)
        .map(|(p, at)| (p.position > *at).then_some(p.position))
        .collect();
    // Two events for the same key and instant: the later line wins.
    sqlx::query(
        "with written as (
         insert into entity_version (service_id, key, updated_at, epoch, deleted, data, lost,
                                     valid_from, valid_to)
         select distinct on (key, at) $1, key, at, epoch, deleted, data, lost, valid_from,
                case when lost then at end
         from unnest($2::text[], $3::timestamptz[], $4::bool[], $5::jsonb[], $6::int[], $7::bool[],
                     $8::timestamptz[]) with ordinality
              as e(key, at, deleted, data, epoch, lost, valid_from, n)
         order by key, at, n desc
         on conflict (service_id, key, updated_at) do update
             set deleted = excluded.deleted, data = excluded.data, epoch = excluded.epoch,
                 lost = excluded.lost, valid_from = excluded.valid_from,
                 valid_to = case when excluded.lost then excluded.updated_at
                                 else entity_version.valid_to end
             where entity_version.epoch <= excluded.epoch and (entity_version.lost or not excluded.lost)
         returning key, coalesce(valid_from, updated_at) as at, lost)
         insert into touched_entity select key, at from written where not lost",
    )
    .bind(service.service_id)
    .bind(&keys)
    .bind(&ats)
    .bind(&deleted)
    .bind(&data)
    .bind(&epochs)
    .bind(&lost)
    .bind(&starts)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reference events as versions (see `write_references`): the arrays
/// unnested, two events for the same reference and instant resolved in
/// favour of the later line.
const WRITE_REFERENCE_EVENTS: &str = "
        insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                       relation_id, observed_at, cache, removed, valid_from, lost, valid_to)
        select distinct on (target, to_key, from_key, relation_id, at)
               target, to_key, $1, from_key, relation_id, observed, cache, removed, at, lost,
               case when lost then at end
        from unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[],
                    $7::jsonb[], $8::bool[], $9::timestamptz[], $10::bool[]) with ordinality
             as r(target, to_key, from_key, relation_id, observed, cache, removed, at, lost, n)
        order by target, to_key, from_key, relation_id, at, n desc
        on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
        do update set observed_at = excluded.observed_at, cache = excluded.cache, removed = excluded.removed,
                      lost = excluded.lost,
                      valid_to = case when excluded.lost then excluded.valid_from
                                      else reference_version.valid_to end
            where reference_version.lost or not excluded.lost
        returning target_service_id, target_key, source_key, relation_id, valid_from, removed, lost";

/// Reference events as versions, placed as the entities are: a reference's
/// `valid_from` is its position on the source service's timeline. Each
/// written reference is recorded with its state before the write
/// (`changes::recording_references`).
async fn write_references(
    conn: &mut PgConnection,
    service: ServiceRef,
    timeline: &Timeline,
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
    let placed: Vec<Placement> = references
        .iter()
        .map(|r| timeline.place(r.epoch, r.at))
        .collect();
    let positions: Vec<DateTime<Utc>> = placed.iter().map(|p| p.position).collect();
    let lost: Vec<bool> = placed.iter().map(|p| p.lost).collect();
    let caches: Vec<Option<Value>> = references.iter().map(|r| r.cache.clone()).collect();
    let removed: Vec<bool> = references.iter().map(|r| r.removed).collect();
    sqlx::query(&changes::recording_references(WRITE_REFERENCE_EVENTS))
        .bind(service.service_id)
        .bind(&targets)
        .bind(column(|r| r.to.clone()))
        .bind(column(|r| r.from.clone()))
        .bind(&relation_ids)
        .bind(&observed)
        .bind(&caches)
        .bind(&removed)
        .bind(&positions)
        .bind(&lost)
        .execute(conn)
        .await?;
    Ok(())
}

/// The statements composed at run time, for the test that prepares every
/// statement against the schema.
pub fn composed_statements() -> Vec<(&'static str, String)> {
    vec![(
        "write_references",
        changes::recording_references(WRITE_REFERENCE_EVENTS),
    )]
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
