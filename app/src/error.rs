//! The error type server functions return. It crosses the wire as JSON, so
//! the UI can tell "not found" from "invalid" from "try again later"; the
//! internal cause stays in the server's log.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// A submitted document was refused; nothing was changed.
    #[error("the document was rejected: {} problem(s)", .0.len())]
    Rejected(Vec<Problem>),
    /// Not signed in (or the session expired).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// PostgreSQL aborted the transaction to let a concurrent one through (a
    /// deadlock or a serialization failure); nothing was changed.
    #[error("a concurrent change got in the way and nothing was changed; try again")]
    Contended,
    #[error("something went wrong on the server; it has been logged")]
    Internal,
    #[error("request failed: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound("record".into()),
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(%error, "database unavailable");
                Self::Unavailable
            }
            // The server ended the connection (a restart or shutdown: class
            // 57P) or it broke (class 08): the request may be retried.
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
            {
                tracing::warn!(%error, "database unavailable");
                Self::Unavailable
            }
            // Class 40, transaction rollback: a deadlock (40P01) or a
            // serialization failure (40001) broken by aborting this side.
            sqlx::Error::Database(ref db) if db.code().is_some_and(|c| c.starts_with("40")) => {
                tracing::warn!(%error, "transaction aborted by a concurrent one");
                Self::Contended
            }
            // A value PostgreSQL will not store (class 22, data exception):
            // a NUL character in text or JSON, a number or date out of its
            // range. The input is at fault, and the transaction is rolled back.
            sqlx::Error::Database(ref db) if db.code().is_some_and(|c| c.starts_with("22")) => {
                Self::Invalid {
                    field: "body".into(),
                    message: format!("a value cannot be stored: {}", db.message()),
                }
            }
            other => {
                tracing::error!(error = ?other, "database error");
                Self::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Invalid { .. } | Self::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Contended => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal | Self::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Gives a server function's failure its real status (a rejected form is a
/// 422, not a 500), so logs and metrics tell client mistakes from faults.
#[cfg(feature = "ssr")]
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    // A plain form's browser is redirected back with the error in the
    // address: a status here would turn that redirect into a dead end.
    if crate::plain_form::is_plain_form() {
        return result;
    }
    if let Err(error) = &result {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
    }
    result
}
