//! The collector (run: `scripts/bench.sh collect`; needs `DATABASE_URL`).
//!
//! A service's own table of 1,000,000 orders, every other one referring to
//! a customer with a cached name (1,500,000 rows: entities and references),
//! in a schema of the bench database. A full snapshot read by `lockstep
//! collect` and ingested over HTTP, against the baseline measured in the
//! same run doing the same logical work without the collector: `COPY (the
//! same queries) TO STDOUT` plus the existing snapshot ingest of the same
//! state (`PUT …/inventory` with a body built beforehand), into a twin
//! service. First snapshots, then next snapshots with a tenth of the rows
//! changed, then an incremental poll of 10,000 changed rows (their 10,000
//! entity and 5,000 reference events), which must take under a second.

use std::time::{Duration, Instant};

use app::topology::model::*;
use futures_util::StreamExt;
use lockstep::collect::{self, Mode};
use sqlx::PgPool;
use support::{bare_service, reference};

mod support;

const TOKEN: &str = "bench-admin-token";

/// The service's orders: 1,000,000 unless `COLLECT_ORDERS` says (a quick
/// check of the bench itself).
fn orders() -> i64 {
    std::env::var("COLLECT_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

fn model() -> Topology {
    Topology {
        services: ["customers", "baseline", "collected"]
            .map(bare_service)
            .to_vec(),
        relations: vec![
            reference("baseline", "customers", true),
            reference("collected", "customers", true),
        ],
    }
}

const ENTITIES_SQL: &str = "select id as key, updated_at, status from orders";
const REFERENCES_SQL: &str = "select id as from_key, customer_id as to_key, updated_at as observed_at, customer_name from orders where customer_id is not null";

/// The service's table, in schema `bench_shop`.
async fn service_table(pool: &PgPool, orders: i64) {
    for statement in [
        "drop schema if exists bench_shop cascade",
        "create schema bench_shop",
        "create table bench_shop.orders (id bigint primary key, status text, customer_id bigint,
                                         customer_name text, updated_at timestamptz not null)",
        "insert into bench_shop.orders
         select i, 'new', case when i % 2 = 0 then i % 50000 end,
                case when i % 2 = 0 then 'customer ' || (i % 50000) end,
                timestamptz '2026-10-01 00:00:00+00' + i * interval '1 second'
         from generate_series(1, $1) i",
        "create index on bench_shop.orders (updated_at)",
        "analyze bench_shop.orders",
    ] {
        let query = sqlx::query(statement);
        let query = if statement.contains("$1") {
            query.bind(orders)
        } else {
            query
        };
        query.execute(pool).await.unwrap();
    }
}

fn config(server: &str, database: &str) -> String {
    let text = format!(
        "lockstep: {server}
services:
  - service: collected
    token: {TOKEN}
    database: {database}?options=-csearch_path%3Dbench_shop
    overlap: 0s
    entities:
      sql: {ENTITIES_SQL}
      data: [status]
    references:
      - relation: collected.customers
        sql: {REFERENCES_SQL}
        cache: [customer_name]
"
    );
    let path = std::env::temp_dir().join("lockstep-bench-collect.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The baseline's read: both queries COPYed out, every byte received (on
/// a connection of its own, whose search path finds the service's table).
async fn copy_out(url: &str) -> Duration {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query("set search_path = bench_shop")
        .execute(&mut conn)
        .await
        .unwrap();
    let start = Instant::now();
    for query in [ENTITIES_SQL, REFERENCES_SQL] {
        let mut stream = conn
            .copy_out_raw(&format!("copy ({query}) to stdout"))
            .await
            .unwrap();
        let mut bytes = 0;
        while let Some(chunk) = stream.next().await {
            bytes += chunk.unwrap().len();
        }
        assert!(bytes > 0);
    }
    start.elapsed()
}

/// The same state as the collector sends it, as NDJSON for `baseline`
/// (built before the baseline's clock starts).
async fn state_body(pool: &PgPool) -> String {
    let lines: Vec<String> = sqlx::query_scalar(
        "select json_build_object('type', 'entity', 'key', id::text, 'at', updated_at,
                                  'data', json_build_object('status', status))::text
         from bench_shop.orders
         union all
         select json_build_object('type', 'reference', 'from', id::text, 'relation', 'baseline.customers',
                                  'to', customer_id::text, 'observed', updated_at, 'at', updated_at,
                                  'cache', json_build_object('customer_name', customer_name))::text
         from bench_shop.orders where customer_id is not null",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    lines.join("\n") + "\n"
}

async fn put_snapshot(http: &reqwest::Client, server: &str, body: String) -> Duration {
    let start = Instant::now();
    let response = http
        .put(format!("{server}/api/v1/services/baseline/inventory"))
        .query(&[("at", chrono::Utc::now().to_rfc3339())])
        .bearer_auth(TOKEN)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    start.elapsed()
}

async fn live(pool: &PgPool, service: &str) -> (i64, i64) {
    sqlx::query_as(
        "select (select count(*) from entity e join service s using (service_id)
                 where s.name = $1 and not e.deleted),
                (select count(*) from reference_version r join service s on s.service_id = r.source_service_id
                 where s.name = $1 and r.valid_to is null and not r.removed)",
    )
    .bind(service)
    .fetch_one(pool)
    .await
    .unwrap()
}

fn rate(rows: i64, time: Duration) -> f64 {
    rows as f64 / time.as_secs_f64()
}

#[tokio::main]
async fn main() {
    lockstep::telemetry::init(lockstep::cli::LogFormat::Pretty);
    let Some(pool) = support::database("collect", &model()).await else {
        return;
    };
    let orders = orders();
    let rows = orders + orders / 2; // every order, and every other one's reference
    let url = std::env::var("DATABASE_URL").unwrap();
    let server = support::serve(pool.clone(), Some(TOKEN)).await;
    let http = reqwest::Client::new();
    service_table(&pool, orders).await;
    let path = config(&server, &url);
    println!("collector: {orders} orders, {rows} rows (entities and references) a snapshot");

    for (round, label) in ["first snapshot", "next snapshot (a tenth changed)"]
        .iter()
        .enumerate()
    {
        if round == 1 {
            sqlx::query(
                "update bench_shop.orders set status = 'paid', updated_at = updated_at + interval '20 days'
                 where id % 10 = 0",
            )
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query("analyze").execute(&pool).await.unwrap();
        }
        let body = state_body(&pool).await;
        let copy = copy_out(&url).await;
        let ingest = put_snapshot(&http, &server, body).await;
        let baseline = copy + ingest;
        let start = Instant::now();
        collect::run(&path, Mode::Snapshot)
            .await
            .expect("the collector's snapshot");
        let ours = start.elapsed();
        assert_eq!(
            live(&pool, "collected").await,
            live(&pool, "baseline").await
        );
        assert_eq!(live(&pool, "collected").await, (orders, orders / 2));
        println!(
            "  {label}: collector {:.2} s ({:.0} rows/s); baseline {:.2} s = COPY out {:.2} s + snapshot ingest {:.2} s ({:.0} rows/s) — {:.2}x of the baseline",
            ours.as_secs_f64(),
            rate(rows, ours),
            baseline.as_secs_f64(),
            copy.as_secs_f64(),
            ingest.as_secs_f64(),
            rate(rows, baseline),
            baseline.as_secs_f64() / ours.as_secs_f64()
        );
    }

    // 10,000 rows changed after the last snapshot; the next pass polls them.
    sqlx::query(
        "update bench_shop.orders set status = 'shipped', updated_at = timestamptz '2026-11-25 00:00:00+00' + id * interval '1 microsecond'
         where id % 100 = 7",
    )
    .execute(&pool)
    .await
    .unwrap();
    let start = Instant::now();
    collect::run(&path, Mode::Once).await.expect("the poll");
    let poll = start.elapsed();
    let polled: i64 = sqlx::query_scalar(
        "select count(*) from entity e join service s using (service_id)
         where s.name = 'collected' and e.updated_at >= '2026-11-25'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(polled, orders / 100, "every changed row arrived");
    println!(
        "  incremental poll: {polled} changed rows (and their references) in a table of {orders}: {:.3} s (goal < 1 s)",
        poll.as_secs_f64()
    );
}
