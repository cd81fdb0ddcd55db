//! Lockstep's server: configuration, start-up, telemetry and the plain axum
//! routes (health, the `/api/v1` contract). The pages and server functions
//! live in the `app` crate so that the browser build shares their types.

pub mod accounts;
pub mod auth;
pub mod backup_run;
pub mod cli;
pub mod collect;
pub mod db;
pub mod demo;
pub mod generate;
pub mod observe;
pub mod routes;
pub mod startup;
pub mod telemetry;
