//! Causes and repair kits (spec §8): a restore's findings grouped by cause
//! with counts a brute-force count agrees with, one decision for a cause
//! that leaves other operators' claims alone, and kits whose lines,
//! re-applied through the events API, verify their findings.

use std::collections::BTreeMap;

use app::accounts::model::Role;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{spawn_app, Browser, TestApp};
use crate::restores::{
    act, entity, findings, reference, report, restore, restored_shop, BACKUP, RESTORED,
};

/// Keys 1..=n of a prefix.
fn keys(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}/{i}")).collect()
}

/// customers restored to 12:00, losing C/1..C/13 (created at 13:00): eight
/// orders refer to C/1..C/8 (broken links to reconstruct), five invoices
/// keep a copy of C/9..C/13 they refer to (broken links repaired from the
/// cache).
async fn shop_losing_customers(pool: &PgPool) -> (TestApp, i64) {
    let app = spawn_app(pool.clone()).await;
    let model = "
services: [{name: customers}, {name: orders}, {name: invoices}]
relations:
  - {name: order.customer, from: orders, to: customers}
  - {name: invoice.customer, from: invoices, to: customers, cached: true}
";
    assert_eq!(
        app.put_topology("application/yaml", model).await.status(),
        200
    );
    report(
        &app,
        "customers",
        keys("C", 13).iter().map(|k| entity(k, "13:00")).collect(),
    )
    .await;
    let mut orders = Vec::new();
    for (o, c) in keys("O", 8).iter().zip(keys("C", 8)) {
        orders.push(entity(o, "13:30"));
        orders.push(reference(o, "order.customer", &c, "13:00", "13:30"));
    }
    report(&app, "orders", orders).await;
    let mut invoices = Vec::new();
    for (i, c) in keys("I", 5).iter().zip(keys("C", 13).into_iter().skip(8)) {
        invoices.push(entity(i, "13:30"));
        let mut r = reference(i, "invoice.customer", &c, "13:00", "13:30");
        r["cache"] = json!({"name": format!("customer {c}")});
        invoices.push(r);
    }
    report(&app, "invoices", invoices).await;
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    (app, id)
}

async fn causes(app: &TestApp, query: &str) -> Vec<Value> {
    app.get_json(&format!("/api/v1/findings/causes?{query}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// The bucket a finding counts in: its status, Lockstep's own resolutions
/// apart.
fn bucket(f: &Value) -> String {
    match (f["status"].as_str().unwrap(), f["resolved_by"].as_str()) {
        ("resolved", Some("inventory" | "restore")) => "verified".into(),
        (status, _) => status.into(),
    }
}

type Group = (String, String, String, String, String);

/// The restore's findings grouped by hand, as the causes should group
/// them: (kind, relation, source, target, strategy) → bucket → count. The
/// strategy is the one the finding was raised with (the first audit entry
/// does not change it, so the finding's own is used before any decision).
fn grouped(items: &[Value]) -> BTreeMap<Group, BTreeMap<String, i64>> {
    let mut groups: BTreeMap<Group, BTreeMap<String, i64>> = BTreeMap::new();
    for f in items {
        let group = (
            f["kind"].as_str().unwrap().to_string(),
            f["relation"].as_str().unwrap_or("").to_string(),
            f["source"]["service"].as_str().unwrap().to_string(),
            f["target"]["service"].as_str().unwrap().to_string(),
            f["strategy"].as_str().unwrap().to_string(),
        );
        *groups
            .entry(group)
            .or_default()
            .entry(bucket(f))
            .or_default() += 1;
    }
    groups
}

/// The causes in the same shape, empty buckets left out.
fn as_groups(causes: &[Value]) -> BTreeMap<Group, BTreeMap<String, i64>> {
    causes
        .iter()
        .map(|c| {
            let group = (
                c["kind"].as_str().unwrap().to_string(),
                c["relation"].as_str().unwrap_or("").to_string(),
                c["source_service"].as_str().unwrap().to_string(),
                c["target_service"].as_str().unwrap().to_string(),
                c["strategy"].as_str().unwrap().to_string(),
            );
            let counts = c["counts"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, n)| n.as_i64() != Some(0))
                .map(|(b, n)| (b.clone(), n.as_i64().unwrap()))
                .collect();
            (group, counts)
        })
        .collect()
}

/// Each cause's counts, as PostgreSQL counts its findings from scratch.
async fn counted_from_scratch(pool: &PgPool) -> Vec<(i64, String, i64)> {
    sqlx::query_as(
        "select cause_id, finding_bucket(status, resolved_by), count(*)
         from finding group by 1, 2 order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn counted_by_causes(pool: &PgPool) -> Vec<(i64, String, i64)> {
    sqlx::query_as(
        "select cause_id, bucket, n::bigint from cause
         cross join lateral (values ('open', open), ('claimed', claimed), ('resolved', resolved),
                                    ('verified', verified), ('accepted', accepted),
                                    ('dismissed', dismissed)) b(bucket, n)
         where n <> 0 order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_restores_causes_group_its_findings_as_a_count_by_hand_does(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let (status, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let list = causes(&app, &format!("restore={id}")).await;
    let items = findings(&app, &format!("restore={id}")).await;
    assert_eq!(as_groups(&list), grouped(&items));
    // Six conditions, each its own cause here (the two broken links to C/3
    // come from two services); every cause names this restore.
    assert_eq!(list.len(), 6, "{list:?}");
    assert!(list
        .iter()
        .all(|c| c["restore_id"] == id && c["scan_id"].is_null()));

    // Operators decide some, the inventory verifies another: the counts
    // move with them and still agree.
    let stale = items
        .iter()
        .find(|f| f["kind"] == "stale_reference")
        .unwrap();
    assert_eq!(act(&app, &stale["id"], "claim", json!({})).await.0, 200);
    let orphan = items
        .iter()
        .find(|f| f["kind"] == "orphan_candidate")
        .unwrap();
    assert_eq!(
        act(&app, &orphan["id"], "accept", json!({"note": "kept"}))
            .await
            .0,
        200
    );
    // C/3 exists again: both broken links to it verify themselves.
    report(&app, "customers", vec![entity("C/3", "15:30")]).await;
    let list = causes(&app, &format!("restore={id}")).await;
    let items = findings(&app, &format!("restore={id}")).await;
    assert_eq!(as_groups(&list), grouped(&items));
    let verified: i64 = list
        .iter()
        .map(|c| c["counts"]["verified"].as_i64().unwrap())
        .sum();
    assert_eq!(verified, 2);
    assert_eq!(
        counted_by_causes(&pool).await,
        counted_from_scratch(&pool).await
    );

    // Filters: a status keeps the causes holding any in it; biggest first.
    let claimed = causes(&app, &format!("restore={id}&status=claimed")).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0]["kind"], "stale_reference");
    assert!(causes(&app, "restore=999999").await.is_empty());
    let bad = app
        .admin(Method::GET, "/api/v1/findings/causes?status=lost")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[sqlx::test]
async fn a_cause_is_decided_at_once_and_claims_of_others_are_skipped(pool: PgPool) {
    let (app, restore_id) = shop_losing_customers(&pool).await;
    let list = causes(&app, &format!("restore={restore_id}")).await;
    // Biggest first: the eight orders, then the five invoices.
    let sizes: Vec<(String, i64)> = list
        .iter()
        .map(|c| {
            (
                c["strategy"].as_str().unwrap().into(),
                c["counts"]["open"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes, vec![("reconstruct".into(), 8), ("cache".into(), 5)]);
    let orders = &list[0];
    let cause = orders["id"].as_i64().unwrap();

    // bob holds one of the cause's findings.
    let bob = Browser::signed_in(&app, &pool, "bob", Role::Operator).await;
    let rows = findings(&app, &format!("cause={cause}")).await;
    assert_eq!(rows.len(), 8);
    let held = &rows[3]["id"];
    let claim = bob
        .send(Method::POST, &format!("/api/v1/findings/{held}/claim"))
        .send()
        .await
        .unwrap();
    assert_eq!(claim.status(), 200);

    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/findings/causes/{cause}/dismiss"),
        )
        .json(&json!({"note": "orders are rebuilt from the ledger"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome, json!({"changed": 7, "skipped": 1}));

    let rows = findings(&app, &format!("cause={cause}")).await;
    for f in &rows {
        if f["id"] == *held {
            assert_eq!(
                (f["status"].as_str(), f["assignee"].as_str()),
                (Some("claimed"), Some("bob"))
            );
        } else {
            assert_eq!(f["status"], "dismissed");
            assert_eq!(f["note"], "orders are rebuilt from the ledger");
            let detail = app.get_json(&format!("/api/v1/findings/{}", f["id"])).await;
            let last = detail["audit"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(
                (last["action"].as_str(), last["to_status"].as_str()),
                (Some("dismiss"), Some("dismissed"))
            );
        }
    }
    let after = causes(&app, &format!("restore={restore_id}")).await;
    let orders = after.iter().find(|c| c["id"] == cause).unwrap();
    assert_eq!(
        orders["counts"],
        json!({"open": 0, "claimed": 1, "resolved": 0, "verified": 0, "accepted": 0, "dismissed": 7})
    );
    // The other cause was not touched.
    let invoices = after.iter().find(|c| c["id"] != cause).unwrap();
    assert_eq!(invoices["counts"]["open"], 5);
    assert_eq!(
        counted_by_causes(&pool).await,
        counted_from_scratch(&pool).await
    );

    // Only the three decisions; an unknown cause is a 404.
    for (path, status) in [
        (format!("/api/v1/findings/causes/{cause}/claim"), 404),
        (format!("/api/v1/findings/causes/{cause}/reopen"), 404),
        ("/api/v1/findings/causes/999999/resolve".to_string(), 404),
        ("/api/v1/findings/causes/nope/resolve".to_string(), 404),
    ] {
        let response = app.admin(Method::POST, &path).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    // A decision with a strategy that does not exist changes nothing.
    let bad = app
        .admin(
            Method::POST,
            &format!("/api/v1/findings/causes/{cause}/resolve"),
        )
        .json(&json!({"strategy": "magic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let unchanged = causes(&app, &format!("restore={restore_id}")).await;
    assert_eq!(unchanged, after);
}

async fn kit(app: &TestApp, cause: i64, accept: &str) -> reqwest::Response {
    app.admin(
        Method::GET,
        &format!("/api/v1/findings/causes/{cause}/repair-kit"),
    )
    .header("accept", accept)
    .send()
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_cached_copy_kit_re_applied_through_the_events_api_verifies_its_findings(pool: PgPool) {
    let (app, restore_id) = shop_losing_customers(&pool).await;
    let list = causes(&app, &format!("restore={restore_id}")).await;
    let cache = list.iter().find(|c| c["strategy"] == "cache").unwrap();
    let cause = cache["id"].as_i64().unwrap();

    let response = kit(&app, cause, "application/x-ndjson").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines[0],
        json!({"key": "C/10", "observed": "2026-11-01T13:00:00+00:00", "data": {"name": "customer C/10"}})
    );

    // customers re-applies each copy with its observed time.
    let events: Vec<Value> = lines
        .iter()
        .map(|l| json!({"type": "entity", "key": l["key"], "at": l["observed"], "data": l["data"]}))
        .collect();
    report(&app, "customers", events).await;

    let after = causes(&app, &format!("restore={restore_id}")).await;
    let cache = after.iter().find(|c| c["id"] == cause).unwrap();
    assert_eq!(cache["counts"]["verified"], 5, "{cache}");
    assert_eq!(cache["counts"]["open"], 0);
    // The orders' links, to other customers, are still broken.
    let orders = after.iter().find(|c| c["id"] != cause).unwrap();
    assert_eq!(
        (
            orders["counts"]["verified"].as_i64(),
            orders["counts"]["open"].as_i64()
        ),
        (Some(0), Some(8))
    );
    // Nothing pending in the cache cause: its kit is empty now.
    assert_eq!(kit(&app, cause, "*/*").await.text().await.unwrap(), "");
    assert_eq!(
        counted_by_causes(&pool).await,
        counted_from_scratch(&pool).await
    );
}

#[sqlx::test]
async fn each_kind_of_cause_has_its_kit_in_ndjson_and_csv(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let (_, body) = restore(&app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    let list = causes(&app, &format!("restore={}", body["id"])).await;
    let of = |kind: &str, source: &str| -> i64 {
        list.iter()
            .find(|c| c["kind"] == kind && c["source_service"] == source)
            .unwrap_or_else(|| panic!("{kind} from {source} in {list:?}"))["id"]
            .as_i64()
            .unwrap()
    };
    let ndjson = |text: String| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };

    // Missing state: crm's surviving C/5 is what customers re-creates.
    let missing = ndjson(
        kit(&app, of("missing_state", "crm"), "application/x-ndjson")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        missing,
        vec![json!({"key": "C/5", "at": "2026-11-01T13:00:00+00:00", "data": {"at": "13:00"}})]
    );
    // The orphan and its last (lost) referrer.
    let orphan = ndjson(
        kit(&app, of("orphan_candidate", "customers"), "*/*")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        orphan,
        vec![json!({"key": "P/1", "last_referrer": {"service": "customers", "key": "C/1"}})]
    );
    // The stale reference's lost write, replayed (customers is event-sourced).
    let stale = ndjson(
        kit(
            &app,
            of("stale_reference", "orders"),
            "application/x-ndjson",
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    assert_eq!(
        stale,
        vec![json!({"key": "C/2", "at": "2026-11-01T13:00:00+00:00", "data": null})]
    );

    // CSV: a header, one row a key.
    let response = kit(&app, of("orphan_candidate", "customers"), "text/csv").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(
        response.text().await.unwrap(),
        "key,last_referrer_service,last_referrer_key\nP/1,customers,C/1\n"
    );
    // A format not offered is a 406; so is an unknown `format`.
    let cause = of("orphan_candidate", "customers");
    assert_eq!(kit(&app, cause, "application/xml").await.status(), 406);
    let unknown = app
        .admin(
            Method::GET,
            &format!("/api/v1/findings/causes/{cause}/repair-kit?format=xlsx"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 406);
    assert_eq!(kit(&app, 999999, "*/*").await.status(), 404);
}

#[sqlx::test]
async fn a_reconstruct_kit_lists_each_missing_keys_referrers(pool: PgPool) {
    let (app, restore_id) = shop_losing_customers(&pool).await;
    let list = causes(&app, &format!("restore={restore_id}")).await;
    let cause = list
        .iter()
        .find(|c| c["strategy"] == "reconstruct")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let text = kit(&app, cause, "application/x-ndjson")
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(
        lines[0],
        json!({"key": "C/1", "referrers": [{"service": "orders", "key": "O/1"}]})
    );
    // Reconstructing C/8 verifies its finding.
    report(&app, "customers", vec![entity("C/8", "16:00")]).await;
    let after = causes(&app, &format!("restore={restore_id}")).await;
    let orders = after.iter().find(|c| c["id"] == cause).unwrap();
    assert_eq!(orders["counts"]["verified"], 1);
    let text = kit(&app, cause, "application/x-ndjson")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text.lines().count(), 7);
}
