//! The reference inventory the services report: entities, references and
//! their history, backups, and the tokens services report with.

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod scan;
#[cfg(feature = "ssr")]
pub mod tokens;
mod ui;

pub use ui::InventoryPage;
