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
            Ok(TopologyView {
                topology,
                groups,
                picture,
            })
        }
        .await,
    )
}

/// `policy` is `lockstep`, `tolerate`, or `default` to drop the override.
#[server(prefix = "/api/fn", endpoint = "set_relation_policy", client = crate::accounts::csrf::CsrfClient)]
pub async fn set_relation_policy(relation: String, policy: String) -> Result<(), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let policy =
                match policy.as_str() {
                    "default" => None,
                    other => Some(super::model::Policy::parse(other).ok_or_else(|| {
                        AppError::Invalid {
                            field: "policy".into(),
                            message: format!(
                                "expected lockstep, tolerate or default, not {other:?}"
                            ),
                        }
                    })?),
                };
            let pool = crate::state::db()?;
            super::db::set_policy(&pool, &relation, policy).await?;
            let detail = serde_json::json!({"policy": policy.map(|p| p.as_str())});
            crate::accounts::db::audit(
                &pool,
                &user.name,
                "set relation policy",
                &relation,
                Some(detail),
            )
            .await
        }
        .await,
    )
}

/// Replaces the model with an uploaded YAML or JSON document; returns the
/// number of services now modelled.
#[server(prefix = "/api/fn", endpoint = "upload_topology", client = crate::accounts::csrf::CsrfClient)]
pub async fn upload_topology(document: String) -> Result<usize, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let topology = super::document::parse(&document).map_err(AppError::Rejected)?;
            let pool = crate::state::db()?;
            super::db::replace(&pool, &topology, false).await?;
            let detail = serde_json::json!({"services": topology.services.len(), "relations": topology.relations.len()});
            crate::accounts::db::audit(&pool, &user.name, "upload topology", "topology", Some(detail)).await?;
            Ok(topology.services.len())
        }
        .await,
    )
}

/// Merges a Backstage catalog into the model (the API route and the UI
/// share this).
#[cfg(feature = "ssr")]
pub async fn apply_backstage_catalog(
    pool: &sqlx::PgPool,
    catalog: &str,
) -> Result<super::model::ImportReport, AppError> {
    let current = super::db::load(pool).await?;
    let (merged, report) =
        super::backstage::import(catalog, &current).map_err(AppError::Rejected)?;
    // An import only adds to the model: nothing is removed, nothing forced.
    super::db::replace(pool, &merged, false).await?;
    Ok(report)
}

#[server(prefix = "/api/fn", endpoint = "import_backstage", client = crate::accounts::csrf::CsrfClient)]
pub async fn import_backstage(catalog: String) -> Result<super::model::ImportReport, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let pool = crate::state::db()?;
            let report = apply_backstage_catalog(&pool, &catalog).await?;
            crate::accounts::db::audit(&pool, &user.name, "import backstage", "topology", None)
                .await?;
            Ok(report)
        }
        .await,
    )
}

/// Creates or updates a service from its form.
#[server(prefix = "/api/fn", endpoint = "save_service", client = crate::accounts::csrf::CsrfClient)]
pub async fn save_service(form: ServiceForm) -> Result<(), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let service = form.validate().map_err(AppError::Rejected)?;
            let pool = crate::state::db()?;
            super::db::save_service(&pool, &service).await?;
            crate::accounts::db::audit(&pool, &user.name, "save service", &service.name, None).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_service", client = crate::accounts::csrf::CsrfClient)]
/// `force` also drops the inventory reported for the service.
pub async fn delete_service(name: String, force: bool) -> Result<(), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let pool = crate::state::db()?;
            super::db::delete_service(&pool, &name, force).await?;
            let detail = serde_json::json!({"force": force});
            crate::accounts::db::audit(&pool, &user.name, "delete service", &name, Some(detail))
                .await
        }
        .await,
    )
}

/// Creates or updates a relation from its form.
#[server(prefix = "/api/fn", endpoint = "save_relation", client = crate::accounts::csrf::CsrfClient)]
pub async fn save_relation(form: RelationForm) -> Result<(), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let pool = crate::state::db()?;
            let services: Vec<String> = super::db::load(&pool)
                .await?
                .services
                .into_iter()
                .map(|s| s.name)
                .collect();
            let relation = form.validate(&services).map_err(AppError::Rejected)?;
            super::db::save_relation(&pool, &relation).await?;
            crate::accounts::db::audit(&pool, &user.name, "save relation", &relation.name, None)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_relation", client = crate::accounts::csrf::CsrfClient)]
/// `force` also drops the references reported over the relation.
pub async fn delete_relation(name: String, force: bool) -> Result<(), AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Design).await?;
    crate::error::with_status(
        async move {
            let pool = crate::state::db()?;
            super::db::delete_relation(&pool, &name, force).await?;
            let detail = serde_json::json!({"force": force});
            crate::accounts::db::audit(&pool, &user.name, "delete relation", &name, Some(detail))
                .await
        }
        .await,
    )
}
