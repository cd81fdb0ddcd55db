//! Accounts, roles, sessions and CSRF protection: who may see and change
//! what (issue 6). Every server function starts with
//! `session::require(Permission::…)` and is declared with
//! `client = csrf::CsrfClient`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod commands;
pub mod csrf;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod throttle;
pub mod ui;

pub use ui::{LoginPage, UsersPage};
