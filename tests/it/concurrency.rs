//! Writers that meet: a topology change beside an ingest, and two
//! transactions that take the same entities in opposite orders.

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{ndjson, post_events, TestApp};
use crate::inventory::shop;

/// Waits until some backend of this database waits for a lock of the kind
/// `event` (`advisory`, `transactionid`, `tuple`, …).
async fn someone_waits_for(pool: &PgPool, event: &str) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and wait_event = $1",
        )
        .bind(event)
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nobody waited for a lock of kind {event}");
}

fn orders_ingest(app: &TestApp, body: String) -> tokio::task::JoinHandle<reqwest::Response> {
    let app = TestApp {
        address: app.address.clone(),
        client: app.client.clone(),
    };
    tokio::spawn(async move { post_events(&app, "orders", None, &body).await })
}

#[sqlx::test]
async fn an_ingest_waits_for_a_topology_change_and_sees_what_it_did(pool: PgPool) {
    let app = shop(&pool).await;
    let body = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T10:00:00Z"}),
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T09:00:00Z", "at": "2026-11-01T10:00:00Z"}),
    ]);

    // A topology change under way holds the ingest off; when it changed
    // nothing, the ingest goes through.
    let mut change = pool.begin().await.unwrap();
    app::topology::db::lock_topology(&mut change).await.unwrap();
    let ingest = orders_ingest(&app, body.clone());
    someone_waits_for(&pool, "advisory").await;
    assert!(!ingest.is_finished());
    change.rollback().await.unwrap();
    assert_eq!(ingest.await.unwrap().status(), 200);

    // One that removes the service: the waiting ingest finds it gone (a
    // 404, not a deadlock or a 500) and writes nothing.
    let mut change = pool.begin().await.unwrap();
    app::topology::db::lock_topology(&mut change).await.unwrap();
    let ingest = orders_ingest(
        &app,
        ndjson(&[json!({"type": "entity", "key": "O/2", "at": "2026-11-01T11:00:00Z"})]),
    );
    someone_waits_for(&pool, "advisory").await;
    sqlx::query("delete from service where name = 'orders'")
        .execute(&mut *change)
        .await
        .unwrap();
    change.commit().await.unwrap();
    let gone = ingest.await.unwrap();
    assert_eq!(gone.status(), 404);
    let written: i64 = sqlx::query_scalar("select count(*) from entity_version where key = 'O/2'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(written, 0);
}

#[sqlx::test]
async fn an_ingest_aborted_to_break_a_deadlock_is_run_again(pool: PgPool) {
    let app = shop(&pool).await;
    let first = ndjson(&[
        json!({"type": "entity", "key": "C/1", "at": "2026-11-01T08:00:00Z"}),
        json!({"type": "entity", "key": "C/2", "at": "2026-11-01T08:00:00Z"}),
    ]);
    assert_eq!(
        post_events(&app, "customers", None, &first).await.status(),
        200
    );
    let first = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T08:00:00Z", "at": "2026-11-01T09:00:00Z"}),
    ]);
    assert_eq!(
        post_events(&app, "orders", None, &first).await.status(),
        200
    );

    // Another transaction holds C/2, as a second service's ingest adding to
    // its counter would. The ingest of orders updates O/1, then waits for
    // C/2 (O/1 now refers to it too); the other then asks for O/1: a
    // deadlock. The ingest's own check finds it first (the other waits 10 s
    // before it looks) and aborts it.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("set local deadlock_timeout = '10s'")
        .execute(&mut *other)
        .await
        .unwrap();
    sqlx::query("select 1 from entity where key = 'C/2' for update")
        .execute(&mut *other)
        .await
        .unwrap();
    let ingest = orders_ingest(
        &app,
        ndjson(&[
            json!({"type": "entity", "key": "O/1", "at": "2026-11-01T10:00:00Z", "data": {"v": 2}}),
            json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/2",
                   "at": "2026-11-01T10:00:00Z", "observed": "2026-11-01T09:30:00Z"}),
        ]),
    );
    someone_waits_for(&pool, "transactionid").await;
    sqlx::query("select 1 from entity where key = 'O/1' for update")
        .execute(&mut *other)
        .await
        .expect("the ingest, not this side, is aborted");
    other.commit().await.unwrap();

    let response = ingest.await.unwrap();
    assert_eq!(response.status(), 200, "retried, not failed");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"applied": 2, "replayed": 0})
    );
    let data: Option<Value> = sqlx::query_scalar(
        "select data from entity_version where key = 'O/1' and valid_to is null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        data,
        Some(json!({"v": 2})),
        "the retry wrote the new version"
    );
    let dependents: Vec<(String, i32)> =
        sqlx::query_as("select key, dependents from entity where key like 'C/%' order by key")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        dependents,
        vec![("C/1".into(), 1), ("C/2".into(), 1)],
        "each counter counted once"
    );
}
