//! `lockstep collect` (spec §9) against real databases: a PostgreSQL
//! service (a schema of the test's database) and a MariaDB/MySQL one
//! (`MYSQL_URL`, which the test command provides), through the real API.

use std::time::Duration;

use lockstep::collect::{self, Mode};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, MySqlConnection, PgPool};

use crate::helpers::{spawn_app_on, TestApp, ADMIN_TOKEN};
use crate::inventory::shop;

/// The test database's own URL (`#[sqlx::test]` made it).
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let name = pool.connect_options().get_database().unwrap().to_string();
    let server = base.rsplit_once('/').map_or(base.as_str(), |(s, _)| s);
    format!("{server}/{name}")
}

fn mysql_server() -> String {
    std::env::var("MYSQL_URL").expect(
        "MYSQL_URL must name a MySQL/MariaDB server (scripts/test.sh starts one when it is unset)",
    )
}

/// A file under the system's temporary directory, unique to this test.
fn temp_file(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("lockstep-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_string_lossy().into_owned()
}

/// A collector config for `orders` reading `database`, with the entity SQL
/// given (the references' SQL is the same in both dialects).
fn config(app: &TestApp, database: &str, entities: &str, key: &str) -> String {
    let text = format!(
        "lockstep: {}
services:
  - service: orders
    token: {ADMIN_TOKEN}
    database: {database}
    batch: 2
    overlap: 0s
    entities:
      sql: {entities}
      data: [status]
    references:
      - relation: order.customer
        sql: select id as from_key, customer_id as to_key, updated_at as observed_at, customer_name from orders
        cache: [customer_name]
",
        app.address
    );
    let path = temp_file(&format!("{key}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Orders' live entities in Lockstep: key, status (from `data`) and time.
async fn live_orders(pool: &PgPool) -> Vec<(String, Option<String>, String)> {
    sqlx::query_as(
        "select e.key, v.data->>'status', to_char(e.updated_at at time zone 'UTC', 'HH24:MI')
         from entity e join service s using (service_id)
         join entity_version v on v.service_id = e.service_id and v.key = e.key and v.updated_at = e.updated_at
         where s.name = 'orders' and not e.deleted order by e.key",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn versions(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from entity_version")
        .fetch_one(pool)
        .await
        .unwrap()
}

type Row = (&'static str, &'static str, &'static str);

fn owned(rows: &[Row]) -> Vec<(String, Option<String>, String)> {
    rows.iter()
        .map(|(k, s, t)| (k.to_string(), Some(s.to_string()), t.to_string()))
        .collect()
}

/// The same story told by either database: a first pass (a snapshot), a
/// poll of an update and an insert, a hard delete only a snapshot sees,
/// and a pass sent again from an old watermark that duplicates nothing.
async fn collect_the_story(app: &TestApp, pool: &PgPool, path: &str, run_sql: impl AsyncFn(&str)) {
    collect::run(path, Mode::Once).await.unwrap();
    assert_eq!(
        live_orders(pool).await,
        owned(&[
            ("1", "new", "08:00"),
            ("2", "new", "08:10"),
            ("3", "paid", "08:20")
        ])
    );
    let cached: Value = sqlx::query_scalar(
        "select cache from reference_version where source_key = '3' and valid_to is null",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(cached, json!({"customer_name": "Cy"}));

    run_sql("update orders set status = 'paid', updated_at = '2026-11-01 09:00:00' where id = 2")
        .await;
    run_sql("insert into orders values (4, 'new', 'C/1', 'Al', '2026-11-01 09:05:00', 0)").await;
    run_sql("insert into orders values (5, 'new', 'C/2', 'Bo', '2026-11-01 09:06:00', 0)").await;
    let before_poll = app.get_json("/api/v1/services/orders/collector").await;
    collect::run(path, Mode::Once).await.unwrap();
    assert_eq!(
        live_orders(pool).await,
        owned(&[
            ("1", "new", "08:00"),
            ("2", "paid", "09:00"),
            ("3", "paid", "08:20"),
            ("4", "new", "09:05"),
            ("5", "new", "09:06"),
        ]),
        "the poll brought the update and the inserts (in pages of two)"
    );

    // A collector that died after sending, before its watermark moved: the
    // next one reads the same rows again and Lockstep drops them as replays.
    let versions_before = versions(pool).await;
    let rewind = app
        .admin(reqwest::Method::PUT, "/api/v1/services/orders/collector")
        .json(&json!({"collector": "rewound", "watermarks": before_poll["watermarks"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(rewind.status(), 204);
    collect::run(path, Mode::Once).await.unwrap();
    assert_eq!(versions(pool).await, versions_before, "nothing duplicated");

    // A hard delete: polls cannot see it, the snapshot does.
    run_sql("delete from orders where id = 3").await;
    collect::run(path, Mode::Once).await.unwrap();
    assert_eq!(live_orders(pool).await.len(), 5);
    collect::run(path, Mode::Snapshot).await.unwrap();
    let keys: Vec<String> = live_orders(pool).await.into_iter().map(|r| r.0).collect();
    assert_eq!(keys, ["1", "2", "4", "5"]);

    let status = app.get_json("/api/v1/services/orders/collector").await;
    assert!(status["rows_sent"].as_i64().unwrap() >= 16, "{status}");
    assert!(
        status["watermarks"]["entities"].as_i64().is_some(),
        "{status}"
    );
    assert!(
        status["watermarks"]["order.customer"].as_i64().is_some(),
        "{status}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("lockstep_collector_rows{service=\"orders\"}"),
        "the collector's progress is in /metrics"
    );
}

const ORDERS_ROWS: &str = "insert into orders values
    (1, 'new', 'C/1', 'Al', '2026-11-01 08:00:00', 0),
    (2, 'new', 'C/2', 'Bo', '2026-11-01 08:10:00', 0),
    (3, 'paid', 'C/3', 'Cy', '2026-11-01 08:20:00', 0)";

#[sqlx::test]
async fn a_postgres_service_is_collected_with_its_updates_and_hard_deletes(pool: PgPool) {
    let app = shop(&pool).await;
    let url = database_url(&pool);
    // The service's own tables, in a schema of their own, found first on
    // the collector's search path.
    let service_url = format!("{url}?options=-csearch_path%3Dshop");
    let mut service = sqlx::PgConnection::connect(&url).await.unwrap();
    service
        .execute(
            "create schema shop;
             create table shop.orders (id int primary key, status text, customer_id text, customer_name text,
                                       updated_at timestamp, deleted int);
             create index on shop.orders (updated_at)",
        )
        .await
        .unwrap();
    service
        .execute(format!("set search_path = shop; {ORDERS_ROWS}").as_str())
        .await
        .unwrap();
    let path = config(
        &app,
        &service_url,
        "select id as key, updated_at, deleted, status from orders",
        "postgres",
    );
    let service = tokio::sync::Mutex::new(service);
    collect_the_story(&app, &pool, &path, async |sql: &str| {
        let mut conn = service.lock().await;
        conn.execute(format!("set search_path = shop; {sql}").as_str())
            .await
            .unwrap();
    })
    .await;
}

/// A database of its own on the MySQL/MariaDB server holding the orders
/// table and its rows (drop it with `drop_mysql_database`).
async fn mysql_database(name: &str) -> (String, tokio::sync::Mutex<MySqlConnection>) {
    let server = mysql_server();
    let mut admin = MySqlConnection::connect(&server).await.unwrap();
    for statement in [
        format!("drop database if exists {name}"),
        format!("create database {name}"),
    ] {
        admin.execute(statement.as_str()).await.unwrap();
    }
    let url = format!("{}/{name}", server.trim_end_matches('/'));
    let mut conn = MySqlConnection::connect(&url).await.unwrap();
    conn.execute(
        "create table orders (id int primary key, status varchar(20), customer_id varchar(20),
                              customer_name varchar(40), updated_at datetime(6), deleted tinyint,
                              index (updated_at))",
    )
    .await
    .unwrap();
    conn.execute(ORDERS_ROWS).await.unwrap();
    (url, tokio::sync::Mutex::new(conn))
}

async fn drop_mysql_database(conn: tokio::sync::Mutex<MySqlConnection>, name: &str) {
    conn.into_inner()
        .execute(format!("drop database {name}").as_str())
        .await
        .unwrap();
}

#[sqlx::test]
async fn a_mysql_service_is_collected_with_its_updates_and_hard_deletes(pool: PgPool) {
    let app = shop(&pool).await;
    let name = format!("lockstep_it_{}", std::process::id());
    let (url, conn) = mysql_database(&name).await;
    let path = config(
        &app,
        &url,
        "select id as `key`, updated_at, deleted, status from orders",
        "mysql",
    );
    collect_the_story(&app, &pool, &path, async |sql: &str| {
        conn.lock().await.execute(sql).await.unwrap();
    })
    .await;
    drop_mysql_database(conn, &name).await;
}

#[sqlx::test]
async fn a_query_without_a_column_it_must_return_is_refused_before_anything_is_sent(pool: PgPool) {
    let app = shop(&pool).await;
    let url = database_url(&pool);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    conn.execute("create table orders (id int, status text, customer_id text, customer_name text, updated_at timestamptz)")
        .await
        .unwrap();
    let path = config(
        &app,
        &url,
        "select id as key, status from orders",
        "missing",
    );
    let error = collect::run(&path, Mode::Once).await.unwrap_err();
    let said = format!("{error:#}");
    assert!(said.contains("services[0]"), "{said}");
    assert!(
        said.contains("services[0].entities.sql does not return a column named \"updated_at\""),
        "{said}"
    );
    assert_eq!(versions(&pool).await, 0, "nothing was sent");
    let collector_status = async || {
        app.admin(reqwest::Method::GET, "/api/v1/services/orders/collector")
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        collector_status().await,
        404,
        "the collector never reported"
    );

    // A report whose watermarks are not an object is refused and not kept.
    let refused = app
        .admin(reqwest::Method::PUT, "/api/v1/services/orders/collector")
        .json(&serde_json::json!({"collector": "odd", "watermarks": "yesterday"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("expected a map"), "{body}");
    assert_eq!(collector_status().await, 404, "nothing was kept");

    // Watermarks are read back as sent, even a number at the edge of a
    // double (stored as jsonb it came back as 309 digits, and a 500).
    let edge = "{\"collector\": \"edge\", \"watermarks\": {\"at\": 1.7976931348623157e308}}";
    let kept = app
        .admin(reqwest::Method::PUT, "/api/v1/services/orders/collector")
        .header("content-type", "application/json")
        .body(edge)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 204);
    let read = app
        .admin(reqwest::Method::GET, "/api/v1/services/orders/collector")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let status: serde_json::Value = read.json().await.unwrap();
    assert_eq!(status["watermarks"]["at"], f64::MAX, "{status}");

    // A config that is not even YAML names the file and the line.
    let broken = temp_file("broken.yaml");
    std::fs::write(&broken, "services:\n  - service: orders\n    poll: [\n").unwrap();
    let said = format!("{:#}", collect::run(&broken, Mode::Once).await.unwrap_err());
    assert!(said.starts_with(&broken), "{said}");
    assert!(said.contains("line "), "{said}");
}

#[sqlx::test]
async fn a_collector_waits_out_lockstep_being_away_and_catches_up(pool: PgPool) {
    // Lockstep's address is chosen now, but nothing answers there yet.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let url = database_url(&pool);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    conn.execute(
        "create table orders (id int primary key, status text, customer_id text, customer_name text,
                              updated_at timestamp, deleted int)",
    )
    .await
    .unwrap();
    conn.execute(ORDERS_ROWS).await.unwrap();
    let away = TestApp {
        address: format!("http://{address}"),
        client: reqwest::Client::new(),
    };
    let path = config(
        &away,
        &url,
        "select id as key, updated_at, deleted, status from orders",
        "away",
    );
    let collector = tokio::spawn(async move { collect::run(&path, Mode::Forever).await });

    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(versions(&pool).await, 0);
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let app = spawn_app_on(pool.clone(), listener).await;
    assert_eq!(
        app.put_topology(
            "application/yaml",
            "services: [{name: orders}, {name: customers}]\nrelations:\n  - { name: order.customer, from: orders, to: customers }\n"
        )
        .await
        .status(),
        200
    );
    let mut waited = Duration::ZERO;
    while live_orders(&pool).await.len() < 3 {
        assert!(
            waited < Duration::from_secs(30),
            "the collector did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    collector.abort();
}

/// A real backup and a real restore of the service's database, told by
/// either database: the collector's next pass sees the state go back and
/// Lockstep suspects a restore from the backup `lockstep backup run` made.
async fn restore_is_suspected(
    app: &TestApp,
    pool: &PgPool,
    path: &str,
    run_sql: impl AsyncFn(&str),
    (now, backup, restore): (&str, Vec<String>, Vec<String>),
) {
    collect::run(path, Mode::Once).await.unwrap();
    let backups = async || -> Vec<(i64, Option<String>)> {
        sqlx::query_as("select backup_id, label from backup order by backup_id")
            .fetch_all(pool)
            .await
            .unwrap()
    };
    let failing = ["sh", "-c", "exit 3"].map(String::from);
    let code = lockstep::backup_run::run("orders", &app.address, ADMIN_TOKEN, None, &failing)
        .await
        .unwrap();
    assert_eq!(code, 3, "a failing backup command's status is ours");
    assert_eq!(backups().await, [], "and nothing is recorded");
    let code = lockstep::backup_run::run(
        "orders",
        &app.address,
        ADMIN_TOKEN,
        Some("nightly"),
        &backup,
    )
    .await
    .unwrap();
    assert_eq!(code, 0);
    let recorded = backups().await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].1.as_deref(), Some("nightly"));

    tokio::time::sleep(Duration::from_millis(20)).await;
    run_sql(&format!(
        "update orders set status = 'shipped', updated_at = {now} where id = 1"
    ))
    .await;
    run_sql(&format!(
        "insert into orders values (4, 'new', 'C/1', 'Al', {now}, 0)"
    ))
    .await;
    collect::run(path, Mode::Once).await.unwrap();
    assert!(
        app.suspicions("orders").await.is_empty(),
        "writes after a backup are no regression"
    );

    // The database is restored from the dump: order 4 is gone, order 1 back.
    let status = tokio::process::Command::new(&restore[0])
        .args(&restore[1..])
        .status()
        .await
        .unwrap();
    assert!(status.success(), "{restore:?}");
    // An ordinary pass: it finds the newest write older than its
    // watermark, and takes a snapshot.
    collect::run(path, Mode::Once).await.unwrap();

    let list = app.suspicions("orders").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        list[0]["backup_id"], recorded[0].0,
        "the backup it came from"
    );
    assert_eq!(list[0]["evidence"]["vanished"], 1);
    assert_eq!(list[0]["evidence"]["regressed"], 1);
}

#[sqlx::test]
async fn a_pg_restore_of_the_service_is_suspected_from_its_backup(pool: PgPool) {
    let app = shop(&pool).await;
    let url = database_url(&pool);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    conn.execute(
        "create schema shop;
         create table shop.orders (id int primary key, status text, customer_id text, customer_name text,
                                   updated_at timestamptz, deleted int)",
    )
    .await
    .unwrap();
    conn.execute(format!("set search_path = shop; {ORDERS_ROWS}").as_str())
        .await
        .unwrap();
    let path = config(
        &app,
        &format!("{url}?options=-csearch_path%3Dshop"),
        "select id as key, updated_at, deleted, status from orders",
        "pg-restore",
    );
    let dump = temp_file("orders.dump");
    let conn = tokio::sync::Mutex::new(conn);
    let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    restore_is_suspected(
        &app,
        &pool,
        &path,
        async |sql: &str| {
            conn.lock()
                .await
                .execute(format!("set search_path = shop; {sql}").as_str())
                .await
                .unwrap();
        },
        (
            "now()",
            args(&[
                "pg_dump",
                "--format=custom",
                "--schema=shop",
                "--file",
                &dump,
                &url,
            ]),
            args(&[
                "pg_restore",
                "--clean",
                "--if-exists",
                "--dbname",
                &url,
                &dump,
            ]),
        ),
    )
    .await;
}

#[sqlx::test]
async fn a_mysql_restore_of_the_service_is_suspected_from_its_backup(pool: PgPool) {
    let app = shop(&pool).await;
    let name = format!("lockstep_it_restore_{}", std::process::id());
    let (url, conn) = mysql_database(&name).await;
    let path = config(
        &app,
        &url,
        "select id as `key`, updated_at, deleted, status from orders",
        "mysql-restore",
    );
    // The database's URL as the client tools want it (the database last).
    let client = lockstep::demo::live::mysql_client(&url).unwrap();
    let dump = temp_file("orders.sql");
    let shell = |line: String| vec!["sh".to_string(), "-c".to_string(), line];
    restore_is_suspected(
        &app,
        &pool,
        &path,
        async |sql: &str| {
            conn.lock().await.execute(sql).await.unwrap();
        },
        (
            "utc_timestamp(6)",
            shell(format!("mysqldump --single-transaction {client} > {dump}")),
            shell(format!("mysql {client} < {dump}")),
        ),
    )
    .await;
    drop_mysql_database(conn, &name).await;
}

#[sqlx::test]
async fn a_collector_killed_mid_poll_and_started_again_loses_and_duplicates_nothing(pool: PgPool) {
    let app = shop(&pool).await;
    let url = database_url(&pool);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    conn.execute(
        "create table orders (id int primary key, status text, customer_id text, customer_name text,
                              updated_at timestamptz, deleted int)",
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(config(&app, &url, "x", "unused")).unwrap();
    let path = temp_file("killed.yaml");
    std::fs::write(
        &path,
        text.replace("batch: 2", "batch: 1").replace(
            "sql: x",
            "sql: select id as key, updated_at, deleted, status from orders",
        ),
    )
    .unwrap();
    // A first pass (a snapshot of nothing) sets the watermarks; then 200
    // orders arrive, each sent in a request of its own.
    collect::run(&path, Mode::Once).await.unwrap();
    conn.execute(
        "insert into orders select i, 'new', 'C/1', 'Al', now() + i * interval '1 ms', 0
         from generate_series(1, 200) i",
    )
    .await
    .unwrap();

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["collect", "--config", &path])
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let arrived = async || live_orders(&pool).await.len();
    while arrived().await < 10 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let at_kill = arrived().await;
    assert!(
        at_kill < 200,
        "killed mid-poll: {at_kill} of 200 had arrived"
    );

    // Started again: it resumes from the last acknowledged watermark.
    collect::run(&path, Mode::Once).await.unwrap();
    assert_eq!(arrived().await, 200, "nothing lost");
    assert_eq!(
        versions(&pool).await,
        200,
        "nothing duplicated: one version each"
    );
}
