//! `PUT/GET /api/v1/topology` and `GET /api/v1/lockstep-groups`.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::spawn_app;

const SHOP: &str = r#"
services:
  - name: orders
    team: checkout
    datastore: postgres
    pattern: event-sourced
    backup: { method: pitr, interval: 1h, duration: 15m }
    prefers: availability
  - name: customers
    datastore: mongodb
    backup: { method: logical-dump, interval: 24h, duration: 45m }
  - name: payments
    backup: { method: pitr, duration: 5m }
  - name: media
    datastore: s3
relations:
  - { name: order.customer, from: orders, to: customers }
  - { name: payment.order, from: payments, to: orders, cached: true }
  - { name: order.media, from: orders, to: media, required: false, on_broken: ignore }
"#;

fn names(groups: &Value) -> Vec<Vec<String>> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| serde_json::from_value(g["services"].clone()).unwrap())
        .collect()
}

#[sqlx::test]
async fn yaml_round_trips_through_the_model(pool: PgPool) {
    let app = spawn_app(pool).await;
    let put = app.put_topology("application/yaml", SHOP).await;
    assert_eq!(put.status(), 200);

    let yaml = app
        .admin(reqwest::Method::GET, "/api/v1/topology")
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    let yaml = yaml.text().await.unwrap();
    assert!(yaml.contains("interval: 1h"), "{yaml}");

    // Putting the downloaded document back changes nothing.
    let before = app.get_json("/api/v1/topology").await;
    assert_eq!(
        app.put_topology("application/yaml", &yaml).await.status(),
        200
    );
    assert_eq!(app.get_json("/api/v1/topology").await, before);

    let orders = before["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "orders")
        .unwrap();
    assert_eq!(
        orders,
        &json!({"name": "orders", "team": "checkout", "datastore": "postgres", "pattern": "event-sourced",
                "backup": {"method": "pitr", "interval": "1h", "duration": "15m"}, "prefers": "availability"})
    );
}

#[sqlx::test]
async fn json_documents_are_accepted(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = json!({"services": [{"name": "a"}, {"name": "b"}],
                      "relations": [{"name": "a.b", "from": "a", "to": "b"}]});
    let put = app
        .put_topology("application/json", &body.to_string())
        .await;
    assert_eq!(put.status(), 200);
    let groups = app.get_json("/api/v1/lockstep-groups").await;
    assert_eq!(names(&groups), vec![vec!["a", "b"]]);
}

#[sqlx::test]
async fn groups_follow_the_effective_policy(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.put_topology("application/yaml", SHOP).await;
    let groups = app.get_json("/api/v1/lockstep-groups").await;
    // order.customer is required and uncached: lockstep. The cached and the
    // informational relations are tolerated.
    assert_eq!(
        names(&groups),
        vec![vec!["customers", "orders"], vec!["media"], vec!["payments"]]
    );
    assert_eq!(groups[0]["backup_window_s"], 45 * 60);
    assert_eq!(groups[0]["slowest"], "customers");
    assert_eq!(groups[0]["shared_method"], "coordinated-freeze");
    assert_eq!(groups[0]["id"], "customers");
}

#[sqlx::test]
async fn cycles_self_references_mirrors_and_isolated_services(pool: PgPool) {
    let app = spawn_app(pool).await;
    let document = r#"
services: [{name: a}, {name: b}, {name: c}, {name: d}, {name: e}, {name: f}, {name: lonely}]
relations:
  - { name: ab, from: a, to: b }
  - { name: bc, from: b, to: c }
  - { name: ca, from: c, to: a }
  - { name: dd, from: d, to: d }
  - { name: ef, from: e, to: f, kind: mirror }
  - { name: fe, from: f, to: e, kind: mirror, policy: tolerate }
"#;
    assert_eq!(
        app.put_topology("application/yaml", document)
            .await
            .status(),
        200
    );
    let groups = app.get_json("/api/v1/lockstep-groups").await;
    assert_eq!(
        names(&groups),
        vec![
            vec!["a", "b", "c"],
            vec!["d"],
            vec!["e", "f"],
            vec!["lonely"]
        ]
    );
    assert_eq!(groups[1]["relations"], json!(["dd"]));
}

#[sqlx::test]
async fn a_rejected_document_lists_every_problem_and_changes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.put_topology("application/yaml", SHOP).await;
    let before = app.get_json("/api/v1/topology").await;

    let bad = "services:\n  - name: orders\n  - name: orders\n    datastore: oracle\nrelations:\n  - { name: r, from: orders, to: ghost, policy: sometimes }\n";
    let response = app.put_topology("application/yaml", bad).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let details = body["details"].as_array().unwrap();
    let located: Vec<(i64, &str)> = details
        .iter()
        .map(|d| (d["line"].as_i64().unwrap(), d["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        located,
        vec![
            (3, "services[1].name"),
            (4, "services[1].datastore"),
            (6, "relations[0].to"),
            (6, "relations[0].policy"),
        ],
        "{body}"
    );
    assert!(body["error"].as_str().unwrap().contains("rejected"));
    assert_eq!(app.get_json("/api/v1/topology").await, before);

    for malformed in ["services: [", "", "- just\n- a list\n", "{\"services\": 3}"] {
        let response = app.put_topology("application/yaml", malformed).await;
        assert_eq!(response.status(), 422, "{malformed:?}");
        let body: Value = response.json().await.unwrap();
        assert!(
            !body["details"].as_array().unwrap().is_empty(),
            "{malformed:?}: {body}"
        );
    }
    assert_eq!(app.get_json("/api/v1/topology").await, before);
}

#[sqlx::test]
async fn replacing_the_model_keeps_surviving_services_and_drops_the_rest(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.put_topology("application/yaml", SHOP).await;
    let id_before: i64 = sqlx::query_scalar("select service_id from service where name = 'orders'")
        .fetch_one(&pool)
        .await
        .unwrap();

    let smaller = "services: [{name: orders, team: new-team}, {name: shipping}]\nrelations: []\n";
    assert_eq!(
        app.put_topology("application/yaml", smaller).await.status(),
        200
    );
    let topology = app.get_json("/api/v1/topology").await;
    assert_eq!(
        topology,
        json!({"services": [{"name": "orders", "team": "new-team"}, {"name": "shipping"}], "relations": []})
    );
    let id_after: i64 = sqlx::query_scalar("select service_id from service where name = 'orders'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(id_before, id_after);
}

#[sqlx::test]
async fn the_api_wants_the_admin_token(pool: PgPool) {
    let app = spawn_app(pool).await;
    let anonymous = app
        .client
        .get(app.url("/api/v1/topology"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let wrong = app
        .client
        .put(app.url("/api/v1/topology"))
        .bearer_auth("not-the-token")
        .body(SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid token");
    assert_eq!(
        app.get_json("/api/v1/topology").await["services"],
        json!([])
    );
}

#[sqlx::test]
async fn a_backstage_catalog_merges_into_the_model(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.put_topology("application/yaml", SHOP).await;
    let catalog = "kind: Component\nmetadata: { name: orders }\nspec: { owner: group:default/sales, dependsOn: [resource:orders-db, component:fraud] }\n---\nkind: Resource\nmetadata: { name: orders-db }\nspec: { type: mysql }\n---\nkind: Component\nmetadata: { name: fraud }\nspec: { owner: risk }\n---\nkind: Group\nmetadata: { name: sales }\n";
    let response = app
        .admin(reqwest::Method::POST, "/api/v1/import/backstage")
        .header("content-type", "application/yaml")
        .body(catalog)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["services"], json!(["fraud", "orders"]));
    assert_eq!(report["relations"], json!(["orders.fraud"]));
    assert_eq!(report["skipped"][0]["kind"], "group");

    let topology = app.get_json("/api/v1/topology").await;
    let services = topology["services"].as_array().unwrap();
    assert_eq!(
        services.len(),
        5,
        "the four modelled services stay, fraud joins"
    );
    let orders = services.iter().find(|s| s["name"] == "orders").unwrap();
    assert_eq!(orders["team"], "sales");
    assert_eq!(orders["datastore"], "mysql");
    assert_eq!(orders["backup"]["interval"], "1h", "kept from the model");

    let malformed = app
        .admin(reqwest::Method::POST, "/api/v1/import/backstage")
        .body("kind: [")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 422);
    assert_eq!(app.get_json("/api/v1/topology").await, topology);
}

#[sqlx::test]
async fn imports_sent_at_once_keep_every_catalogs_services(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // Each import reads the model and writes its merge: sent together, none
    // may write over another's service.
    let imports = (0..26).map(|i| {
        let request = app
            .admin(reqwest::Method::POST, "/api/v1/import/backstage")
            .header("content-type", "application/yaml")
            .body(format!(
                "kind: Component\nmetadata: {{ name: svc-{i:02} }}\nspec: {{ owner: team-{i} }}\n"
            ));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    });
    for import in imports.collect::<Vec<_>>() {
        assert_eq!(import.await.unwrap(), 200);
    }
    let topology = app.get_json("/api/v1/topology").await;
    let names: Vec<&str> = topology["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..26).map(|i| format!("svc-{i:02}")).collect();
    assert_eq!(names, expected);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'import backstage'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 26);
}

#[sqlx::test]
async fn each_group_has_a_markdown_runbook(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.put_topology("application/yaml", SHOP).await;
    let response = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/lockstep-groups/customers/runbook",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let markdown = response.text().await.unwrap();
    assert!(markdown.starts_with("# Runbook: lockstep group customers, orders"));
    assert!(markdown.contains("**45m** (customers)"), "{markdown}");

    let download = app
        .admin(reqwest::Method::GET, "/groups/customers/runbook.md")
        .send()
        .await
        .unwrap();
    assert_eq!(
        download.headers()["content-disposition"],
        "attachment; filename=\"runbook-customers.md\""
    );

    let missing = app
        .admin(reqwest::Method::GET, "/api/v1/lockstep-groups/nope/runbook")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
