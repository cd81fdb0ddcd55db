//! The live demo (spec §9): orders, customers and payments in real
//! databases, collected by the server; a real restore of orders from its
//! dump is suspected, recorded, and fills the queue.

use std::time::Duration;

use app::state::BackgroundTasks;
use lockstep::demo::{self, live};
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{spawn_app, ADMIN_TOKEN};

async fn live_entities(pool: &PgPool, service: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from entity e join service s using (service_id) where s.name = $1 and not e.deleted",
    )
    .bind(service)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits up to two minutes for `ready` (the whole suite shares two cores).
async fn eventually(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    for _ in 0..480 {
        if ready().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

#[sqlx::test]
async fn the_live_demos_disaster_is_a_real_restore_that_fills_the_queue(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let server = std::env::var("DATABASE_URL").unwrap();
    let server = server.rsplit_once('/').unwrap().0;
    let mysql = std::env::var("MYSQL_URL").expect("MYSQL_URL (scripts/test.sh provides one)");
    let tag = std::process::id();
    let list = format!(
        "orders={server}/shop_it_orders_{tag},customers={server}/shop_it_customers_{tag},payments={}/shop_it_payments_{tag}",
        mysql.trim_end_matches('/')
    );
    let dir = std::env::temp_dir().join(format!("lockstep-live-demo-{tag}"));
    let settings =
        live::Settings::parse(&list, Some(dir.to_string_lossy().into()), Some("1".into())).unwrap();
    let tasks = BackgroundTasks::default();
    assert!(
        demo::load_live(&tasks, &pool, &settings, &app.address, ADMIN_TOKEN)
            .await
            .unwrap()
    );

    // The collectors bring the seeded shop in, then the workload's orders.
    eventually("the seeded shop", async || {
        live_entities(&pool, "orders").await >= 80
    })
    .await;
    eventually("new orders and their payments", async || {
        live_entities(&pool, "orders").await > 81 && live_entities(&pool, "payments").await > 81
    })
    .await;
    assert_eq!(live_entities(&pool, "customers").await, 30);
    let backups: i64 = sqlx::query_scalar(
        "select count(*) from backup b join service s using (service_id) where s.name = 'orders'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(backups, 1, "one real dump of orders, recorded");

    live::disaster(&dir, "orders").await.unwrap();
    assert!(
        live::disaster(&dir, "catalog").await.is_err(),
        "only the demo's databases"
    );
    eventually("the suspected restore", async || {
        !app.suspicions("orders").await.is_empty()
    })
    .await;
    let suspicion = &app.suspicions("orders").await[0];
    assert!(
        suspicion["evidence"]["vanished"].as_i64().unwrap() >= 1,
        "{suspicion}"
    );
    assert!(suspicion["backup_id"].as_i64().is_some(), "{suspicion}");

    let id = suspicion["id"].as_i64().unwrap();
    let recorded = app.record_suspicion("orders", id).await;
    assert_eq!(recorded.status(), 201);
    let restore: Value = recorded.json().await.unwrap();
    assert!(
        restore["counts"]["broken_link"].as_i64().unwrap() >= 1,
        "payments refer to the orders the restore lost: {restore}"
    );
    let findings = app
        .get_json(&format!(
            "/api/v1/findings?restore={}&service=payments",
            restore["id"]
        ))
        .await;
    assert!(
        !findings["items"].as_array().unwrap().is_empty(),
        "{findings}"
    );
    assert!(tasks.stop());
}
