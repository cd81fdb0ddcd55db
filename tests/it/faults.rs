//! Faults: the database going away in the middle of an ingest leaves none
//! of it behind, the API answers 503 with a clear message while it is away,
//! and the server recovers by itself once it is back.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{ndjson, post_events, spawn_app};
use crate::outage::Outage;

const ENTITIES: usize = 2_000;

#[sqlx::test]
async fn an_ingest_cut_off_by_the_database_leaves_nothing_and_is_retried_whole(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let target: SocketAddr = format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .expect("the test database listens on TCP");
    let direct = PgPoolOptions::new()
        .connect_with(options.clone())
        .await
        .unwrap();
    let outage = Outage::start(target).await;
    let app = Arc::new(spawn_app(outage.pool(options)).await);
    let model = "services:\n  - {name: orders}\nrelations: []\n";
    assert_eq!(app.put_topology("application/yaml", model).await.status(), 200);

    let events: Vec<Value> = (0..ENTITIES)
        .map(|i| json!({"type": "entity", "key": format!("O/{i}"), "at": "2026-11-01T08:00:00Z", "seq": i}))
        .collect();
    let body = ndjson(&events);

    // Hold the versions table so the ingest waits inside its transaction
    // (its sequence numbers already written), then take the database away.
    let mut holder = direct.begin().await.unwrap();
    sqlx::query("lock table entity_version in access exclusive mode")
        .execute(&mut *holder)
        .await
        .unwrap();
    let ingest = {
        let (app, body) = (app.clone(), body.clone());
        tokio::spawn(async move {
            let response = post_events(&app, "orders", None, &body).await;
            (response.status(), response.text().await.unwrap())
        })
    };
    let waiting = async {
        loop {
            let blocked: i64 =
                sqlx::query_scalar(
                    "select count(*) from pg_locks
                     where not granted
                       and database = (select oid from pg_database where datname = current_database())",
                )
                    .fetch_one(&direct)
                    .await
                    .unwrap();
            if blocked > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the ingest never reached the lock");
    outage.stop();
    let (status, text) = ingest.await.unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("the database is unavailable"), "{text}");
    holder.rollback().await.unwrap();

    // While it is away, reads are 503 with the same message.
    let down = app
        .admin(Method::GET, "/api/v1/findings")
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);

    // Nothing of the cut-off request is there: no versions, no sequence numbers.
    let counts = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "select (select count(*) from entity_version), (select count(*) from ingested_event)",
        )
        .fetch_one(&direct)
        .await
        .unwrap()
    };
    // The relay's backend notices its client is gone once the lock is
    // free; until then its work is uncommitted, and after it rolls back.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(counts().await, (0, 0));

    // Back again: the same request is applied whole, without a restart.
    outage.restart();
    let retried = post_events(&app, "orders", None, &body).await;
    assert_eq!(retried.status(), 200, "{}", retried.text().await.unwrap());
    assert_eq!(counts().await, (ENTITIES as i64, ENTITIES as i64));
}
