//! Exposure, measured (spec §10): a run drills every service with a backup
//! to its latest one without touching the restore history, its counts
//! agree with a drill and, per relation, with the findings a real restore
//! then queues; the series is filtered by service, relation and time, and
//! shows on `/metrics` and on the groups page.

use std::collections::BTreeMap;

use app::accounts::model::Role;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{Browser, TestApp};
use crate::restores::{findings, restore, restored_shop, BACKUP};

async fn backup(app: &TestApp, service: &str) -> i64 {
    let response = app
        .admin(Method::POST, &format!("/api/v1/services/{service}/backups"))
        .json(&json!({"taken_at": BACKUP}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn measure(app: &TestApp) -> Vec<Value> {
    let response = app
        .admin(Method::POST, "/api/v1/exposure")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn series(app: &TestApp, query: &str) -> (u16, Value) {
    let response = app
        .admin(Method::GET, &format!("/api/v1/exposure?{query}"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn point<'a>(points: &'a [Value], service: &str) -> &'a Value {
    points
        .iter()
        .find(|p| p["service"] == service)
        .unwrap_or_else(|| panic!("no point of {service} in {points:?}"))
}

#[sqlx::test]
async fn a_run_counts_what_a_restore_to_each_latest_backup_would_break(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let backup_id = backup(&app, "customers").await;
    backup(&app, "orders").await;

    let run = measure(&app).await;
    assert_eq!(run.len(), 2, "one point per service with a backup: {run:?}");
    assert_eq!(
        app.get_json("/api/v1/restores").await,
        json!([]),
        "a run is not a drill in the restore history"
    );
    let customers = point(&run, "customers");
    assert_eq!(customers["backup_id"], backup_id);
    assert_eq!(customers["backup_taken_at"], BACKUP);

    // The same counts as a drill to the same backup, back now.
    let (status, drill) = restore(&app, json!({"backup_id": backup_id, "drill": true})).await;
    assert_eq!(status, 201, "{drill}");
    assert_eq!(customers["counts"], drill["counts"]);
    // Every finding of a restore lies on a relation: the relations add up
    // to the counts, kind by kind.
    let mut summed: BTreeMap<String, i64> = BTreeMap::new();
    for counts in customers["by_relation"].as_object().unwrap().values() {
        for (kind, n) in counts.as_object().unwrap() {
            *summed.entry(kind.clone()).or_default() += n.as_i64().unwrap();
        }
    }
    for (kind, n) in customers["counts"].as_object().unwrap() {
        assert_eq!(
            summed.get(kind).copied().unwrap_or(0),
            n.as_i64().unwrap(),
            "{kind}"
        );
    }

    // And per relation, the findings a real restore then queues.
    let (status, real) = restore(&app, json!({"backup_id": backup_id})).await;
    assert_eq!(status, 201, "{real}");
    let mut queued: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for f in findings(&app, &format!("restore={}", real["id"])).await {
        *queued
            .entry(f["relation"].as_str().unwrap().to_string())
            .or_default()
            .entry(f["kind"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(customers["by_relation"], json!(queued));
    assert!(!queued.is_empty());
}

#[sqlx::test]
async fn the_series_is_filtered_by_service_relation_and_time(pool: PgPool) {
    let app = restored_shop(&pool).await;
    backup(&app, "customers").await;
    backup(&app, "orders").await;
    let first = measure(&app).await;
    let second = measure(&app).await;

    let (status, all) = series(&app, "").await;
    assert_eq!(status, 200);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 4);
    assert!(
        all.windows(2)
            .all(|w| w[0]["at"].as_str() <= w[1]["at"].as_str()),
        "oldest first: {all:?}"
    );

    let (_, customers) = series(&app, "service=customers").await;
    let customers = customers.as_array().unwrap();
    assert_eq!(customers.len(), 2);
    assert!(customers.iter().all(|p| p["service"] == "customers"));

    let since = second[0]["at"].as_str().unwrap();
    let (_, newest) = series(&app, &format!("since={}", urlencode(since))).await;
    assert_eq!(newest.as_array().unwrap().len(), 2);
    assert!(newest.as_array().unwrap().iter().all(|p| p["at"] == since));
    assert_ne!(first[0]["at"], second[0]["at"]);

    // crm mirrors customers and has no backup: only customers' drills, each
    // narrowed to the relation (an empty object where it has no findings).
    let (_, mirrored) = series(&app, "relation=crm.customer").await;
    let mirrored = mirrored.as_array().unwrap();
    assert_eq!(mirrored.len(), 2);
    for p in mirrored {
        assert_eq!(p["service"], "customers");
        let relations: Vec<&String> = p["by_relation"].as_object().unwrap().keys().collect();
        assert_eq!(relations, ["crm.customer"]);
        assert_eq!(p["by_relation"]["crm.customer"]["missing_state"], 1);
    }
    let (_, ends) = series(&app, "relation=order.customer").await;
    assert_eq!(ends.as_array().unwrap().len(), 4, "both ends have backups");

    for (query, expected) in [
        ("service=nobody", 404),
        ("relation=no.such", 404),
        ("since=yesterday", 422),
    ] {
        let (status, body) = series(&app, query).await;
        assert_eq!(status, expected, "{query}: {body}");
        assert!(body["error"].is_string(), "{query}: {body}");
    }
    let anonymous = reqwest::get(app.url("/api/v1/exposure")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let unmeasured = reqwest::Client::new()
        .post(app.url("/api/v1/exposure"))
        .send()
        .await
        .unwrap();
    assert_eq!(unmeasured.status(), 401);
}

fn urlencode(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

#[sqlx::test]
async fn metrics_and_the_groups_page_show_the_newest_runs(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let browser = Browser::signed_in(&app, &pool, "architect", Role::Viewer).await;
    let page = browser.html("/groups").await;
    assert!(page.contains("Not measured yet"), "no run yet");

    backup(&app, "customers").await;
    measure(&app).await;
    let run = measure(&app).await;
    let customers = point(&run, "customers");
    let total: i64 = customers["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert!(total > 0);

    // The gauges live in one registry for the whole test process, which
    // other tests' servers scrape at the same time (each clears and
    // refills them from its own database): a scrape may catch another's.
    let mut seen = None;
    for _ in 0..5 {
        let text = app.get("/metrics").await.text().await.unwrap();
        let line = text
            .lines()
            .find(|l| {
                l.starts_with("lockstep_exposure_findings{")
                    && l.contains("service=\"customers\"")
                    && l.contains("kind=\"broken_link\"")
            })
            .map(str::to_owned);
        if line.is_some() {
            seen = line;
            break;
        }
    }
    let line = seen.expect("the exposure gauge of customers");
    assert!(
        line.ends_with(&format!(" {}", customers["counts"]["broken_link"])),
        "{line}"
    );

    let page = browser.html("/groups").await;
    let charts = page.matches("data-testid=\"exposure-chart\"").count();
    assert!(charts > 0);
    assert_eq!(
        page.matches("data-testid=\"exposure-run\"").count(),
        2 * charts,
        "a dot per run on every chart"
    );
    assert!(
        page.contains(&format!("restoring customers: {total}")),
        "the group of customers counts its drill"
    );
}

#[sqlx::test]
async fn a_plan_ranks_the_backups_by_a_drill_each_beside_the_group_restore(pool: PgPool) {
    let app = restored_shop(&pool).await;
    // customers' last write is at 14:00 and orders' at 14:00 (spec's shop).
    let noon = app.backup("customers", BACKUP).await;
    let late = app.backup("customers", "2026-11-01T14:45:00Z").await;
    app.backup("orders", BACKUP).await;
    let operator = Browser::signed_in(&app, &pool, "planner", Role::Operator).await;
    let response = operator
        .call("plan_restore", &[("service", "customers")])
        .await;
    assert_eq!(response.status(), 200);
    let plan: Value = response.json().await.unwrap();

    let backups = plan["backups"].as_array().unwrap();
    let ids: Vec<i64> = backups
        .iter()
        .map(|b| b["backup_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [late, noon], "fewest findings first");
    assert_eq!(backups[0]["total"], 0);
    let (_, drill) = restore(&app, json!({"backup_id": noon, "drill": true})).await;
    assert_eq!(backups[1]["counts"], drill["counts"]);
    // After noon customers wrote C/2, C/3, C/5, C/6 and the references of
    // C/1 to P/1 and P/2 and of C/6 to the ledger.
    assert_eq!(backups[1]["writes_lost"], 7);
    assert_eq!(backups[0]["writes_lost"], 0);

    // The orders' references to the catalog and the mirrors hold three
    // more services in the group, and without a backup of them the group
    // has no moment to go back to.
    let group = &plan["group"];
    assert_eq!(
        group["members"],
        json!(["catalog", "crm", "customers", "ledger", "orders"])
    );
    assert_eq!(group["point"], Value::Null);
    assert_eq!(group["without_backup"], json!(["catalog", "crm", "ledger"]));

    // With them, it goes back to the oldest of its newest backups: noon.
    for service in ["catalog", "crm", "ledger"] {
        app.backup(service, BACKUP).await;
    }
    let plan: Value = operator
        .call("plan_restore", &[("service", "customers")])
        .await
        .json()
        .await
        .unwrap();
    let group = &plan["group"];
    assert_eq!(group["point"], BACKUP);
    assert_eq!(group["without_backup"], json!([]));
    let loss = |service: &str| {
        group["restores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service"] == service)
            .map(|r| (r["restore_to"].clone(), r["writes_lost"].clone()))
    };
    assert_eq!(loss("customers"), Some((json!(BACKUP), json!(7))));
    // orders wrote O/2, O/3 and their references to customers after noon.
    assert_eq!(loss("orders"), Some((json!(BACKUP), json!(4))));
    assert_eq!(loss("catalog"), Some((json!(BACKUP), json!(0))));
    assert_eq!(loss("crm"), Some((json!(BACKUP), json!(2))));
    assert_eq!(loss("ledger"), Some((json!(BACKUP), json!(1))));

    let page = operator.html("/restores?plan=customers").await;
    assert_eq!(page.matches("data-testid=\"plan-backup\"").count(), 2);
    assert!(page.contains("data-testid=\"group-alternative\""));
    let viewer = Browser::signed_in(&app, &pool, "looker", Role::Viewer).await;
    assert_eq!(
        viewer
            .call("plan_restore", &[("service", "customers")])
            .await
            .status(),
        403
    );
    assert_eq!(
        operator
            .call("plan_restore", &[("service", "nobody")])
            .await
            .status(),
        404
    );
}
