//! Services, relations between them, and the lockstep groups they form.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backstage;
#[cfg(feature = "ssr")]
pub mod commands;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod document;
pub mod forms;
#[cfg(feature = "ssr")]
pub mod groups;
pub mod model;
#[cfg(feature = "ssr")]
pub mod picture;
#[cfg(feature = "ssr")]
pub mod runbook;
mod ui;

pub use ui::{GroupsPage, TopologyPage};
