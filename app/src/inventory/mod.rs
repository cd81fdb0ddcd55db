//! The reference inventory the services report: entities, references and
//! their history, backups, and the tokens services report with. Everything
//! that speaks SQL is under `db/`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod events;
pub mod model;
mod ui;

pub use ui::{InventoryPage, ServiceInventoryPage};
