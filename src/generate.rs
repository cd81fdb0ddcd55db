//! `lockstep generate`: a realistic, deterministic topology and inventory for
//! benchmarks and demos. Services get a skewed share of the references
//! (a few popular targets receive most), some relations are cached, some
//! mirrors, and every service a few backups at different times. Everything
//! goes through the real ingest path (one COPY-based snapshot per service).

use app::inventory::{
    db::{self as inventory, queries, snapshot},
    events,
};
use app::topology::{commands, model::*};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

/// What to generate.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Sizes {
    #[arg(long, default_value_t = 20)]
    pub services: usize,
    #[arg(long, default_value_t = 20_000)]
    pub entities: usize,
    #[arg(long, default_value_t = 100_000)]
    pub references: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A 64-bit LCG: deterministic for a seed, and no dependency for it. The
/// benchmarks draw their models from it too.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }

    /// Skewed towards 0: the square of a uniform draw.
    pub fn skewed(&mut self, bound: usize) -> usize {
        let u = self.next(1 << 20) as f64 / f64::from(1 << 20);
        ((u * u) * bound as f64) as usize
    }
}

fn service_name(i: usize) -> String {
    format!("svc-{i:03}")
}

fn topology_for(sizes: Sizes, rng: &mut Lcg) -> Topology {
    let methods = [
        BackupMethod::Pitr,
        BackupMethod::LogicalDump,
        BackupMethod::VolumeSnapshot,
    ];
    let services = (0..sizes.services)
        .map(|i| Service {
            name: service_name(i),
            team: Some(format!("team-{}", i % 12)),
            description: None,
            datastore: Some(Datastore::ALL[i % Datastore::ALL.len()]),
            pattern: Some(if i % 4 == 0 {
                StoragePattern::EventSourced
            } else {
                StoragePattern::Snapshot
            }),
            backup: Backup {
                method: Some(methods[i % methods.len()]),
                interval_s: Some(3_600 * (1 + (i % 24) as i64)),
                duration_s: Some(60 + (i as i64 * 97) % 3_000),
            },
            prefers: None,
        })
        .collect();
    // Each service refers to two others, popular ones more often.
    let mut relations = Vec::new();
    for from in 0..sizes.services {
        for k in 0..2usize.min(sizes.services.saturating_sub(1)) {
            let mut to = rng.skewed(sizes.services);
            if to == from {
                to = (to + 1) % sizes.services;
            }
            relations.push(Relation {
                name: format!("{}.r{k}", service_name(from)),
                from: service_name(from),
                to: service_name(to),
                kind: if rng.next(20) == 0 {
                    RelationKind::Mirror
                } else {
                    RelationKind::Reference
                },
                required: rng.next(3) > 0,
                cached: rng.next(3) == 0,
                policy: None,
                on_broken: None,
            });
        }
    }
    Topology {
        services,
        relations,
    }
}

pub async fn run(pool: &PgPool, sizes: Sizes) -> anyhow::Result<()> {
    anyhow::ensure!(
        sizes.services > 0 && sizes.entities >= sizes.services,
        "need at least one entity per service"
    );
    let mut rng = Lcg(sizes.seed);
    let model = topology_for(sizes, &mut rng);
    commands::replace(pool, "lockstep generate", &model, true)
        .await
        .map_err(|e| anyhow::anyhow!("writing the topology: {e}"))?;

    let origin: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().expect("a valid timestamp");
    let per_service = sizes.entities / sizes.services;
    let refs_per_service = sizes.references / sizes.services;
    for (i, service) in model.services.iter().enumerate() {
        let outgoing: Vec<&Relation> = model
            .relations
            .iter()
            .filter(|r| r.from == service.name)
            .collect();
        let mut batch = events::Events::default();
        for e in 0..per_service {
            batch.entities.push(events::EntityEvent::new(
                e + 1,
                format!("{}/{e}", service.name),
                origin + Duration::minutes(rng.next(60 * 24 * 20) as i64),
            ));
        }
        for r in 0..refs_per_service {
            let Some(relation) = outgoing.get(rng.next(outgoing.len())) else {
                break;
            };
            let from = rng.next(per_service);
            let to = rng.skewed(per_service);
            let at = origin + Duration::minutes(rng.next(60 * 24 * 20) as i64);
            let ends = (
                format!("{}/{from}", service.name),
                format!("{}/{to}", relation.to),
            );
            let observed = at - Duration::minutes(rng.next(120) as i64);
            batch.references.push(events::ReferenceEvent {
                cache: relation.cached.then(|| serde_json::json!({"copy": to})),
                ..events::ReferenceEvent::new(
                    per_service + r + 1,
                    &relation.name,
                    ends,
                    observed,
                    at,
                )
            });
        }
        let target = inventory::find_service(pool, &service.name)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let now = origin + Duration::days(21);
        snapshot::apply(pool, target, now, batch)
            .await
            .map_err(|e| anyhow::anyhow!("ingesting {}: {e}", service.name))?;
        for days in [1, 7, 14] {
            inventory::record_backup(pool, target, now - Duration::days(days), Some("generated"))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tracing::info!(service = %service.name, progress = format!("{}/{}", i + 1, sizes.services), "generated");
    }
    // Count now, so the overview's first view after a load reads counts.
    queries::recount(pool)
        .await
        .map_err(|e| anyhow::anyhow!("counting the inventory: {e}"))?;
    let size = crate::db::size(pool).await?;
    tracing::info!(database = %size, "inventory generated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_model() {
        let sizes = Sizes {
            services: 30,
            entities: 300,
            references: 900,
            seed: 7,
        };
        let a = topology_for(sizes, &mut Lcg(7));
        let b = topology_for(sizes, &mut Lcg(7));
        assert_eq!(a, b);
        assert!(a.relations.iter().all(|r| r.from != r.to));
        assert!(app::topology::document::parse(&app::topology::document::to_yaml(&a)).is_ok());
    }
}
