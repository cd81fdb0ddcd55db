//! Server functions behind the restores page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{RestoreProgress, RestoreReport, SuspectedRestore};
use crate::error::AppError;
use crate::inventory::model::BackupRow;

/// A service and the backups a restore can start from, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreChoice {
    pub service: String,
    pub backups: Vec<BackupRow>,
}

#[server(prefix = "/api/fn", endpoint = "restore_history", client = crate::accounts::csrf::CsrfClient)]
pub async fn restore_history() -> Result<Vec<RestoreReport>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::history::list(&crate::state::db()?, None).await)
}

#[server(prefix = "/api/fn", endpoint = "restore_choices", client = crate::accounts::csrf::CsrfClient)]
pub async fn restore_choices() -> Result<Vec<RestoreChoice>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::choices(&crate::state::db()?).await)
}

/// Where the restore or drill of `service` this server is computing is, if
/// one is running.
#[server(prefix = "/api/fn", endpoint = "running_restore", client = crate::accounts::csrf::CsrfClient)]
pub async fn running_restore(service: String) -> Result<Option<RestoreProgress>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    Ok(super::progress::of(&service))
}

/// Records a restore, or computes a drill: from a recorded backup (its id)
/// or from any point in time (`at`, RFC 3339 or a browser's
/// `YYYY-MM-DDTHH:MM`, read as UTC).
#[server(prefix = "/api/fn", endpoint = "record_restore", client = crate::accounts::csrf::CsrfClient)]
pub async fn record_restore(
    service: String,
    /// The backup's id; empty for a point in time (a plain form sends "").
    backup: Option<String>,
    at: Option<String>,
    /// When the restore happened (RFC 3339 or `YYYY-MM-DDTHH:MM`, UTC);
    /// now when empty.
    restored_at: Option<String>,
    drill: bool,
) -> Result<RestoreReport, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    use super::db::engine::{record, RestorePoint, RestoreRequest};
    crate::error::with_status(
        async move {
            let backup = backup
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(|b| {
                    b.parse::<i64>().map_err(|_| AppError::Invalid {
                        field: "backup".into(),
                        message: format!("{b:?} is not a backup's id"),
                    })
                })
                .transpose()?;
            let point = match (
                backup,
                at.as_deref().map(str::trim).filter(|a| !a.is_empty()),
            ) {
                (Some(id), None) => RestorePoint::Backup(id),
                (None, Some(at)) => RestorePoint::At(parse_time(at, "at")?),
                _ => {
                    return Err(AppError::Invalid {
                        field: "backup".into(),
                        message: "choose a backup, or give a point in time".into(),
                    })
                }
            };
            let restored_at = restored_at
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| parse_time(t, "restored_at"))
                .transpose()?;
            record(
                &crate::state::db()?,
                RestoreRequest {
                    service,
                    point,
                    restored_at,
                    drill,
                    actor: user.name,
                },
            )
            .await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn parse_time(at: &str, field: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use chrono::{DateTime, Utc};
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M").map(|t| t.and_utc())
        })
        .map_err(|_| AppError::Invalid {
            field: field.into(),
            message: format!("{at:?} is not a time (2026-11-23T02:00)"),
        })
}

/// Every open suspected restore (spec §9), newest first.
#[server(prefix = "/api/fn", endpoint = "suspected_restores", client = crate::accounts::csrf::CsrfClient)]
pub async fn suspected_restores() -> Result<Vec<SuspectedRestore>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::suspected::open(&crate::state::db()?).await)
}

/// Records a suspected restore as the restore it suspects.
#[server(prefix = "/api/fn", endpoint = "record_suspected_restore", client = crate::accounts::csrf::CsrfClient)]
pub async fn record_suspected_restore(service: String, id: i64) -> Result<RestoreReport, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(
        super::db::suspected::record(&crate::state::db()?, &service, id, &user.name).await,
    )
}

/// Sets a suspected restore aside: it was not a restore.
#[server(prefix = "/api/fn", endpoint = "dismiss_suspected_restore", client = crate::accounts::csrf::CsrfClient)]
pub async fn dismiss_suspected_restore(service: String, id: i64) -> Result<(), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(
        super::db::suspected::dismiss(&crate::state::db()?, &service, id, &user.name).await,
    )
}

/// What happened around a restore, for its timeline and burndown.
#[server(prefix = "/api/fn", endpoint = "restore_story", client = crate::accounts::csrf::CsrfClient)]
pub async fn restore_story(id: i64) -> Result<super::model::RestoreStory, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::story::get(&crate::state::db()?, id).await)
}

/// The service's newest backups, each drilled and ranked, beside its
/// group's consistent alternative (`RestorePlan`).
#[server(prefix = "/api/fn", endpoint = "plan_restore", client = crate::accounts::csrf::CsrfClient)]
pub async fn plan_restore(service: String) -> Result<super::model::RestorePlan, AppError> {
    // A drill per backup: as drills, for operators.
    crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(super::db::plan::plan(&crate::state::db()?, &service).await)
}
