//! The inventory pages' reads.

use sqlx::PgPool;

use crate::error::AppError;
use crate::inventory::model::*;

/// Live-reference predicate, matching the partial index on targets.
const LIVE: &str = "r.valid_to is null and not r.removed";

pub async fn overview(db: &PgPool) -> Result<Vec<ServiceInventory>, AppError> {
    recount(db).await?;
    Ok(sqlx::query_as::<_, ServiceInventory>(
        "select s.name, coalesce(c.entities, 0) as entities,
                coalesce((select sum(n.live) from relation rel join relation_count n using (relation_id)
                          where rel.from_service_id = s.service_id), 0)::bigint as outgoing,
                coalesce((select sum(n.live) from relation rel join relation_count n using (relation_id)
                          where rel.to_service_id = s.service_id), 0)::bigint as incoming,
                c.last_event,
                (select count(*) from backup b where b.service_id = s.service_id) as backups
         from service s left join service_count c using (service_id)
         order by s.name",
    )
    .fetch_all(db)
    .await?)
}

/// Counts again the services written since they were last counted: their
/// live entities, and the live references of each relation they hold.
pub async fn recount(db: &PgPool) -> Result<(), AppError> {
    sqlx::query(&format!(
        "with stale as (
             select service_id, changes from service_count where counted < changes
         ), entities as (
             select e.service_id, count(*) as n from entity e join stale using (service_id)
             where not e.deleted group by e.service_id
         ), live as (
             select r.relation_id, count(*) as n
             from stale s join reference_version r on r.source_service_id = s.service_id
             where {LIVE} group by r.relation_id
         ), relations as (
             insert into relation_count (relation_id, live)
             select rel.relation_id, coalesce(live.n, 0)
             from stale s join relation rel on rel.from_service_id = s.service_id
             left join live using (relation_id)
             on conflict (relation_id) do update set live = excluded.live
         )
         update service_count c set entities = coalesce(e.n, 0), counted = s.changes
         from stale s left join entities e using (service_id)
         where c.service_id = s.service_id and c.counted < s.changes"
    ))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn service(db: &PgPool, name: &str) -> Result<ServiceDetail, AppError> {
    let summary = overview(db)
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AppError::NotFound(format!("service {name:?}")))?;
    let relations = sqlx::query_as::<_, RelationCount>(
        "select rel.name as relation, other.name as other, rel.from_service_id = s.service_id as outgoing,
                coalesce(n.live, 0) as references
         from service s
         join relation rel on s.service_id in (rel.from_service_id, rel.to_service_id)
         join service other on other.service_id =
              case when rel.from_service_id = s.service_id then rel.to_service_id else rel.from_service_id end
         left join relation_count n on n.relation_id = rel.relation_id
         where s.name = $1
         order by outgoing desc, rel.name",
    )
    .bind(name)
    .fetch_all(db)
    .await?;
    let backups = sqlx::query_as::<_, BackupRow>(
        "select b.backup_id as id, b.taken_at, b.epoch, b.label
         from backup b join service s using (service_id)
         where s.name = $1 order by b.taken_at desc limit 50",
    )
    .bind(name)
    .fetch_all(db)
    .await?;
    Ok(ServiceDetail {
        summary,
        relations,
        backups,
    })
}

/// An entity's history and who refers to it now; `None` when the service
/// never reported the key.
pub async fn entity(
    db: &PgPool,
    service: &str,
    key: &str,
) -> Result<Option<EntityDetail>, AppError> {
    let current: Option<(i64, i32, bool)> = sqlx::query_as(
        "select e.service_id, e.dependents, e.to_delete
         from entity e join service s using (service_id) where s.name = $1 and e.key = $2",
    )
    .bind(service)
    .bind(key)
    .fetch_optional(db)
    .await?;
    let Some((service_id, dependents, to_delete)) = current else {
        return Ok(None);
    };
    let versions = sqlx::query_as::<_, EntityVersion>(
        "select updated_at, valid_to, epoch, deleted, data from entity_version
         where service_id = $1 and key = $2 order by updated_at desc",
    )
    .bind(service_id)
    .bind(key)
    .fetch_all(db)
    .await?;
    let referrers = sqlx::query_as::<_, Referrer>(&format!(
        "select src.name as service, r.source_key as key, rel.name as relation,
                r.observed_at, r.valid_from as since, r.cache
         from reference_version r
         join service src on src.service_id = r.source_service_id
         join relation rel on rel.relation_id = r.relation_id
         where r.target_service_id = $1 and r.target_key = $2 and {LIVE}
         order by src.name, r.source_key"
    ))
    .bind(service_id)
    .bind(key)
    .fetch_all(db)
    .await?;
    Ok(Some(EntityDetail {
        service: service.to_string(),
        key: key.to_string(),
        dependents,
        to_delete,
        versions,
        referrers,
    }))
}
