//! The events path from outside (run: `scripts/bench.sh events`; needs
//! `DATABASE_URL`).
//!
//! Eight services: a hub of 60,000 entities and seven services referring to
//! it 300,000 times in all, each reference with a cached copy. Each
//! referring service reports its entities and references through the public
//! API (`POST …/events`, NDJSON, 20,000-line batches, every line numbered
//! with `seq`): first new entities and references, then the same entities
//! updated and the references re-observed with fresh copies an hour later.
//!
//! The baseline, in the same run, does the same logical work in the
//! cheapest way PostgreSQL offers: the same lines as CSV rows, batch by
//! batch, COPYed (what `psql \copy` sends) into a table with no index, no
//! constraint and no history. Each phase is reported as events/s and as a
//! ratio of that COPY.

use std::time::{Duration, Instant};

use app::topology::model::*;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::PgPool;
use support::{bare_service, reference};

mod support;

const TOKEN: &str = "bench-admin-token";
const REFERRERS: usize = 7;
const HUB_ENTITIES: usize = 60_000;
const REFERENCES: usize = 300_000;
/// Each referring service's own entities (they hold its references).
const ENTITIES: usize = 10_000;
const BATCH: usize = 20_000;

fn model() -> Topology {
    let mut services = vec![bare_service("hub")];
    let mut relations = Vec::new();
    for k in 0..REFERRERS {
        let name = format!("referrer-{k}");
        relations.push(reference(&name, "hub", true));
        services.push(bare_service(&name));
    }
    Topology {
        services,
        relations,
    }
}

/// One event as the NDJSON line the API takes and as the CSV row the
/// baseline COPYs: the same fields either way.
struct Line {
    seq: usize,
    entity: Option<String>,
    reference: Option<(String, String, String)>,
    at: DateTime<Utc>,
    copy: String,
}

impl Line {
    fn json(&self) -> String {
        let at = self.at.to_rfc3339();
        match (&self.entity, &self.reference) {
            (Some(key), _) => format!(
                r#"{{"type":"entity","seq":{},"key":"{key}","at":"{at}","data":{{"state":"{}"}}}}"#,
                self.seq, self.copy
            ),
            (_, Some((from, relation, to))) => format!(
                r#"{{"type":"reference","seq":{},"from":"{from}","relation":"{relation}","to":"{to}","observed":"{at}","at":"{at}","cache":{{"name":"{}"}}}}"#,
                self.seq, self.copy
            ),
            _ => unreachable!(),
        }
    }

    fn csv(&self) -> String {
        let at = self.at.to_rfc3339();
        match (&self.entity, &self.reference) {
            (Some(key), _) => format!(
                "entity,{},{key},,,,{at},{at},\"{{\"\"state\"\":\"\"{}\"\"}}\"\n",
                self.seq, self.copy
            ),
            (_, Some((from, relation, to))) => format!(
                "reference,{},,{from},{relation},{to},{at},{at},\"{{\"\"name\"\":\"\"{}\"\"}}\"\n",
                self.seq, self.copy
            ),
            _ => unreachable!(),
        }
    }
}

/// Referrer `k`'s lines for one phase: its entities, then its references
/// (each from one of its entities to a hub entity), numbered from `first`.
fn lines(k: usize, phase: usize, first: usize) -> Vec<Line> {
    let at =
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(phase as i64);
    let per = REFERENCES / REFERRERS;
    let mut out = Vec::with_capacity(ENTITIES + per);
    for i in 0..ENTITIES {
        out.push(Line {
            seq: first + out.len(),
            entity: Some(format!("R{k}/{i}")),
            reference: None,
            at,
            copy: format!("phase {phase}"),
        });
    }
    for r in 0..per {
        out.push(Line {
            seq: first + out.len(),
            entity: None,
            reference: Some((
                format!("R{k}/{}", r * ENTITIES / per),
                format!("referrer-{k}.hub"),
                format!("H/{}", (r * 7919 + k * 104_729) % HUB_ENTITIES),
            )),
            at,
            copy: format!("hub entity as of phase {phase}"),
        });
    }
    out
}

async fn post(http: &reqwest::Client, server: &str, service: &str, body: String) {
    let response = http
        .post(format!("{server}/api/v1/services/{service}/events"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// The baseline's table: the CSV's columns, typed, nothing else.
async fn raw_table(pool: &PgPool) {
    for statement in [
        "drop table if exists bench_events_raw",
        "create table bench_events_raw (type text, seq bigint, key text, source text, relation text,
                                        target text, observed timestamptz, at timestamptz, copy jsonb)",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// The hub's live entities' counters, checked against a count of the live
/// references (the path must have kept them all).
async fn counters_hold(pool: &PgPool) {
    let wrong: i64 = sqlx::query_scalar(
        "select count(*) from entity e join service s using (service_id)
         where s.name = 'hub' and e.dependents <> (
             select count(*) from reference_version r
             where r.target_service_id = e.service_id and r.target_key = e.key
               and r.valid_to is null and not r.removed and r.source_service_id <> e.service_id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(wrong, 0, "dependency counters");
}

fn rate(events: usize, time: Duration) -> f64 {
    events as f64 / time.as_secs_f64()
}

#[tokio::main]
async fn main() {
    lockstep::telemetry::init(lockstep::cli::LogFormat::Pretty);
    let Some(pool) = support::database("events", &model()).await else {
        return;
    };
    let server = support::serve(pool.clone(), Some(TOKEN)).await;
    let http = reqwest::Client::new();
    raw_table(&pool).await;

    // The hub's entities (setup, not measured).
    let at = Utc
        .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
        .unwrap()
        .to_rfc3339();
    let hub: String = (0..HUB_ENTITIES)
        .map(|i| format!("{{\"type\":\"entity\",\"key\":\"H/{i}\",\"at\":\"{at}\"}}\n"))
        .collect();
    for body in hub.lines().collect::<Vec<_>>().chunks(BATCH) {
        post(&http, &server, "hub", body.join("\n")).await;
    }
    sqlx::query("analyze").execute(&pool).await.unwrap();

    println!(
        "events: {REFERRERS} services, {ENTITIES} entities and {} references each into a hub of {HUB_ENTITIES}, {BATCH}-line batches",
        REFERENCES / REFERRERS
    );
    for (phase, label) in [
        "new entities and references",
        "entities updated, references re-observed",
    ]
    .iter()
    .enumerate()
    {
        let mut ours = Duration::ZERO;
        let mut baseline = Duration::ZERO;
        let mut events = 0;
        support::reset_peak_memory();
        for k in 0..REFERRERS {
            let service = format!("referrer-{k}");
            let lines = lines(k, phase + 1, 1 + phase * 1_000_000);
            for batch in lines.chunks(BATCH) {
                let body: String = batch.iter().map(|l| l.json() + "\n").collect();
                let csv: String = batch.iter().map(Line::csv).collect();
                events += batch.len();
                let start = Instant::now();
                support::copy_csv(&pool, "bench_events_raw", csv).await;
                baseline += start.elapsed();
                let start = Instant::now();
                post(&http, &server, &service, body).await;
                ours += start.elapsed();
            }
        }
        counters_hold(&pool).await;
        println!(
            "  {label}: {events} events in {:.2} s = {:.0} events/s; raw COPY {:.2} s = {:.0} events/s — {:.2}x of the baseline",
            ours.as_secs_f64(),
            rate(events, ours),
            baseline.as_secs_f64(),
            rate(events, baseline),
            baseline.as_secs_f64() / ours.as_secs_f64()
        );
        println!(
            "  peak memory of the process (server and client): {:.0} MiB",
            support::peak_memory_mib()
        );
    }
}
