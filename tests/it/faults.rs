//! Faults: the database going away in the middle of an ingest leaves none
//! of it behind, the API answers 503 with a clear message while it is away,
//! and the server recovers by itself once it is back; SIGTERM lets the
//! request in flight finish.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{ndjson, post_events, spawn_app, RealServer};
use crate::outage::Outage;
use std::process::Stdio;

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
    assert_eq!(
        app.put_topology("application/yaml", model).await.status(),
        200
    );

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

/// The real binary, stopped with SIGTERM while a large ingest is in
/// flight: it finishes the request (graceful shutdown) or, had it been cut,
/// would leave nothing — never part of it — and exits cleanly.
#[sqlx::test]
async fn sigterm_during_an_ingest_finishes_it_whole_or_leaves_nothing(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let direct = PgPoolOptions::new()
        .connect_with(options.clone())
        .await
        .unwrap();
    let (mut server, base) = RealServer::start(&options, &[], Stdio::null()).await;
    let client = reqwest::Client::new();
    let model = client
        .put(format!("{base}/api/v1/topology"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .header("content-type", "application/yaml")
        .body("services:\n  - {name: orders}\nrelations: []\n")
        .send()
        .await
        .unwrap();
    assert_eq!(model.status(), 200);

    const MANY: usize = 20_000;
    let events: Vec<Value> = (0..MANY)
        .map(|i| json!({"type": "entity", "key": format!("O/{i}"), "at": "2026-11-01T08:00:00Z"}))
        .collect();
    let ingest = {
        let (client, base, body) = (client.clone(), base.clone(), ndjson(&events));
        tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/services/orders/events"))
                .bearer_auth(crate::helpers::ADMIN_TOKEN)
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .map(|r| r.status())
        })
    };
    // Stop it once the ingest is being worked on.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let answer = ingest.await.unwrap();
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "the server did not stop cleanly: {exit:?}");

    let stored: i64 = sqlx::query_scalar("select count(*) from entity_version")
        .fetch_one(&direct)
        .await
        .unwrap();
    match answer {
        Ok(status) if status.is_success() => assert_eq!(stored, MANY as i64),
        other => assert_eq!(stored, 0, "half an ingest after {other:?}"),
    }
}
