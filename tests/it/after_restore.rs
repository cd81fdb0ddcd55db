//! Life after a restore (spec §5b): the epoch-aware timeline, findings that
//! verify themselves as the inventory changes, one finding per condition,
//! and the detection rules that complete §5. Each scenario is one the
//! issue "After the restore" found wrong, or one of its rules.

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{ndjson, post_events, spawn_app, TestApp};
use crate::restores::{
    act, entity, findings, reference, report, restore, restored_shop, row, summary, BACKUP,
    RESTORED,
};

async fn restore_of(app: &TestApp, service: &str, body: Value) -> Value {
    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/services/{service}/restores"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn scan(app: &TestApp) -> Value {
    let response = app
        .admin(Method::POST, "/api/v1/scans")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.json().await.unwrap()
}

/// The one finding with this kind, source key and target key.
fn the<'a>(items: &'a [Value], kind: &str, source: &str, target: &str) -> &'a Value {
    let found: Vec<&Value> = items
        .iter()
        .filter(|f| {
            f["kind"] == kind && f["source"]["key"] == source && f["target"]["key"] == target
        })
        .collect();
    assert_eq!(found.len(), 1, "{kind} {source} → {target} in {items:?}");
    found[0]
}

fn at(time: &str) -> String {
    format!("2026-11-01T{time}:00Z")
}

async fn audit_actions(app: &TestApp, id: &Value) -> Vec<(String, String)> {
    let detail = app.get_json(&format!("/api/v1/findings/{id}")).await;
    detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn restore_customers(app: &TestApp) -> Value {
    let (status, body) = restore(app, json!({"taken_at": BACKUP, "restored_at": RESTORED})).await;
    assert_eq!(status, 201, "{body}");
    body
}

#[sqlx::test]
async fn a_value_re_applied_from_a_cached_copy_is_current_and_verifies_its_links(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore_customers(&app).await;
    // The recovery protocol: customers re-applies C/3 from the invoices'
    // copy, keeping the copy's time (14:00, before the restore at 15:00).
    report(&app, "customers", vec![entity("C/3", "14:00")]).await;

    let (deleted, epoch): (bool, i32) =
        sqlx::query_as("select deleted, epoch from entity where key = 'C/3'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((deleted, epoch), (false, 1));
    let items = findings(&app, "kind=broken_link").await;
    for source in ["O/3", "I/3"] {
        let f = the(&items, "broken_link", source, "C/3");
        assert_eq!(f["status"], "resolved", "{f}");
        assert_eq!(f["resolved_by"], "inventory");
        assert!(f["verified_at"].is_string());
        assert_eq!(f["assignee"], Value::Null);
        let note = f["note"].as_str().unwrap();
        assert!(note.starts_with("C/3 exists again, epoch 1"), "{note}");
        assert_eq!(
            audit_actions(&app, &f["id"]).await,
            vec![("lockstep".to_string(), "verify".to_string())]
        );
    }
    // A drill of the service's current state no longer sees the link broken.
    let now = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (status, drill) = restore(&app, json!({"taken_at": now, "drill": true})).await;
    assert_eq!(status, 201, "{drill}");
    assert_eq!(drill["counts"]["broken_link"], 0, "{drill}");
    // The restore's history row counts what is left to work.
    let history = app.get_json("/api/v1/restores").await;
    let recorded = history
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["drill"] == false)
        .unwrap();
    assert_eq!(recorded["left"], 4, "{recorded}");
}

#[sqlx::test]
async fn a_target_re_entered_by_hand_resolves_its_claimed_finding_and_releases_the_claim(
    pool: PgPool,
) {
    let app = restored_shop(&pool).await;
    restore_customers(&app).await;
    let items = findings(&app, "kind=broken_link").await;
    let id = the(&items, "broken_link", "O/3", "C/3")["id"].clone();
    let (status, claimed) = act(&app, &id, "claim", json!({})).await;
    assert_eq!((status, claimed["status"].as_str()), (200, Some("claimed")));

    // Someone re-enters C/3 after the restore, with a new timestamp.
    report(&app, "customers", vec![entity("C/3", "16:00")]).await;
    let f = app.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(f["status"], "resolved");
    assert_eq!(f["resolved_by"], "inventory");
    assert_eq!(f["assignee"], Value::Null);
    assert!(f["note"]
        .as_str()
        .unwrap()
        .contains("C/3 exists again, epoch 1, 2026-11-01 16:00"));
    let actions: Vec<String> = audit_actions(&app, &id)
        .await
        .into_iter()
        .map(|(_, action)| action)
        .collect();
    assert_eq!(actions, vec!["claim", "verify"]);
    // An operator's own resolution is told apart.
    let stale = findings(&app, "kind=stale_reference").await;
    let (status, resolved) = act(&app, &stale[0]["id"], "resolve", json!({"note": "fixed"})).await;
    assert_eq!(status, 200);
    assert_eq!(resolved["resolved_by"], "operator");
    assert_eq!(resolved["verified_at"], Value::Null);
}

#[sqlx::test]
async fn a_restore_recorded_late_keeps_what_the_service_wrote_after_it(pool: PgPool) {
    let app = restored_shop(&pool).await;
    // After coming back at 15:00, customers wrote C/7 and updated C/2; the
    // orders saw both. The restore is recorded only afterwards.
    report(
        &app,
        "customers",
        vec![entity("C/7", "16:00"), entity("C/2", "16:30")],
    )
    .await;
    report(
        &app,
        "orders",
        vec![
            entity("O/7", "16:00"),
            reference("O/7", "order.customer", "C/7", "16:00", "16:00"),
        ],
    )
    .await;
    let body = restore_customers(&app).await;
    // No false finding for C/7, and C/2 is current at 16:30: O/2's 13:00
    // view of it is not stale.
    assert_eq!(
        body["counts"],
        json!({"broken_link": 2, "stale_reference": 0, "orphan_candidate": 1, "missing_state": 2})
    );
    let current: Vec<(String, String, i32, bool)> = sqlx::query_as(
        "select key, to_char(updated_at at time zone 'UTC', 'HH24:MI'), epoch, deleted from entity
         where service_id = (select service_id from service where name = 'customers')
           and key in ('C/2', 'C/7') order by key",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        current,
        vec![
            ("C/2".into(), "16:30".into(), 1, false),
            ("C/7".into(), "16:00".into(), 1, false)
        ]
    );
    // Only what lay between the backup and the restore was lost.
    let lost: Vec<String> = sqlx::query_scalar(
        "select key || ' ' || to_char(updated_at at time zone 'UTC', 'HH24:MI') from entity_version
         where lost order by key, updated_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        lost,
        vec!["C/2 13:00", "C/3 14:00", "C/5 13:00", "C/6 13:00"]
    );
}

#[sqlx::test]
async fn the_scan_leaves_a_restores_broken_links_to_it_and_a_dismissed_delete_stays_closed(
    pool: PgPool,
) {
    let app = restored_shop(&pool).await;
    restore_customers(&app).await;
    // C/3 is gone and still referred to: the restore's broken links, not
    // dangling deletes as well.
    let first = scan(&app).await;
    assert_eq!(first["counts"]["dangling_delete"], 0, "{first}");
    let items = findings(&app, "kind=broken_link").await;
    let o3 = the(&items, "broken_link", "O/3", "C/3");
    let causes = o3["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 2, "{o3}");
    assert!(causes[0]["restore_id"].is_i64());
    assert_eq!(causes[1]["scan_id"], first["id"]);

    // A real dangling delete: the catalog deletes P/2, O/1 still refers to it.
    report(
        &app,
        "catalog",
        vec![json!({"type": "entity", "key": "P/2", "at": at("16:00"), "deleted": true})],
    )
    .await;
    assert_eq!(scan(&app).await["counts"]["dangling_delete"], 1);
    let dangling = findings(&app, "kind=dangling_delete").await;
    assert_eq!(
        summary(&dangling),
        vec![row("dangling_delete", "O/1", "P/2", "reconstruct")]
    );
    let (status, _) = act(
        &app,
        &dangling[0]["id"],
        "dismiss",
        json!({"note": "informational"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(scan(&app).await["counts"]["dangling_delete"], 0);
    let dangling = findings(&app, "kind=dangling_delete").await;
    assert_eq!(dangling.len(), 1);
    assert_eq!(dangling[0]["status"], "dismissed");
}

#[sqlx::test]
async fn restoring_the_same_service_twice_keeps_one_finding_per_condition(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let first = restore_customers(&app).await;
    let open_after_first = findings(&app, "status=open").await.len();
    assert_eq!(open_after_first, 6);
    let (status, second) = restore(
        &app,
        json!({"taken_at": BACKUP, "restored_at": at("15:30")}),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["epoch"], 2);
    assert_eq!(findings(&app, "status=open").await.len(), open_after_first);
    assert!(findings(&app, &format!("restore={}", second["id"]))
        .await
        .is_empty());
    let items = findings(&app, "kind=broken_link").await;
    let causes: Vec<&Value> = the(&items, "broken_link", "O/3", "C/3")["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["restore_id"])
        .collect();
    assert_eq!(causes, vec![&first["id"], &second["id"]]);
    // A restore into the past of the last one is refused.
    let (status, error) = restore(
        &app,
        json!({"taken_at": BACKUP, "restored_at": at("15:10")}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
}

#[sqlx::test]
async fn restoring_a_referrer_later_verifies_the_links_its_restore_erased(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore_customers(&app).await;
    // orders goes back to 13:30: O/3 (written at 14:00) is gone, and with
    // it its broken link to C/3.
    restore_of(
        &app,
        "orders",
        json!({"taken_at": at("13:30"), "restored_at": at("16:00")}),
    )
    .await;
    let items = findings(&app, "kind=broken_link").await;
    let o3 = the(&items, "broken_link", "O/3", "C/3");
    assert_eq!(o3["status"], "resolved", "{o3}");
    assert_eq!(o3["resolved_by"], "restore");
    assert_eq!(o3["note"], "O/3 no longer exists");
    assert_eq!(the(&items, "broken_link", "I/3", "C/3")["status"], "open");
}

/// accounts and profiles, one mirror relation between them.
async fn accounts_and_profiles(pool: &PgPool) -> TestApp {
    let app = spawn_app(pool.clone()).await;
    let model = "
services: [{name: accounts}, {name: profiles}]
relations: [{name: account.profile, from: accounts, to: profiles, kind: mirror}]
";
    assert_eq!(
        app.put_topology("application/yaml", model).await.status(),
        200
    );
    app
}

#[sqlx::test]
async fn mirrors_are_matched_by_key_in_both_directions(pool: PgPool) {
    let app = accounts_and_profiles(&pool).await;
    // No reference events at all: the same keys on both sides.
    report(
        &app,
        "accounts",
        vec![
            entity("K1", "09:00"),
            entity("K2", "09:00"),
            entity("K3", "13:00"),
        ],
    )
    .await;
    report(
        &app,
        "profiles",
        vec![
            entity("K1", "09:00"),
            entity("K2", "13:00"),
            entity("K3", "09:00"),
        ],
    )
    .await;
    let drill = |service: &'static str| {
        let app = &app;
        async move {
            let body = restore_of(
                app,
                service,
                json!({"taken_at": BACKUP, "restored_at": RESTORED, "drill": true}),
            )
            .await;
            body["counts"]["missing_state"].clone()
        }
    };
    // profiles back at 12:00 lacks K2, which accounts holds; accounts back
    // at 12:00 lacks K3, which profiles holds.
    assert_eq!(drill("profiles").await, 1);
    assert_eq!(drill("accounts").await, 1);
    restore_of(
        &app,
        "profiles",
        json!({"taken_at": BACKUP, "restored_at": RESTORED}),
    )
    .await;
    let items = findings(&app, "kind=missing_state").await;
    assert_eq!(
        summary(&items),
        vec![row("missing_state", "K2", "K2", "replay")]
    );
    assert_eq!(items[0]["source"]["service"], "accounts");
    assert_eq!(items[0]["target"]["service"], "profiles");
    // profiles re-creates K2: the missing state is verified.
    report(&app, "profiles", vec![entity("K2", "15:30")]).await;
    let items = findings(&app, "kind=missing_state").await;
    assert_eq!(items[0]["status"], "resolved");
}

#[sqlx::test]
async fn a_mirror_reference_lost_by_the_restore_is_missing_state_until_reported_again(
    pool: PgPool,
) {
    let app = accounts_and_profiles(&pool).await;
    // A-7 and P-7 both exist before the 12:00 backup; accounts pairs them
    // by a mirror reference only at 13:00, which the restore loses.
    report(&app, "profiles", vec![entity("P-7", "09:00")]).await;
    report(
        &app,
        "accounts",
        vec![
            entity("A-7", "09:00"),
            reference("A-7", "account.profile", "P-7", "13:00", "13:00"),
        ],
    )
    .await;
    restore_of(
        &app,
        "accounts",
        json!({"taken_at": BACKUP, "restored_at": RESTORED}),
    )
    .await;
    let items = findings(&app, "kind=missing_state").await;
    // The lost pair, and (by key) P-7, which accounts never held.
    assert_eq!(
        summary(&items),
        vec![
            row("missing_state", "P-7", "A-7", "replay"),
            row("missing_state", "P-7", "P-7", "replay"),
        ]
    );
    // accounts reports the pairing again: only the lost pair is verified.
    report(
        &app,
        "accounts",
        vec![reference("A-7", "account.profile", "P-7", "15:10", "15:10")],
    )
    .await;
    let items = findings(&app, "kind=missing_state").await;
    let pair = the(&items, "missing_state", "P-7", "A-7");
    assert_eq!(pair["status"], "resolved", "{pair}");
    assert_eq!(pair["note"], "A-7 mirrors P-7 again");
    assert_eq!(the(&items, "missing_state", "P-7", "P-7")["status"], "open");
}

#[sqlx::test]
async fn a_re_applied_write_moves_the_start_of_its_amnesia(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore_customers(&app).await;
    let stale = || async {
        let items = findings(&app, "kind=stale_reference").await;
        the(&items, "stale_reference", "O/2", "C/2").clone()
    };
    assert_eq!(stale().await["amnesia"]["from"], BACKUP);
    // customers re-applies C/2 as it knew it at 12:30: the state is known
    // up to then, and the order still saw a newer one (13:00).
    report(&app, "customers", vec![entity("C/2", "12:30")]).await;
    // It is the entity's first write of the new epoch, placed at the
    // restore: the amnesia ends there.
    let f = stale().await;
    assert_eq!(f["amnesia"]["from"], "2026-11-01T12:30:00Z", "{f}");
    assert_eq!(f["amnesia"]["to"], RESTORED);
    assert_eq!(f["status"], "open");
    // Then the 13:00 state itself: known again, and the link is up to date.
    report(&app, "customers", vec![entity("C/2", "13:00")]).await;
    let f = stale().await;
    assert_eq!(f["amnesia"]["from"], "2026-11-01T13:00:00Z", "{f}");
    assert_eq!(f["status"], "resolved");
}

#[sqlx::test]
async fn events_of_an_old_epoch_are_kept_as_lost_history_and_epochs_are_checked(pool: PgPool) {
    let app = restored_shop(&pool).await;
    let numbered = |key: &str, time: &str, epoch: Option<i32>, seq: i64| {
        let mut event = entity(key, time);
        event["seq"] = json!(seq);
        if let Some(epoch) = epoch {
            event["epoch"] = json!(epoch);
        }
        event
    };
    report(&app, "customers", vec![numbered("C/20", "09:30", None, 1)]).await;
    restore_customers(&app).await;
    // Late records of epoch 0: one written after the backup (lost with the
    // branch it belongs to), one before it (part of the restored state).
    report(
        &app,
        "customers",
        vec![
            numbered("C/8", "13:30", Some(0), 2),
            numbered("C/9", "11:00", Some(0), 3),
        ],
    )
    .await;
    let current: Vec<(String, bool)> =
        sqlx::query_as("select key, deleted from entity where key in ('C/8', 'C/9') order by key")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(current, vec![("C/9".to_string(), false)]);
    let lost: bool = sqlx::query_scalar("select lost from entity_version where key = 'C/8'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(lost);

    // Sequence numbers count per epoch: seq 1 of epoch 1 is new, then a replay.
    let body = ndjson(&[numbered("C/21", "15:10", None, 1)]);
    for replayed in [0, 1] {
        let response = post_events(&app, "customers", None, &body).await;
        let applied: Value = response.json().await.unwrap();
        assert_eq!(applied["replayed"], replayed, "{applied}");
    }

    // An epoch the service has not reached is refused, naming the line,
    // and nothing of the request is applied.
    let body = ndjson(&[
        numbered("C/22", "15:20", None, 9),
        numbered("C/23", "15:20", Some(2), 10),
    ]);
    let response = post_events(&app, "customers", None, &body).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["details"][0]["line"], 2, "{error}");
    assert_eq!(error["details"][0]["field"], "epoch");
    let written: i64 =
        sqlx::query_scalar("select count(*) from entity_version where key like 'C/2_'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(written, 2, "C/20 and C/21 only");
}

#[sqlx::test]
async fn dependency_counters_count_only_other_services(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let model = "
services: [{name: people}, {name: teams}]
relations:
  - {name: person.mentor, from: people, to: people}
  - {name: team.lead, from: teams, to: people}
";
    assert_eq!(
        app.put_topology("application/yaml", model).await.status(),
        200
    );
    report(
        &app,
        "people",
        vec![
            entity("P1", "09:00"),
            entity("P2", "09:00"),
            reference("P1", "person.mentor", "P2", "09:00", "09:00"),
        ],
    )
    .await;
    report(
        &app,
        "teams",
        vec![
            entity("T1", "09:00"),
            reference("T1", "team.lead", "P2", "09:00", "09:00"),
        ],
    )
    .await;
    let dependents: i32 = sqlx::query_scalar("select dependents from entity where key = 'P2'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dependents, 1);
}

#[sqlx::test]
async fn a_cached_copy_older_than_what_was_lost_does_not_suggest_the_cache(pool: PgPool) {
    let app = restored_shop(&pool).await;
    // The invoices keep a copy of C/2 as of 08:00; customers loses C/2's
    // 13:00 update, which that copy cannot give back.
    let mut copy = reference("I/2", "invoice.customer", "C/2", "08:00", "09:30");
    copy["cache"] = json!({"version": "08:00"});
    report(&app, "invoices", vec![copy]).await;
    restore_customers(&app).await;
    let items = findings(&app, "").await;
    let stale = the(&items, "stale_reference", "O/2", "C/2");
    assert_eq!(stale["strategy"], "replay");
    assert_eq!(stale["cached"], json!({"version": "08:00"}));
    // C/3's copy is as new as what was lost: the cache repairs it.
    assert_eq!(
        the(&items, "broken_link", "O/3", "C/3")["strategy"],
        "cache"
    );
}

#[sqlx::test]
async fn a_restore_flags_the_references_it_brings_back_to_what_is_gone_elsewhere(pool: PgPool) {
    let app = restored_shop(&pool).await;
    // At 13:00 the catalog deleted P/2 and orders dropped O/1's reference to it.
    report(
        &app,
        "catalog",
        vec![json!({"type": "entity", "key": "P/2", "at": at("13:00"), "deleted": true})],
    )
    .await;
    report(
        &app,
        "orders",
        vec![
            json!({"type": "reference", "from": "O/1", "relation": "order.product", "to": "P/2",
                    "at": at("13:00"), "removed": true}),
        ],
    )
    .await;
    // orders back at 12:00: O/1 refers to P/2 again, which is gone.
    let body = restore_of(
        &app,
        "orders",
        json!({"taken_at": BACKUP, "restored_at": RESTORED}),
    )
    .await;
    assert_eq!(body["counts"]["broken_link"], 1, "{body}");
    let items = findings(&app, &format!("restore={}", body["id"])).await;
    assert_eq!(
        summary(&items),
        vec![row("broken_link", "O/1", "P/2", "reconstruct")]
    );
    assert_eq!(items[0]["source"]["service"], "orders");
    assert_eq!(items[0]["target"]["service"], "catalog");
}

#[sqlx::test]
async fn an_accepted_finding_stays_closed_until_its_condition_clears_and_comes_back(pool: PgPool) {
    let app = restored_shop(&pool).await;
    restore_customers(&app).await;
    let items = findings(&app, "kind=broken_link").await;
    let accepted = the(&items, "broken_link", "O/3", "C/3")["id"].clone();
    let (status, _) = act(&app, &accepted, "accept", json!({"note": "known"})).await;
    assert_eq!(status, 200);
    // The same condition met again: no new finding.
    restore(
        &app,
        json!({"taken_at": BACKUP, "restored_at": at("15:30")}),
    )
    .await;
    assert_eq!(findings(&app, "kind=broken_link").await.len(), 2);

    // C/3 comes back (the condition clears), then a restore loses it again.
    report(&app, "customers", vec![entity("C/3", "16:00")]).await;
    let cleared = audit_actions(&app, &accepted).await;
    assert_eq!(cleared.last().unwrap().1, "clear", "{cleared:?}");
    let (status, again) = restore(
        &app,
        json!({"taken_at": BACKUP, "restored_at": at("16:30")}),
    )
    .await;
    assert_eq!(status, 201, "{again}");
    let items = findings(&app, "kind=broken_link").await;
    let o3: Vec<&Value> = items
        .iter()
        .filter(|f| f["source"]["key"] == "O/3")
        .collect();
    let statuses: Vec<&str> = o3.iter().map(|f| f["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["accepted", "open"], "{o3:?}");
}
