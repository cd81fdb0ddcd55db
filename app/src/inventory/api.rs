//! Server functions behind the inventory pages.

use leptos::prelude::*;

use super::model::{CollectorStatus, EntityDetail, ServiceDetail, ServiceInventory};
use crate::error::AppError;

#[server(prefix = "/api/fn", endpoint = "inventory_overview", client = crate::accounts::csrf::CsrfClient)]
pub async fn inventory_overview() -> Result<Vec<ServiceInventory>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(
        async move { super::db::queries::overview(&crate::state::db()?).await }.await,
    )
}

#[server(prefix = "/api/fn", endpoint = "service_inventory", client = crate::accounts::csrf::CsrfClient)]
pub async fn load_service_inventory(service: String) -> Result<ServiceDetail, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(
        async move { super::db::queries::service(&crate::state::db()?, &service).await }.await,
    )
}

#[server(prefix = "/api/fn", endpoint = "find_entity", client = crate::accounts::csrf::CsrfClient)]
pub async fn find_entity(service: String, key: String) -> Result<Option<EntityDetail>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(
        async move { super::db::queries::entity(&crate::state::db()?, &service, key.trim()).await }
            .await,
    )
}

/// What each service's collector last reported, by service.
#[server(prefix = "/api/fn", endpoint = "collectors", client = crate::accounts::csrf::CsrfClient)]
pub async fn collectors() -> Result<Vec<CollectorStatus>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::collectors::all(&crate::state::db()?).await)
}
