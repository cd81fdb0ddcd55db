//! Bulk snapshots (`PUT /api/v1/services/{service}/inventory?at=`): the
//! service's complete current state, streamed into PostgreSQL with COPY and
//! compared with the live inventory in SQL. The difference is recorded as
//! events at `at`: what is new or changed is added, what is absent is
//! deleted (entities) or removed (references). An entity line without its
//! own `at` is taken as updated at the snapshot's `at`; a reference is new
//! when no live one has the same ends and observed timestamp.
//!
//! A service's first snapshot has nothing to compare with: its rows are
//! copied straight into the versioned tables (see `first_load`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::changes::{self, Histories};
use super::copy::copy_in;
use super::timeline::Timeline;
use super::verify;
use super::{self as db, Applied, RelationEnds, ServiceRef};
use crate::error::AppError;
use crate::inventory::events::{EntityEvent, Events, ReferenceEvent};
use crate::retry;

/// Applies a snapshot in one transaction, run again when a concurrent one
/// aborted it.
pub async fn apply(
    db: &PgPool,
    service: ServiceRef,
    at: DateTime<Utc>,
    snapshot: Events,
) -> Result<Applied, AppError> {
    let snapshot = &snapshot;
    retry::when_contended(move || apply_once(db, service, at, snapshot)).await
}

async fn apply_once(
    db: &PgPool,
    service: ServiceRef,
    at: DateTime<Utc>,
    snapshot: &Events,
) -> Result<Applied, AppError> {
    let mut tx = db.begin().await?;
    let service = db::lock(&mut tx, service).await?;
    let relations = db::check(&mut tx, service, snapshot).await?;
    let rows = Rows::of(snapshot, &relations);
    let histories = Histories::of(&mut tx, service).await?;
    // A restored service's first write also ends its amnesia, which the
    // comparing path follows up.
    let applied = if !histories.entities && !histories.references && service.epoch == 0 {
        first_load(&mut tx, service, at, &rows).await?
    } else {
        let timeline = Timeline::of(&mut tx, service).await?;
        let applied = compare(&mut tx, service, at, &timeline, &rows, histories).await?;
        verify::after_write(&mut tx, service).await?;
        applied
    };
    tx.commit().await?;
    Ok(Applied {
        applied,
        replayed: 0,
    })
}

/// The snapshot's lines, one per entity and one per reference: an entity
/// reported twice counts with its latest `at` (on a tie, the later line), a
/// reference (ends and relation) reported twice with its later line. Both in
/// their tables' key order, so the indexes are written page after page.
struct Rows<'a> {
    entities: Vec<&'a EntityEvent>,
    references: Vec<Reference<'a>>,
}

struct Reference<'a> {
    target_service_id: i64,
    relation_id: i64,
    event: &'a ReferenceEvent,
}

impl<'a> Rows<'a> {
    /// `relations` holds every relation the snapshot names (`db::check`).
    fn of(
        snapshot: &'a Events,
        relations: &std::collections::HashMap<String, RelationEnds>,
    ) -> Self {
        let mut entities: Vec<&EntityEvent> = snapshot.entities.iter().collect();
        entities.sort_unstable_by(|a, b| {
            (a.key.as_bytes(), b.at, b.line).cmp(&(b.key.as_bytes(), a.at, a.line))
        });
        entities.dedup_by(|later, kept| later.key == kept.key);

        let mut references: Vec<Reference> = snapshot
            .references
            .iter()
            .map(|event| {
                let ends = &relations[&event.relation];
                Reference {
                    target_service_id: ends.to_service_id,
                    relation_id: ends.relation_id,
                    event,
                }
            })
            .collect();
        references.sort_unstable_by(|a, b| (a.ends(), b.event.line).cmp(&(b.ends(), a.event.line)));
        references.dedup_by(|later, kept| later.ends() == kept.ends());
        Rows {
            entities,
            references,
        }
    }

    /// How many references each target in another service than `own`
    /// receives (counters count only those): `(services, keys, counts)`.
    fn targets(&self, own: i64) -> (Vec<i64>, Vec<&'a str>, Vec<i32>) {
        let mut targets: (Vec<i64>, Vec<&str>, Vec<i32>) = Default::default();
        for group in self.references.chunk_by(|a, b| {
            (a.target_service_id, &a.event.to) == (b.target_service_id, &b.event.to)
        }) {
            if group[0].target_service_id == own {
                continue;
            }
            targets.0.push(group[0].target_service_id);
            targets.1.push(&group[0].event.to);
            targets.2.push(group.len() as i32);
        }
        targets
    }
}

impl Reference<'_> {
    /// The primary key's order (byte order, as the `collate "C"` keys).
    fn ends(&self) -> (i64, &[u8], &[u8], i64) {
        (
            self.target_service_id,
            self.event.to.as_bytes(),
            self.event.from.as_bytes(),
            self.relation_id,
        )
    }
}

/// A first load: every row is new and the service is locked, so nothing
/// can clash — the rows go straight into the versioned tables and the
/// current entities by COPY (no staging table, no diff, no arbiter), and
/// the targets' counters grow by the counts already at hand.
async fn first_load(
    conn: &mut PgConnection,
    service: ServiceRef,
    at: DateTime<Utc>,
    rows: &Rows<'_>,
) -> Result<usize, AppError> {
    let id = service.service_id;
    copy_in(
        conn,
        "entity_version (service_id, key, updated_at, epoch, data)",
        &rows.entities,
        |row, e| {
            row.int8(id)
                .text(&e.key)
                .time(e.at)
                .int4(service.epoch)
                .json(e.data.as_ref());
        },
    )
    .await?;
    copy_in(
        conn,
        "entity (service_id, key, updated_at, epoch)",
        &rows.entities,
        |row, e| {
            row.int8(id).text(&e.key).time(e.at).int4(service.epoch);
        },
    )
    .await?;
    copy_in(
        conn,
        "reference_version (target_service_id, target_key, source_service_id, source_key,
                            relation_id, observed_at, cache, valid_from)",
        &rows.references,
        |row, r| {
            row.int8(r.target_service_id)
                .text(&r.event.to)
                .int8(id)
                .text(&r.event.from)
                .int8(r.relation_id)
                .optional_time(r.event.observed)
                .json(r.event.cache.as_ref())
                .time(at);
        },
    )
    .await?;
    changes::add_dependents(conn, rows.targets(id)).await?;
    changes::count_dependents_of_new(conn, service).await?;
    changes::mark_changed(conn, service).await?;
    verify::after_load(conn, service).await?;
    Ok(rows.entities.len() + rows.references.len())
}

/// Any later snapshot: staged by COPY, then compared with the live
/// inventory set-based. What it writes is of the current epoch: placed at
/// `at`, or at the epoch's start when the snapshot was taken before it (as
/// the events path places an event).
async fn compare(
    conn: &mut PgConnection,
    service: ServiceRef,
    at: DateTime<Utc>,
    timeline: &Timeline,
    rows: &Rows<'_>,
    histories: Histories,
) -> Result<usize, AppError> {
    changes::track(&mut *conn).await?;
    stage(conn, rows).await?;
    // Every join of the difference is one set against another. Right after a
    // large load the planner's statistics of the inventory lag behind
    // (autovacuum has not analysed the new rows yet) and it picks nested
    // loops over what it believes are empty tables: a 150k-row snapshot took
    // 20 minutes instead of seconds. Hash and merge joins are right at every
    // size here. Disabling a plan kind adds 10^10 to the cost of any plan
    // still using one (the chains' index probes must), which passes the
    // thresholds of JIT compilation with inlining and optimisation: that
    // cost more than the statements it compiled.
    for setting in ["set local enable_nestloop = off", "set local jit = off"] {
        sqlx::query(setting).execute(&mut *conn).await?;
    }

    crate::restores::db::suspected::detect(conn, service, at).await?;
    write_entities(conn, service, at, timeline.start(), histories).await?;
    let position = timeline.place(None, at).position;
    write_references(conn, service, at, position, histories).await?;
    // The follow-up is the events path's, written to leave the planner no
    // join to choose under its default settings. Its updates by row address
    // are nested loops by nature (a TID scan per row): without them the
    // planner hashed the row addresses against a scan of every reference
    // version (15,000 re-observed references ended in 0.55 s instead of
    // 0.32 s).
    sqlx::query("set local enable_nestloop = on")
        .execute(&mut *conn)
        .await?;
    changes::follow(&mut *conn, service, histories).await?;
    changes::close_amnesia(&mut *conn, service).await?;
    changes::count(conn).await
}

/// The snapshot into staging tables, COPYed and analysed.
async fn stage(conn: &mut PgConnection, rows: &Rows<'_>) -> Result<(), AppError> {
    // Staging tables without indexes or constraints: COPY at full speed.
    for table in [
        "create temp table snapshot_entity (key text collate \"C\", updated_at timestamptz, data jsonb)
             on commit drop",
        "create temp table snapshot_reference (target_service_id bigint, target_key text collate \"C\",
                                               source_key text collate \"C\", relation_id bigint,
                                               observed_at timestamptz, cache jsonb)
             on commit drop",
    ] {
        sqlx::query(table).execute(&mut *conn).await?;
    }
    copy_in(conn, "snapshot_entity", &rows.entities, |row, e| {
        row.text(&e.key).time(e.at).json(e.data.as_ref());
    })
    .await?;
    copy_in(conn, "snapshot_reference", &rows.references, |row, r| {
        row.int8(r.target_service_id)
            .text(&r.event.to)
            .text(&r.event.from)
            .int8(r.relation_id)
            .optional_time(r.event.observed)
            .json(r.event.cache.as_ref());
    })
    .await?;
    // Temporary tables are never auto-analyzed: without statistics the
    // entities' anti-joins fall back to nested loops, and the references'
    // full join to a merge join that sorts both sides (0.65 s against
    // 0.37 s hashed). The plans need the row counts and not much more: a
    // sample of 3,000 rows instead of 30,000 picks the same ones, and
    // analyses 150,000 references in 15 ms instead of 100 ms.
    for statement in [
        "set local default_statistics_target = 10",
        "analyze snapshot_entity",
        "analyze snapshot_reference",
        "set local default_statistics_target = default",
    ] {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The entities' difference, into their versions and the change table.
async fn write_entities(
    conn: &mut PgConnection,
    service: ServiceRef,
    at: DateTime<Utc>,
    epoch_start: Option<DateTime<Utc>>,
    histories: Histories,
) -> Result<(), AppError> {
    // Entities: new or changed ones get their reported version, the live
    // ones the snapshot lacks a deletion at `at` — unless written after
    // `at`: a snapshot that arrives late cannot have seen them.
    // After a restore, a line with another time than the entity's current
    // version is a write of the new epoch even when it is older (re-applied
    // from a copy): it holds from the epoch's start (see `timeline`), as
    // does a deletion of a snapshot taken before that start. The change
    // table holds the snapshot's place on the timeline.
    sqlx::query(
        "with written as (
         insert into entity_version (service_id, key, updated_at, epoch, deleted, data, valid_from)
         select $1, s.key, s.updated_at, $2, false, s.data, nullif(greatest(s.updated_at, $4), s.updated_at)
         from snapshot_entity s
         left join entity e on e.service_id = $1 and e.key = s.key
         where e.key is null or e.deleted or e.updated_at < s.updated_at
            or (e.epoch < $2 and e.updated_at <> s.updated_at)
         order by s.key
         on conflict (service_id, key, updated_at) do update
             set deleted = false, data = excluded.data, epoch = excluded.epoch, lost = false,
                 valid_from = excluded.valid_from
             where entity_version.epoch <= excluded.epoch
         returning key)
         insert into touched_entity select key, greatest($3, $4) from written",
    )
    .bind(service.service_id)
    .bind(service.epoch)
    .bind(at)
    .bind(epoch_start)
    .execute(&mut *conn)
    .await?;
    if histories.entities {
        sqlx::query(
            "with written as (
             insert into entity_version (service_id, key, updated_at, epoch, deleted, valid_from)
             select e.service_id, e.key, $2::timestamptz, $3, true, nullif(greatest($2, $4), $2)
             from entity e
             where e.service_id = $1 and not e.deleted and e.updated_at <= $2
               and not exists (select 1 from snapshot_entity s where s.key = e.key)
             on conflict (service_id, key, updated_at) do update
                 set deleted = true, lost = false, valid_from = excluded.valid_from
             where entity_version.epoch <= excluded.epoch
             returning key)
             insert into touched_entity select key, greatest($2, $4) from written",
        )
        .bind(service.service_id)
        .bind(at)
        .bind(service.epoch)
        .bind(epoch_start)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The references' difference, into their versions and the change table.
async fn write_references(
    conn: &mut PgConnection,
    service: ServiceRef,
    at: DateTime<Utc>,
    position: DateTime<Utc>,
    histories: Histories,
) -> Result<(), AppError> {
    let query = if histories.references {
        sqlx::query(DIFFERENCE_OF_REFERENCES)
            .bind(service.service_id)
            .bind(position)
            .bind(at)
    } else {
        sqlx::query(FIRST_REFERENCES)
            .bind(service.service_id)
            .bind(position)
    };
    query.execute(conn).await?;
    Ok(())
}

/// The references of a service that held none (`$1` the service, `$2` the
/// snapshot's place on the timeline): nothing to compare them with and
/// (the service being locked) nothing to clash with, every one a new
/// history — recorded without a state before it (`changes::track`). In the
/// primary key's order, so the index is written page after page.
const FIRST_REFERENCES: &str = "with written as (
         insert into reference_version (target_service_id, target_key, source_service_id,
                                        source_key, relation_id, observed_at, cache, valid_from)
         select target_service_id, target_key, $1, source_key, relation_id, observed_at, cache, $2
         from snapshot_reference
         order by target_service_id, target_key, source_key, relation_id
         returning target_service_id, target_key, source_key)
     insert into touched_reference select *, $2 from written";

/// The references of a service that held some (`$1`, `$2` as above, `$3`
/// the snapshot's `at`), compared with the current version of each it
/// holds (the last of its current branch) in one full join, which yields
/// both what is written and each written reference's state before it. A
/// reference the snapshot holds is added unless it is live with the same
/// observed time; a live one the snapshot lacks is removed, unless it was
/// recorded after `at` (the snapshot was taken before it). Both are
/// written at the snapshot's place, in the primary key's order, so the
/// index is written page after page.
///
/// Each write is recorded with its state before (`changes::track`): whether
/// it had a current version and whether that was live, and, when that
/// version is older than the write, its row address, which the follow-up
/// ends where the write begins and nothing else (the write is the new
/// current version and tells whether the reference is live now). A write
/// at the instant of an existing version takes its place: a lost one is
/// revived as the latest of its branch (an end it kept cleared), the
/// current one keeps its observed time and copy when it is only removed;
/// either way the reference's chain is re-linked and its target's counter
/// probed.
///
/// Before, the additions and the removals were two anti-joins of the same
/// two sets, and each write probed its history for its state before:
/// 0.8–1.0 s of a snapshot changing 15,000 of 150,000 references.
const DIFFERENCE_OF_REFERENCES: &str =
    "with difference as (
         select coalesce(s.target_service_id, c.target_service_id) as target_service_id,
                coalesce(s.target_key, c.target_key) as target_key,
                coalesce(s.source_key, c.source_key) as source_key,
                coalesce(s.relation_id, c.relation_id) as relation_id,
                s.target_key is null as removed,
                case when s.target_key is null then c.observed_at else s.observed_at end as observed_at,
                s.cache, c.version, c.valid_from as current_from, c.removed as was_removed
         from snapshot_reference s
         full join (select ctid as version, target_service_id, target_key, source_key, relation_id,
                           observed_at, valid_from, removed
                    from reference_version
                    where source_service_id = $1 and valid_to is null and not lost) c
             on c.target_service_id = s.target_service_id and c.target_key = s.target_key
            and c.source_key = s.source_key and c.relation_id = s.relation_id
         where case when s.target_key is null then not c.removed and c.valid_from <= $3
                    else c.version is null or c.removed or c.observed_at is distinct from s.observed_at
               end),
     written as (
         insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, cache, valid_from, removed)
         select target_service_id, target_key, $1, source_key, relation_id, observed_at, cache, $2,
                removed
         from difference
         order by target_service_id, target_key, source_key, relation_id
         on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
         do update set
             observed_at = case when excluded.removed then reference_version.observed_at
                                else excluded.observed_at end,
             cache = case when excluded.removed then reference_version.cache else excluded.cache end,
             removed = excluded.removed, lost = false, valid_to = null)
     insert into touched_reference
     select target_service_id, target_key, source_key, $2, relation_id, version is not null,
            coalesce(not was_removed, false),
            case when current_from < $2 then version end,
            case when version is null or current_from < $2 then not removed end
     from difference";
