//! Suspected restores (spec §9): a snapshot that shows the service's state
//! going back in time raises one; plain deletes and late snapshots do not.

use serde_json::{json, Value};
use sqlx::PgPool;

use app::accounts::model::Role;

use crate::helpers::{ndjson, post_events, Browser, TestApp};
use crate::inventory::{put_snapshot, shop};

fn order(key: &str, at: &str) -> Value {
    json!({"type": "entity", "key": key, "at": format!("2026-11-01T{at}:00Z")})
}

async fn report(app: &TestApp, events: &[Value]) {
    let response = post_events(app, "orders", None, &ndjson(events)).await;
    assert_eq!(response.status(), 200);
}

async fn snapshot(app: &TestApp, at: &str, entities: &[Value]) {
    let response = put_snapshot(
        app,
        "orders",
        &format!("?at=2026-11-01T{at}:00Z"),
        &ndjson(entities),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn backup(app: &TestApp, at: &str) -> i64 {
    app.backup("orders", &format!("2026-11-01T{at}:00Z")).await
}

async fn open_gauge(app: &TestApp) -> Option<String> {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find(|l| l.starts_with("lockstep_suspected_restores_open{service=\"orders\"}"))
        .map(|l| l.rsplit(' ').next().unwrap().to_string())
}

#[sqlx::test]
async fn a_snapshot_that_goes_back_in_time_raises_one_suspicion_that_records_the_restore(
    pool: PgPool,
) {
    let app = shop(&pool).await;
    report(&app, &[order("O/1", "08:00"), order("O/3", "08:30")]).await;
    let backup_id = backup(&app, "09:00").await;
    // After the backup: O/2 is created and O/1 updated.
    report(&app, &[order("O/2", "10:00"), order("O/1", "10:30")]).await;

    // The service's database is restored to the backup: O/2 is gone, O/1
    // is back at its 08:00 version.
    let restored = [order("O/1", "08:00"), order("O/3", "08:30")];
    snapshot(&app, "11:00", &restored).await;
    let list = app.suspicions("orders").await;
    assert_eq!(list.len(), 1, "{list:?}");
    let suspicion = &list[0];
    assert_eq!(suspicion["backup_id"], backup_id);
    assert_eq!(suspicion["taken_at"], "2026-11-01T09:00:00Z");
    assert_eq!(suspicion["seen_at"], "2026-11-01T11:00:00Z");
    assert_eq!(suspicion["evidence"]["vanished"], 1);
    assert_eq!(suspicion["evidence"]["regressed"], 1);
    assert_eq!(suspicion["status"], "open");
    assert_eq!(open_gauge(&app).await.as_deref(), Some("1"));

    // The next snapshot still shows it: the same suspicion, first seen at 11:00.
    snapshot(&app, "11:30", &restored).await;
    let list = app.suspicions("orders").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["seen_at"], "2026-11-01T11:00:00Z");
    assert_eq!(list[0]["last_seen_at"], "2026-11-01T11:30:00Z");
    assert_eq!(
        list[0]["evidence"]["vanished"], 1,
        "the evidence keeps what the first snapshot showed"
    );

    let id = list[0]["id"].as_i64().unwrap();
    let recorded = app.record_suspicion("orders", id).await;
    assert_eq!(recorded.status(), 201);
    let restore: Value = recorded.json().await.unwrap();
    assert_eq!(restore["backup_id"], backup_id);
    assert_eq!(restore["restored_at"], "2026-11-01T11:00:00Z");
    assert_eq!(restore["epoch"], 1);

    let list = app.suspicions("orders").await;
    assert_eq!(list[0]["status"], "recorded");
    assert_eq!(list[0]["restore_id"], restore["id"]);
    assert_eq!(open_gauge(&app).await, None, "no open suspicion left");
    let again = app.record_suspicion("orders", id).await;
    assert_eq!(again.status(), 409);

    // The inventory is back at the backup: the same snapshot shows nothing new.
    snapshot(&app, "12:00", &restored).await;
    assert_eq!(app.suspicions("orders").await.len(), 1);
    let o1: String = sqlx::query_scalar(
        "select to_char(updated_at at time zone 'UTC', 'HH24:MI') from entity where key = 'O/1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(o1, "08:00", "rolled back to the backup");
}

#[sqlx::test]
async fn entities_gone_since_a_backup_are_suspected_and_can_be_dismissed(pool: PgPool) {
    let app = shop(&pool).await;
    report(&app, &[order("O/1", "08:00"), order("O/2", "08:10")]).await;
    let backup_id = backup(&app, "09:00").await;
    report(&app, &[order("O/3", "09:10"), order("O/4", "09:20")]).await;

    snapshot(
        &app,
        "10:00",
        &[order("O/1", "08:00"), order("O/2", "08:10")],
    )
    .await;
    let list = app.suspicions("orders").await;
    assert_eq!(
        list.len(),
        1,
        "everything written since the backup vanished"
    );
    assert_eq!(list[0]["backup_id"], backup_id);
    assert_eq!(list[0]["evidence"]["vanished"], 2);
    assert_eq!(list[0]["evidence"]["regressed"], 0);

    let id = list[0]["id"].as_i64().unwrap();
    let path =
        |id: i64, action: &str| format!("/api/v1/services/orders/suspected-restores/{id}/{action}");
    let dismissed = app
        .admin(reqwest::Method::POST, &path(id, "dismiss"))
        .send()
        .await
        .unwrap();
    assert_eq!(dismissed.status(), 204);
    assert_eq!(app.suspicions("orders").await[0]["status"], "dismissed");
    for (id, action, status) in [(id, "record", 409), (id + 1000, "record", 404)] {
        let response = app
            .admin(reqwest::Method::POST, &path(id, action))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{action} {id}");
    }
    let epoch: i32 = sqlx::query_scalar("select epoch from service where name = 'orders'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(epoch, 0, "a dismissed suspicion records nothing");
}

#[sqlx::test]
async fn plain_deletes_and_late_snapshots_raise_no_suspicion(pool: PgPool) {
    let app = shop(&pool).await;
    backup(&app, "07:00").await;
    let orders: Vec<Value> = ["08:00", "08:10", "08:20", "08:30", "08:40"]
        .iter()
        .enumerate()
        .map(|(i, at)| order(&format!("O/{}", i + 1), at))
        .collect();
    report(&app, &orders).await;

    // Hard deletes of O/2 and O/4: O/3, as old, survives between them.
    let kept = [&orders[0], &orders[2], &orders[4]].map(Clone::clone);
    snapshot(&app, "09:00", &kept).await;
    // A delete of the oldest, after a backup taken before any of them.
    snapshot(&app, "09:30", &kept[1..]).await;

    // A late snapshot: taken at 09:45, it cannot show O/6 (10:00) nor O/3's
    // update at 10:05, which arrived before it.
    report(&app, &[order("O/6", "10:00"), order("O/3", "10:05")]).await;
    snapshot(&app, "09:45", &kept[1..]).await;

    assert_eq!(app.suspicions("orders").await, Vec::<Value>::new());
    let live: Vec<(String, String)> = sqlx::query_as(
        "select key, to_char(updated_at at time zone 'UTC', 'HH24:MI') from entity
         where not deleted order by key",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let live: Vec<(&str, &str)> = live.iter().map(|(k, t)| (k.as_str(), t.as_str())).collect();
    assert_eq!(
        live,
        [("O/3", "10:05"), ("O/5", "08:40"), ("O/6", "10:00")],
        "the late snapshot deleted nothing written after it"
    );
}

#[sqlx::test]
async fn the_restores_page_shows_a_suspicion_and_records_it_without_javascript(pool: PgPool) {
    let app = shop(&pool).await;
    report(&app, &[order("O/1", "08:00")]).await;
    backup(&app, "09:00").await;
    report(&app, &[order("O/1", "10:00"), order("O/2", "10:10")]).await;
    snapshot(&app, "11:00", &[order("O/1", "08:00")]).await;

    let operator = Browser::signed_in(&app, &pool, "olga", Role::Operator).await;
    let page = operator.get("/restores").await.text().await.unwrap();
    assert!(page.contains("Suspected restores"), "{page}");
    assert!(page.contains("1 entities gone without a delete and 1 back at older versions"));
    assert!(page.contains("most likely restored from the backup of 2026-11-01 09:00 UTC"));
    assert!(page.contains("data-testid=\"record-suspected\""));
    let viewer = Browser::signed_in(&app, &pool, "vera", Role::Viewer).await;
    let page = viewer.get("/restores").await.text().await.unwrap();
    assert!(
        page.contains("Suspected restores") && !page.contains("data-testid=\"record-suspected\""),
        "a viewer sees the suspicion without the buttons"
    );

    let id = app.suspicions("orders").await[0]["id"].to_string();
    let sent = operator
        .submit_form(
            "/restores",
            "/api/fn/record_suspected_restore",
            &[("service", "orders"), ("id", &id)],
            true,
        )
        .await;
    assert!(
        sent.status().is_redirection() || sent.status().is_success(),
        "{}",
        sent.status()
    );
    let restores = app.get_json("/api/v1/restores").await;
    assert_eq!(restores.as_array().unwrap().len(), 1, "{restores}");
    assert_eq!(restores[0]["recorded_by"], "olga");
    assert_eq!(app.suspicions("orders").await[0]["status"], "recorded");
    let page = operator.get("/restores").await.text().await.unwrap();
    assert!(
        !page.contains("Suspected restores"),
        "no open suspicion left"
    );
}
