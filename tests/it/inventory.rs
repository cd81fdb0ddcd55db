//! Events, backups and tokens: `POST /api/v1/services/{service}/…`.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{ndjson, post_events, spawn_app, TestApp};

const SHOP: &str = "services: [{name: orders}, {name: customers}]\nrelations:\n  - { name: order.customer, from: orders, to: customers }\n";

/// Orders referring to customers, served by a new app.
pub async fn shop(pool: &PgPool) -> TestApp {
    let app = spawn_app(pool.clone()).await;
    assert_eq!(
        app.put_topology("application/yaml", SHOP).await.status(),
        200
    );
    app
}

/// The customers service reports these entities, all as of 08:00.
async fn customers(app: &TestApp, keys: &[&str]) {
    let events: Vec<Value> = keys
        .iter()
        .map(|key| json!({"type": "entity", "key": key, "at": "2026-11-01T08:00:00Z"}))
        .collect();
    let response = post_events(app, "customers", None, &ndjson(&events)).await;
    assert_eq!(response.status(), 200);
}

async fn entity(pool: &PgPool, service: &str, key: &str) -> (String, bool, i32, bool) {
    sqlx::query_as(
        "select to_char(e.updated_at at time zone 'UTC', 'HH24:MI'), e.deleted, e.dependents, e.to_delete
         from entity e join service s using (service_id) where s.name = $1 and e.key = $2",
    )
    .bind(service)
    .bind(key)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A reference's versions by their start: `(from, to, removed)`, as HH:MM.
async fn history(pool: &PgPool, from: &str, to: &str) -> Vec<(String, Option<String>, bool)> {
    sqlx::query_as(
        "select to_char(valid_from at time zone 'UTC', 'HH24:MI'),
                to_char(valid_to at time zone 'UTC', 'HH24:MI'), removed
         from reference_version where source_key = $1 and target_key = $2 order by valid_from",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn out_of_order_events_are_placed_by_their_timestamps(pool: PgPool) {
    let app = shop(&pool).await;
    let body = ndjson(&[
        json!({"type": "entity", "key": "C/3", "at": "2026-11-01T12:00:00Z", "data": {"v": 2}}),
        json!({"type": "entity", "key": "C/3", "at": "2026-11-01T10:00:00Z", "data": {"v": 1}}),
    ]);
    let response = post_events(&app, "customers", None, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"applied": 2, "replayed": 0})
    );
    // A third version arrives late, between the two.
    let late = ndjson(&[
        json!({"type": "entity", "key": "C/3", "at": "2026-11-01T11:00:00Z", "data": {"v": 1.5}}),
    ]);
    assert_eq!(
        post_events(&app, "customers", None, &late).await.status(),
        200
    );

    let chain: Vec<(String, Option<String>)> = sqlx::query_as(
        "select to_char(updated_at at time zone 'UTC', 'HH24:MI'), to_char(valid_to at time zone 'UTC', 'HH24:MI')
         from entity_version where key = 'C/3' order by updated_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected = [
        ("10:00", Some("11:00")),
        ("11:00", Some("12:00")),
        ("12:00", None),
    ];
    assert_eq!(
        chain,
        expected
            .map(|(a, b)| (a.to_string(), b.map(String::from)))
            .to_vec()
    );
    assert_eq!(
        entity(&pool, "customers", "C/3").await.0,
        "12:00",
        "current state is the newest version"
    );
}

#[sqlx::test]
async fn a_replayed_request_changes_nothing(pool: PgPool) {
    let app = shop(&pool).await;
    let body = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T10:00:00Z", "seq": 1}),
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T09:00:00Z", "at": "2026-11-01T10:00:00Z", "seq": 2}),
    ]);
    assert_eq!(post_events(&app, "orders", None, &body).await.status(), 200);
    let again = post_events(&app, "orders", None, &body).await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"applied": 0, "replayed": 2})
    );
    assert_eq!(count(&pool, "entity_version").await, 1);
    assert_eq!(count(&pool, "reference_version").await, 1);
}

#[sqlx::test]
async fn every_kind_of_bad_line_rejects_the_whole_request(pool: PgPool) {
    let app = shop(&pool).await;
    let body = [
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T10:00:00Z"}).to_string(),
        "{not json".to_string(),
        json!({"type": "entity", "key": "O/2", "at": "last tuesday"}).to_string(),
        json!({"type": "reference", "from": "O/1", "relation": "no.such", "to": "C/1",
               "observed": "2026-11-01T09:00:00Z", "at": "2026-11-01T10:00:00Z"})
        .to_string(),
        json!({"type": "reference", "from": "O/404", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T09:00:00Z", "at": "2026-11-01T10:00:00Z"})
        .to_string(),
    ]
    .join("\n");
    // Lines 2 and 3 fail to parse: reported without touching the database.
    let response = post_events(&app, "orders", None, &body).await;
    assert_eq!(response.status(), 422);
    let details: Value = response.json().await.unwrap();
    let lines: Vec<i64> = details["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3]);

    // Once the lines parse, the checks against the model report the rest.
    let body = body
        .lines()
        .enumerate()
        .filter(|(i, _)| ![1, 2].contains(i))
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n");
    let response = post_events(&app, "orders", None, &body).await;
    assert_eq!(response.status(), 422);
    let details: Value = response.json().await.unwrap();
    let found: Vec<(i64, String)> = details["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["line"].as_i64().unwrap(),
                d["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(2, "relation".to_string()), (3, "from".to_string())]
    );

    // A relation that does not start at the posting service.
    let wrong_side = ndjson(&[
        json!({"type": "entity", "key": "C/1", "at": "2026-11-01T10:00:00Z"}),
        json!({"type": "reference", "from": "C/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T09:00:00Z", "at": "2026-11-01T10:00:00Z"}),
    ]);
    let response = post_events(&app, "customers", None, &wrong_side).await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("does not start at this service"));

    assert_eq!(count(&pool, "entity_version").await, 0, "nothing applied");
    assert_eq!(count(&pool, "entity").await, 0);
}

#[sqlx::test]
async fn dependency_counters_follow_adds_removes_and_deletes(pool: PgPool) {
    let app = shop(&pool).await;
    customers(&app, &["C/1"]).await;
    let reference = |from: &str, at: &str, removed: bool| {
        json!({"type": "reference", "from": from, "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T08:00:00Z", "at": at, "removed": removed})
    };
    let orders = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
        json!({"type": "entity", "key": "O/2", "at": "2026-11-01T09:00:00Z"}),
        reference("O/1", "2026-11-01T09:00:00Z", false),
        reference("O/2", "2026-11-01T09:00:00Z", false),
    ]);
    assert_eq!(
        post_events(&app, "orders", None, &orders).await.status(),
        200
    );
    assert_eq!(entity(&pool, "customers", "C/1").await.2, 2);

    let remove = ndjson(&[reference("O/2", "2026-11-01T10:00:00Z", true)]);
    post_events(&app, "orders", None, &remove).await;
    assert_eq!(entity(&pool, "customers", "C/1").await.2, 1);

    // Deleted while O/1 still refers to it: flagged to_delete.
    let delete = ndjson(&[
        json!({"type": "entity", "key": "C/1", "at": "2026-11-01T11:00:00Z", "deleted": true}),
    ]);
    post_events(&app, "customers", None, &delete).await;
    assert_eq!(
        entity(&pool, "customers", "C/1").await,
        ("11:00".into(), true, 1, true)
    );

    // The last reference goes: the counter reaches 0 and the flag clears.
    let remove = ndjson(&[reference("O/1", "2026-11-01T12:00:00Z", true)]);
    post_events(&app, "orders", None, &remove).await;
    assert_eq!(
        entity(&pool, "customers", "C/1").await,
        ("11:00".into(), true, 0, false)
    );
}

#[sqlx::test]
async fn a_service_token_writes_only_its_own_service(pool: PgPool) {
    let app = shop(&pool).await;
    let minted = app
        .admin(reqwest::Method::POST, "/api/v1/services/orders/tokens")
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), 201);
    let token = minted.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.starts_with("lst_"));
    let stored: String = sqlx::query_scalar("select token_sha256 from service_token")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_ne!(stored, token, "only a hash is kept");

    let own = ndjson(&[json!({"type": "entity", "key": "O/1", "at": "2026-11-01T10:00:00Z"})]);
    assert_eq!(
        post_events(&app, "orders", Some(&token), &own)
            .await
            .status(),
        200
    );
    let other = ndjson(&[json!({"type": "entity", "key": "C/1", "at": "2026-11-01T10:00:00Z"})]);
    assert_eq!(
        post_events(&app, "customers", Some(&token), &other)
            .await
            .status(),
        403
    );
    assert_eq!(
        post_events(&app, "orders", Some("lst_forged"), &own)
            .await
            .status(),
        401
    );

    let backup = |token: String| {
        app.client
            .post(app.url("/api/v1/services/orders/backups"))
            .bearer_auth(token)
            .body(r#"{"taken_at": "2026-11-01T02:00:00Z", "label": "nightly"}"#)
            .send()
    };
    assert_eq!(backup(token.clone()).await.unwrap().status(), 201);
    // A service token may not mint tokens nor read the model.
    let mint = app
        .client
        .post(app.url("/api/v1/services/orders/tokens"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mint.status(), 403);
    let read = app
        .client
        .get(app.url("/api/v1/topology"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 403);
    assert_eq!(count(&pool, "entity_version").await, 1);
}

#[sqlx::test]
async fn backups_are_recorded_and_bad_ones_refused(pool: PgPool) {
    let app = shop(&pool).await;
    let post = |body: &'static str| {
        app.admin(reqwest::Method::POST, "/api/v1/services/orders/backups")
            .body(body)
            .send()
    };
    let created = post(r#"{"taken_at": "2026-11-01T02:00:00Z"}"#)
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (epoch, taken): (i32, String) = sqlx::query_as(
        "select epoch, to_char(taken_at at time zone 'UTC', 'HH24:MI') from backup where backup_id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((epoch, taken.as_str()), (0, "02:00"));

    for bad in [r#"{"taken_at": "tonight"}"#, r#"{}"#, "not json"] {
        let response = post(bad).await.unwrap();
        assert_eq!(response.status(), 422, "{bad}");
        assert!(response.json::<Value>().await.unwrap()["details"][0]["message"].is_string());
    }
    let unknown = app
        .admin(reqwest::Method::POST, "/api/v1/services/nope/backups")
        .body(r#"{"taken_at": "2026-11-01T02:00:00Z"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(count(&pool, "backup").await, 1);
}

#[sqlx::test]
async fn an_oversized_request_is_refused_with_413(pool: PgPool) {
    let app = shop(&pool).await;
    let line =
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T10:00:00Z"}).to_string() + "\n";
    let body = line.repeat(33 * 1024 * 1024 / line.len() + 1);
    let response = post_events(&app, "orders", None, &body).await;
    assert_eq!(response.status(), 413);
    assert_eq!(count(&pool, "entity_version").await, 0);
}

#[sqlx::test]
async fn the_scan_flags_dangling_deletes_once_and_clears_stale_flags(pool: PgPool) {
    let app = shop(&pool).await;
    customers(&app, &["C/1", "C/2"]).await;
    post_events(&app, "orders", None, &ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T08:00:00Z", "at": "2026-11-01T09:00:00Z", "cache": {"name": "Ada"}}),
    ]))
    .await;
    post_events(
        &app,
        "customers",
        None,
        &ndjson(&[
            json!({"type": "entity", "key": "C/1", "at": "2026-11-01T10:00:00Z", "deleted": true}),
        ]),
    )
    .await;
    // C/2's flag is stale (nothing refers to it): the scan's recount clears it.
    sqlx::query(
        "update entity set to_delete = true, deleted = true, dependents = 3 where key = 'C/2'",
    )
    .execute(&pool)
    .await
    .unwrap();

    let scan = |app: &TestApp| app.admin(reqwest::Method::POST, "/api/v1/scans").send();
    let first: Value = scan(&app).await.unwrap().json().await.unwrap();
    assert_eq!(
        first["counts"],
        json!({"dangling_delete": 1, "to_delete_cleared": 1})
    );
    let (kind, source, target, strategy, cached): (String, String, String, String, Value) =
        sqlx::query_as(
            "select kind, source_key, target_key, strategy, cached from finding where scan_id = $1",
        )
        .bind(first["id"].as_i64().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (
            kind.as_str(),
            source.as_str(),
            target.as_str(),
            strategy.as_str()
        ),
        ("dangling_delete", "O/1", "C/1", "cache")
    );
    assert_eq!(cached, json!({"name": "Ada"}));
    assert_eq!(entity(&pool, "customers", "C/2").await.2, 0);

    let second: Value = scan(&app).await.unwrap().json().await.unwrap();
    assert_eq!(
        second["counts"],
        json!({"dangling_delete": 0, "to_delete_cleared": 0}),
        "no double flags"
    );
    assert_eq!(count(&pool, "finding").await, 1);
}

/// Posts one reference of `from` to `to` at `at` (HH:MM on 1 November).
async fn refer(app: &TestApp, service: &str, relation: &str, from: &str, to: &str, at: &str) {
    let at = format!("2026-11-01T{at}:00Z");
    post_events(
        app,
        service,
        None,
        &ndjson(&[
            json!({"type": "entity", "key": from, "at": at}),
            json!({"type": "reference", "from": from, "relation": relation, "to": to,
               "observed": "2026-11-01T08:00:00Z", "at": at}),
        ]),
    )
    .await;
}

async fn delete(app: &TestApp, service: &str, key: &str, at: &str) {
    let at = format!("2026-11-01T{at}:00Z");
    post_events(
        app,
        service,
        None,
        &ndjson(&[json!({"type": "entity", "key": key, "at": at, "deleted": true})]),
    )
    .await;
}

async fn scan_pass(app: &TestApp, query: &str) -> Value {
    let response = app
        .admin(reqwest::Method::POST, &format!("/api/v1/scans{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[sqlx::test]
async fn an_incremental_scan_looks_only_at_what_changed_since_the_last_pass(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let topology = "services: [{name: orders}, {name: customers}]\nrelations:\n  \
                    - { name: order.customer, from: orders, to: customers }\n  \
                    - { name: customer.referrer, from: customers, to: customers }\n";
    assert_eq!(
        app.put_topology("application/yaml", topology)
            .await
            .status(),
        200
    );
    customers(&app, &["C/1", "C/2", "C/3", "C/4"]).await;
    refer(&app, "orders", "order.customer", "O/1", "C/1", "09:00").await;
    refer(&app, "orders", "order.customer", "O/2", "C/2", "09:00").await;
    let full = scan_pass(&app, "?full=true").await;
    assert_eq!(
        (full["full"].clone(), full["examined"].clone()),
        (json!(true), json!(0))
    );

    // A deletion is the next pass's only entity.
    delete(&app, "customers", "C/1", "10:00").await;
    let first = scan_pass(&app, "").await;
    assert_eq!(first["full"], false);
    assert_eq!(first["examined"], 1);
    assert_eq!(first["counts"]["dangling_delete"], 1);
    let quiet = scan_pass(&app, "").await;
    assert_eq!(
        (
            quiet["examined"].clone(),
            quiet["counts"]["dangling_delete"].clone()
        ),
        (json!(0), json!(0)),
        "nothing changed since: nothing looked at"
    );

    // An operator resolves the finding while the reference still dangles:
    // the next pass raises the condition again, as a full pass would.
    let id: i64 =
        sqlx::query_scalar("select finding_id from finding where kind = 'dangling_delete'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let resolved = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/findings/{id}/resolve"),
        )
        .json(&json!({"note": "told the team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), 200);
    assert_eq!(scan_pass(&app, "").await["counts"]["dangling_delete"], 1);

    // Deleted first, referred to afterwards: by another service (its
    // counter rises) and by the service itself (the counter leaves it out).
    delete(&app, "customers", "C/3", "10:00").await;
    delete(&app, "customers", "C/4", "10:00").await;
    assert_eq!(scan_pass(&app, "").await["counts"]["dangling_delete"], 0);
    refer(&app, "orders", "order.customer", "O/3", "C/3", "11:00").await;
    refer(
        &app,
        "customers",
        "customer.referrer",
        "C/2",
        "C/4",
        "11:00",
    )
    .await;
    let late = scan_pass(&app, "").await;
    assert_eq!(late["counts"]["dangling_delete"], 2, "{late}");
    let flagged: Vec<String> =
        sqlx::query_scalar("select target_key from finding where scan_id = $1 order by target_key")
            .bind(late["id"].as_i64().unwrap())
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(flagged, ["C/3", "C/4"]);

    // A full pass finds nothing the incremental ones missed.
    let full = scan_pass(&app, "?full=true").await;
    assert_eq!(full["counts"]["dangling_delete"], 0);
    assert_eq!(full["examined"], 3);

    // A bad flag is refused before any pass is recorded.
    let scans = count(&pool, "scan").await;
    let refused = app
        .admin(reqwest::Method::POST, "/api/v1/scans?full=maybe")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("full"));
    assert_eq!(count(&pool, "scan").await, scans);
}

#[sqlx::test]
async fn dropping_a_service_or_relation_with_inventory_needs_force(pool: PgPool) {
    let app = shop(&pool).await;
    customers(&app, &["C/1"]).await;
    post_events(
        &app,
        "orders",
        None,
        &ndjson(&[
            json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
            json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T08:00:00Z", "at": "2026-11-01T09:00:00Z"}),
        ]),
    )
    .await;
    let before = app.get_json("/api/v1/topology").await;

    // Dropping the relation alone, then a service, is refused with the reason.
    let without_relation = "services: [{name: orders}, {name: customers}]\nrelations: []\n";
    let refused = app.put_topology("application/yaml", without_relation).await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("relation order.customer"),
        "{body}"
    );
    let without_orders = "services: [{name: customers}]\nrelations: []\n";
    let refused = app.put_topology("application/yaml", without_orders).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("service orders"));
    assert_eq!(
        app.get_json("/api/v1/topology").await,
        before,
        "nothing changed"
    );
    assert_eq!(count(&pool, "reference_version").await, 1);

    // Forced, the service goes and its inventory with it.
    let forced = app
        .admin(reqwest::Method::PUT, "/api/v1/topology?force=true")
        .body(without_orders)
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 200);
    assert_eq!(count(&pool, "reference_version").await, 0);
    assert_eq!(
        count(&pool, "entity_version").await,
        1,
        "customers keeps its inventory"
    );
}

pub async fn put_snapshot(app: &TestApp, service: &str, at: &str, body: &str) -> reqwest::Response {
    app.admin(
        reqwest::Method::PUT,
        &format!("/api/v1/services/{service}/inventory{at}"),
    )
    .body(body.to_string())
    .send()
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_snapshot_records_the_difference_and_removes_what_is_absent(pool: PgPool) {
    let app = shop(&pool).await;
    customers(&app, &["C/1", "C/2"]).await;
    let reference = |from: &str, to: &str| {
        json!({"type": "reference", "from": from, "relation": "order.customer", "to": to,
               "observed": "2026-11-01T08:00:00Z", "at": "2026-11-01T09:00:00Z"})
    };
    post_events(
        &app,
        "orders",
        None,
        &ndjson(&[
            json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
            json!({"type": "entity", "key": "O/2", "at": "2026-11-01T09:00:00Z"}),
            reference("O/1", "C/1"),
            reference("O/2", "C/2"),
        ]),
    )
    .await;

    // O/1 and its reference unchanged, O/2 gone, O/3 new (taking the snapshot's time).
    let snapshot = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
        json!({"type": "entity", "key": "O/3", "data": {"note": "has \"quotes\", commas"}}),
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
               "observed": "2026-11-01T08:00:00Z"}),
        json!({"type": "reference", "from": "O/3", "relation": "order.customer", "to": "C/2",
               "observed": "2026-11-01T08:00:00Z", "cache": {"name": "Bo"}}),
    ]);
    let response = put_snapshot(&app, "orders", "?at=2026-11-01T12:00:00Z", &snapshot).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"applied": 4, "replayed": 0})
    );

    assert!(
        entity(&pool, "orders", "O/2").await.1,
        "absent: deleted as of `at`"
    );
    assert_eq!(entity(&pool, "orders", "O/3").await.0, "12:00");
    assert_eq!(entity(&pool, "customers", "C/1").await.2, 1);
    assert_eq!(
        entity(&pool, "customers", "C/2").await.2,
        1,
        "O/2's reference removed, O/3's added"
    );
    let data: Value = sqlx::query_scalar("select data from entity_version where key = 'O/3'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(data, json!({"note": "has \"quotes\", commas"}));
    let o1_versions: i64 =
        sqlx::query_scalar("select count(*) from entity_version where key = 'O/1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(o1_versions, 1, "an unchanged entity gets no new version");

    // The same snapshot again changes nothing. (Entities without their own
    // `at` are taken as updated at the snapshot's `at`.)
    let again = put_snapshot(&app, "orders", "?at=2026-11-01T12:00:00Z", &snapshot).await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"applied": 0, "replayed": 0})
    );

    // Without `at`, or with a bad line, nothing is applied.
    let versions = count(&pool, "entity_version").await;
    assert_eq!(
        put_snapshot(&app, "orders", "", &snapshot).await.status(),
        422
    );
    let bad = put_snapshot(
        &app,
        "orders",
        "?at=2026-11-01T14:00:00Z",
        "{\"type\":\"entity\"}\n",
    )
    .await;
    assert_eq!(bad.status(), 422);
    assert_eq!(count(&pool, "entity_version").await, versions);
}

/// Live entities, references held and referred to, counted the slow way.
async fn brute_counts(pool: &PgPool) -> Vec<(String, i64, i64, i64)> {
    sqlx::query_as(
        "select s.name,
                (select count(*) from entity e where e.service_id = s.service_id and not e.deleted),
                (select count(*) from reference_version r where r.source_service_id = s.service_id
                   and r.valid_to is null and not r.removed),
                (select count(*) from reference_version r where r.target_service_id = s.service_id
                   and r.valid_to is null and not r.removed)
         from service s order by s.name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn overview_counts(pool: &PgPool) -> Vec<(String, i64, i64, i64)> {
    app::inventory::db::queries::overview(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.entities, s.outgoing, s.incoming))
        .collect()
}

#[sqlx::test]
async fn a_first_snapshot_and_the_next_keep_versions_and_counts_right(pool: PgPool) {
    let app = shop(&pool).await;
    customers(&app, &["C/1", "C/2", "C/3"]).await;
    let reference = |from: &str, to: &str, observed: &str| {
        json!({"type": "reference", "from": from, "relation": "order.customer", "to": to,
               "observed": observed})
    };
    // orders' complete state: O/1 and O/2, holding these references.
    let snapshot = |at: &'static str, references: Vec<Value>| {
        let app = &app;
        async move {
            let mut lines = vec![
                json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
                json!({"type": "entity", "key": "O/2", "at": "2026-11-01T09:00:00Z"}),
            ];
            lines.extend(references);
            let response = put_snapshot(app, "orders", at, &ndjson(&lines)).await;
            response.json::<Value>().await.unwrap()
        }
    };
    // orders' first snapshot: nothing to compare with.
    let first = snapshot(
        "?at=2026-11-01T10:00:00Z",
        vec![
            reference("O/1", "C/1", "2026-11-01T08:00:00Z"),
            reference("O/2", "C/1", "2026-11-01T08:00:00Z"),
            reference("O/2", "C/2", "2026-11-01T08:00:00Z"),
        ],
    )
    .await;
    assert_eq!(first, json!({"applied": 5, "replayed": 0}));
    assert_eq!(entity(&pool, "customers", "C/1").await.2, 2);
    assert_eq!(overview_counts(&pool).await, brute_counts(&pool).await);
    assert_eq!(
        overview_counts(&pool).await,
        vec![("customers".into(), 3, 0, 3), ("orders".into(), 2, 3, 0)]
    );

    // The next one re-observes O/1 → C/1, drops O/2 → C/1, adds O/2 → C/3.
    let holding = |o1_observed| {
        vec![
            reference("O/1", "C/1", o1_observed),
            reference("O/2", "C/2", "2026-11-01T08:00:00Z"),
            reference("O/2", "C/3", "2026-11-01T08:00:00Z"),
        ]
    };
    let second = snapshot("?at=2026-11-01T12:00:00Z", holding("2026-11-01T11:00:00Z")).await;
    assert_eq!(second, json!({"applied": 3, "replayed": 0}));
    assert_eq!(
        history(&pool, "O/1", "C/1").await,
        vec![
            ("10:00".into(), Some("12:00".into()), false),
            ("12:00".into(), None, false)
        ],
        "the re-observed reference's first version ends where the second starts"
    );
    for (key, dependents) in [("C/1", 1), ("C/2", 1), ("C/3", 1)] {
        assert_eq!(entity(&pool, "customers", key).await.2, dependents, "{key}");
    }
    assert_eq!(overview_counts(&pool).await, brute_counts(&pool).await);

    // Events count too: a customer deleted, a reference removed.
    post_events(
        &app,
        "orders",
        None,
        &ndjson(&[
            json!({"type": "reference", "from": "O/2", "relation": "order.customer",
                         "to": "C/3", "at": "2026-11-01T13:00:00Z", "removed": true}),
        ]),
    )
    .await;
    post_events(
        &app,
        "customers",
        None,
        &ndjson(&[
            json!({"type": "entity", "key": "C/3", "at": "2026-11-01T13:00:00Z",
                         "deleted": true}),
        ]),
    )
    .await;
    assert_eq!(
        overview_counts(&pool).await,
        vec![("customers".into(), 2, 0, 2), ("orders".into(), 2, 2, 0)]
    );
    assert_eq!(overview_counts(&pool).await, brute_counts(&pool).await);

    // A later snapshot holds O/2 → C/3 again, whose current version is the
    // removal, and re-observes O/1 → C/1 once more: both are appended to
    // their histories, ending the current version where they begin, and the
    // deleted C/3 is referred to again.
    let third = snapshot("?at=2026-11-01T14:00:00Z", holding("2026-11-01T13:30:00Z")).await;
    assert_eq!(third, json!({"applied": 2, "replayed": 0}));
    assert_eq!(
        history(&pool, "O/2", "C/3").await,
        vec![
            ("12:00".into(), Some("13:00".into()), false),
            ("13:00".into(), Some("14:00".into()), true),
            ("14:00".into(), None, false)
        ]
    );
    assert_eq!(entity(&pool, "customers", "C/1").await.2, 1);
    let c3 = entity(&pool, "customers", "C/3").await;
    assert_eq!(
        (c3.1, c3.2, c3.3),
        (true, 1, true),
        "deleted, referred to again"
    );
    assert_eq!(overview_counts(&pool).await, brute_counts(&pool).await);
}

/// A snapshot taken before the service's restore and sent after it writes
/// in the new epoch, as an event without an epoch would: from the epoch's
/// start. What it lacks is removed or deleted there; what was recorded after
/// the snapshot was taken stays.
#[sqlx::test]
async fn a_snapshot_taken_before_a_restore_writes_from_the_epochs_start(pool: PgPool) {
    let app = shop(&pool).await;
    customers(&app, &["C/1", "C/2"]).await;
    let reference = |to: &str, at: &str| {
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": to,
               "observed": "2026-11-01T08:00:00Z", "at": at})
    };
    let events = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"}),
        json!({"type": "entity", "key": "O/2", "at": "2026-11-01T09:00:00Z"}),
        reference("C/1", "2026-11-01T09:00:00Z"),
    ]);
    assert_eq!(
        post_events(&app, "orders", None, &events).await.status(),
        200
    );
    let restore = app
        .admin(reqwest::Method::POST, "/api/v1/services/orders/restores")
        .json(&json!({"taken_at": "2026-11-01T09:30:00Z", "restored_at": "2026-11-01T11:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(restore.status(), 201);
    // Recorded in the new epoch, after the snapshot below was taken.
    let later = ndjson(&[reference("C/2", "2026-11-01T11:30:00Z")]);
    assert_eq!(
        post_events(&app, "orders", None, &later).await.status(),
        200
    );

    // Taken at 10:00: O/1 without references, O/2 gone.
    let snapshot = ndjson(&[json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z"})]);
    let response = put_snapshot(&app, "orders", "?at=2026-11-01T10:00:00Z", &snapshot).await;
    assert_eq!(response.status(), 200);

    assert_eq!(
        history(&pool, "O/1", "C/1").await,
        vec![
            ("09:00".into(), Some("11:00".into()), false),
            ("11:00".into(), None, true)
        ],
        "removed from the epoch's start"
    );
    assert_eq!(
        history(&pool, "O/1", "C/2").await,
        vec![("11:30".into(), None, false)],
        "recorded after the snapshot was taken: kept"
    );
    let from: Option<String> = sqlx::query_scalar(
        "select to_char(coalesce(valid_from, updated_at) at time zone 'UTC', 'HH24:MI')
         from entity_version where key = 'O/2' and deleted",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        from.as_deref(),
        Some("11:00"),
        "deleted from the epoch's start"
    );
    assert!(entity(&pool, "orders", "O/2").await.1);
    assert_eq!(entity(&pool, "customers", "C/1").await.2, 0);
    assert_eq!(entity(&pool, "customers", "C/2").await.2, 1);
}

#[sqlx::test]
async fn a_first_snapshot_keeps_one_line_of_each_and_is_counted_by_targets_reporting_later(
    pool: PgPool,
) {
    let app = shop(&pool).await;
    // orders reports first, referring to customers that have reported
    // nothing yet; O/1 and O/1 → C/1 are each sent twice.
    let orders = put_snapshot(
        &app,
        "orders",
        "?at=2026-11-01T10:00:00Z",
        &ndjson(&[
            json!({"type": "entity", "key": "O/1", "at": "2026-11-01T09:00:00Z", "data": {"v": 2}}),
            json!({"type": "entity", "key": "O/1", "at": "2026-11-01T08:00:00Z", "data": {"v": 1}}),
            json!({"type": "entity", "key": "O/2"}),
            json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
                   "observed": "2026-11-01T07:00:00Z"}),
            json!({"type": "reference", "from": "O/2", "relation": "order.customer", "to": "C/1",
                   "observed": "2026-11-01T07:00:00Z"}),
            json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/1",
                   "observed": "2026-11-01T07:30:00Z", "cache": {"name": "Ann \"A\", Jr."}}),
            json!({"type": "reference", "from": "O/2", "relation": "order.customer", "to": "C/2",
                   "observed": "2026-11-01T07:00:00Z"}),
        ]),
    )
    .await;
    assert_eq!(
        orders.json::<Value>().await.unwrap(),
        json!({"applied": 5, "replayed": 0})
    );
    let versions: Vec<(String, String, Option<Value>)> = sqlx::query_as(
        "select key, to_char(updated_at at time zone 'UTC', 'HH24:MI'), data
         from entity_version order by key",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        versions,
        vec![
            ("O/1".into(), "09:00".into(), Some(json!({"v": 2}))),
            ("O/2".into(), "10:00".into(), None),
        ],
        "the latest line of O/1; O/2 as of the snapshot"
    );
    let kept: (String, Option<Value>) = sqlx::query_as(
        "select to_char(observed_at at time zone 'UTC', 'HH24:MI'), cache
         from reference_version where source_key = 'O/1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        kept,
        ("07:30".into(), Some(json!({"name": "Ann \"A\", Jr."}))),
        "the later line of a reference sent twice, its cached copy intact"
    );

    // customers' first snapshot finds the references already held on it.
    let customers = put_snapshot(
        &app,
        "customers",
        "?at=2026-11-01T11:00:00Z",
        &ndjson(&[
            json!({"type": "entity", "key": "C/1"}),
            json!({"type": "entity", "key": "C/2"}),
            json!({"type": "entity", "key": "C/3"}),
        ]),
    )
    .await;
    assert_eq!(customers.status(), 200);
    for (key, dependents) in [("C/1", 2), ("C/2", 1), ("C/3", 0)] {
        assert_eq!(entity(&pool, "customers", key).await.2, dependents, "{key}");
    }
    assert_eq!(overview_counts(&pool).await, brute_counts(&pool).await);
}
