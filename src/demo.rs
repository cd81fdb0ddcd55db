//! The demo data `scripts/run.sh` starts with: an online shop, loaded only
//! into an empty database so a user's own model is never overwritten.

use app::topology::{db, document};
use sqlx::PgPool;

const SHOP_TOPOLOGY: &str = include_str!("../demo/shop-topology.yaml");

pub async fn load_if_empty(pool: &PgPool) -> anyhow::Result<()> {
    let existing: i64 = sqlx::query_scalar("select count(*) from service")
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        tracing::info!("demo data skipped: the database already holds a topology");
        return Ok(());
    }
    let topology = document::parse(SHOP_TOPOLOGY)
        .map_err(|problems| anyhow::anyhow!("the demo topology is invalid: {problems:?}"))?;
    db::replace(pool, &topology, false)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo topology: {e}"))?;
    tracing::info!(services = topology.services.len(), "demo topology loaded");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_topology_is_valid() {
        let topology = app::topology::document::parse(super::SHOP_TOPOLOGY).unwrap();
        assert_eq!(topology.services.len(), 8);
    }
}
