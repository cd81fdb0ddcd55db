//! Topology benchmarks (run: `scripts/bench.sh topology`).
//!
//! 1. Lockstep groups for 5,000 services and 50,000 relations, against a
//!    baseline in the same run: petgraph's plain `connected_components` count
//!    over the same edges (the least any grouping must do).
//! 2. The topology page for a 500-service model: the graph layout alone, and
//!    the whole server-rendered page over HTTP from a real database
//!    (`DATABASE_URL`), against `GET /healthz` on the same server as the
//!    baseline.

use std::time::{Duration, Instant};

use app::topology::{groups::lockstep_groups, model::*, picture};
use lockstep::generate::Lcg;

mod support;
use petgraph::graph::UnGraph;

fn model(services: usize, relations: usize, seed: u64) -> Topology {
    let mut rng = Lcg(seed);
    let methods = [
        BackupMethod::Pitr,
        BackupMethod::LogicalDump,
        BackupMethod::VolumeSnapshot,
    ];
    let services: Vec<Service> = (0..services)
        .map(|i| Service {
            name: format!("svc-{i:05}"),
            team: Some(format!("team-{}", i % 40)),
            description: None,
            datastore: Some(Datastore::ALL[i % Datastore::ALL.len()]),
            pattern: None,
            backup: Backup {
                method: Some(methods[i % 3]),
                interval_s: Some(3600),
                duration_s: Some(60 + (i as i64 * 37) % 3600),
            },
            prefers: None,
        })
        .collect();
    let n = services.len();
    let relations = (0..relations)
        .map(|i| {
            // Skewed fan-in: a tenth of the services receive most references.
            let to = if rng.next(10) < 7 {
                rng.next(n / 10 + 1)
            } else {
                rng.next(n)
            };
            Relation {
                name: format!("rel-{i:06}"),
                from: services[rng.next(n)].name.clone(),
                to: services[to].name.clone(),
                kind: if i % 20 == 0 {
                    RelationKind::Mirror
                } else {
                    RelationKind::Reference
                },
                required: rng.next(10) < 3,
                cached: rng.next(10) < 5,
                policy: None,
                on_broken: None,
            }
        })
        .collect();
    Topology {
        services,
        relations,
    }
}

fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn bench_groups() {
    let topology = model(5_000, 50_000, 1);
    let groups = lockstep_groups(&topology);
    let ours = median(21, || lockstep_groups(&topology));
    let index: std::collections::HashMap<&str, u32> = topology
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i as u32))
        .collect();
    let baseline = median(21, || {
        let edges = topology
            .relations
            .iter()
            .map(|r| (index[r.from.as_str()], index[r.to.as_str()]));
        let graph: UnGraph<(), ()> = UnGraph::from_edges(edges);
        petgraph::algo::connected_components(&graph)
    });
    println!(
        "lockstep groups, 5,000 services / 50,000 relations ({} groups):",
        groups.len()
    );
    println!("  ours      {:8.2} ms (median of 21)", ms(ours));
    println!(
        "  baseline  {:8.2} ms  petgraph connected_components over all edges",
        ms(baseline)
    );
    println!(
        "  ratio     {:8.2}x the baseline's time",
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
}

fn bench_layout() {
    let topology = model(500, 1_000, 2);
    let groups = lockstep_groups(&topology);
    let layout = median(5, || picture::draw(&topology, &groups));
    let group_time = median(5, || lockstep_groups(&topology));
    println!("topology picture, 500 services / 1,000 relations:");
    println!("  layout    {:8.2} ms (median of 5)", ms(layout));
    println!(
        "  groups    {:8.2} ms  same model, for scale",
        ms(group_time)
    );
}

async fn bench_page() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("topology page: skipped (set DATABASE_URL)");
        return;
    };
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("DATABASE_URL reachable");
    lockstep::db::migrate(&pool).await.expect("migrations");
    app::topology::commands::replace(&pool, "bench", &model(500, 1_000, 2), true)
        .await
        .expect("load the 500-service model");
    let base = support::serve(pool.clone(), None).await;
    // Signed in: the page, not the redirect to the sign-in form, is timed.
    let client = support::signed_in(&pool, &base).await;
    let time = |path: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let mut times = Vec::new();
            for _ in 0..7 {
                let start = Instant::now();
                let response = client.get(format!("{base}{path}")).send().await.unwrap();
                assert_eq!(response.status(), 200, "{path}");
                let body = response.text().await.unwrap();
                times.push(start.elapsed());
                std::hint::black_box(body);
            }
            times.sort();
            times[3]
        }
    };
    let page = time("/topology").await;
    let body = client
        .get(format!("{base}/topology"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.matches("data-testid=\"service-row\"").count() >= 500,
        "the page lists the 500 services"
    );
    let health = time("/healthz").await;
    println!("topology page, 500 services / 1,000 relations, server-rendered over HTTP:");
    println!("  page      {:8.2} ms (median of 7)", ms(page));
    println!(
        "  baseline  {:8.2} ms  GET /healthz on the same server",
        ms(health)
    );
    println!(
        "  ratio     {:8.2}x",
        page.as_secs_f64() / health.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    bench_groups();
    bench_layout();
    bench_page().await;
}
