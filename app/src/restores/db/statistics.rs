//! Fresh planner statistics before a restore's detection. The detection is
//! one statement over the inventory's history; planned from statistics that
//! have not seen a large load yet (a service's first snapshot moments
//! before, ahead of autovacuum), PostgreSQL chose nested loops over what it
//! took for a few rows and ran for more than fifteen minutes where a fresh
//! plan takes seconds (BENCHMARKS.md, "After the restore").

use sqlx::PgPool;

use crate::error::AppError;

/// The tables the detection reads.
const TABLES: [&str; 3] = ["entity", "entity_version", "reference_version"];

/// Analyses each of them that changed by more than a tenth (and a thousand
/// rows) since it was last analysed; the check is one read of PostgreSQL's
/// activity counters. Run outside the restore's transaction, so that its
/// lock (which only other analyses wait for) is not held to the commit.
pub async fn refresh_if_stale(db: &PgPool) -> Result<(), AppError> {
    let stale: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_stat_user_tables
         where relname = any($1) and schemaname = current_schema()
           and n_mod_since_analyze > greatest(1000, n_live_tup / 10)",
    )
    .bind(&TABLES[..])
    .fetch_all(db)
    .await?;
    for table in stale.iter().filter(|t| TABLES.contains(&t.as_str())) {
        sqlx::query(&format!("analyze {table}")).execute(db).await?;
    }
    Ok(())
}
