//! Server functions behind the queue page. Claims, decisions and the audit
//! trail carry the signed-in account's name. Functions taking a filter or
//! a selection send JSON: an all-empty filter or a nested enum does not
//! survive URL encoding.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::model::{
    Action, ActionInput, BulkOutcome, CountRow, Filter, FindingDetail, FindingPage, Page, Selection,
};
use crate::error::AppError;

#[server(prefix = "/api/fn", endpoint = "queue_page", input = Json, client = crate::accounts::csrf::CsrfClient)]
pub async fn queue_page(filter: Filter, page: Page) -> Result<FindingPage, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::list(&crate::state::db()?, &filter, page).await)
}

#[server(prefix = "/api/fn", endpoint = "queue_counts", input = Json, client = crate::accounts::csrf::CsrfClient)]
pub async fn queue_counts(filter: Filter) -> Result<Vec<CountRow>, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::counts(&crate::state::db()?, &filter).await)
}

#[server(prefix = "/api/fn", endpoint = "finding_detail", client = crate::accounts::csrf::CsrfClient)]
pub async fn load_finding(id: i64) -> Result<FindingDetail, AppError> {
    crate::accounts::session::require(crate::accounts::model::Permission::Read).await?;
    crate::error::with_status(super::db::get(&crate::state::db()?, id).await)
}

/// One operator action on one finding. URL-encoded arguments, so that the
/// detail pane's buttons work as plain forms too.
#[server(prefix = "/api/fn", endpoint = "act_on_finding", client = crate::accounts::csrf::CsrfClient)]
pub async fn act_on_finding(
    id: i64,
    action: Action,
    #[server(default)] note: Option<String>,
    #[server(default)] strategy: Option<String>,
) -> Result<FindingDetail, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(
        async move {
            let input = clean(ActionInput { note, strategy });
            super::db::act(&crate::state::db()?, id, action, &input, &user.name).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "bulk_act", input = Json, client = crate::accounts::csrf::CsrfClient)]
pub async fn bulk_act(
    selection: Selection,
    action: Action,
    input: ActionInput,
) -> Result<BulkOutcome, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(
        async move {
            super::db::bulk(
                &crate::state::db()?,
                &selection,
                action,
                &clean(input),
                &user.name,
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "claim_next", input = Json, client = crate::accounts::csrf::CsrfClient)]
pub async fn claim_next_finding(filter: Filter) -> Result<Option<FindingDetail>, AppError> {
    let user =
        crate::accounts::session::require(crate::accounts::model::Permission::Operate).await?;
    crate::error::with_status(
        async move { super::db::claim_next(&crate::state::db()?, &filter, &user.name).await }.await,
    )
}

/// Blank notes and strategies from a form are absent ones.
#[cfg(feature = "ssr")]
pub fn clean(input: ActionInput) -> ActionInput {
    let keep = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    ActionInput {
        note: keep(input.note),
        strategy: keep(input.strategy),
    }
}
