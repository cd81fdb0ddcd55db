//! Causes (spec §8): a restore's or scan's findings grouped by what caused
//! them, decided a cause at a time, with a repair kit each.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod kit;
pub mod model;
#[cfg(feature = "ssr")]
pub mod tally;
mod ui;

pub use ui::CausesPanel;
