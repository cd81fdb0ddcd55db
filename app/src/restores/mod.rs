//! Restores and what-if drills, with their amnesia intervals.

pub mod api;
#[cfg(feature = "ssr")]
pub mod engine;
#[cfg(feature = "ssr")]
pub mod history;
pub mod model;
#[cfg(feature = "ssr")]
pub mod progress;
#[cfg(feature = "ssr")]
mod statistics;
mod ui;

pub use ui::RestoresPage;
