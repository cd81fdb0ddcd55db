//! Accounts over the API, for provisioning: `GET /api/v1/users`,
//! `POST /api/v1/users` (`{"name", "role", "password"}` → 201).

use app::{
    accounts::{db, model::Role},
    error::AppError,
    state::AppState,
};
use axum::{body::Bytes, extract::State, http::StatusCode, routing::get, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{auth::Admin, ApiError};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/users", get(list).post(create))
}

async fn list(_: Admin, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(db::list(&state.pool).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    name: String,
    role: Role,
    password: String,
}

async fn create(
    Admin(actor): Admin,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let account: NewAccount = serde_json::from_slice(&body).map_err(|error| AppError::Invalid {
        field: "body".into(),
        message: format!(
            "expected {{\"name\", \"role\": viewer|operator|architect|admin, \"password\"}}: {error}"
        ),
    })?;
    db::create(&state.pool, &account.name, account.role, &account.password).await?;
    let detail = json!({"role": account.role});
    db::audit(
        &state.pool,
        &actor,
        "create account",
        &account.name,
        Some(detail),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": account.name, "role": account.role})),
    ))
}
