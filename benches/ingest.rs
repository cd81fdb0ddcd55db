//! Bulk ingest (run: `scripts/bench.sh ingest`; needs `DATABASE_URL`).
//!
//! One service's complete state — entities and the references they hold,
//! some with cached copies — ingested as a snapshot (`PUT …/inventory`'s
//! code path: streamed by COPY into the versioned, indexed inventory,
//! counters kept), against the baseline measured in
//! the same run: a raw COPY of the same rows into a table with no index, no
//! constraint and no history. Each round uses a new pair of services, so
//! every measurement is a first load of that size into a growing inventory;
//! the referred-to service reports its entities first (not measured), so
//! the dependency counters of 50,000 targets are kept as in production.
//!
//! A service's first snapshot is copied straight into the inventory; every
//! later one is staged and compared with it set-based. So each round also re-sends the same
//! state an hour later with a tenth of it changed (entities updated,
//! references re-observed), reported separately against the same baseline.

use std::time::{Duration, Instant};

use app::inventory::{
    db::{self as inventory, snapshot},
    events::{EntityEvent, Events, ReferenceEvent},
};
use app::topology::model::*;
use chrono::{DateTime, Utc};
use lockstep::generate::Lcg;
use sqlx::PgPool;
use support::bare_service;

mod support;

const ENTITIES: usize = 50_000;
const REFERENCES: usize = 150_000;
const ROUNDS: usize = 3;

/// Rounds' services: `src-k` refers to `dst-k`.
fn model() -> Topology {
    let mut services = Vec::new();
    let mut relations = Vec::new();
    for k in 0..ROUNDS {
        services.push(bare_service(&format!("src-{k}")));
        services.push(bare_service(&format!("dst-{k}")));
        relations.push(Relation {
            name: format!("src-{k}.dst"),
            from: format!("src-{k}"),
            to: format!("dst-{k}"),
            kind: RelationKind::Reference,
            required: true,
            cached: true,
            policy: None,
            on_broken: None,
        });
    }
    Topology {
        services,
        relations,
    }
}

/// The referred-to service's entities, `T/0` … `T/{ENTITIES - 1}`.
fn targets(at: DateTime<Utc>) -> Events {
    let mut events = Events::default();
    for e in 0..ENTITIES {
        events.entities.push(EntityEvent::new(
            e + 1,
            format!("T/{e}"),
            at - chrono::Duration::days(30),
        ));
    }
    events
}

fn snapshot_for(round: usize, rng: &mut Lcg, at: DateTime<Utc>) -> Events {
    let mut events = Events::default();
    for e in 0..ENTITIES {
        events.entities.push(EntityEvent::new(
            e + 1,
            format!("S/{e}"),
            at - chrono::Duration::minutes(rng.next(10_000) as i64),
        ));
    }
    for r in 0..REFERENCES {
        let to = rng.skewed(ENTITIES);
        let from = format!("S/{}", rng.next(ENTITIES));
        let observed = at - chrono::Duration::minutes(rng.next(10_000) as i64);
        let relation = format!("src-{round}.dst");
        events.references.push(ReferenceEvent {
            cache: (r % 3 == 0).then(|| serde_json::json!({"copy": to})),
            ..ReferenceEvent::new(
                ENTITIES + r + 1,
                &relation,
                (from, format!("T/{to}")),
                observed,
                at,
            )
        });
    }
    events
}

/// The same state an hour later: every tenth entity updated and every
/// tenth reference re-observed.
fn changed(events: &Events, at: DateTime<Utc>) -> Events {
    let later = at + chrono::Duration::hours(1);
    let mut events = events.clone();
    for e in events.entities.iter_mut().step_by(10) {
        e.at = later;
    }
    for r in events.references.iter_mut().step_by(10) {
        r.observed = Some(later);
    }
    events
}

/// The same rows as CSV, one table for both kinds, nothing but a heap.
fn raw_rows(events: &Events) -> String {
    let mut out = String::new();
    for e in &events.entities {
        out.push_str(&format!("entity,{},{},,,,\n", e.key, e.at.to_rfc3339()));
    }
    for r in &events.references {
        let cache = r
            .cache
            .as_ref()
            .map(|c| format!("\"{}\"", c.to_string().replace('"', "\"\"")));
        out.push_str(&format!(
            "reference,{},{},{},{},{},{}\n",
            r.from,
            r.at.to_rfc3339(),
            r.relation,
            r.to,
            r.observed.map(|o| o.to_rfc3339()).unwrap_or_default(),
            cache.unwrap_or_default()
        ));
    }
    out
}

async fn raw_copy(pool: &PgPool, events: &Events) -> Duration {
    sqlx::query("drop table if exists raw_event")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "create table raw_event (kind text, key text, at timestamptz, relation text, target text,
                                 observed timestamptz, cache jsonb)",
    )
    .execute(pool)
    .await
    .unwrap();
    let start = Instant::now();
    support::copy_csv(pool, "raw_event", raw_rows(events)).await;
    start.elapsed()
}

fn rate(events: usize, time: Duration) -> f64 {
    events as f64 / time.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let Some(pool) = support::database("ingest", &model()).await else {
        return;
    };
    let at: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    let total = ENTITIES + REFERENCES;
    println!(
        "bulk ingest: {ENTITIES} entities + {REFERENCES} references per round, {ROUNDS} rounds"
    );
    let mut rng = Lcg(42);
    let (mut ours, mut again, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let events = snapshot_for(round, &mut rng, at);
        baseline.push(raw_copy(&pool, &events).await);
        let referred = inventory::find_service(&pool, &format!("dst-{round}"))
            .await
            .unwrap();
        snapshot::apply(&pool, referred, at, targets(at))
            .await
            .expect("the referred-to entities");
        let target = inventory::find_service(&pool, &format!("src-{round}"))
            .await
            .unwrap();
        let next = changed(&events, at);
        // As autovacuum would have by now: statistics of the earlier rounds
        // that have not seen this round's service, which the next snapshot's
        // plans must survive (they once took 275 s under such statistics).
        sqlx::query("analyze reference_version, entity_version, entity")
            .execute(&pool)
            .await
            .unwrap();
        let start = Instant::now();
        let applied = snapshot::apply(&pool, target, at, events)
            .await
            .expect("snapshot");
        ours.push(start.elapsed());
        let start = Instant::now();
        let reapplied = snapshot::apply(&pool, target, at + chrono::Duration::hours(1), next)
            .await
            .expect("the next snapshot");
        again.push(start.elapsed());
        // A tenth of each kind changed (a few references were drawn twice).
        assert!(
            (reapplied.applied as f64 - total as f64 / 10.0).abs() < total as f64 * 0.01,
            "{reapplied:?}"
        );
        // Random draws repeat a few (from, to) pairs: a snapshot holds one.
        assert!(applied.applied as f64 > total as f64 * 0.99, "{applied:?}");
        let (counted, live): (i64, i64) = sqlx::query_as(
            "select (select sum(dependents) from entity where service_id = $1)::bigint,
                    (select count(*) from reference_version where target_service_id = $1
                       and valid_to is null and not removed)",
        )
        .bind(referred.service_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            counted, live,
            "dependency counters agree with the references"
        );
        println!(
            "  round {round}: raw COPY {:7.0} events/s   first snapshot {:7.0} events/s   next snapshot {:7.0} events/s",
            rate(total, baseline[round]),
            rate(total, ours[round]),
            rate(total, again[round])
        );
    }
    let baseline = median(baseline);
    println!("  median: baseline {:.0} events/s", rate(total, baseline));
    for (name, times) in [("first snapshot", ours), ("next snapshot", again)] {
        let time = median(times);
        println!(
            "  median: {name} {:.0} events/s — {:.2}x of raw COPY",
            rate(total, time),
            baseline.as_secs_f64() / time.as_secs_f64()
        );
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
