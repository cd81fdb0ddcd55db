//! API errors: a status and `{"error": "...", "details": [...]}`. Internal
//! causes are logged, never sent.

use app::error::AppError;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

/// The body of every API error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for people.
    #[schema(example = "service \"nope\" not found")]
    pub error: String,
    /// Every problem found, when there are several (bad lines with their
    /// numbers, fields with their messages); often empty.
    pub details: Vec<Value>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            details: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub details: Vec<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            details: Vec::new(),
        }
    }

    pub fn unauthorized(error: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let status = error.status();
        let details = match &error {
            AppError::Rejected(problems) => problems.iter().map(|p| json!(p)).collect(),
            AppError::Invalid { field, message } => {
                vec![json!({"field": field, "message": message})]
            }
            _ => Vec::new(),
        };
        Self {
            status,
            error: error.to_string(),
            details,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.error,
                details: self.details,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
