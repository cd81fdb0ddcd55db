//! Restores, drills and the queue: every row of the spec's detection table
//! (§5) with its negative cases, the rollback, the amnesia interval, and
//! the operators' actions.

use app::queue::{
    db as queue,
    model::{Action, ActionInput},
};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{ndjson, post_events, spawn_app, Browser, TestApp};

/// customers is the service restored. orders and invoices refer to it (the
/// invoices keep a copy), crm mirrors it, it mirrors into ledger, and it
/// refers to the catalog, as orders do.
pub(crate) const MODEL: &str = "
services:
  - {name: customers, pattern: event-sourced}
  - {name: orders}
  - {name: invoices}
  - {name: crm}
  - {name: ledger}
  - {name: catalog}
relations:
  - {name: order.customer, from: orders, to: customers}
  - {name: invoice.customer, from: invoices, to: customers, cached: true}
  - {name: crm.customer, from: crm, to: customers, kind: mirror}
  - {name: customer.ledger, from: customers, to: ledger, kind: mirror}
  - {name: customer.product, from: customers, to: catalog, required: false}
  - {name: order.product, from: orders, to: catalog}
";

pub(crate) const BACKUP: &str = "2026-11-01T12:00:00Z";
pub(crate) const RESTORED: &str = "2026-11-01T15:00:00Z";

pub(crate) fn entity(key: &str, at: &str) -> Value {
    json!({"type": "entity", "key": key, "at": format!("2026-11-01T{at}:00Z"), "data": {"at": at}})
}

pub(crate) fn reference(from: &str, relation: &str, to: &str, observed: &str, at: &str) -> Value {
    json!({"type": "reference", "from": from, "relation": relation, "to": to,
           "observed": format!("2026-11-01T{observed}:00Z"), "at": format!("2026-11-01T{at}:00Z")})
}

pub(crate) async fn report(app: &TestApp, service: &str, events: Vec<Value>) {
    let response = post_events(app, service, None, &ndjson(&events)).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// The inventory around a 12:00 backup of customers (times are 2026-11-01):
/// - C/1 unchanged since 08:00; C/2 updated at 13:00; C/3, C/5 and C/6
///   created after the backup.
/// - O/2 saw C/2's 13:00 update (stale); I/2 saw only its 08:00 version.
/// - O/3 and I/3 (with a copy) refer to C/3 (broken links).
/// - crm's C/5 mirrors customers' C/5 (missing state); customers' C/6
///   mirrors into ledger's C/6 (mirrors share their keys, spec §5).
/// - C/1 began referring to P/1 and P/2 at 13:00 and to P/3 at 10:00; the
///   orders refer to P/2 too.
pub(crate) async fn restored_shop(pool: &PgPool) -> TestApp {
    let app = spawn_app(pool.clone()).await;
    assert_eq!(
        app.put_topology("application/yaml", MODEL).await.status(),
        200
    );
    report(
        &app,
        "customers",
        vec![
            entity("C/1", "08:00"),
            entity("C/2", "08:00"),
            entity("C/2", "13:00"),
            entity("C/3", "14:00"),
            entity("C/5", "13:00"),
            entity("C/6", "13:00"),
            reference("C/1", "customer.product", "P/1", "09:00", "13:00"),
            reference("C/1", "customer.product", "P/2", "09:00", "13:00"),
            reference("C/1", "customer.product", "P/3", "09:00", "10:00"),
            reference("C/6", "customer.ledger", "C/6", "13:00", "13:00"),
        ],
    )
    .await;
    report(
        &app,
        "catalog",
        vec![
            entity("P/1", "09:00"),
            entity("P/2", "09:00"),
            entity("P/3", "09:00"),
        ],
    )
    .await;
    report(&app, "ledger", vec![entity("C/6", "13:00")]).await;
    report(
        &app,
        "crm",
        vec![
            entity("C/5", "13:00"),
            reference("C/5", "crm.customer", "C/5", "13:00", "13:00"),
        ],
    )
    .await;
    report(
        &app,
        "orders",
        vec![
            entity("O/1", "09:00"),
            entity("O/2", "13:00"),
            entity("O/3", "14:00"),
            reference("O/1", "order.product", "P/2", "09:00", "09:00"),
            reference("O/2", "order.customer", "C/2", "13:00", "13:00"),
            reference("O/3", "order.customer", "C/3", "14:00", "14:00"),
        ],
    )
    .await;
    let mut cached = reference("I/3", "invoice.customer", "C/3", "14:00", "14:30");
    cached["cache"] = json!({"name": "Ada", "version": "14:00"});
    report(
        &app,
        "invoices",
        vec![
            entity("I/2", "09:00"),
            entity("I/3", "14:30"),
            reference("I/2", "invoice.customer", "C/2", "08:00", "09:00"),
            cached,
        ],
    )
    .await;
    app
}

pub(crate) async fn restore(app: &TestApp, body: Value) -> (reqwest::StatusCode, Value) {
    let response = app
        .admin(Method::POST, "/api/v1/services/customers/restores")
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

pub(crate) async fn findings(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app
        .get_json(&format!("/api/v1/findings?limit=500&{query}"))
        .await;
    page["items"].as_array().unwrap().clone()
}

/// The ids of every page under `query`, following `next` until it is null.
async fn keyset_ids(app: &TestApp, query: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = app
            .get_json(&format!("/api/v1/findings?{query}{after}"))
            .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_i64().unwrap()),
        );
        match page["next"].as_i64() {
            Some(next) => after = format!("&after={next}"),
            None => return seen,
        }
    }
}

/// (kind, source key, target key, strategy) of every finding, sorted.
pub(crate) fn summary(items: &[Value]) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<_> = items
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["source"]["key"].as_str().unwrap().to_string(),
                f["target"]["key"].as_str().unwrap().to_string(),
                f["strategy"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

pub(crate) fn row(
    kind: &str,
    source: &str,
    target: &str,
    strategy: &str,
) -> (String, String, String, String) {
    (kind.into(), source.into(), target.into(), strategy.into())
}

async fn state_of(pool: &PgPool) -> (i64, i64, i64, i32) {
    sqlx::query_as(
        "select (select count(*) from entity_version), (select count(*) from reference_version),
                (select count(*) from finding), (select epoch from service where name = 'customers')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_restore_flags_every_row_of_the_detection_table_and_nothing_else(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["counts"],
        json!({"broken_link": 2, "stale_reference": 1, "orphan_candidate": 1, "missing_state": 2})
    );
    assert_eq!(body["amnesia"]["from"], json!(BACKUP));
    assert_eq!(body["amnesia"]["to"], Value::Null);

    let items = findings(&app, &format!("restore={}", body["id"])).await;
    assert_eq!(
        summary(&items),
        vec![
            // The invoices keep a copy of C/3: it repairs both links to it.
            row("broken_link", "I/3", "C/3", "cache"),
            row("broken_link", "O/3", "C/3", "cache"),
            // C/6 is gone from customers while ledger still holds C/6, and
            // crm's C/5 lost its counterpart C/5.
            row("missing_state", "C/5", "C/5", "replay"),
            row("missing_state", "C/6", "C/6", "replay"),
            // P/1: only the lost 13:00 reference pointed at it. P/2 (orders
            // refer to it) and P/3 (referred to before the backup) are not.
            row("orphan_candidate", "C/1", "P/1", "decide"),
            // O/2 saw C/2's lost 13:00 update; I/2 saw the 08:00 one only.
            // customers is event-sourced, so the update can be replayed.
            row("stale_reference", "O/2", "C/2", "replay"),
        ]
    );
    let o3 = items.iter().find(|f| f["source"]["key"] == "O/3").unwrap();
    assert_eq!(o3["relation"], "order.customer");
    assert_eq!(o3["source"]["service"], "orders");
    assert_eq!(o3["target"]["service"], "customers");
    assert_eq!(o3["status"], "open");
    assert_eq!(o3["target_updated_at"], Value::Null);
    // The invoices' copy of C/3 (seen at 14:00) shrinks the amnesia
    // interval for C/3 and is the evidence for both its links.
    assert_eq!(
        o3["amnesia"],
        json!({"from": "2026-11-01T14:00:00Z", "to": null})
    );
    assert_eq!(o3["cached"], json!({"name": "Ada", "version": "14:00"}));
    let stale = items
        .iter()
        .find(|f| f["kind"] == "stale_reference")
        .unwrap();
    assert_eq!(stale["observed_at"], "2026-11-01T13:00:00Z");
    assert_eq!(stale["target_updated_at"], "2026-11-01T08:00:00Z");
    assert_eq!(stale["amnesia"]["from"], BACKUP);
}

#[sqlx::test]
async fn a_restore_rolls_the_inventory_back_in_a_new_epoch(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201);
    assert_eq!(body["epoch"], 1);

    let current = |key: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (bool, i32, Option<Value>)>(
                "select e.deleted, e.epoch, v.data from entity e
                 join service s using (service_id)
                 left join entity_version v on v.service_id = e.service_id and v.key = e.key
                                           and v.valid_to is null
                 where s.name = 'customers' and e.key = $1",
            )
            .bind(key)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    // C/2 is back to its 08:00 version, C/3 (written after the backup) is
    // gone, C/1 untouched: the restored state is the backup's own versions.
    assert_eq!(
        current("C/2").await,
        (false, 0, Some(json!({"at": "08:00"})))
    );
    assert_eq!(current("C/3").await, (true, 1, None));
    assert_eq!(
        current("C/1").await,
        (false, 0, Some(json!({"at": "08:00"})))
    );
    // Still referred to by O/3 and I/3: flagged to_delete, two dependents.
    let (dependents, to_delete): (i32, bool) =
        sqlx::query_as("select dependents, to_delete from entity where key = 'C/3'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((dependents, to_delete), (2, true));
    // customers' 13:00 reference to P/1 is gone: P/1 has no dependents left,
    // P/3 (referred to since 10:00) keeps its one.
    let deps: Vec<(String, i32)> =
        sqlx::query_as("select key, dependents from entity where key like 'P/%' order by key")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        deps,
        vec![("P/1".into(), 0), ("P/2".into(), 1), ("P/3".into(), 1)]
    );
    // History keeps what was lost: C/2's 13:00 version is still there, as
    // the lost branch.
    let versions: Vec<(String, bool)> = sqlx::query_as(
        "select to_char(updated_at at time zone 'UTC', 'HH24:MI'), lost from entity_version
         where key = 'C/2' order by updated_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        versions,
        vec![("08:00".into(), false), ("13:00".into(), true)]
    );

    // The first write after recovery closes the amnesia of C/3 and of the restore.
    report(&app, "customers", vec![entity("C/3", "16:00")]).await;
    let o3 = findings(&app, "kind=broken_link").await;
    assert!(
        o3.iter()
            .all(|f| f["amnesia"]["to"] == "2026-11-01T16:00:00Z"),
        "{o3:?}"
    );
    let history = app
        .get_json(&format!("/api/v1/restores/{}", body["id"]))
        .await;
    assert_eq!(history["amnesia"]["to"], "2026-11-01T16:00:00Z");
}

#[sqlx::test]
async fn a_drill_predicts_the_same_findings_and_changes_nothing(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let before = state_of(&pool).await;
    let (status, drill) = restore(
        &app,
        json!({"taken_at": BACKUP, "restored_at": RESTORED, "drill": true}),
    )
    .await;
    assert_eq!(status, 201, "{drill}");
    assert_eq!(drill["drill"], true);
    assert_eq!(
        state_of(&pool).await,
        before,
        "a drill changed the inventory or the queue"
    );
    // Per referring service: the orders hold one broken link and one stale reference.
    let by_service = drill["by_service"].as_array().unwrap();
    assert!(by_service.contains(&json!({"service": "orders", "kind": "broken_link", "count": 1})));
    assert!(
        by_service.contains(&json!({"service": "orders", "kind": "stale_reference", "count": 1}))
    );
    assert!(
        by_service.contains(&json!({"service": "catalog", "kind": "orphan_candidate", "count": 1}))
    );

    let (_, real) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(real["counts"], drill["counts"]);
    assert_eq!(real["by_service"], drill["by_service"]);
    let history = app.get_json("/api/v1/restores").await;
    assert_eq!(history.as_array().unwrap().len(), 2);
}

#[sqlx::test]
async fn a_running_restore_shows_its_step_and_reports_each_steps_time(pool: PgPool) {
    let app = std::sync::Arc::new(restored_shop(&pool).await);
    let viewer = Browser::signed_in(&app, &pool, "vic", app::accounts::model::Role::Viewer).await;
    // Hold the relations, which the detection reads: the restore waits in
    // its first step for as long as this transaction lives. (No other test
    // restores orders: the registry is per server process, per service.)
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("lock table relation in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let running = {
        let app = app.clone();
        tokio::spawn(async move {
            let response = app
                .admin(Method::POST, "/api/v1/services/orders/restores")
                .json(&json!({"taken_at": BACKUP, "restored_at": RESTORED}))
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        })
    };
    let progress = async {
        loop {
            let now: Value = viewer
                .call("running_restore", &[("service", "orders")])
                .await
                .json()
                .await
                .unwrap();
            if !now.is_null() {
                return now;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let progress = tokio::time::timeout(std::time::Duration::from_secs(10), progress)
        .await
        .expect("the restore never showed progress");
    assert_eq!(progress["step"], 1, "{progress}");
    assert_eq!(progress["steps"], 4, "{progress}");
    assert_eq!(progress["drill"], false);
    assert!(
        progress["label"]
            .as_str()
            .unwrap()
            .starts_with("Finding what restoring orders to"),
        "{progress}"
    );
    blocker.rollback().await.unwrap();

    let (status, report) = running.await.unwrap();
    assert_eq!(status, 201, "{report}");
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "{report}");
    assert!(steps[1]["label"].as_str().unwrap().starts_with("Writing "));
    assert!(steps.iter().all(|s| s["ms"].as_f64().unwrap() >= 0.0));
    // The first step waited for the lock: it took the longest.
    assert!(
        steps[0]["ms"].as_f64() > steps[1]["ms"].as_f64(),
        "{report}"
    );
    let after: Value = viewer
        .call("running_restore", &[("service", "orders")])
        .await
        .json()
        .await
        .unwrap();
    assert!(after.is_null(), "progress outlived its restore: {after}");
}

#[sqlx::test]
async fn a_removed_service_takes_its_findings_and_a_removed_relation_leaves_them_unlinked(
    pool: PgPool,
) {
    let app = restored_shop(&pool).await;
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201, "{body}");
    // A numbered event, so that the invoices' sequence numbers are kept too.
    let numbered = json!({"type": "entity", "key": "I/9", "at": RESTORED, "seq": 1}).to_string();
    let response = post_events(&app, "invoices", None, &numbered).await;
    assert_eq!(response.status(), 200);
    let invoices: i64 =
        sqlx::query_scalar("select service_id from service where name = 'invoices'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let model = MODEL
        .replace("  - {name: invoices}\n", "")
        .replace(
            "  - {name: invoice.customer, from: invoices, to: customers, cached: true}\n",
            "",
        )
        .replace(
            "  - {name: order.customer, from: orders, to: customers}\n",
            "",
        );
    let response = app
        .admin(Method::PUT, "/api/v1/topology?force=true")
        .header("content-type", "application/yaml")
        .body(model)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let items = findings(&app, &format!("restore={}", body["id"])).await;
    let keys: Vec<&str> = items
        .iter()
        .map(|f| f["source"]["key"].as_str().unwrap())
        .collect();
    // I/3's broken link went with the invoices; the rest stay as evidence.
    assert_eq!(items.len(), 5, "{items:?}");
    assert!(!keys.contains(&"I/3"));
    for key in ["O/2", "O/3"] {
        let finding = items.iter().find(|f| f["source"]["key"] == key).unwrap();
        assert_eq!(finding["relation"], Value::Null, "{finding}");
    }
    let c5 = items.iter().find(|f| f["source"]["key"] == "C/5").unwrap();
    assert_eq!(c5["relation"], "crm.customer");
    // The invoices' inventory went with them, their sequence numbers too.
    let left: (i64, i64) = sqlx::query_as(
        "select (select count(*) from entity_version where service_id = $1),
                (select count(*) from ingested_event where service_id = $1)",
    )
    .bind(invoices)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0));
}

#[sqlx::test]
async fn restores_refuse_bad_input_and_change_nothing(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let before = state_of(&pool).await;
    for (body, status) in [
        (json!({}), 422),
        (json!({"taken_at": BACKUP, "backup_id": 1}), 422),
        (json!({"taken_at": "yesterday"}), 422),
        (json!({"backup_id": 999}), 404),
        (json!({"taken_at": RESTORED, "restored_at": BACKUP}), 422),
        (
            json!({"taken_at": BACKUP, "restored_at": "2999-01-01T00:00:00Z"}),
            422,
        ),
        (json!({"taken_at": BACKUP, "colour": "red"}), 422),
    ] {
        let (got, error) = restore(&app, body.clone()).await;
        assert_eq!(got, status, "{body} → {error}");
        assert!(error["error"].is_string());
    }
    let response = app
        .admin(Method::POST, "/api/v1/services/nobody/restores")
        .json(&json!({"taken_at": BACKUP}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .client
        .post(app.url("/api/v1/services/customers/restores"))
        .json(&json!({"taken_at": BACKUP}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(state_of(&pool).await, before);
}

#[sqlx::test]
async fn a_restore_from_a_recorded_backup_uses_its_time(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let backup: Value = app
        .admin(Method::POST, "/api/v1/services/customers/backups")
        .json(&json!({"taken_at": BACKUP, "label": "nightly"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, body) = restore(
        &app,
        json!({"backup_id": backup["id"], "restored_at": RESTORED, "drill": true}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["backup_id"], backup["id"]);
    assert_eq!(body["backup_taken_at"], BACKUP);
    assert_eq!(body["counts"]["broken_link"], 2);
}

pub(crate) async fn act(app: &TestApp, id: &Value, action: &str, body: Value) -> (u16, Value) {
    let response = app
        .admin(Method::POST, &format!("/api/v1/findings/{id}/{action}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[sqlx::test]
async fn operators_claim_resolve_and_reopen_with_an_audit_trail(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    let items = findings(&app, "kind=broken_link").await;
    let id = &items[0]["id"];

    let (status, claimed) = act(&app, id, "claim", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (claimed["status"].as_str(), claimed["assignee"].as_str()),
        (Some("claimed"), Some("admin token"))
    );
    // Another operator is refused while the claim holds, by the same rule
    // the dashboard's server functions use.
    let refused = queue::act(
        &pool,
        id.as_i64().unwrap(),
        Action::Resolve,
        &ActionInput::default(),
        "bob",
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("claimed by admin token"),
        "{refused}"
    );
    let stolen = queue::act(
        &pool,
        id.as_i64().unwrap(),
        Action::Claim,
        &ActionInput::default(),
        "bob",
    )
    .await;
    assert!(stolen.is_err());

    let (status, resolved) = act(
        &app,
        id,
        "resolve",
        json!({"strategy": "cache", "note": "restored from the invoice copy"}),
    )
    .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["note"], "restored from the invoice copy");
    assert_eq!(resolved["strategy"], "cache");
    // Resolving twice is a conflict, an unknown strategy a 422, an unknown action a 404.
    assert_eq!(act(&app, id, "resolve", json!({})).await.0, 409);
    assert_eq!(
        act(
            &app,
            &items[1]["id"],
            "resolve",
            json!({"strategy": "pray"})
        )
        .await
        .0,
        422
    );
    assert_eq!(act(&app, id, "explode", json!({})).await.0, 404);

    let (status, reopened) = act(&app, id, "reopen", json!({"note": "copy was wrong"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (reopened["status"].as_str(), &reopened["assignee"]),
        (Some("open"), &Value::Null)
    );
    let trail: Vec<(String, String, String)> = reopened["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["from_status"].as_str().unwrap().into(),
                e["to_status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        vec![
            ("claim".into(), "open".into(), "claimed".into()),
            ("resolve".into(), "claimed".into(), "resolved".into()),
            ("reopen".into(), "resolved".into(), "open".into()),
        ]
    );
    // Now bob may take it.
    let bobs = queue::act(
        &pool,
        id.as_i64().unwrap(),
        Action::Claim,
        &ActionInput::default(),
        "bob",
    )
    .await
    .unwrap();
    assert_eq!(bobs.finding.assignee.as_deref(), Some("bob"));
}

#[sqlx::test]
async fn two_operators_claiming_at_once_never_share_a_finding(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    let filter = app::queue::model::Filter::default();
    // Six findings, twelve concurrent "next unclaimed" calls from two operators.
    let calls: Vec<_> = (0..12)
        .map(|i| {
            let pool = pool.clone();
            let filter = filter.clone();
            let actor = if i % 2 == 0 { "ann" } else { "bob" };
            tokio::spawn(async move { queue::claim_next(&pool, &filter, actor).await.unwrap() })
        })
        .collect();
    let mut claimed = Vec::new();
    for call in calls {
        claimed.extend(call.await.unwrap().map(|d| d.finding.id));
    }
    let mut unique = claimed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((claimed.len(), unique.len()), (6, 6), "{claimed:?}");
}

#[sqlx::test]
async fn bulk_actions_skip_what_others_hold_and_pages_follow_the_keyset(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    let broken = findings(&app, "kind=broken_link").await;
    queue::act(
        &pool,
        broken[0]["id"].as_i64().unwrap(),
        Action::Claim,
        &ActionInput::default(),
        "bob",
    )
    .await
    .unwrap();

    let response = app
        .admin(Method::POST, "/api/v1/findings/bulk")
        .json(
            &json!({"action": "accept", "filter": {"kind": "broken_link"}, "note": "known outage"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome, json!({"changed": 1, "skipped": 1}));
    let accepted = findings(&app, "status=accepted").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["note"], "known outage");

    // Keyset pages of two cover all six findings once, then `next` is null.
    let seen = keyset_ids(&app, "limit=2").await;
    assert_eq!(seen.len(), 6);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    // A kind alone is read as one range per status, merged: pages of one,
    // either way round, give that kind's findings of every status in id
    // order (the broken links are claimed and accepted by now).
    let everything = findings(&app, "").await;
    let broken: Vec<&Value> = everything
        .iter()
        .filter(|f| f["kind"] == "broken_link")
        .collect();
    let mut statuses: Vec<&str> = broken
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    statuses.dedup();
    assert!(statuses.len() > 1, "{statuses:?}");
    for (order, direction) in [("", 1), ("&order=desc", -1)] {
        let mut expected: Vec<i64> = broken.iter().map(|f| f["id"].as_i64().unwrap()).collect();
        expected.sort_by_key(|id| direction * id);
        let seen = keyset_ids(&app, &format!("limit=1&kind=broken_link{order}")).await;
        assert_eq!(seen, expected, "{order}");
    }
    assert_eq!(findings(&app, "service=catalog").await.len(), 1);
    assert_eq!(
        findings(&app, "service=orders&kind=stale_reference")
            .await
            .len(),
        1
    );

    // Filters with bad values are refused, not answered with an empty page.
    for query in [
        "kind=bogus",
        "status=done",
        "restore=abc",
        "limit=x",
        "order=sideways",
        "service=orders%00",
        "relation=%00",
    ] {
        let response = app
            .admin(Method::GET, &format!("/api/v1/findings?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{query}");
    }
    // The export refuses them before its download starts (schemathesis
    // found it cut short mid-stream).
    let response = app
        .admin(Method::GET, "/api/v1/findings/export.csv?service=%C3%A0%00")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["details"][0]["field"], "service", "{error}");

    let csv = app
        .admin(Method::GET, "/api/v1/findings/export.csv?kind=broken_link")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("id,restore_id,scan_id,kind,relation"));
    assert!(lines[1..]
        .iter()
        .all(|l| l.contains(",broken_link,order.customer,")
            || l.contains(",broken_link,invoice.customer,")));
}

#[sqlx::test]
async fn the_live_stream_announces_queue_changes(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let mut stream = app
        .admin(Method::GET, "/api/live/findings")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // The listener may still be connecting: keep acting until an event arrives.
    let (_, report) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    let id = findings(&app, &format!("restore={}", report["id"])).await[0]["id"].clone();
    let received = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut text = String::new();
        let mut flip = ["claim", "reopen"].into_iter().cycle();
        while !text.contains("event: findings") {
            act(&app, &id, flip.next().unwrap(), json!({})).await;
            if let Ok(Ok(Some(chunk))) =
                tokio::time::timeout(std::time::Duration::from_millis(500), stream.chunk()).await
            {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        text
    })
    .await
    .expect("no live event within 10 s");
    assert!(received.contains("data: changed"), "{received}");
}

#[sqlx::test]
async fn a_restore_plans_from_fresh_statistics_after_a_large_load(pool: PgPool) {
    let app = restored_shop(&pool).await;
    // Autovacuum, should it come first, would hide what the drill does.
    sqlx::query("alter table entity_version set (autovacuum_enabled = false)")
        .execute(&pool)
        .await
        .unwrap();
    let load: Vec<Value> = (0..3000)
        .map(|i| entity(&format!("C/bulk-{i}"), "10:00"))
        .collect();
    report(&app, "customers", load).await;
    // PostgreSQL publishes a backend's row counts shortly after its commit.
    let stale = || async {
        sqlx::query_scalar::<_, i64>(
            "select n_mod_since_analyze from pg_stat_user_tables where relname = 'entity_version'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let waited = std::time::Instant::now();
    while stale().await < 3000 {
        assert!(waited.elapsed().as_secs() < 20, "no statistics reported");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "drill": true})).await;
    assert_eq!(status, 201, "{body}");
    let analysed: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "select last_analyze from pg_stat_user_tables where relname = 'entity_version'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        analysed.is_some(),
        "the drill planned from stale statistics"
    );
}

#[sqlx::test]
async fn the_csv_export_streams_every_row_and_defuses_formulas(pool: PgPool) {
    let app = restored_shop(&pool).await;
    // 2,500 customers created after the backup, each referred to by an
    // order (more rows than one chunk of the export), and one whose key a
    // spreadsheet would run.
    let mut keys: Vec<String> = (0..2500).map(|i| format!("C/n{i:04}")).collect();
    keys.push("=HYPERLINK(\"http://evil\")".into());
    report(
        &app,
        "customers",
        keys.iter().map(|k| entity(k, "13:00")).collect(),
    )
    .await;
    report(
        &app,
        "orders",
        keys.iter()
            .map(|k| reference("O/1", "order.customer", k, "13:00", "13:00"))
            .collect(),
    )
    .await;
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201, "{body}");

    let csv = app
        .admin(Method::GET, "/api/v1/findings/export.csv?kind=broken_link")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    // Streamed: no length known up front.
    assert!(csv.headers().get("content-length").is_none());
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // O/3 and I/3 into C/3, and the 2,501 new ones.
    assert_eq!(rows.len(), 2503);
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, each once"
    );
    let formula: Vec<&csv::StringRecord> =
        rows.iter().filter(|r| r[8].contains("HYPERLINK")).collect();
    assert_eq!(formula.len(), 1);
    assert_eq!(&formula[0][8], "'=HYPERLINK(\"http://evil\")");
}

#[sqlx::test]
async fn the_restore_form_records_a_restore_without_javascript(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let operator = crate::helpers::Browser::signed_in(
        &app,
        &pool,
        "olga",
        app::accounts::model::Role::Operator,
    )
    .await;
    let page = operator.get("/restores").await.text().await.unwrap();
    assert!(
        page.contains(r#"action="/api/fn/record_restore""#),
        "a plain form"
    );
    let fields = [
        ("service", "customers"),
        ("backup", ""),
        ("at", "2026-11-01T12:00"),
        ("restored_at", "2026-11-01T15:00"),
        ("drill", "false"),
    ];
    let recorded = operator
        .submit_form("/restores", "/api/fn/record_restore", &fields, true)
        .await;
    assert_eq!(recorded.status(), 302);
    let location = recorded.headers()["location"].to_str().unwrap().to_string();
    // Back to the page (Leptos leaves an empty query where errors go).
    assert!(
        location.trim_end_matches('?').ends_with("/restores"),
        "{location}"
    );
    let history = app.get_json("/api/v1/restores").await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["drill"], false);
    assert_eq!(history[0]["restored_at"], RESTORED);
    // A bad time comes back to the page as an error, and records nothing.
    let bad = operator
        .submit_form(
            "/restores",
            "/api/fn/record_restore",
            &[
                ("service", "customers"),
                ("backup", ""),
                ("at", "noon"),
                ("drill", "true"),
            ],
            true,
        )
        .await;
    assert_eq!(bad.status(), 302);
    assert!(bad.headers()["location"]
        .to_str()
        .unwrap()
        .contains("__err"));
    assert_eq!(
        app.get_json("/api/v1/restores")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test]
async fn the_queue_is_worked_with_plain_forms(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let (_, report) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    let id = findings(&app, &format!("restore={}", report["id"])).await[0]["id"]
        .as_i64()
        .unwrap();
    let operator =
        Browser::signed_in(&app, &pool, "omar", app::accounts::model::Role::Operator).await;
    // Its row links to the page with the finding open; that page holds its
    // action forms, filled in on the server.
    let from = format!("/queue?finding={id}");
    let queue = operator.get("/queue").await.text().await.unwrap();
    assert!(
        queue.contains(&format!("finding={id}\"")),
        "rows link to their finding"
    );
    let page = operator.get(&from).await.text().await.unwrap();
    assert!(page.contains(r#"action="/api/fn/act_on_finding""#));
    assert!(page.contains(&format!(r#"name="id" value="{id}""#)));
    let id_text = id.to_string();
    let claimed = operator
        .submit_form(
            &from,
            "/api/fn/act_on_finding",
            &[("id", &id_text), ("action", "claim")],
            true,
        )
        .await;
    assert_eq!(claimed.status(), 302);
    let finding = app.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(finding["status"], "claimed", "{finding}");
    assert_eq!(finding["assignee"], "omar");
    let resolved = operator
        .submit_form(
            &from,
            "/api/fn/act_on_finding",
            &[
                ("id", &id_text),
                ("action", "resolve"),
                ("strategy", "replay"),
                ("note", "  re-sent from the order  "),
            ],
            true,
        )
        .await;
    assert_eq!(resolved.status(), 302);
    let finding = app.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(finding["status"], "resolved");
    assert_eq!(finding["note"], "re-sent from the order");
}
