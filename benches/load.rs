//! Sustained mixed traffic with PostgreSQL restarted in the middle (run:
//! `scripts/bench.sh load`; needs `DATABASE_URL`, and `LOCKSTEP_PG_RESTART`,
//! the shell command that restarts that PostgreSQL — `scripts/bench.sh`
//! sets it for its private cluster).
//!
//! For `LOAD_SECONDS` (default 120): two services post batches of 200
//! entity events, each with its own `seq` (a refused batch is sent again
//! until it is applied: the API is idempotent on `seq`); eight readers page
//! the queue; two operators claim the next finding and resolve it.
//! Halfway, PostgreSQL restarts. Reported: requests served and refused by
//! kind, how long the server took to answer again, and whether everything
//! acknowledged is there afterwards — every event exactly once, no batch
//! half-applied, every acknowledged resolution in the queue.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::restores::db::engine::{self, RestorePoint, RestoreRequest};
use app::topology::{commands as topology, model::*};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use support::{bare_service, reference};

mod support;

const TOKEN: &str = "load-token";
const BATCH: usize = 200;
const INGESTERS: usize = 2;
const READERS: usize = 8;
const OPERATORS: usize = 2;

/// Outcomes by what was asked and how it ended ("200", "503", "transport").
#[derive(Default)]
struct Tally(Mutex<BTreeMap<(String, String), u64>>);

impl Tally {
    fn add(&self, what: &str, outcome: String) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((what.to_string(), outcome))
            .or_default() += 1;
    }
}

fn outcome(result: &Result<reqwest::Response, reqwest::Error>) -> String {
    match result {
        Ok(response) => response.status().as_u16().to_string(),
        Err(_) => "transport".into(),
    }
}

fn model() -> Topology {
    let mut services = vec![bare_service("hub")];
    let mut relations = Vec::new();
    for k in 0..4 {
        let name = format!("ref-{k}");
        services.push(bare_service(&name));
        relations.push(reference(&name, "hub", k % 2 == 0));
    }
    for k in 0..INGESTERS {
        services.push(bare_service(&format!("ingest-{k}")));
    }
    Topology {
        services,
        relations,
    }
}

/// hub: 20,000 entities over 100 days, 80,000 references into it; restored
/// to day 90, which leaves a queue of a few thousand findings to work.
async fn load(pool: &sqlx::PgPool, origin: DateTime<Utc>) {
    topology::replace(pool, "bench", &model(), true)
        .await
        .unwrap();
    for sql in [
        "insert into entity_version (service_id, key, updated_at, epoch)
         select s.service_id, 'H/' || i, $1 + (i * interval '7 minutes'), 0
         from service s, generate_series(1, 20000) i where s.name = 'hub'",
        "insert into entity (service_id, key, updated_at, epoch)
         select service_id, key, updated_at, 0 from entity_version",
        "insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, valid_from)
         select h.service_id, 'H/' || (1 + (n * 7919) % 20000), r.from_service_id, 'R/' || n, r.relation_id,
                $1 + ((1 + (n * 7919) % 20000) * interval '7 minutes'),
                $1 + ((1 + (n * 7919) % 20000) * interval '7 minutes') + interval '1 minute'
         from generate_series(1, 80000) n
         join relation r on r.name = 'ref-' || (n % 4) || '.hub'
         join service h on h.name = 'hub'",
        "analyze",
    ] {
        sqlx::query(sql).bind(origin).execute(pool).await.unwrap();
    }
    engine::record(
        pool,
        RestoreRequest {
            service: "hub".into(),
            point: RestorePoint::At(origin + chrono::Duration::minutes(7 * 18_000)),
            restored_at: None,
            drill: false,
            actor: "load".into(),
        },
    )
    .await
    .unwrap();
}

#[tokio::main]
async fn main() {
    let (Ok(url), Ok(restart)) = (
        std::env::var("DATABASE_URL"),
        std::env::var("LOCKSTEP_PG_RESTART"),
    ) else {
        println!("load: skipped (set DATABASE_URL and LOCKSTEP_PG_RESTART)");
        return;
    };
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&url)
        .await
        .expect("DATABASE_URL reachable");
    lockstep::db::migrate(&pool).await.unwrap();
    let origin: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
    load(&pool, origin).await;
    let open_before: i64 = sqlx::query_scalar("select count(*) from finding where status = 'open'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let base = support::serve(pool.clone(), Some(TOKEN)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    println!("load: {seconds} s of mixed traffic, PostgreSQL restarted at {} s; {open_before} open findings", seconds / 2);

    let mut tasks = Vec::new();
    for k in 0..INGESTERS {
        let (client, base, tally) = (client.clone(), base.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            let mut batch = 0usize;
            while Instant::now() < deadline {
                let body: String = (0..BATCH)
                    .map(|i| {
                        let n = batch * BATCH + i;
                        let event = json!({"type": "entity", "key": format!("E/{n}"), "seq": n,
                                           "at": (origin + chrono::Duration::seconds(n as i64)).to_rfc3339()});
                        format!("{event}\n")
                    })
                    .collect();
                // Sent again until applied: nothing acknowledged is lost,
                // nothing is applied twice.
                loop {
                    let result = client
                        .post(format!("{base}/api/v1/services/ingest-{k}/events"))
                        .bearer_auth(TOKEN)
                        .header("content-type", "application/x-ndjson")
                        .body(body.clone())
                        .send()
                        .await;
                    let ok = matches!(&result, Ok(r) if r.status().is_success());
                    tally.add("ingest batch", outcome(&result));
                    if ok {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                sent += BATCH as u64;
                batch += 1;
            }
            sent
        }));
    }
    let mut readers = Vec::new();
    for r in 0..READERS {
        let (client, base, tally) = (client.clone(), base.clone(), tally.clone());
        readers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                let filter = ["", "&status=open", "&kind=broken_link", "&service=ref-1"]
                    [(r + i as usize) % 4];
                let result = client
                    .get(format!("{base}/api/v1/findings?limit=50{filter}"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await;
                tally.add("queue page", outcome(&result));
                if result.is_err() || !result.unwrap().status().is_success() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                i += 1;
            }
        }));
    }
    let mut operators = Vec::new();
    for _ in 0..OPERATORS {
        let (client, base, tally) = (client.clone(), base.clone(), tally.clone());
        operators.push(tokio::spawn(async move {
            let mut resolved = Vec::new();
            while Instant::now() < deadline {
                let result = client
                    .post(format!("{base}/api/v1/findings/claim-next"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await;
                tally.add("claim next", outcome(&result));
                let Ok(response) = result else { continue };
                if response.status() != 200 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                let finding: Value = response.json().await.unwrap();
                let id = finding["id"].as_i64().unwrap();
                let result = client
                    .post(format!("{base}/api/v1/findings/{id}/resolve"))
                    .bearer_auth(TOKEN)
                    .json(&json!({"strategy": "reconstruct", "note": "load test"}))
                    .send()
                    .await;
                tally.add("resolve", outcome(&result));
                if matches!(&result, Ok(r) if r.status() == 200) {
                    resolved.push(id);
                }
            }
            resolved
        }));
    }

    // Halfway: restart PostgreSQL, then time until the API answers again.
    tokio::time::sleep(Duration::from_secs(seconds / 2)).await;
    let restart_started = Instant::now();
    let status = std::process::Command::new("sh")
        .args(["-c", &restart])
        .status()
        .expect("running LOCKSTEP_PG_RESTART");
    assert!(status.success(), "{restart} failed");
    let restarted = restart_started.elapsed();
    loop {
        let ok = client
            .get(format!("{base}/api/v1/findings?limit=1"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = restart_started.elapsed();

    let mut sent = 0;
    for task in tasks {
        sent += task.await.unwrap();
    }
    for task in readers {
        task.await.unwrap();
    }
    let mut resolved = Vec::new();
    for task in operators {
        resolved.extend(task.await.unwrap());
    }

    println!("  restart command took {restarted:.1?}; the API answered again {recovered:.1?} after it began");
    println!("  requests (what, outcome: count):");
    for ((what, how), n) in tally.0.lock().unwrap().iter() {
        println!("    {what:<13} {how:<9} {n}");
    }
    let (versions, seqs): (i64, i64) = sqlx::query_as(
        "select (select count(*) from entity_version v join service s using (service_id) where s.name like 'ingest-%'),
                (select count(*) from ingested_event e join service s using (service_id) where s.name like 'ingest-%')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let in_queue: i64 = sqlx::query_scalar(
        "select count(*) from finding where status = 'resolved' and finding_id = any($1)",
    )
    .bind(&resolved)
    .fetch_one(&pool)
    .await
    .unwrap();
    println!("  events acknowledged {sent}: in the inventory {versions}, sequence numbers {seqs}");
    println!(
        "  resolutions acknowledged {}: resolved in the queue {in_queue}",
        resolved.len()
    );
    assert_eq!(versions as u64, sent, "events lost or applied twice");
    assert_eq!(seqs as u64, sent, "a batch half-applied");
    assert_eq!(
        in_queue as usize,
        resolved.len(),
        "an acknowledged resolution is missing"
    );
    println!("  complete: nothing acknowledged was lost, nothing applied twice");
}
