//! The reference inventory the services report: entities, references and
//! their history, backups, and the tokens services report with.

pub mod api;
#[cfg(feature = "ssr")]
pub mod changes;
#[cfg(feature = "ssr")]
mod copy;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod events;
pub mod model;
#[cfg(feature = "ssr")]
pub mod queries;
#[cfg(feature = "ssr")]
pub mod scan;
#[cfg(feature = "ssr")]
pub mod snapshot;
#[cfg(feature = "ssr")]
pub mod timeline;
#[cfg(feature = "ssr")]
pub mod tokens;
mod ui;
#[cfg(feature = "ssr")]
pub mod verify;

pub use ui::{InventoryPage, ServiceInventoryPage};
