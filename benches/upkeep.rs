//! What keeping the queue true costs the writers (run: `scripts/bench.sh
//! upkeep`; needs `DATABASE_URL`).
//!
//! Every inventory write re-checks the pending findings of the keys it
//! touched (spec §5b). This measures a service's first snapshot (50,000
//! entities and 150,000 references into another service) and then five
//! 20,000-line batches through the events path (a quarter entity updates,
//! the rest new references), twice per round: once with nothing pending in
//! the queue — the baseline, same run, same data — and once with 100,000
//! open findings about the very targets those references point at, so the
//! re-check finds about two candidates for every target a batch touches.
//!
//! The findings are real: a third service refers to the targets 100,000
//! times, and the targets' service is restored to before they existed
//! (setup, not measured). In the baseline phase the same findings exist but
//! are dismissed with their condition cleared, which is all that differs.

use std::time::{Duration, Instant};

use app::inventory::{
    db::{self as inventory, snapshot},
    events::{EntityEvent, Events, ReferenceEvent},
};
use app::restores::db::engine::{self, RestorePoint, RestoreRequest};
use app::topology::model::*;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use support::{bare_service, reference};

mod support;

const TARGETS: usize = 50_000;
const OLD_REFERENCES: usize = 100_000;
const ENTITIES: usize = 50_000;
const REFERENCES: usize = 150_000;
const BATCHES: usize = 5;
const BATCH: usize = 20_000;
const ROUNDS: usize = 2;

/// Per pair `k`: `src-k` (measured) and `old-k` refer to `dst-k`.
fn model() -> Topology {
    let mut services = Vec::new();
    let mut relations = Vec::new();
    for k in 0..ROUNDS * 2 {
        for name in ["src", "old", "dst"] {
            services.push(bare_service(&format!("{name}-{k}")));
        }
        relations.push(reference(&format!("src-{k}"), &format!("dst-{k}"), true));
        relations.push(reference(&format!("old-{k}"), &format!("dst-{k}"), false));
    }
    Topology {
        services,
        relations,
    }
}

/// `count` entities `{prefix}/{i}` and `references` from them (two per
/// entity at most, each pair once) into `T/…`.
fn holdings(
    prefix: &str,
    relation: &str,
    count: usize,
    references: usize,
    at: DateTime<Utc>,
) -> Events {
    let mut events = Events::default();
    for i in 0..count {
        events
            .entities
            .push(EntityEvent::new(i + 1, format!("{prefix}/{i}"), at));
    }
    for r in 0..references {
        let ends = (
            format!("{prefix}/{}", r * count / references),
            format!("T/{}", (r * 7919) % TARGETS),
        );
        events
            .references
            .push(ReferenceEvent::new(count + r + 1, relation, ends, at, at));
    }
    events
}

/// Batch `b` of the events path: updates of a quarter of it, new references.
fn batch(k: usize, b: usize, at: DateTime<Utc>) -> Events {
    let at = at + chrono::Duration::minutes(b as i64 + 1);
    let mut events = Events::default();
    let updates = BATCH / 4;
    for i in 0..updates {
        events.entities.push(EntityEvent::new(
            i + 1,
            format!("S/{}", (b * updates + i) % ENTITIES),
            at,
        ));
    }
    for j in 0..BATCH - updates {
        let n = b * BATCH + j;
        let ends = (
            format!("S/{}", n % ENTITIES),
            format!("T/{}", (n * 31) % TARGETS),
        );
        let relation = format!("src-{k}.dst-{k}");
        events.references.push(ReferenceEvent::new(
            updates + j + 1,
            &relation,
            ends,
            at,
            at,
        ));
    }
    events
}

struct Phase {
    snapshot: Duration,
    batches: Vec<Duration>,
}

async fn pair(pool: &PgPool, k: usize, at: DateTime<Utc>, pending: bool) -> Phase {
    let service = |name: String| async move { inventory::find_service(pool, &name).await.unwrap() };
    let created = at - chrono::Duration::days(30);
    let mut targets = Events::default();
    for i in 0..TARGETS {
        targets
            .entities
            .push(EntityEvent::new(i + 1, format!("T/{i}"), created));
    }
    snapshot::apply(pool, service(format!("dst-{k}")).await, created, targets)
        .await
        .unwrap();
    let old = holdings(
        "O",
        &format!("old-{k}.dst-{k}"),
        TARGETS,
        OLD_REFERENCES,
        created,
    );
    snapshot::apply(pool, service(format!("old-{k}")).await, created, old)
        .await
        .unwrap();
    // As autovacuum would have by now. Without it the restore's detection,
    // planned from statistics that have not seen either service, ran for
    // more than 15 minutes (BENCHMARKS.md).
    sqlx::query("analyze").execute(pool).await.unwrap();
    let report = engine::record(
        pool,
        RestoreRequest {
            service: format!("dst-{k}"),
            point: RestorePoint::At(created - chrono::Duration::days(1)),
            restored_at: Some(created + chrono::Duration::days(1)),
            drill: false,
            actor: "bench".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(report.counts["broken_link"], OLD_REFERENCES as i64);
    if !pending {
        sqlx::query(
            "update finding set status = 'dismissed', cleared_at = now()
             where status in ('open', 'claimed') or cleared_at is null",
        )
        .execute(pool)
        .await
        .unwrap();
    }
    let open: i64 = sqlx::query_scalar("select count(*) from finding where status = 'open'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(open, if pending { OLD_REFERENCES as i64 } else { 0 });
    sqlx::query("analyze").execute(pool).await.unwrap();

    let src = service(format!("src-{k}")).await;
    let first = holdings("S", &format!("src-{k}.dst-{k}"), ENTITIES, REFERENCES, at);
    let start = Instant::now();
    snapshot::apply(pool, src, at, first).await.unwrap();
    let snapshot = start.elapsed();
    let mut batches = Vec::new();
    for b in 0..BATCHES {
        let events = batch(k, b, at);
        let start = Instant::now();
        let applied = inventory::apply(pool, src, events).await.unwrap();
        batches.push(start.elapsed());
        assert_eq!(applied.applied, BATCH);
    }
    // The re-check found the findings' conditions still there.
    let still: i64 = sqlx::query_scalar("select count(*) from finding where status = 'open'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(still, open);
    Phase { snapshot, batches }
}

fn rate(events: usize, time: Duration) -> f64 {
    events as f64 / time.as_secs_f64()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let Some(pool) = support::database("upkeep", &model()).await else {
        return;
    };
    let at: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    println!(
        "queue upkeep: first snapshot of {} events, then {BATCHES} batches of {BATCH} events, \
         with nothing pending vs {OLD_REFERENCES} open findings on the targets, {ROUNDS} rounds",
        ENTITIES + REFERENCES
    );
    let (mut quiet, mut busy) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for (pending, phases) in [(false, &mut quiet), (true, &mut busy)] {
            let phase = pair(&pool, round * 2 + usize::from(pending), at, pending).await;
            println!(
                "  round {round}, {:>16}: first snapshot {:7.0} events/s   events path {:7.0} events/s (median batch)",
                if pending { "100k open" } else { "nothing pending" },
                rate(ENTITIES + REFERENCES, phase.snapshot),
                rate(BATCH, median(phase.batches.clone()))
            );
            phases.push(phase);
        }
    }
    let summary = |phases: &[Phase]| {
        (
            median(phases.iter().map(|p| p.snapshot).collect()),
            median(phases.iter().flat_map(|p| p.batches.clone()).collect()),
        )
    };
    let ((quiet_snapshot, quiet_batch), (busy_snapshot, busy_batch)) =
        (summary(&quiet), summary(&busy));
    println!(
        "  median: first snapshot {:.0} → {:.0} events/s ({:.2}x with 100k open findings)",
        rate(ENTITIES + REFERENCES, quiet_snapshot),
        rate(ENTITIES + REFERENCES, busy_snapshot),
        quiet_snapshot.as_secs_f64() / busy_snapshot.as_secs_f64()
    );
    println!(
        "  median: events path {:.0} → {:.0} events/s ({:.2}x with 100k open findings)",
        rate(BATCH, quiet_batch),
        rate(BATCH, busy_batch),
        quiet_batch.as_secs_f64() / busy_batch.as_secs_f64()
    );
}
