//! Server-side state shared by the axum routes and the server functions
//! (Leptos provides it to both as context).

use std::sync::{Arc, Mutex};

use axum::extract::FromRef;
use leptos::prelude::*;
use sqlx::PgPool;

use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    /// The `LOCKSTEP_ADMIN_TOKEN`, if one is configured.
    pub admin_token: Option<Arc<str>>,
    /// Cookies marked `Secure` (served over TLS, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// The API's OpenAPI document as JSON, generated from the routes when
    /// the router is built (the API page shows it).
    pub api_document: Arc<str>,
    /// The live demo's collectors and workload when this server runs them.
    pub demo_tasks: BackgroundTasks,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, pool: PgPool, admin_token: Option<String>) -> Self {
        Self {
            leptos_options,
            pool,
            admin_token: admin_token.filter(|t| !t.is_empty()).map(Arc::from),
            secure_cookies: false,
            api_document: Arc::from("{}"),
            demo_tasks: BackgroundTasks::default(),
        }
    }

    pub fn with_api_document(mut self, document: String) -> Self {
        self.api_document = Arc::from(document);
        self
    }

    /// Background tasks started before the state (at start-up).
    pub fn with_demo_tasks(mut self, tasks: BackgroundTasks) -> Self {
        self.demo_tasks = tasks;
        self
    }

    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }
}

/// Tasks one server runs in the background until told to stop: held in its
/// state, not in the process, so stopping them stops this server's and no
/// other's (the tests run many servers in one process).
#[derive(Clone, Debug, Default)]
pub struct BackgroundTasks(Arc<Mutex<Vec<tokio::task::AbortHandle>>>);

impl BackgroundTasks {
    /// Stops the running tasks, if any, and holds `tasks` instead.
    pub fn replace(&self, tasks: impl IntoIterator<Item = tokio::task::AbortHandle>) {
        let mut running = self.0.lock().expect("not poisoned");
        for task in running.drain(..) {
            task.abort();
        }
        running.extend(tasks);
    }

    /// Stops the running tasks; whether there were any.
    pub fn stop(&self) -> bool {
        let was = !self.0.lock().expect("not poisoned").is_empty();
        self.replace([]);
        was
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The pool, from the state Leptos put in context for this request.
pub fn db() -> Result<PgPool, AppError> {
    use_context::<AppState>()
        .map(|state| state.pool)
        .ok_or_else(|| {
            tracing::error!("AppState missing from the Leptos context");
            AppError::Internal
        })
}
