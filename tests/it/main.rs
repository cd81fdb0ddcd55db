//! Integration tests: the real router against a real PostgreSQL, each test
//! in its own database (`#[sqlx::test]` creates and migrates it).

mod accounts;
mod after_restore;
mod causes;
mod collectors;
mod concurrency;
mod distribution;
mod exposure;
mod faults;
mod generate;
mod health;
mod helpers;
mod inventory;
mod live_demo;
mod operability;
mod outage;
mod pages;
mod property;
mod restores;
mod server_functions;
mod statements;
mod suspected;
mod topology;
