//! Every server function, called by a browser of every role: each refuses
//! whoever lacks its permission (401 signed out, 403 signed in) before it
//! does anything, and lets the others through. The table must name every
//! registered server function, so a new one cannot ship without saying
//! who may call it.

use std::collections::BTreeSet;

use app::accounts::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{spawn_app, Browser};

/// Who may call a server function.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Needs {
    /// Anyone, signed in or not (signing in and out).
    Nobody,
    Read,
    Operate,
    Design,
    Administer,
}

impl Needs {
    fn granted_to(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Needs::Nobody, _) => true,
            (_, None) => false,
            (Needs::Read, Some(_)) => true,
            (Needs::Operate, Some(role)) => matches!(role, Role::Operator | Role::Admin),
            (Needs::Design, Some(role)) => matches!(role, Role::Architect | Role::Admin),
            (Needs::Administer, Some(role)) => role == Role::Admin,
        }
    }
}

/// A call's arguments: URL-encoded (as written, brackets and all) or JSON.
enum Args {
    Form(&'static str),
    Json(Value),
}

/// Every server function with harmless arguments of the right shape (they
/// must deserialise, or the refusal could not be told from a 400): they
/// name nothing that exists, or fail validation, so an allowed call
/// changes nothing.
fn table() -> Vec<(&'static str, Needs, Args)> {
    use Args::*;
    use Needs::*;
    vec![
        ("login", Nobody, Form("name=nobody&password=not%20a%20password")),
        ("restore_history", Read, Form("")),
        ("restore_choices", Read, Form("")),
        ("restore_story", Read, Form("id=999999")),
        ("running_restore", Read, Form("service=nobody")),
        ("suspected_restores", Read, Form("")),
        ("collectors", Read, Form("")),
        ("api_reference", Read, Form("")),
        ("queue_page", Read, Json(json!({"filter": {}, "page": {"after": null, "limit": 5, "newest_first": false}}))),
        ("queue_counts", Read, Json(json!({"filter": {}}))),
        ("finding_detail", Read, Form("id=999999")),
        ("list_causes", Read, Form("")),
        ("load_exposure", Read, Form("")),
        ("inventory_overview", Read, Form("")),
        ("service_inventory", Read, Form("service=nobody")),
        ("find_entity", Read, Form("service=nobody&key=k")),
        ("topology_view", Read, Form("")),
        ("record_restore", Operate, Form("service=nobody&backup=&at=2026-11-01T12:00&drill=true")),
        ("record_suspected_restore", Operate, Form("service=nobody&id=999999")),
        ("dismiss_suspected_restore", Operate, Form("service=nobody&id=999999")),
        ("plan_restore", Operate, Form("service=nobody")),
        ("act_on_finding", Operate, Form("id=999999&action=claim")),
        ("bulk_act", Operate, Json(json!({"selection": {"Ids": [999999]}, "action": "dismiss", "input": {}}))),
        ("decide_cause", Operate, Form("id=999999&action=dismiss")),
        ("claim_next", Operate, Json(json!({"filter": {"service": "nobody"}}))),
        ("set_relation_policy", Design, Form("relation=nobody&policy=lockstep")),
        ("upload_topology", Design, Form("document=services%3A%20%5B")),
        ("import_backstage", Design, Form("catalog=kind%3A%20%5B")),
        ("save_service", Design, Form("form[name]=&form[team]=&form[description]=&form[datastore]=&form[pattern]=&form[backup_method]=&form[backup_interval]=&form[backup_duration]=&form[prefers]=")),
        ("delete_service", Design, Form("name=nobody&force=false")),
        ("save_relation", Design, Form("form[name]=&form[from]=nobody&form[to]=nobody&form[kind]=reference&form[required]=false&form[cached]=false&form[policy]=default&form[on_broken]=")),
        ("delete_relation", Design, Form("name=nobody&force=false")),
        ("list_accounts", Administer, Form("")),
        ("save_account", Administer, Form("name=nobody&role=viewer&password=short&create=true")),
        ("delete_account", Administer, Form("name=nobody")),
        ("audit_log", Administer, Form("")),
        // Last: it ends the session it is called with.
        ("logout", Nobody, Form("")),
    ]
}

async fn call(browser: &Browser, function: &str, args: &Args) -> (StatusCode, String) {
    let request = browser.send(Method::POST, &format!("/api/fn/{function}"));
    let request = match args {
        Args::Form(body) => request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(*body),
        Args::Json(body) => request.json(body),
    };
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[test]
fn the_table_names_every_registered_server_function() {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/fn/").to_string())
        .collect();
    let listed: BTreeSet<String> = table().iter().map(|(name, ..)| name.to_string()).collect();
    assert_eq!(registered, listed);
}

#[sqlx::test]
async fn every_server_function_refuses_every_role_that_lacks_its_permission(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut browsers = vec![(None, Browser::open(&app).await)];
    for (name, role) in [
        ("vera", Role::Viewer),
        ("otis", Role::Operator),
        ("ari", Role::Architect),
        ("ada", Role::Admin),
    ] {
        browsers.push((
            Some(role),
            Browser::signed_in(&app, &pool, name, role).await,
        ));
    }
    for (function, needs, args) in table() {
        for (role, browser) in &browsers {
            let (status, body) = call(browser, function, &args).await;
            let who = format!("{function} as {role:?}: {status} {body}");
            if needs.granted_to(*role) {
                assert!(
                    status != StatusCode::FORBIDDEN
                        && (status != StatusCode::UNAUTHORIZED || function == "login"),
                    "{who}"
                );
                assert_ne!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "arguments of the wrong shape: {who}"
                );
            } else if role.is_none() {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{who}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
            }
        }
    }
    // Nothing a call was let through to changed anything.
    let accounts: i64 = sqlx::query_scalar("select count(*) from account")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(accounts, 4);
    let changes: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action <> 'create account'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(changes, 0);
}
