//! Planning a restore (spec §10): the service's newest backups each
//! drilled and ranked by what they would break, beside the consistent
//! alternative of restoring its whole lockstep group to one common point.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{counted, engine};
use crate::error::AppError;
use crate::restores::model::{BackupOption, GroupAlternative, MemberRestore, RestorePlan};
use crate::topology::{db as topology, groups::lockstep_groups};

pub async fn plan(db: &PgPool, service: &str) -> Result<RestorePlan, AppError> {
    let mut tx = db.begin().await?;
    let (service_id,): (i64,) = sqlx::query_as("select service_id from service where name = $1")
        .bind(service)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("service {service:?}")))?;
    let now: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&mut *tx)
        .await?;
    let newest: Vec<(i64, DateTime<Utc>, Option<String>)> = sqlx::query_as(
        "select backup_id, taken_at, label from backup where service_id = $1 and taken_at <= $2
         order by taken_at desc, backup_id desc limit $3",
    )
    .bind(service_id)
    .bind(now)
    .bind(RestorePlan::BACKUPS)
    .fetch_all(&mut *tx)
    .await?;
    let mut backups = Vec::with_capacity(newest.len());
    for (backup_id, taken_at, label) in newest {
        let counts = counted::per_kind(&engine::drill(&mut tx, service_id, taken_at, now).await?);
        backups.push(BackupOption {
            backup_id,
            taken_at,
            label,
            total: counts.values().sum(),
            counts,
            writes_lost: writes_after(&mut tx, service_id, taken_at).await?,
        });
    }
    // Fewest findings first; of two alike, the newer loses fewer writes.
    backups.sort_by(|a, b| a.total.cmp(&b.total).then(b.taken_at.cmp(&a.taken_at)));

    let topology = topology::load_in(&mut tx).await?;
    let members = lockstep_groups(&topology)
        .into_iter()
        .find(|g| g.services.iter().any(|s| s == service))
        .map(|g| g.services)
        .unwrap_or_default();
    let group = if members.len() > 1 {
        Some(group_alternative(&mut tx, members, now).await?)
    } else {
        None
    };
    tx.commit().await?;
    Ok(RestorePlan {
        service: service.to_owned(),
        backups,
        group,
    })
}

/// A member: its name and id, whether it recovers to any point in time,
/// and when its newest backup was taken.
type Member = (String, i64, bool, Option<DateTime<Utc>>);

async fn group_alternative(
    conn: &mut PgConnection,
    members: Vec<String>,
    now: DateTime<Utc>,
) -> Result<GroupAlternative, AppError> {
    let rows: Vec<Member> = sqlx::query_as(
        "select s.name, s.service_id, coalesce(s.backup_method = 'pitr', false),
                (select max(b.taken_at) from backup b
                 where b.service_id = s.service_id and b.taken_at <= $2)
         from service s where s.name = any($1) order by s.name",
    )
    .bind(&members)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    // The newest moment every member that needs a backup has one at or before.
    let point = rows
        .iter()
        .filter(|(_, _, pitr, _)| !pitr)
        .map(|(_, _, _, newest)| *newest)
        .collect::<Option<Vec<_>>>()
        .and_then(|times| times.into_iter().min());
    let mut restores = Vec::new();
    let mut without_backup = Vec::new();
    if let Some(point) = point {
        for (name, service_id, pitr, _) in &rows {
            let restore = if *pitr {
                Some((None, point))
            } else {
                sqlx::query_as::<_, (i64, DateTime<Utc>)>(
                    "select backup_id, taken_at from backup where service_id = $1 and taken_at <= $2
                     order by taken_at desc, backup_id desc limit 1",
                )
                .bind(service_id)
                .bind(point)
                .fetch_optional(&mut *conn)
                .await?
                .map(|(id, at)| (Some(id), at))
            };
            match restore {
                Some((backup_id, restore_to)) => restores.push(MemberRestore {
                    service: name.clone(),
                    backup_id,
                    restore_to,
                    writes_lost: writes_after(conn, *service_id, restore_to).await?,
                }),
                None => without_backup.push(name.clone()),
            }
        }
    } else {
        without_backup = rows
            .iter()
            .filter(|(_, _, pitr, newest)| !pitr && newest.is_none())
            .map(|(name, ..)| name.clone())
            .collect();
    }
    Ok(GroupAlternative {
        members,
        point,
        restores,
        without_backup,
    })
}

/// The service's writes after `at` that a restore to `at` loses: its
/// entity and reference versions of the current branch.
async fn writes_after(
    conn: &mut PgConnection,
    service_id: i64,
    at: DateTime<Utc>,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "select (select count(*) from entity_version
                 where service_id = $1 and not lost and coalesce(valid_from, updated_at) > $2)
              + (select count(*) from reference_version
                 where source_service_id = $1 and not lost and valid_from > $2)",
    )
    .bind(service_id)
    .bind(at)
    .fetch_one(conn)
    .await?)
}
