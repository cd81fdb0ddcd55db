//! The connection pool, the embedded migrations, and the server's own
//! questions to the database (is it there, how large is it).

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};

/// Migrations are compiled into the binary so a deployment is one file.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Builds the pool without waiting for the database: a server that starts
/// while PostgreSQL is down serves `/healthz` with 503 until it comes back.
pub fn pool(database_url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(16)
        // Fail fast when the database is away, so requests get a clear 503
        // instead of hanging; the pool reconnects by itself afterwards.
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(database_url)
        .context("DATABASE_URL is not a valid PostgreSQL connection string")
}

/// A pool whose first connection has been made, for commands that need the
/// database right away.
pub async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    let pool = pool(database_url)?;
    pool.acquire()
        .await
        .context("cannot reach the database at DATABASE_URL")?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("running migrations")
}

/// Whether the database answers (the health check).
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(pool)
        .await
        .map(drop)
}

/// The database's size, for people (`lockstep generate`'s last line).
pub async fn size(pool: &PgPool) -> anyhow::Result<String> {
    sqlx::query_scalar("select pg_size_pretty(pg_database_size(current_database()))")
        .fetch_one(pool)
        .await
        .context("database size")
}
