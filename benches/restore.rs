//! Restores and the queue at scale (run: `scripts/bench.sh restore`; needs
//! `DATABASE_URL`).
//!
//! 1. A drill and then a restore of `hub`, in two shapes: 300,000 live
//!    incoming references from 7 services into 60,000 entities, then
//!    1,000,000 from 20 services into 200,000. Against the baseline
//!    measured in the same run: one plain query computing the counts the
//!    drill reports over the same rows — broken links and stale references
//!    per referring service; the other kinds (orphans, outgoing links,
//!    missing state) have no rows to read in these shapes, since hub refers
//!    to nothing and no relation is a mirror. The baseline runs with the
//!    detection's own settings, and the bench checks that its counts are the
//!    drill's. Reported as the baseline's time over ours.
//! 2. Queue pages over the findings (1M+ after topping up) fetched by 16
//!    concurrent clients over HTTP — first pages under each filter and deep
//!    keyset pages — p50/p95 latency, against `GET /healthz` under the same
//!    load as the baseline.
//!
//! 3. Causes (spec §8) over the same queue: the restore's causes listed by
//!    16 clients against the queue pages' p95 of section 2; a decision on a
//!    cause of 250,000 open findings (`POST …/causes/{id}/dismiss`) against
//!    one plain `UPDATE` of the same number of rows of another such cause;
//!    and a repair kit of 1,000,000 lines streamed over HTTP against `COPY
//!    (the kit's own query) TO STDOUT`, with the server's resident memory
//!    sampled while it streams.
//!
//! The inventory is written with `INSERT … SELECT generate_series` (setup,
//! not measured): the ingest path has its own benchmark.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::restores::db::engine::{self, RestorePoint, RestoreRequest};
use app::topology::{commands as topology, model::*};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use support::{bare_service, reference};

mod support;

const CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 100;

/// References from `referrers` services into hub's `entities`.
#[derive(Debug, Clone, Copy)]
struct Shape {
    referrers: usize,
    entities: i64,
    references: i64,
}

/// Like the events bench's inventory: a few referrers, a few hundred
/// thousand references.
const NARROW: Shape = Shape {
    referrers: 7,
    entities: 60_000,
    references: 300_000,
};
/// The queue's inventory: a million references.
const WIDE: Shape = Shape {
    referrers: 20,
    entities: 200_000,
    references: 1_000_000,
};

fn model(shape: Shape) -> Topology {
    let mut services = vec![bare_service("hub")];
    let mut relations = Vec::new();
    for k in 0..shape.referrers {
        let name = format!("ref-{k:02}");
        services.push(bare_service(&name));
        relations.push(reference(&name, "hub", k % 4 == 0));
    }
    Topology {
        services,
        relations,
    }
}

/// hub's entities were created over 100 days (one every ~43 s); the backup
/// is at day 90, so the newest tenth did not exist then. References are
/// spread over the referrers and (skewed) over hub's entities; a twentieth
/// observed a newer version than the one restored.
async fn load(pool: &PgPool, origin: DateTime<Utc>, shape: Shape) {
    // A forced replace drops the services of the last shape with their
    // inventory and queue.
    for model in [Topology::default(), model(shape)] {
        topology::replace(pool, "bench", &model, true)
            .await
            .expect("the bench topology");
    }
    let statements = [
        "insert into entity_version (service_id, key, updated_at, epoch)
         select s.service_id, 'H/' || i, $1 + (i * interval '43 seconds'), 0
         from service s, generate_series(1, $2::bigint) i where s.name = 'hub'",
        "insert into entity (service_id, key, updated_at, epoch)
         select service_id, key, updated_at, 0 from entity_version
         where service_id = (select service_id from service where name = 'hub')",
        "insert into reference_version (target_service_id, target_key, source_service_id, source_key,
                                        relation_id, observed_at, cache, valid_from)
         select h.service_id, 'H/' || t.i, r.from_service_id, 'R/' || n, r.relation_id,
                $1 + (t.i * interval '43 seconds') + case when n % 20 = 0 then interval '1 day' else interval '0' end,
                case when r.cached then jsonb_build_object('copy', t.i) end,
                $1 + (t.i * interval '43 seconds') + interval '1 minute'
         from generate_series(1, $3::bigint) n
         cross join lateral (select 1 + floor(power(((n * 7919) % 1000003) / 1000003.0, 2) * $2)::bigint as i) t
         join relation r on r.name = 'ref-' || lpad((n % $4)::text, 2, '0') || '.hub'
         join service h on h.name = 'hub'",
        "update entity e set dependents = c.n
         from (select target_service_id, target_key, count(*)::int as n from reference_version
               group by 1, 2) c
         where e.service_id = c.target_service_id and e.key = c.target_key",
        "analyze",
    ];
    for sql in statements {
        sqlx::query(sql)
            .bind(origin)
            .bind(shape.entities)
            .bind(shape.references)
            .bind(shape.referrers as i64)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

/// The counts a drill of hub reports in these shapes, by one plain query:
/// every live reference into hub joined with hub's state at the backup,
/// broken (no live version then) or stale (a version older than observed),
/// per kind and referring service. Run with the detection's settings.
async fn baseline(pool: &PgPool, backup: DateTime<Utc>) -> (BTreeMap<String, i64>, Duration) {
    let mut tx = pool.begin().await.unwrap();
    for setting in [
        "set local work_mem = '64MB'",
        "set local parallel_tuple_cost = 0.01",
    ] {
        sqlx::query(setting).execute(&mut *tx).await.unwrap();
    }
    let start = Instant::now();
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select case when x.key is null or x.deleted then 'broken_link' else 'stale_reference' end,
                r.source_service_id, count(*)
         from reference_version r
         left join (select key, updated_at, deleted from entity_version
                    where service_id = (select service_id from service where name = 'hub')
                      and updated_at <= $1 and (valid_to is null or valid_to > $1)) x
                on x.key = r.target_key
         where r.target_service_id = (select service_id from service where name = 'hub')
           and r.valid_to is null and not r.removed
           and (x.key is null or x.deleted or r.observed_at > x.updated_at)
         group by 1, 2",
    )
    .bind(backup)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let took = start.elapsed();
    let mut per_kind = BTreeMap::new();
    for (kind, _, n) in rows {
        *per_kind.entry(kind).or_insert(0) += n;
    }
    (per_kind, took)
}

/// The findings per kind, the whole call's time, and the time of its first
/// step (computing the findings).
async fn restore(
    pool: &PgPool,
    backup: DateTime<Utc>,
    drill: bool,
) -> (BTreeMap<String, i64>, Duration, Duration) {
    let start = Instant::now();
    let report = engine::record(
        pool,
        RestoreRequest {
            service: "hub".into(),
            point: RestorePoint::At(backup),
            restored_at: None,
            drill,
            actor: "bench".into(),
        },
    )
    .await
    .expect("restore");
    let detection = Duration::from_secs_f64(report.steps[0].ms / 1000.0);
    let per_kind = report
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(kind, n)| (kind.to_string(), *n))
        .collect();
    (per_kind, start.elapsed(), detection)
}

fn per_second(n: i64, t: Duration) -> f64 {
    n as f64 / t.as_secs_f64()
}

/// Section 1 for one shape: the baseline, a drill, then the restore.
async fn restore_of_hub(pool: &PgPool, shape: Shape) {
    let origin: DateTime<Utc> = "2026-08-01T00:00:00Z".parse().unwrap();
    let started = Instant::now();
    load(pool, origin, shape).await;
    let references = shape.references;
    println!(
        "1. restore of hub: {references} references from {} services into {} entities (setup {:.1?})",
        shape.referrers,
        shape.entities,
        started.elapsed()
    );
    let backup = origin + chrono::Duration::seconds(43 * shape.entities * 9 / 10);

    let (counts, base_time) = baseline(pool, backup).await;
    let (drilled, drill_time, _) = restore(pool, backup, true).await;
    support::reset_peak_memory();
    let (found, restore_time, detection_time) = restore(pool, backup, false).await;
    let restore_memory = support::peak_memory_mib();
    assert_eq!(drilled, counts, "the drill counts what the baseline counts");
    assert_eq!(found, counts, "the restore finds what the baseline counts");
    let total: i64 = counts.values().sum();
    println!("  baseline  one plain query: {counts:?} in {base_time:.2?}");
    for (what, took) in [
        ("drill    ", drill_time),
        ("restore, computing its findings", detection_time),
        (
            "restore, whole (queue writes, rollback, counters, verification)",
            restore_time,
        ),
    ] {
        println!(
            "  {what} {total} findings in {took:.2?}: {:.2}x the baseline",
            base_time.as_secs_f64() / took.as_secs_f64()
        );
    }
    println!("  restore   peak memory of the process: {restore_memory:.0} MiB");
}

/// Every request's path and time, of `CLIENTS` clients each fetching
/// `REQUESTS_PER_CLIENT` paths chosen by `path(client, i)`.
async fn latencies(
    base: &str,
    path: impl Fn(usize, usize) -> String + Copy + Send + 'static,
) -> Vec<(String, Duration)> {
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let client = client.clone();
            let base = base.to_string();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(REQUESTS_PER_CLIENT);
                for i in 0..REQUESTS_PER_CLIENT {
                    let path = path(c, i);
                    let start = Instant::now();
                    let response = client
                        .get(format!("{base}{path}"))
                        .bearer_auth("bench-token")
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().await.unwrap();
                    times.push((path, start.elapsed()));
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

/// p50 and p95.
fn percentiles(times: impl Iterator<Item = Duration>) -> (Duration, Duration) {
    let mut times: Vec<Duration> = times.collect();
    times.sort();
    (times[times.len() / 2], times[times.len() * 95 / 100])
}

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("restore: skipped (set DATABASE_URL)");
        return;
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect(&url)
        .await
        .expect("DATABASE_URL reachable");
    lockstep::db::migrate(&pool).await.expect("migrations");
    restore_of_hub(&pool, NARROW).await;
    restore_of_hub(&pool, WIDE).await;

    // Top the queue up to a million findings: copies of the restore's.
    let have: i64 = sqlx::query_scalar("select count(*) from finding")
        .fetch_one(&pool)
        .await
        .unwrap();
    let copies = (1_000_000 + have - 1) / have.max(1) - 1;
    sqlx::query(
        "insert into finding (restore_id, cause_id, kind, relation_id, source_service_id, source_key, target_service_id,
                              target_key, observed_at, target_updated_at, amnesia_from, strategy, cached, status)
         select restore_id, cause_id, kind, relation_id, source_service_id, source_key || '#' || c, target_service_id,
                target_key, observed_at, target_updated_at, amnesia_from, strategy, cached,
                (array['open','open','open','claimed','resolved','accepted','dismissed'])[1 + (finding_id + c) % 7]
         from finding, generate_series(1, $1::bigint) c",
    )
    .bind(copies)
    .execute(&pool)
    .await
    .unwrap();
    // The copies are written behind the causes' counts.
    sqlx::query("select recount_causes()")
        .execute(&pool)
        .await
        .unwrap();
    // As a restore leaves it (see `refresh_visibility` in the engine); and
    // the setup's writes flushed, so the pages are timed without the
    // checkpoint of a million copied findings running beside them.
    for sql in ["vacuum (analyze) finding", "checkpoint"] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let total: i64 = sqlx::query_scalar("select count(*) from finding")
        .fetch_one(&pool)
        .await
        .unwrap();
    let max_id: i64 = sqlx::query_scalar("select max(finding_id) from finding")
        .fetch_one(&pool)
        .await
        .unwrap();

    let base = support::serve(pool.clone(), Some("bench-token")).await;

    println!("2. queue pages over {total} findings, {CLIENTS} concurrent clients × {REQUESTS_PER_CLIENT} requests");
    let (p50, p95) = percentiles(
        latencies(&base, |_, _| "/healthz".to_string())
            .await
            .into_iter()
            .map(|(_, t)| t),
    );
    println!("  baseline  GET /healthz                    p50 {p50:6.2?}  p95 {p95:6.2?}");
    let filters = [
        "",
        "&kind=broken_link",
        "&status=open",
        "&kind=stale_reference&status=claimed",
        "&service=ref-07",
        "&status=open&order=desc",
    ];
    let samples = latencies(&base, move |c, i| {
        let filter = filters[(c + i) % filters.len()];
        let after = if i % 2 == 0 {
            String::new()
        } else {
            format!("&after={}", (c * 7919 + i * 104729) as i64 % max_id)
        };
        format!("/api/v1/findings?limit=50{filter}{after}")
    })
    .await;
    let (p50, queue_p95) = percentiles(samples.iter().map(|(_, t)| *t));
    println!("  queue     GET /api/v1/findings?limit=50&… p50 {p50:6.2?}  p95 {queue_p95:6.2?}");
    for filter in filters {
        for deep in [false, true] {
            let (p50, p95) = percentiles(
                samples
                    .iter()
                    .filter(|(path, _)| {
                        let rest = path.split_once("limit=50").map_or("", |(_, rest)| rest);
                        rest.split("&after=").next() == Some(filter)
                            && path.contains("&after=") == deep
                    })
                    .map(|(_, t)| *t),
            );
            let page = if deep { "deep page " } else { "first page" };
            println!("    {filter:<38} {page} p50 {p50:6.2?}  p95 {p95:6.2?}");
        }
    }

    causes(&pool, &base, queue_p95).await;
}

/// Section 3: the causes of the restore, a cause decision and a repair kit.
async fn causes(pool: &PgPool, base: &str, queue_p95: Duration) {
    let restore_id: i64 =
        sqlx::query_scalar("select restore_id from cause where restore_id is not null limit 1")
            .fetch_one(pool)
            .await
            .unwrap();
    println!("3. causes");
    let (p50, p95) = percentiles(
        latencies(base, move |_, _| {
            format!("/api/v1/findings/causes?restore={restore_id}")
        })
        .await
        .into_iter()
        .map(|(_, t)| t),
    );
    println!(
        "  causes    GET /api/v1/findings/causes?restore= p50 {p50:6.2?}  p95 {p95:6.2?} ({:.2}x the queue pages' p95)",
        p95.as_secs_f64() / queue_p95.as_secs_f64()
    );

    // Two causes of 250,000 open findings each, alike: one for the plain
    // UPDATE, one for the decision.
    let plain = synthetic_cause(pool, restore_id, DECIDED).await;
    let decided = synthetic_cause(pool, restore_id, DECIDED).await;
    let start = Instant::now();
    let n = sqlx::query(
        "update finding set status = 'dismissed', assignee = 'bench', note = 'plain', resolved_by = null,
                            verified_at = null, cleared_at = null
         where cause_id = $1 and status in ('open', 'claimed')",
    )
    .bind(plain)
    .execute(pool)
    .await
    .unwrap()
    .rows_affected();
    let plain_time = start.elapsed();
    let start = Instant::now();
    let outcome: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/findings/causes/{decided}/dismiss"))
        .bearer_auth("bench-token")
        .json(&serde_json::json!({"note": "decided"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decision_time = start.elapsed();
    assert_eq!(outcome["changed"].as_u64(), Some(n), "{outcome}");
    println!(
        "  baseline  one UPDATE of {n} findings in {plain_time:.2?} = {:.0}/s",
        per_second(n as i64, plain_time)
    );
    println!(
        "  decision  {n} findings of a cause dismissed in {decision_time:.2?} = {:.0}/s ({:.2}x), audit entries and counts included",
        per_second(n as i64, decision_time),
        plain_time.as_secs_f64() / decision_time.as_secs_f64()
    );

    let big = synthetic_cause(pool, restore_id, KIT_LINES).await;
    kit(pool, base, big).await;
}

const DECIDED: i64 = 250_000;
const KIT_LINES: i64 = 1_000_000;

/// A new cause of the restore, like its cached-copy causes, holding `n`
/// open findings with distinct target keys (one kit line each); its
/// counts recounted, as the application would have kept them.
async fn synthetic_cause(pool: &PgPool, restore_id: i64, n: i64) -> i64 {
    let cause: i64 = sqlx::query_scalar(
        "insert into cause (target_service_id, restore_id, kind, relation_id, source_service_id, strategy)
         select target_service_id, restore_id, kind, relation_id, source_service_id, strategy
         from cause where restore_id = $1 and strategy = 'cache' limit 1
         returning cause_id",
    )
    .bind(restore_id)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into finding (restore_id, cause_id, kind, relation_id, source_service_id, source_key,
                              target_service_id, target_key, observed_at, target_updated_at, amnesia_from,
                              strategy, cached)
         select c.restore_id, c.cause_id, c.kind, c.relation_id, c.source_service_id, 'S/' || i,
                c.target_service_id, 'T/' || c.cause_id || '/' || i, now(), now() - interval '1 hour',
                now() - interval '2 hours', c.strategy, jsonb_build_object('copy', i)
         from cause c, generate_series(1, $2::bigint) i where c.cause_id = $1",
    )
    .bind(cause)
    .bind(n)
    .execute(pool)
    .await
    .unwrap();
    for sql in ["select recount_causes()", "vacuum (analyze) finding"] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    cause
}

/// This process's resident memory (the server runs in it), in MiB.
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The kit of `cause` over HTTP, read as it arrives, against COPY of the
/// kit's own query; memory sampled every 20 ms while it streams.
async fn kit(pool: &PgPool, base: &str, cause: i64) {
    use futures_util::StreamExt;
    let (target, kind, strategy): (i64, String, String) =
        sqlx::query_as("select target_service_id, kind, strategy from cause where cause_id = $1")
            .bind(cause)
            .fetch_one(pool)
            .await
            .unwrap();
    let shape =
        app::causes::model::KitShape::of(kind.try_into().unwrap(), strategy.try_into().unwrap());
    let query = app::causes::kit::query(shape)
        .replace("$1", &target.to_string())
        .replace("$2", &cause.to_string());
    let start = Instant::now();
    let mut copied =
        sqlx::postgres::PgPoolCopyExt::copy_out_raw(pool, &format!("copy ({query}) to stdout"))
            .await
            .unwrap();
    let mut rows = 0usize;
    while let Some(chunk) = copied.next().await {
        rows += chunk.unwrap().iter().filter(|b| **b == b'\n').count();
    }
    let copy_time = start.elapsed();

    let before = resident_mib();
    let peak = std::sync::Arc::new(std::sync::Mutex::new(before));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut p = peak.lock().unwrap();
                *p = p.max(resident_mib());
            }
        })
    };
    let start = Instant::now();
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/findings/causes/{cause}/repair-kit"))
        .bearer_auth("bench-token")
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let mut body = response.bytes_stream();
    let (mut lines, mut bytes) = (0usize, 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let kit_time = start.elapsed();
    sampling.abort();
    let peak = *peak.lock().unwrap();
    assert_eq!(lines, rows, "the kit has one line per row of its query");
    println!(
        "  baseline  COPY (the kit's query) TO STDOUT: {rows} rows in {copy_time:.2?} = {:.0}/s",
        per_second(rows as i64, copy_time)
    );
    println!(
        "  kit       {lines} NDJSON lines ({:.0} MiB) streamed in {kit_time:.2?} = {:.0}/s ({:.2}x); server RSS {before:.0} MiB before, peak {peak:.0} MiB while streaming",
        bytes as f64 / 1048576.0,
        per_second(lines as i64, kit_time),
        copy_time.as_secs_f64() / kit_time.as_secs_f64()
    );
}
