//! The OpenAPI document and the Prometheus metrics, checked against the
//! routes and the counters they describe.

use std::collections::BTreeSet;

use app::accounts::model::Role;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{ndjson, post_events, spawn_app, Browser, RealServer, TestApp, ADMIN_TOKEN};

/// `(method, path)` of every operation the document describes.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "put", "post", "delete", "patch"].contains(&k.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

async fn document(app: &TestApp) -> Value {
    // Open to all: no token, no session.
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[sqlx::test]
async fn the_document_describes_every_api_route(pool: PgPool) {
    let app = spawn_app(pool).await;
    let document = document(&app).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let operations = operations(&document);
    for expected in [
        ("put", "/api/v1/topology"),
        ("get", "/api/v1/lockstep-groups"),
        ("post", "/api/v1/services/{service}/events"),
        ("put", "/api/v1/services/{service}/inventory"),
        ("post", "/api/v1/services/{service}/restores"),
        ("get", "/api/v1/findings"),
        ("post", "/api/v1/findings/{id}/{action}"),
        ("post", "/api/v1/scans"),
        ("get", "/api/v1/openapi.json"),
    ] {
        assert!(
            operations.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} missing from the document"
        );
    }

    // A route added with a plain `.route("/api/…")` instead of `routes!`
    // would be served but not documented: no such call may exist.
    let undocumented = source_files("src")
        .into_iter()
        .flat_map(|(file, text)| {
            text.match_indices(".route(\"/api/v1")
                .map(|(at, _)| format!("{file}: {}", &text[at..(at + 60).min(text.len())]))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    assert!(
        undocumented.is_empty(),
        "API routes outside the OpenAPI document: {undocumented:#?}"
    );

    // Every documented operation is served, and what it answers to a bare
    // request (no body, placeholder ids) is among its documented statuses.
    for (method, path) in &operations {
        let concrete = path
            .replace("{service}", "no-such-service")
            .replace("{id}", "999999")
            .replace("{action}", "claim");
        let response = app
            .admin(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &concrete,
            )
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16().to_string();
        let documented = &document["paths"][path][method]["responses"];
        assert!(
            documented.get(&status).is_some(),
            "{method} {path} answered {status}, which its responses do not list: {documented}"
        );
        if response.status().is_client_error() {
            let body: Value = response.json().await.unwrap();
            assert!(body["error"].is_string(), "{method} {path}: {body}");
        }
    }
}

/// Every `.rs` file under `dir` with its text.
fn source_files(dir: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    files
}

#[sqlx::test]
async fn axum_rejections_keep_the_error_shape(pool: PgPool) {
    let app = spawn_app(pool).await;
    // A query axum cannot read (force is a boolean) and a wrong method.
    let bad_query = app
        .admin(Method::PUT, "/api/v1/topology?force=perhaps")
        .body("services: []\n")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_query.status(), 400);
    assert_eq!(bad_query.headers()["content-type"], "application/json");
    let body: Value = bad_query.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("force"), "{body}");
    assert_eq!(body["details"], json!([]));

    let wrong_method = app
        .admin(Method::DELETE, "/api/v1/topology")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    let body: Value = wrong_method.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
}

/// Found by the API fuzzing: PostgreSQL stores no NUL character in text or
/// JSON. Such input is the client's fault (422), and nothing is written.
#[sqlx::test]
async fn text_postgres_cannot_store_is_a_422(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let topology = "services: [{name: customers}]\n";
    assert_eq!(
        app.put_topology("application/yaml", topology)
            .await
            .status(),
        200
    );
    let backup = app
        .admin(Method::POST, "/api/v1/services/customers/backups")
        .json(&json!({"taken_at": "2026-01-01T00:00:00Z", "label": "night\u{0}ly"}))
        .send()
        .await
        .unwrap();
    assert_eq!(backup.status(), 422);
    let body: Value = backup.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("cannot be stored"),
        "{body}"
    );
    let events = ndjson(&[
        json!({"type": "entity", "key": "C/1", "at": "2026-01-01T00:00:00Z"}),
        json!({"type": "entity", "key": "C/2", "at": "2026-01-01T00:00:00Z", "data": {"name": "a\u{0}b"}}),
    ]);
    assert_eq!(
        post_events(&app, "customers", None, &events).await.status(),
        422
    );
    let stored: i64 = sqlx::query_scalar(
        "select (select count(*) from backup) + (select count(*) from entity_version)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);
}

/// The samples of the scrape as `name{labels} → value`, parsed by a
/// Prometheus text-format parser.
async fn scrape(app: &TestApp) -> Vec<prometheus_parse::Sample> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .expect("the exposition parses")
        .samples
}

fn value(samples: &[prometheus_parse::Sample], metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[sqlx::test]
// Its services have names of their own: the counters are the process's,
// and other tests ingest into services called orders at the same time.
async fn metrics_move_with_ingest_drills_and_claims(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let topology = "services: [{name: metered_customers}, {name: metered_orders}]\n\
                    relations: [{from: metered_orders, to: metered_customers, name: order.customer}]\n";
    assert_eq!(
        app.put_topology("application/yaml", topology)
            .await
            .status(),
        200
    );
    let before = scrape(&app).await;

    let events = ndjson(&[json!({"type": "entity", "key": "C/1", "at": "2026-01-01T00:00:00Z"})]);
    assert_eq!(
        post_events(&app, "metered_customers", None, &events)
            .await
            .status(),
        200
    );
    let orders = ndjson(&[
        json!({"type": "entity", "key": "O/1", "at": "2026-01-01T00:00:00Z"}),
        json!({"type": "reference", "from": "O/1", "relation": "order.customer", "to": "C/2",
               "observed": "2026-01-02T00:00:00Z", "at": "2026-01-02T00:00:00Z"}),
    ]);
    assert_eq!(
        post_events(&app, "metered_orders", None, &orders)
            .await
            .status(),
        200
    );
    // C/2 is created after the backup: restored, the orders reference breaks.
    let created = ndjson(&[json!({"type": "entity", "key": "C/2", "at": "2026-01-02T00:00:00Z"})]);
    assert_eq!(
        post_events(&app, "metered_customers", None, &created)
            .await
            .status(),
        200
    );

    let drill = app
        .admin(Method::POST, "/api/v1/services/metered_customers/restores")
        .json(&json!({"taken_at": "2026-01-01T12:00:00Z", "drill": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(drill.status(), 201);
    let restore = app
        .admin(Method::POST, "/api/v1/services/metered_customers/restores")
        .json(&json!({"taken_at": "2026-01-01T12:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(restore.status(), 201);
    let operator = Browser::signed_in(&app, &pool, "metrics-operator", Role::Operator).await;
    let claimed = operator
        .send(Method::POST, "/api/v1/findings/claim-next")
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 200);

    let after = scrape(&app).await;
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert_eq!(
        moved(
            "lockstep_ingest_events_total",
            &[("service", "metered_customers")]
        ),
        2.0
    );
    assert_eq!(
        moved(
            "lockstep_ingest_events_total",
            &[("service", "metered_orders")]
        ),
        2.0
    );
    assert!(
        moved(
            "lockstep_ingest_bytes_total",
            &[("service", "metered_orders")]
        ) > 100.0
    );
    assert!(
        moved(
            "lockstep_restore_duration_seconds_count",
            &[("mode", "drill")]
        ) >= 1.0
    );
    assert!(
        moved(
            "lockstep_restore_duration_seconds_count",
            &[("mode", "restore")]
        ) >= 1.0
    );
    assert!(
        moved(
            "lockstep_restore_findings_total",
            &[("mode", "drill"), ("kind", "broken_link")]
        ) >= 1.0
    );
    // Read from this test's database when scraped: exactly our claim.
    assert_eq!(value(&after, "lockstep_queue_claims_held", &[]), 1.0);
    assert_eq!(
        value(
            &after,
            "lockstep_queue_findings",
            &[("kind", "broken_link"), ("status", "claimed")]
        ),
        1.0
    );
    assert!(
        moved(
            "lockstep_http_requests_total",
            &[
                ("route", "/api/v1/services/:service/events"),
                ("status", "200"),
                ("method", "POST")
            ]
        ) >= 3.0
    );
    assert!(value(&after, "lockstep_db_pool_connections", &[("state", "idle")]) >= 0.0);
    assert!(after.iter().any(|s| s.metric == "lockstep_build_info"));

    // The Grafana dashboard in the repository queries only metrics served.
    let dashboard = include_str!("../../deploy/grafana/lockstep.json");
    let served: BTreeSet<&str> = after.iter().map(|s| s.metric.as_str()).collect();
    for (at, _) in dashboard.match_indices("lockstep_") {
        let name: String = dashboard[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(&name);
        assert!(
            served.iter().any(|m| m.starts_with(base)),
            "the dashboard queries {name}, which /metrics does not serve"
        );
    }
}

/// In production mode (`LOCKSTEP_LOG_FORMAT=json`) every request is one
/// JSON line: request id, route template, status, latency and the caller.
#[sqlx::test]
async fn each_request_is_one_json_log_line(
    _: sqlx::postgres::PgPoolOptions,
    options: sqlx::postgres::PgConnectOptions,
) {
    use std::io::BufRead;

    let (mut server, base) = RealServer::start(
        &options,
        &[("LOCKSTEP_LOG_FORMAT", "json"), ("RUST_LOG", "info")],
        std::process::Stdio::piped(),
    )
    .await;
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/findings/12345"))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-request-id", "log-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let stdout = server.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map(Result::unwrap)
            .find(|line| line.contains("log-test-1"))
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), line)
        .await
        .expect("no log line for the request")
        .unwrap()
        .expect("the log ended");
    server.kill().unwrap();
    let entry: Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(entry["request_id"], "log-test-1");
    assert_eq!(entry["route"], "/api/v1/findings/:id");
    assert_eq!(entry["path"], "/api/v1/findings/12345");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["status"], 404);
    assert_eq!(entry["actor"], "admin token");
    assert!(entry["latency_ms"].as_f64().unwrap() > 0.0);
}
