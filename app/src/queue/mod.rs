//! The reconciliation queue: findings to work after a restore.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
mod ui;
pub mod vocabulary;

pub use ui::QueuePage;
