//! Server functions behind the topology pages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::forms::{RelationForm, ServiceForm};
use super::model::{LockstepGroup, Picture, Topology};
use crate::error::AppError;

/// Everything the topology and groups pages draw, in one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyView {
    pub topology: Topology,
    pub groups: Vec<LockstepGroup>,
    pub picture: Picture,
    /// Each service's newest recorded backup.
    pub latest_backups: std::collections::BTreeMap<String, chrono::DateTime<chrono::Utc>>,
}

#[server(prefix = "/api/fn", endpoint = "topology_view", client = crate::accounts::csrf::CsrfClient)]
pub async fn load_topology_view() -> Result<TopologyView, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(
        async move {
            let pool = crate::state::db()?;
            let topology = super::db::load(&pool).await?;
            let groups = super::groups::lockstep_groups(&topology);
            let picture = super::picture::draw(&topology, &groups);
            let latest_backups = super::db::latest_backups(&pool).await?;
            Ok(TopologyView {
                topology,
                groups,
                picture,
                latest_backups,
            })
        }
        .await,
    )
}

/// The signed-in architect and the pool, for a topology use case
/// (`commands`).
#[cfg(feature = "ssr")]
async fn architect() -> Result<(sqlx::PgPool, String), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    Ok((crate::error::with_status(crate::state::db())?, user.name))
}

/// `policy` is `lockstep`, `tolerate`, or `default` to drop the override.
#[server(prefix = "/api/fn", endpoint = "set_relation_policy", client = crate::accounts::csrf::CsrfClient)]
pub async fn set_relation_policy(relation: String, policy: String) -> Result<(), AppError> {
    let (pool, actor) = architect().await?;
    crate::error::with_status(super::commands::set_policy(&pool, &actor, &relation, &policy).await)
}

/// Replaces the model with an uploaded YAML or JSON document; returns the
/// number of services now modelled.
#[server(prefix = "/api/fn", endpoint = "upload_topology", client = crate::accounts::csrf::CsrfClient)]
pub async fn upload_topology(document: String) -> Result<usize, AppError> {
    let (pool, actor) = architect().await?;
    crate::error::with_status(
        super::commands::upload(&pool, &actor, &document, false)
            .await
            .map(|topology| topology.services.len()),
    )
}

#[server(prefix = "/api/fn", endpoint = "import_backstage", client = crate::accounts::csrf::CsrfClient)]
pub async fn import_backstage(catalog: String) -> Result<super::model::ImportReport, AppError> {
    let (pool, actor) = architect().await?;
    crate::error::with_status(super::commands::import_backstage(&pool, &actor, &catalog).await)
}

/// Creates or updates a service from its form.
#[server(prefix = "/api/fn", endpoint = "save_service", client = crate::accounts::csrf::CsrfClient)]
pub async fn save_service(form: ServiceForm) -> Result<(), AppError> {
    let (pool, actor) = architect().await?;
    crate::error::with_status(super::commands::save_service(&pool, &actor, form).await)
}

#[server(prefix = "/api/fn", endpoint = "delete_service", client = crate::accounts::csrf::CsrfClient)]
/// `force` also drops the inventory reported for the service.
pub async fn delete_service(name: String, force: bool) -> Result<(), AppError> {
    let (pool, actor) = architect().await?;
    use super::commands::{delete, Removal};
    crate::error::with_status(delete(&pool, &actor, Removal::Service, &name, force).await)
}

/// Creates or updates a relation from its form.
#[server(prefix = "/api/fn", endpoint = "save_relation", client = crate::accounts::csrf::CsrfClient)]
pub async fn save_relation(form: RelationForm) -> Result<(), AppError> {
    let (pool, actor) = architect().await?;
    crate::error::with_status(super::commands::save_relation(&pool, &actor, form).await)
}

#[server(prefix = "/api/fn", endpoint = "delete_relation", client = crate::accounts::csrf::CsrfClient)]
/// `force` also drops the references reported over the relation.
pub async fn delete_relation(name: String, force: bool) -> Result<(), AppError> {
    let (pool, actor) = architect().await?;
    use super::commands::{delete, Removal};
    crate::error::with_status(delete(&pool, &actor, Removal::Relation, &name, force).await)
}
