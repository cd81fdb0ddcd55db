//! Plain axum routes beside the Leptos pages: health, metrics, the HTTP API, and
//! what the dashboard needs besides server functions (live updates, CSV,
//! the files of `public/`).

pub mod api;
pub mod export;
pub mod health;
pub mod live;
pub mod metrics;
pub mod public;
