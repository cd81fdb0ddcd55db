//! The topology's use cases, one function each, shared by the server
//! functions, the REST routes and the command line. Each is one
//! transaction that takes the topology lock first, reads what it merges
//! under that lock (two imports at once must not lose each other's
//! services), writes, and records its audit entry before it commits.

use sqlx::{PgPool, Postgres, Transaction};

use super::backstage;
use super::db;
use super::document;
use super::forms::{RelationForm, ServiceForm};
use super::model::{ImportReport, Policy, Topology};
use crate::accounts::db::audit;
use crate::error::AppError;

/// A transaction holding the topology lock.
async fn locked(pool: &PgPool) -> Result<Transaction<'static, Postgres>, AppError> {
    let mut tx = pool.begin().await?;
    db::lock_topology(&mut tx).await?;
    Ok(tx)
}

/// Replaces the whole model (`force`: even if that drops inventory).
pub async fn replace(
    pool: &PgPool,
    actor: &str,
    topology: &Topology,
    force: bool,
) -> Result<(), AppError> {
    let mut tx = locked(pool).await?;
    db::replace(&mut tx, topology, force).await?;
    let detail = serde_json::json!({"services": topology.services.len(),
                                    "relations": topology.relations.len(), "force": force});
    audit(&mut *tx, actor, "upload topology", "topology", Some(detail)).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the model with an uploaded YAML or JSON document; 422 with every
/// problem found and nothing changed when it does not read.
pub async fn upload(
    pool: &PgPool,
    actor: &str,
    text: &str,
    force: bool,
) -> Result<Topology, AppError> {
    let topology = document::parse(text).map_err(AppError::Rejected)?;
    replace(pool, actor, &topology, force).await?;
    Ok(topology)
}

/// Merges a Backstage catalog into the model as it is under the lock. An
/// import only adds: nothing is removed, nothing forced.
pub async fn import_backstage(
    pool: &PgPool,
    actor: &str,
    catalog: &str,
) -> Result<ImportReport, AppError> {
    let mut tx = locked(pool).await?;
    let current = db::load_in(&mut tx).await?;
    let (merged, report) = backstage::import(catalog, &current).map_err(AppError::Rejected)?;
    db::replace(&mut tx, &merged, false).await?;
    let detail = serde_json::json!({"services": report.services.len(), "relations": report.relations.len(),
                                    "skipped": report.skipped.len()});
    audit(
        &mut *tx,
        actor,
        "import backstage",
        "topology",
        Some(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Overrides one relation's policy: `lockstep`, `tolerate`, or `default`
/// to return it to what its services imply.
pub async fn set_policy(
    pool: &PgPool,
    actor: &str,
    relation: &str,
    policy: &str,
) -> Result<(), AppError> {
    let policy = match policy {
        "default" => None,
        other => Some(Policy::parse(other).ok_or_else(|| AppError::Invalid {
            field: "policy".into(),
            message: format!("expected lockstep, tolerate or default, not {other:?}"),
        })?),
    };
    let mut tx = locked(pool).await?;
    db::set_policy(&mut *tx, relation, policy).await?;
    let detail = serde_json::json!({"policy": policy.map(|p| p.as_str())});
    audit(
        &mut *tx,
        actor,
        "set relation policy",
        relation,
        Some(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates or updates a service from its form.
pub async fn save_service(pool: &PgPool, actor: &str, form: ServiceForm) -> Result<(), AppError> {
    let service = form.validate().map_err(AppError::Rejected)?;
    let mut tx = locked(pool).await?;
    db::save_service(&mut tx, &service).await?;
    audit(&mut *tx, actor, "save service", &service.name, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates or updates a relation from its form; both ends must be modelled.
pub async fn save_relation(pool: &PgPool, actor: &str, form: RelationForm) -> Result<(), AppError> {
    let mut tx = locked(pool).await?;
    let services: Vec<String> = db::load_in(&mut tx)
        .await?
        .services
        .into_iter()
        .map(|s| s.name)
        .collect();
    let relation = form.validate(&services).map_err(AppError::Rejected)?;
    db::save_relation(&mut tx, &relation).await?;
    audit(&mut *tx, actor, "save relation", &relation.name, None).await?;
    tx.commit().await?;
    Ok(())
}

/// What a deletion removes.
#[derive(Debug, Clone, Copy)]
pub enum Removal {
    /// A service, with every relation that starts or ends there.
    Service,
    Relation,
}

/// Deletes a service or a relation (`force`: with the inventory reported
/// for it).
pub async fn delete(
    pool: &PgPool,
    actor: &str,
    what: Removal,
    name: &str,
    force: bool,
) -> Result<(), AppError> {
    let mut tx = locked(pool).await?;
    let action = match what {
        Removal::Service => {
            db::delete_service(&mut tx, name, force).await?;
            "delete service"
        }
        Removal::Relation => {
            db::delete_relation(&mut tx, name, force).await?;
            "delete relation"
        }
    };
    let detail = serde_json::json!({"force": force});
    audit(&mut *tx, actor, action, name, Some(detail)).await?;
    tx.commit().await?;
    Ok(())
}
