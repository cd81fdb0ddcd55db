//! The API page: the OpenAPI document the server generates from its
//! routes, read on the server into a short list of operations and shown
//! grouped by tag, with a link to the document itself.

mod model;
#[cfg(feature = "ssr")]
mod read;
mod ui;

pub use ui::ApiPage;

use leptos::prelude::*;

use crate::accounts::csrf::CsrfClient;
use crate::error::AppError;
use model::ApiReference;

#[server(prefix = "/api/fn", endpoint = "api_reference", client = CsrfClient)]
pub async fn api_document() -> Result<ApiReference, AppError> {
    use crate::accounts::model::Permission;
    crate::accounts::session::require(Permission::Read).await?;
    let state = use_context::<crate::state::AppState>().ok_or(AppError::Internal)?;
    read::reference(&state.api_document).ok_or_else(|| {
        tracing::error!("the OpenAPI document cannot be read");
        AppError::Internal
    })
}
