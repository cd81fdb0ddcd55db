//! The server function behind the groups page's exposure charts.

use leptos::prelude::*;

use super::model::ExposureOverview;
use crate::error::AppError;

#[server(prefix = "/api/fn", endpoint = "load_exposure", client = crate::accounts::csrf::CsrfClient)]
pub async fn load_exposure() -> Result<ExposureOverview, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::overview(&crate::state::db()?).await)
}
