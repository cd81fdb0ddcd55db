//! The topology's SQL: load the model, replace it, change one service,
//! relation or policy. The writes run inside the caller's transaction,
//! which holds the topology lock (`commands` is where they are called).

use sqlx::{PgConnection, PgExecutor, PgPool};

use super::model::*;
use crate::error::AppError;

#[derive(sqlx::FromRow)]
struct ServiceRow {
    name: String,
    team: Option<String>,
    description: Option<String>,
    datastore: Option<String>,
    pattern: Option<String>,
    backup_method: Option<String>,
    backup_interval_s: Option<i64>,
    backup_duration_s: Option<i64>,
    prefers: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RelationRow {
    name: String,
    from_name: String,
    to_name: String,
    kind: String,
    required: bool,
    cached: bool,
    policy: Option<String>,
    on_broken: Option<String>,
}

/// The whole model, services and relations each sorted by name.
pub async fn load(db: &PgPool) -> Result<Topology, AppError> {
    load_in(&mut *db.acquire().await?).await
}

/// Whether any service is modelled (the demo loads only into an empty one).
pub async fn holds_services(db: &PgPool) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar("select exists (select 1 from service)")
        .fetch_one(db)
        .await?)
}

/// The same inside a transaction (one that merges into it holds the lock).
pub async fn load_in(conn: &mut PgConnection) -> Result<Topology, AppError> {
    let services = sqlx::query_as::<_, ServiceRow>(
        "select name, team, description, datastore, pattern, backup_method,
                backup_interval_s, backup_duration_s, prefers
         from service order by name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let relations = sqlx::query_as::<_, RelationRow>(
        "select r.name, f.name as from_name, t.name as to_name, r.kind, r.required, r.cached,
                r.policy, r.on_broken
         from relation r
         join service f on f.service_id = r.from_service_id
         join service t on t.service_id = r.to_service_id
         order by r.name",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Topology {
        services: services
            .into_iter()
            .map(|row| Service {
                name: row.name,
                team: row.team,
                description: row.description,
                datastore: row.datastore.as_deref().and_then(Datastore::parse),
                pattern: row.pattern.as_deref().and_then(StoragePattern::parse),
                backup: Backup {
                    method: row.backup_method.as_deref().and_then(BackupMethod::parse),
                    interval_s: row.backup_interval_s,
                    duration_s: row.backup_duration_s,
                },
                prefers: row.prefers.as_deref().and_then(Preference::parse),
            })
            .collect(),
        relations: relations
            .into_iter()
            .map(|row| Relation {
                name: row.name,
                from: row.from_name,
                to: row.to_name,
                kind: RelationKind::parse(&row.kind).unwrap_or(RelationKind::Reference),
                required: row.required,
                cached: row.cached,
                policy: row.policy.as_deref().and_then(Policy::parse),
                on_broken: row.on_broken.as_deref().and_then(OnBroken::parse),
            })
            .collect(),
    })
}

/// Makes the stored model equal to `topology`. Services and relations keep
/// their ids when their names survive, so the inventory that refers to them
/// stays attached. Dropping a service or relation that holds inventory
/// would drop that inventory too: refused unless `force`.
pub async fn replace(
    conn: &mut PgConnection,
    topology: &Topology,
    force: bool,
) -> Result<(), AppError> {
    let service_names: Vec<&str> = topology.services.iter().map(|s| s.name.as_str()).collect();
    let relation_names: Vec<&str> = topology.relations.iter().map(|r| r.name.as_str()).collect();
    if !force {
        refuse_inventory_loss(conn, &service_names, &relation_names).await?;
    }
    sqlx::query("delete from relation where name <> all($1)")
        .bind(&relation_names)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from service where name <> all($1)")
        .bind(&service_names)
        .execute(&mut *conn)
        .await?;
    upsert_services(conn, &topology.services).await?;
    upsert_relations(conn, &topology.relations).await?;
    Ok(())
}

/// Conflict when a service or relation about to go still holds inventory.
async fn refuse_inventory_loss(
    conn: &mut PgConnection,
    keep_services: &[&str],
    keep_relations: &[&str],
) -> Result<(), AppError> {
    let holding: Vec<String> = sqlx::query_scalar(
        "select 'service ' || s.name from service s
         where s.name <> all($1)
           and exists (select 1 from entity_version v where v.service_id = s.service_id)
         union all
         select 'relation ' || r.name from relation r
         where r.name <> all($2)
           and exists (select 1 from reference_version v
                     where v.source_service_id = r.from_service_id and v.relation_id = r.relation_id)
         order by 1",
    )
    .bind(keep_services)
    .bind(keep_relations)
    .fetch_all(conn)
    .await?;
    if holding.is_empty() {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "removing {} would drop the inventory reported for it; force the change to remove it anyway",
        holding.join(", ")
    )))
}

/// The advisory lock that orders topology writes (exclusive) against
/// inventory writes (shared).
const TOPOLOGY_LOCK: &str = "lockstep.topology";

/// Topology writes are rare and whole-model: serialise them rather than
/// reason about interleavings. They also wait for the inventory writes under
/// way (which hold this lock shared, see `share_topology`) and hold new ones
/// off until they commit.
pub async fn lock_topology(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("select pg_advisory_xact_lock(hashtext($1))")
        .bind(TOPOLOGY_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Taken by every ingest, restore and scan before it locks anything: they
/// run side by side, but never beside a topology write. Without it a
/// topology write deleting services (and, by cascade, their inventory and
/// relations) and an ingest locking its service and checking its relations
/// took the same rows in opposite orders and deadlocked.
pub async fn share_topology(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("select pg_advisory_xact_lock_shared(hashtext($1))")
        .bind(TOPOLOGY_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

async fn upsert_services(conn: &mut PgConnection, services: &[Service]) -> Result<(), AppError> {
    let text = |f: fn(&Service) -> Option<String>| services.iter().map(f).collect::<Vec<_>>();
    let number = |f: fn(&Service) -> Option<i64>| services.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "insert into service (name, team, description, datastore, pattern, backup_method,
                              backup_interval_s, backup_duration_s, prefers)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::bigint[], $8::bigint[], $9::text[])
         on conflict (name) do update set
             team = excluded.team, description = excluded.description,
             datastore = excluded.datastore, pattern = excluded.pattern,
             backup_method = excluded.backup_method, backup_interval_s = excluded.backup_interval_s,
             backup_duration_s = excluded.backup_duration_s, prefers = excluded.prefers",
    )
    .bind(text(|s| Some(s.name.clone())))
    .bind(text(|s| s.team.clone()))
    .bind(text(|s| s.description.clone()))
    .bind(text(|s| s.datastore.map(|v| v.to_string())))
    .bind(text(|s| s.pattern.map(|v| v.to_string())))
    .bind(text(|s| s.backup.method.map(|v| v.to_string())))
    .bind(number(|s| s.backup.interval_s))
    .bind(number(|s| s.backup.duration_s))
    .bind(text(|s| s.prefers.map(|v| v.to_string())))
    .execute(conn)
    .await?;
    Ok(())
}

async fn upsert_relations(conn: &mut PgConnection, relations: &[Relation]) -> Result<(), AppError> {
    let text = |f: fn(&Relation) -> Option<String>| relations.iter().map(f).collect::<Vec<_>>();
    let flag = |f: fn(&Relation) -> bool| relations.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "insert into relation (name, from_service_id, to_service_id, kind, required, cached, policy, on_broken)
         select r.name, f.service_id, t.service_id, r.kind, r.required, r.cached, r.policy, r.on_broken
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::bool[],
                     $7::text[], $8::text[])
              as r(name, from_name, to_name, kind, required, cached, policy, on_broken)
         join service f on f.name = r.from_name
         join service t on t.name = r.to_name
         on conflict (name) do update set
             from_service_id = excluded.from_service_id, to_service_id = excluded.to_service_id,
             kind = excluded.kind, required = excluded.required, cached = excluded.cached,
             policy = excluded.policy, on_broken = excluded.on_broken",
    )
    .bind(text(|r| Some(r.name.clone())))
    .bind(text(|r| Some(r.from.clone())))
    .bind(text(|r| Some(r.to.clone())))
    .bind(text(|r| Some(r.kind.to_string())))
    .bind(flag(|r| r.required))
    .bind(flag(|r| r.cached))
    .bind(text(|r| r.policy.map(|v| v.to_string())))
    .bind(text(|r| r.on_broken.map(|v| v.to_string())))
    .execute(conn)
    .await?;
    Ok(())
}

/// Overrides one relation's policy (`None` returns it to the default).
pub async fn set_policy(
    db: impl PgExecutor<'_>,
    relation: &str,
    policy: Option<Policy>,
) -> Result<(), AppError> {
    let updated = sqlx::query("update relation set policy = $2 where name = $1")
        .bind(relation)
        .bind(policy.map(|p| p.to_string()))
        .execute(db)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("relation {relation:?}")));
    }
    Ok(())
}

/// Creates or updates one service (by name).
pub async fn save_service(conn: &mut PgConnection, service: &Service) -> Result<(), AppError> {
    upsert_services(conn, std::slice::from_ref(service)).await
}

/// Creates or updates one relation (by name); both ends must exist.
pub async fn save_relation(conn: &mut PgConnection, relation: &Relation) -> Result<(), AppError> {
    let ends: i64 =
        sqlx::query_scalar("select count(distinct name) from service where name in ($1, $2)")
            .bind(&relation.from)
            .bind(&relation.to)
            .fetch_one(&mut *conn)
            .await?;
    let wanted = if relation.from == relation.to { 1 } else { 2 };
    if ends != wanted {
        return Err(AppError::Invalid {
            field: "to".into(),
            message: "both ends must be modelled services".into(),
        });
    }
    upsert_relations(conn, std::slice::from_ref(relation)).await
}

/// Deletes a service and, with it, every relation that starts or ends there
/// (and, when forced, the inventory reported for them).
pub async fn delete_service(
    conn: &mut PgConnection,
    name: &str,
    force: bool,
) -> Result<(), AppError> {
    if !force {
        let others: Vec<String> = sqlx::query_scalar("select name from service where name <> $1")
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
        let kept_relations: Vec<String> = sqlx::query_scalar(
            "select r.name from relation r
             join service f on f.service_id = r.from_service_id
             join service t on t.service_id = r.to_service_id
             where f.name <> $1 and t.name <> $1",
        )
        .bind(name)
        .fetch_all(&mut *conn)
        .await?;
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let kept: Vec<&str> = kept_relations.iter().map(String::as_str).collect();
        refuse_inventory_loss(conn, &others, &kept).await?;
    }
    delete_named(conn, "service", name).await
}

/// Deletes a relation (and, when forced, the references reported over it).
pub async fn delete_relation(
    conn: &mut PgConnection,
    name: &str,
    force: bool,
) -> Result<(), AppError> {
    if !force {
        let services: Vec<String> = sqlx::query_scalar("select name from service")
            .fetch_all(&mut *conn)
            .await?;
        let others: Vec<String> = sqlx::query_scalar("select name from relation where name <> $1")
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
        let services: Vec<&str> = services.iter().map(String::as_str).collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        refuse_inventory_loss(conn, &services, &others).await?;
    }
    delete_named(conn, "relation", name).await
}

/// Deletes the row of `table` (`service` or `relation`) with this name.
async fn delete_named(
    conn: &mut PgConnection,
    table: &'static str,
    name: &str,
) -> Result<(), AppError> {
    let deleted = sqlx::query(&format!("delete from {table} where name = $1"))
        .bind(name)
        .execute(conn)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("{table} {name:?}")));
    }
    Ok(())
}

/// Each service's newest recorded backup.
pub async fn latest_backups(
    db: &PgPool,
) -> Result<std::collections::BTreeMap<String, chrono::DateTime<chrono::Utc>>, AppError> {
    let rows: Vec<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "select s.name, max(b.taken_at) from backup b join service s on s.service_id = b.service_id
         group by s.name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}
