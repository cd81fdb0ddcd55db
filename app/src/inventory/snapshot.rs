//! Bulk snapshots (`PUT /api/v1/services/{service}/inventory?at=`): the
//! service's complete current state, streamed into staging tables with COPY
//! and compared with the live inventory in SQL. The difference is recorded
//! as events at `at`: what is new or changed is added, what is absent is
//! deleted (entities) or removed (references). An entity line without its
//! own `at` is taken as updated at the snapshot's `at`; a reference is new
//! when no live one has the same ends and observed timestamp.

use std::fmt::Write;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::changes;
use super::db::{self, Applied, RelationEnds, ServiceRef};
use super::events::Events;
use crate::error::AppError;

/// One CSV field for COPY: NULL as an unquoted empty field, text quoted.
fn field(out: &mut String, value: Option<&str>) {
    if let Some(value) = value {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    }
}

pub async fn apply(
    db: &PgPool,
    service: ServiceRef,
    at: DateTime<Utc>,
    snapshot: Events,
) -> Result<Applied, AppError> {
    let mut tx = db.begin().await?;
    let service = db::lock(&mut tx, service).await?;
    let relations = db::check(&mut tx, service, &snapshot).await?;
    let histories = changes::Histories::of(&mut tx, service).await?;
    changes::track(&mut tx).await?;

    // Staging tables without indexes or constraints: COPY at full speed.
    for table in [
        "create temp table snapshot_entity (key text collate \"C\", updated_at timestamptz, data jsonb)
             on commit drop",
        "create temp table snapshot_reference (target_service_id bigint, target_key text collate \"C\",
                                               source_key text collate \"C\", relation_id bigint,
                                               observed_at timestamptz, cache jsonb)
             on commit drop",
    ] {
        sqlx::query(table).execute(&mut *tx).await?;
    }
    copy_in(&mut tx, "snapshot_entity", entity_rows(&snapshot)).await?;
    copy_in(
        &mut tx,
        "snapshot_reference",
        reference_rows(&snapshot, &relations),
    )
    .await?;
    // Temporary tables are never auto-analyzed: without statistics the
    // anti-joins below fall back to nested loops.
    for table in ["analyze snapshot_entity", "analyze snapshot_reference"] {
        sqlx::query(table).execute(&mut *tx).await?;
    }

    // Every join of the difference is one set against another. Right after a
    // large load the planner's statistics of the inventory lag behind
    // (autovacuum has not analysed the new rows yet) and it picks nested
    // loops over what it believes are empty tables: a 150k-row snapshot took
    // 20 minutes instead of seconds. Hash and merge joins are right at every
    // size here.
    sqlx::query("set local enable_nestloop = off")
        .execute(&mut *tx)
        .await?;

    // Entities: new or changed ones get their reported version, the live
    // ones the snapshot lacks a deletion at `at`.
    sqlx::query(
        "with written as (
         insert into entity_version (service_id, key, updated_at, epoch, deleted, data)
         select distinct on (s.key) $1, s.key, s.updated_at, $2, false, s.data
         from snapshot_entity s
         left join entity e on e.service_id = $1 and e.key = s.key
         where e.key is null or e.deleted or e.updated_at < s.updated_at
         order by s.key, s.updated_at desc
         on conflict (service_id, key, updated_at) do update set deleted = false, data = excluded.data
         returning key)
         insert into touched_entity select key, $3 from written",
    )
    .bind(service.service_id)
    .bind(service.epoch)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    if histories.entities {
        sqlx::query(
            "with written as (
             insert into entity_version (service_id, key, updated_at, epoch, deleted)
             select e.service_id, e.key, greatest($2, e.updated_at), $3, true
             from entity e
             where e.service_id = $1 and not e.deleted
               and not exists (select 1 from snapshot_entity s where s.key = e.key)
             on conflict (service_id, key, updated_at) do update set deleted = true
             returning key)
             insert into touched_entity select key, $2 from written",
        )
        .bind(service.service_id)
        .bind(at)
        .bind(service.epoch)
        .execute(&mut *tx)
        .await?;
    }

    // References: new or re-observed ones added at `at` (in the primary
    // key's order, so the index is written page after page), live ones the
    // snapshot lacks removed at `at`. A service's first
    // snapshot has nothing to compare with: its references are all new, and
    // (the service being locked) none can clash with an existing version.
    let (unchanged, on_conflict) = if histories.references {
        (
            "where not exists (
                 select 1 from reference_version r
                 where r.target_service_id = s.target_service_id and r.target_key = s.target_key
                   and r.source_service_id = $1 and r.source_key = s.source_key
                   and r.relation_id = s.relation_id and r.valid_to is null and not r.removed
                   and r.observed_at is not distinct from s.observed_at)",
            "on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
             do update set observed_at = excluded.observed_at, cache = excluded.cache, removed = false",
        )
    } else {
        ("", "")
    };
    sqlx::query(&format!(
        "with written as (
         insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, cache, valid_from)
         select distinct on (s.target_service_id, s.target_key, s.source_key, s.relation_id)
                s.target_service_id, s.target_key, $1, s.source_key, s.relation_id, s.observed_at, s.cache, $2
         from snapshot_reference s
         {unchanged}
         order by s.target_service_id, s.target_key, s.source_key, s.relation_id
         {on_conflict}
         returning target_service_id, target_key, source_key)
         insert into touched_reference select * from written"
    ))
    .bind(service.service_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    if histories.references {
        sqlx::query(
            "with written as (
             insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                            relation_id, observed_at, valid_from, removed)
             select r.target_service_id, r.target_key, r.source_service_id, r.source_key, r.relation_id,
                    r.observed_at, greatest($2, r.valid_from), true
             from reference_version r
             where r.source_service_id = $1 and r.valid_to is null and not r.removed
               and not exists (
                   select 1 from snapshot_reference s
                   where s.target_service_id = r.target_service_id and s.target_key = r.target_key
                     and s.source_key = r.source_key and s.relation_id = r.relation_id)
             on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
             do update set removed = true
             returning target_service_id, target_key, source_key)
             insert into touched_reference select * from written",
        )
        .bind(service.service_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }

    changes::follow(&mut tx, service, histories).await?;
    changes::close_amnesia(&mut tx, service).await?;
    let applied = changes::count(&mut tx).await?;
    tx.commit().await?;
    Ok(Applied {
        applied,
        replayed: 0,
    })
}

fn entity_rows(snapshot: &Events) -> String {
    let mut rows = String::new();
    for e in &snapshot.entities {
        let data = e.data.as_ref().map(|d| d.to_string());
        field(&mut rows, Some(&e.key));
        rows.push(',');
        field(&mut rows, Some(&e.at.to_rfc3339()));
        rows.push(',');
        field(&mut rows, data.as_deref());
        rows.push('\n');
    }
    rows
}

fn reference_rows(snapshot: &Events, relations: &HashMap<String, RelationEnds>) -> String {
    let mut rows = String::new();
    for r in &snapshot.references {
        let ends = &relations[&r.relation];
        let cache = r.cache.as_ref().map(|c| c.to_string());
        let _ = write!(rows, "{},", ends.to_service_id);
        field(&mut rows, Some(&r.to));
        rows.push(',');
        field(&mut rows, Some(&r.from));
        let _ = write!(rows, ",{},", ends.relation_id);
        field(&mut rows, r.observed.map(|o| o.to_rfc3339()).as_deref());
        rows.push(',');
        field(&mut rows, cache.as_deref());
        rows.push('\n');
    }
    rows
}

async fn copy_in(conn: &mut PgConnection, table: &str, rows: String) -> Result<(), AppError> {
    let mut copy = conn
        .copy_in_raw(&format!("copy {table} from stdin (format csv)"))
        .await?;
    copy.send(rows.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}
