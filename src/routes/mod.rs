//! Plain axum routes beside the Leptos pages: health and the HTTP API.

pub mod api;
pub mod health;
