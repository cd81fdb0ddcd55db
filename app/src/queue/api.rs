//! Server functions behind the queue page. Until accounts exist, the
//! operator is the name kept in the `lockstep_operator` cookie: claims and
//! the audit trail carry it, and two browsers with two names are two
//! operators. Functions taking a filter or a selection send JSON: an
//! all-empty filter or a nested enum does not survive URL encoding.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::model::{
    Action, ActionInput, BulkOutcome, CountRow, Filter, FindingDetail, FindingPage, Page, Selection,
};
use crate::error::AppError;

/// The cookie that names the operator.
pub const OPERATOR_COOKIE: &str = "lockstep_operator";

/// The operator named by this request's cookie, if any.
#[cfg(feature = "ssr")]
pub async fn operator() -> Option<String> {
    let headers: axum::http::HeaderMap = leptos_axum::extract().await.ok()?;
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == OPERATOR_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|name| is_operator_name(name))
}

/// Names are short and cookie-safe: letters, digits, `.`, `_`, `-`.
pub fn is_operator_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The operator, or a 422 asking for a name: every action is attributed.
#[cfg(feature = "ssr")]
async fn required_operator() -> Result<String, AppError> {
    operator().await.ok_or_else(|| AppError::Invalid {
        field: "operator".into(),
        message: "say who you are first (the name field at the top of the queue)".into(),
    })
}

#[server(prefix = "/api/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<String>, AppError> {
    Ok(operator().await)
}

/// Names the operator for this browser (a cookie, SameSite=Strict).
#[server(prefix = "/api/fn", endpoint = "set_operator")]
pub async fn set_operator(name: String) -> Result<String, AppError> {
    let name = name.trim().to_string();
    if !is_operator_name(&name) {
        return crate::error::with_status(Err(AppError::Invalid {
            field: "name".into(),
            message: "1 to 40 letters, digits, '.', '_' or '-'".into(),
        }));
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let cookie =
        format!("{OPERATOR_COOKIE}={name}; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly");
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.insert_header(axum::http::header::SET_COOKIE, value);
    }
    Ok(name)
}

#[server(prefix = "/api/fn", endpoint = "queue_page", input = Json)]
pub async fn queue_page(filter: Filter, page: Page) -> Result<FindingPage, AppError> {
    crate::error::with_status(super::db::list(&crate::state::db()?, &filter, page).await)
}

#[server(prefix = "/api/fn", endpoint = "queue_counts", input = Json)]
pub async fn queue_counts(filter: Filter) -> Result<Vec<CountRow>, AppError> {
    crate::error::with_status(super::db::counts(&crate::state::db()?, &filter).await)
}

#[server(prefix = "/api/fn", endpoint = "finding_detail")]
pub async fn load_finding(id: i64) -> Result<FindingDetail, AppError> {
    crate::error::with_status(super::db::get(&crate::state::db()?, id).await)
}

#[server(prefix = "/api/fn", endpoint = "act_on_finding", input = Json)]
pub async fn act_on_finding(
    id: i64,
    action: Action,
    input: ActionInput,
) -> Result<FindingDetail, AppError> {
    crate::error::with_status(
        async move {
            let actor = required_operator().await?;
            super::db::act(&crate::state::db()?, id, action, &clean(input), &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "bulk_act", input = Json)]
pub async fn bulk_act(
    selection: Selection,
    action: Action,
    input: ActionInput,
) -> Result<BulkOutcome, AppError> {
    crate::error::with_status(
        async move {
            let actor = required_operator().await?;
            super::db::bulk(
                &crate::state::db()?,
                &selection,
                action,
                &clean(input),
                &actor,
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "claim_next", input = Json)]
pub async fn claim_next_finding(filter: Filter) -> Result<Option<FindingDetail>, AppError> {
    crate::error::with_status(
        async move {
            let actor = required_operator().await?;
            super::db::claim_next(&crate::state::db()?, &filter, &actor).await
        }
        .await,
    )
}

/// Blank notes and strategies from a form are absent ones.
#[cfg(feature = "ssr")]
fn clean(input: ActionInput) -> ActionInput {
    let keep = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    ActionInput {
        note: keep(input.note),
        strategy: keep(input.strategy),
    }
}
