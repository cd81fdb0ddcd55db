//! Who is calling the API, and whether they may. A bearer token comes
//! first: the admin token (`LOCKSTEP_ADMIN_TOKEN`) may do everything, a
//! service token only write its own service's inventory and backups.
//! Without one, the signed-in account of the browser session (resolved by
//! the `security` middleware) is held to its role. Each route names what
//! it needs with an extractor: `Reader`, `Operator`, `Architect`, `Admin`.

use app::{
    accounts::{
        model::{CurrentUser, Permission},
        session::{allow, SignedIn},
    },
    inventory::db::tokens,
    state::AppState,
};
use axum::{extract::FromRequestParts, http::request::Parts, http::StatusCode};

use super::web::constant_time_eq;
use crate::observe::attribute;
use crate::routes::api::ApiError;

/// Who is calling.
pub enum Caller {
    Admin,
    /// A token minted for this service (by id).
    Service(i64),
    /// A signed-in account (browser session).
    User(CurrentUser),
}

impl Caller {
    /// The name changes are attributed to, if `permission` is granted.
    pub fn allow(self, permission: Permission) -> Result<String, ApiError> {
        match self {
            Caller::Admin => Ok("admin token".into()),
            Caller::Service(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "a service token may only write its own service's inventory and backups",
            )),
            Caller::User(user) => Ok(allow(Some(user), permission)?.name),
        }
    }

    /// Admin (token or account), or the token of this very service; another
    /// service's token is refused with 403.
    pub fn may_write(&self, service_id: i64) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Service(own) if *own == service_id => Ok(()),
            Caller::Service(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this token belongs to another service",
            )),
            Caller::User(user) => allow(Some(user.clone()), Permission::Administer)
                .map(|_| ())
                .map_err(ApiError::from),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(presented) = bearer(parts)? else {
            // The session middleware has named the account for the log.
            return match parts.extensions.get::<SignedIn>().and_then(|s| s.0.clone()) {
                Some(user) => Ok(Caller::User(user)),
                None => Err(ApiError::unauthorized(
                    "missing Authorization: Bearer <token> (or sign in)",
                )),
            };
        };
        if let Some(admin) = &state.admin_token {
            if constant_time_eq(admin.as_bytes(), presented.as_bytes()) {
                attribute(&parts.extensions, "admin token");
                return Ok(Caller::Admin);
            }
        }
        match tokens::service_of(&state.pool, presented).await? {
            Some((service_id, service)) => {
                attribute(&parts.extensions, format!("token of {service}"));
                Ok(Caller::Service(service_id))
            }
            None => Err(ApiError::unauthorized("invalid token")),
        }
    }
}

/// Route guards: each holds the name the caller's changes are attributed to.
macro_rules! guard {
    ($($(#[$doc:meta])* $name:ident => $permission:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name(pub String);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                Caller::from_request_parts(parts, state)
                    .await?
                    .allow(Permission::$permission)
                    .map($name)
            }
        }
    )*};
}

guard! {
    /// Anyone signed in, or the admin token.
    Reader => Read;
    /// Operators (queue, restores), admins, or the admin token.
    Operator => Operate;
    /// Architects (topology), admins, or the admin token.
    Architect => Design;
    /// Admins, or the admin token.
    Admin => Administer;
}

/// The bearer token, if the request has an Authorization header; a
/// malformed header is a 401, not a fallback to the session.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))
}
