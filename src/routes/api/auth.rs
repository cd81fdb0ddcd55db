//! Bearer-token authentication for the API: the admin token
//! (`LOCKSTEP_ADMIN_TOKEN`) may do everything, a service token only post its
//! own service's inventory and backups.

use app::{inventory::tokens, state::AppState};
use axum::{extract::FromRequestParts, http::request::Parts, http::StatusCode};

use super::ApiError;

/// Who is calling.
pub enum Caller {
    Admin,
    /// A token minted for this service (by id).
    Service(i64),
}

impl Caller {
    /// Admin, or the token of this very service; another service's token
    /// is refused with 403.
    pub fn may_write(&self, service_id: i64) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Service(own) if *own == service_id => Ok(()),
            Caller::Service(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this token belongs to another service",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer(parts)?;
        if let Some(admin) = &state.admin_token {
            if constant_time_eq(admin.as_bytes(), presented.as_bytes()) {
                return Ok(Caller::Admin);
            }
        }
        match tokens::service_of(&state.pool, presented).await? {
            Some(service_id) => Ok(Caller::Service(service_id)),
            None => Err(ApiError::unauthorized("invalid token")),
        }
    }
}

/// A request made with the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Admin => Ok(Admin),
            Caller::Service(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this needs the admin token",
            )),
        }
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))
}

/// Compares without an early exit, so response time does not reveal how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
