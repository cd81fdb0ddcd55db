//! The integrity scan at the 10M-reference inventory (issue "Speed", SPEC
//! §7): `lockstep generate --services 200 --entities 2000000 --references
//! 10000000`, then rounds of deletes of referred-to entities through the
//! events path, each followed by a pass.
//!
//! The baseline, in the same run, is a full pass after 1,000 deletes: the
//! same logical work (every dangling delete the deletes made, flagged once)
//! done by reading every deleted entity and every pending finding. The
//! incremental passes read only the entities marked since the last pass;
//! their cost should follow the deletes, not the inventory. A last full pass
//! checks that they missed nothing: it must flag no dangling delete.
//!
//! `LOCKSTEP_BENCH_SCAN_REFERENCES` sets the size (entities a fifth of it).

use std::time::{Duration, Instant};

use app::inventory::{
    db::{self as inventory, scan},
    events::{EntityEvent, Events},
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("scan: skipped (set DATABASE_URL)");
        return;
    };
    let references: usize = std::env::var("LOCKSTEP_BENCH_SCAN_REFERENCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000_000);
    let pool = PgPool::connect(&url).await.expect("DATABASE_URL reachable");
    lockstep::db::migrate(&pool).await.expect("migrations");
    let sizes = lockstep::generate::Sizes {
        services: 200,
        entities: references / 5,
        references,
        seed: 1,
    };
    let started = Instant::now();
    lockstep::generate::run(&pool, sizes)
        .await
        .expect("the inventory");
    println!(
        "scan: generated {} references, {} entities in {:.0} s",
        references,
        references / 5,
        started.elapsed().as_secs_f64()
    );
    sqlx::query("vacuum analyze").execute(&pool).await.unwrap();

    let (quiet_full, _) = pass(&pool, scan::Pass::Full).await;
    println!("scan: full pass, nothing deleted: {quiet_full:.2?}");
    let (quiet, _) = pass(&pool, scan::Pass::Incremental).await;
    println!("scan: incremental pass, nothing deleted: {quiet:.2?}");

    delete_referred_to(&pool, 1_000).await;
    let (baseline, report) = pass(&pool, scan::Pass::Full).await;
    println!(
        "scan: baseline, full pass after 1000 deletes: {baseline:.2?} ({} deleted entities read, {} dangling deletes)",
        report.examined, report.counts.dangling_delete
    );
    for deletes in [100, 1_000, 10_000] {
        delete_referred_to(&pool, deletes).await;
        let (took, report) = pass(&pool, scan::Pass::Incremental).await;
        println!(
            "scan: incremental pass after {deletes} deletes: {took:.3?} ({} entities read, {} dangling deletes) = {:.1}× the full pass",
            report.examined,
            report.counts.dangling_delete,
            baseline.as_secs_f64() / took.as_secs_f64()
        );
        assert_eq!(report.examined, deletes as i64, "each delete read once");
        assert!(
            report.counts.dangling_delete >= deletes as i64,
            "every deleted entity had live referrers"
        );
    }
    let (_, check) = pass(&pool, scan::Pass::Full).await;
    assert_eq!(
        check.counts.dangling_delete, 0,
        "a full pass found dangling deletes the incremental passes missed"
    );
    println!("scan: a full pass afterwards found nothing the incremental passes missed");
}

async fn pass(pool: &PgPool, pass: scan::Pass) -> (Duration, scan::ScanReport) {
    let started = Instant::now();
    let report = scan::run(pool, pass).await.expect("a scan");
    (started.elapsed(), report)
}

/// Deletes `n` live entities that other services refer to, spread over the
/// services, each service's through one events batch.
async fn delete_referred_to(pool: &PgPool, n: usize) {
    let chosen: Vec<(String, String)> = sqlx::query_as(
        "select s.name, e.key from entity e join service s using (service_id)
         where not e.deleted and e.dependents > 0
         order by md5(e.key) limit $1",
    )
    .bind(n as i64)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(chosen.len(), n, "enough referred-to entities");
    let at: DateTime<Utc> = "2026-11-25T00:00:00Z".parse().unwrap();
    let mut by_service: std::collections::BTreeMap<String, Events> = Default::default();
    for (line, (service, key)) in chosen.into_iter().enumerate() {
        let mut event = EntityEvent::new(line + 1, key, at);
        event.deleted = true;
        by_service.entry(service).or_default().entities.push(event);
    }
    for (service, events) in by_service {
        let service = inventory::find_service(pool, &service).await.unwrap();
        inventory::apply(pool, service, events).await.unwrap();
    }
}
