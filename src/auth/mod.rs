//! Who is calling, and what they may do, in one place. `web`: what stands
//! between a browser's request and the application (sessions in
//! PostgreSQL, who is signed in, the sign-in redirect, the CSRF check,
//! the security headers). `api`: who calls the HTTP API (a bearer token or
//! a signed-in browser) and the extractors each route names its role with.
//! The server functions ask the same question through
//! `app::accounts::session::require`, of the account `web` resolved; a test
//! walks every one of them with every role (`tests/it/server_functions.rs`).

pub mod api;
pub mod web;
