//! Signed-in sessions (tower-sessions, stored in PostgreSQL): the session
//! keeps only the account's id; name and role are read on every request,
//! so a changed role or a deleted account takes effect at once.

use sqlx::PgPool;
use tower_sessions::Session;

use super::db;
use super::model::{CurrentUser, Permission};
use crate::error::AppError;

const ACCOUNT_ID: &str = "account_id";

fn store_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(%error, "session store");
    AppError::Unavailable
}

/// The account signed in with this session, if any.
pub async fn user_of(db: &PgPool, session: &Session) -> Result<Option<CurrentUser>, AppError> {
    match session.get::<i64>(ACCOUNT_ID).await.map_err(store_error)? {
        Some(id) => db::by_id(db, id).await,
        None => Ok(None),
    }
}

/// Signs the account in: a new session id (no fixation of one an attacker
/// planted before the login), holding the account.
pub async fn sign_in(session: &Session, account_id: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session
        .insert(ACCOUNT_ID, account_id)
        .await
        .map_err(store_error)
}

pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_error)
}

/// 401 without a user, 403 when the role does not allow `permission`.
pub fn allow(user: Option<CurrentUser>, permission: Permission) -> Result<CurrentUser, AppError> {
    match user {
        None => Err(AppError::Unauthorized(
            "sign in first (your session may have expired)".into(),
        )),
        Some(user) if user.may(permission) => Ok(user),
        Some(user) => Err(AppError::Forbidden(format!(
            "{} is a {}: this needs {}",
            user.name,
            user.role.as_str(),
            permission.needs()
        ))),
    }
}

/// The session of the request a server function is serving.
pub async fn current_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|error| {
        tracing::error!(%error, "no session layer in front of the server functions");
        AppError::Internal
    })
}

/// Who sent the request, resolved once per request by the server's
/// middleware (from the session) and kept in the request's extensions for
/// routes, server functions and the page shell.
#[derive(Debug, Clone, Default)]
pub struct SignedIn(pub Option<CurrentUser>);

/// For server functions: the signed-in user, if their role allows
/// `permission`; every server function starts with this. The refusal
/// carries its HTTP status (401/403).
pub async fn require(permission: Permission) -> Result<CurrentUser, AppError> {
    crate::error::with_status(allow(signed_in().await, permission))
}

/// The user of the request a server function is serving (none when the
/// middleware did not run: fail closed).
pub async fn signed_in() -> Option<CurrentUser> {
    leptos_axum::extract::<axum::Extension<SignedIn>>()
        .await
        .ok()
        .and_then(|e| e.0 .0)
}
