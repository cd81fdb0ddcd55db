//! Restores and what-if drills, with their amnesia intervals. Everything
//! that speaks SQL is under `db/`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
mod plan;
#[cfg(feature = "ssr")]
pub mod progress;
mod story;
mod suspicions;
pub(crate) mod ui;

pub use story::RestoreStoryPanel;
pub use ui::RestoresPage;
