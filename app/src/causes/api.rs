//! Server functions behind the queue page's causes.

use leptos::prelude::*;

use super::model::CauseSummary;
use crate::error::AppError;
use crate::queue::model::{Action, BulkOutcome};

#[server(prefix = "/api/fn", endpoint = "list_causes", client = crate::accounts::csrf::CsrfClient)]
pub async fn list_causes(
    #[server(default)] restore: Option<i64>,
) -> Result<Vec<CauseSummary>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    let filter = super::model::CauseFilter {
        restore,
        ..Default::default()
    };
    crate::error::with_status(super::db::list(&crate::state::db()?, &filter).await)
}

/// One decision on every pending finding of a cause. URL-encoded
/// arguments, so that the decision works as a plain form too.
#[server(prefix = "/api/fn", endpoint = "decide_cause", client = crate::accounts::csrf::CsrfClient)]
pub async fn decide_cause(
    id: i64,
    action: Action,
    #[server(default)] note: Option<String>,
    #[server(default)] strategy: Option<String>,
) -> Result<BulkOutcome, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(
        async move {
            let input =
                crate::queue::api::clean(crate::queue::model::ActionInput { note, strategy });
            super::db::decide(&crate::state::db()?, id, action, &input, &user.name).await
        }
        .await,
    )
}
