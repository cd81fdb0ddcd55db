//! The reconciliation queue: findings to work after a restore.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
mod ui;

pub use ui::QueuePage;
