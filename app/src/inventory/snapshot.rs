//! Bulk snapshots (`PUT /api/v1/services/{service}/inventory?at=`): the
//! service's complete current state, streamed into staging tables with COPY
//! and compared with the live inventory in SQL. The difference is recorded
//! as events at `at`: what is new or changed is added, what is absent is
//! deleted (entities) or removed (references). An entity line without its
//! own `at` is taken as updated at the snapshot's `at`; a reference is new
//! when no live one has the same ends and observed timestamp.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::db::{self, Applied, ServiceRef};
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
    // Every join below is one set against another. Right after a large load
    // the planner's statistics lag behind (autovacuum has not analysed the
    // new rows yet) and it picks nested loops over what it believes are
    // empty tables: a 150k-row snapshot took 20 minutes instead of seconds.
    // Hash and merge joins are right at every size here.
    sqlx::query("set local enable_nestloop = off")
        .execute(&mut *tx)
        .await?;
    let relations = db::check(&mut tx, service, &snapshot).await?;

    // Staging tables without indexes or constraints: COPY at full speed.
    for table in [
        "create temp table snapshot_entity (key text, updated_at timestamptz, data jsonb) on commit drop",
        "create temp table snapshot_reference (target_service_id bigint, target_key text, source_key text,
                                               relation_id bigint, observed_at timestamptz, cache jsonb)
             on commit drop",
    ] {
        sqlx::query(table).execute(&mut *tx).await?;
    }

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
    let mut copy = tx
        .copy_in_raw("copy snapshot_entity from stdin (format csv)")
        .await?;
    copy.send(rows.into_bytes()).await?;
    copy.finish().await?;

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
    let mut copy = tx
        .copy_in_raw("copy snapshot_reference from stdin (format csv)")
        .await?;
    copy.send(rows.into_bytes()).await?;
    copy.finish().await?;

    // Temporary tables are never auto-analyzed: without statistics the
    // anti-joins below fall back to nested loops.
    for table in ["analyze snapshot_entity", "analyze snapshot_reference"] {
        sqlx::query(table).execute(&mut *tx).await?;
    }

    // Entities: new or changed ones get their reported version, the live
    // ones the snapshot lacks a deletion at `at`.
    let mut keys: Vec<String> = sqlx::query_scalar(
        "insert into entity_version (service_id, key, updated_at, epoch, deleted, data)
         select distinct on (s.key) $1, s.key, s.updated_at, $2, false, s.data
         from snapshot_entity s
         left join entity e on e.service_id = $1 and e.key = s.key
         where e.key is null or e.deleted or e.updated_at < s.updated_at
         order by s.key, s.updated_at desc
         on conflict (service_id, key, updated_at) do update set deleted = false, data = excluded.data
         returning key",
    )
    .bind(service.service_id)
    .bind(service.epoch)
    .fetch_all(&mut *tx)
    .await?;
    let deleted: Vec<String> = sqlx::query_scalar(
        "insert into entity_version (service_id, key, updated_at, epoch, deleted)
         select e.service_id, e.key, greatest($2, e.updated_at), $3, true
         from entity e
         where e.service_id = $1 and not e.deleted
           and not exists (select 1 from snapshot_entity s where s.key = e.key)
         on conflict (service_id, key, updated_at) do update set deleted = true
         returning key",
    )
    .bind(service.service_id)
    .bind(at)
    .bind(service.epoch)
    .fetch_all(&mut *tx)
    .await?;
    keys.extend(deleted);

    // References: new or re-observed ones added at `at`, live ones the
    // snapshot lacks removed at `at`.
    let added: Vec<(i64, String, String)> = sqlx::query_as(
        "insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, cache, valid_from)
         select distinct on (s.target_service_id, s.target_key, s.source_key, s.relation_id)
                s.target_service_id, s.target_key, $1, s.source_key, s.relation_id, s.observed_at, s.cache, $2
         from snapshot_reference s
         where not exists (
             select 1 from reference_version r
             where r.target_service_id = s.target_service_id and r.target_key = s.target_key
               and r.source_service_id = $1 and r.source_key = s.source_key and r.relation_id = s.relation_id
               and r.valid_to is null and not r.removed
               and r.observed_at is not distinct from s.observed_at)
         on conflict (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
         do update set observed_at = excluded.observed_at, cache = excluded.cache, removed = false
         returning target_service_id, target_key, source_key",
    )
    .bind(service.service_id)
    .bind(at)
    .fetch_all(&mut *tx)
    .await?;
    let removed: Vec<(i64, String, String)> = sqlx::query_as(
        "insert into reference_version (target_service_id, target_key, source_service_id, source_key,
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
         returning target_service_id, target_key, source_key",
    )
    .bind(service.service_id)
    .bind(at)
    .fetch_all(&mut *tx)
    .await?;

    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let sources: Vec<&str> = added.iter().chain(&removed).map(|r| r.2.as_str()).collect();
    db::chain_entity_versions(&mut tx, service, &key_refs).await?;
    db::chain_reference_versions(&mut tx, service, &sources).await?;
    db::refresh_entities(&mut tx, service, &key_refs).await?;
    let mut targets: Vec<(i64, String)> = added
        .iter()
        .chain(&removed)
        .map(|r| (r.0, r.1.clone()))
        .collect();
    targets.extend(keys.iter().map(|k| (service.service_id, k.clone())));
    db::refresh_dependents(&mut tx, &targets).await?;
    db::close_amnesia(&mut tx, service, &key_refs, &vec![at; key_refs.len()]).await?;
    tx.commit().await?;
    Ok(Applied {
        applied: keys.len() + added.len() + removed.len(),
        replayed: 0,
    })
}
