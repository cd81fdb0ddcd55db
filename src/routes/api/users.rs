//! Accounts over the API, for provisioning: `GET /api/v1/users`,
//! `POST /api/v1/users` (`{"name", "role", "password"}` → 201).

use app::{
    accounts::{
        commands, db,
        model::{AccountRow, Role},
    },
    error::AppError,
    state::AppState,
};
use axum::{body::Bytes, extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{error::ErrorBody, ApiError};
use crate::auth::api::Admin;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create))
}

/// The dashboard's accounts.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_users",
    tag = "accounts",
    responses((status = 200, description = "Every account", body = Vec<AccountRow>))
)]
async fn list(_: Admin, State(state): State<AppState>) -> Result<Json<Vec<AccountRow>>, ApiError> {
    Ok(Json(db::list(&state.pool).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    name: String,
    role: Role,
    /// At least 8 characters.
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct CreatedAccount {
    name: String,
    role: Role,
}

/// Adds an account (for provisioning; the Users page does the same).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "create_user",
    tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, description = "The account", body = CreatedAccount),
        (status = 409, description = "The name is taken", body = ErrorBody)
    )
)]
async fn create(
    Admin(actor): Admin,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    let account: NewAccount = serde_json::from_slice(&body).map_err(|error| AppError::Invalid {
        field: "body".into(),
        message: format!(
            "expected {{\"name\", \"role\": viewer|operator|architect|admin, \"password\"}}: {error}"
        ),
    })?;
    let name = commands::create(
        &state.pool,
        &actor,
        &account.name,
        account.role,
        &account.password,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccount {
            name,
            role: account.role,
        }),
    ))
}
