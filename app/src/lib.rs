//! Lockstep's Leptos application: the routes, pages, components and server
//! functions, compiled twice — with `ssr` into the server, with `hydrate`
//! into the browser's WASM.
//!
//! Features are folders (`topology`, `inventory`, `restores`, `queue`), each
//! owning its pages; `components` holds the UI pieces they share.

pub mod accounts;
pub mod api_reference;
pub mod app;
pub mod causes;
pub mod components;
#[cfg(feature = "ssr")]
pub mod download;
pub mod error;
pub mod exposure;
pub mod inventory;
#[cfg(feature = "ssr")]
pub mod metrics;
pub mod overview;
#[cfg(feature = "ssr")]
pub mod plain_form;
pub mod problem;
pub mod queue;
#[cfg(feature = "ssr")]
pub mod reference_model;
pub mod restores;
#[cfg(feature = "ssr")]
pub mod retry;
#[cfg(feature = "ssr")]
pub mod state;
pub mod topology;
#[cfg(feature = "ssr")]
pub mod yaml_reader;

pub use app::{shell, App};
