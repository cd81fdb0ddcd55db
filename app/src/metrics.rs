//! The Prometheus metrics of one server process (`GET /metrics`).
//!
//! Counters and histograms are process-wide (`METRICS`) because what they
//! count happens in both the API routes and the dashboard's server
//! functions (a restore is recorded by either). What lives in the database
//! — queue size, claims held — is read when scraped, so every replica
//! reports the same truth.

use std::{sync::LazyLock, time::Duration};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
        info::Info,
    },
    registry::Registry,
};
use sqlx::PgPool;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeKindLabels {
    mode: &'static str,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    kind: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceKindLabels {
    service: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RelationLabels {
    relation: String,
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Request latencies from 1 ms to about 16 s; restores from 10 ms to about
/// 40 min (a restore of a million references takes seconds).
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn computation_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 18))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    ingest_events: Family<ServiceLabels, Counter>,
    ingest_bytes: Family<ServiceLabels, Counter>,
    computations: Family<ModeLabels, Histogram, fn() -> Histogram>,
    findings: Family<ModeKindLabels, Counter>,
    queue: Family<QueueLabels, Gauge>,
    claims: Gauge,
    pool: Family<PoolLabels, Gauge>,
    collector_seen: Family<ServiceLabels, FloatGauge>,
    collector_rows: Family<ServiceLabels, Gauge>,
    collector_lag: Family<ServiceLabels, FloatGauge>,
    collector_error: Family<ServiceLabels, FloatGauge>,
    suspected: Family<ServiceLabels, Gauge>,
    exposure: Family<ServiceKindLabels, Gauge>,
    exposure_relation: Family<RelationLabels, Gauge>,
}

/// A gauge of seconds (timestamps, lags).
type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("lockstep");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let latency = Family::new_with_constructor(request_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template and method",
            latency.clone(),
        );
        let ingest_events = Family::<ServiceLabels, Counter>::default();
        registry.register(
            "ingest_events",
            "Inventory events applied, by reporting service (events and snapshots)",
            ingest_events.clone(),
        );
        let ingest_bytes = Family::<ServiceLabels, Counter>::default();
        registry.register(
            "ingest_bytes",
            "Bytes of accepted event and snapshot bodies, by reporting service",
            ingest_bytes.clone(),
        );
        let computations = Family::new_with_constructor(computation_histogram as fn() -> Histogram);
        registry.register(
            "restore_duration_seconds",
            "Time to compute a restore or drill (mode=restore|drill), commit included",
            computations.clone(),
        );
        let findings = Family::<ModeKindLabels, Counter>::default();
        registry.register(
            "restore_findings",
            "Findings computed by restores and drills, by mode and kind",
            findings.clone(),
        );
        let queue = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_findings",
            "Findings in the reconciliation queue by kind and status (read when scraped)",
            queue.clone(),
        );
        let claims = Gauge::default();
        registry.register(
            "queue_claims_held",
            "Findings currently claimed by an operator (read when scraped)",
            claims.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (in_use, idle)",
            pool.clone(),
        );
        let collector_seen = Family::<ServiceLabels, FloatGauge>::default();
        registry.register(
            "collector_last_seen_timestamp_seconds",
            "When the service's collector last reported (read when scraped)",
            collector_seen.clone(),
        );
        let collector_rows = Family::<ServiceLabels, Gauge>::default();
        registry.register(
            "collector_rows",
            "Rows the service's collector has reported in all (read when scraped)",
            collector_rows.clone(),
        );
        let collector_lag = Family::<ServiceLabels, FloatGauge>::default();
        registry.register(
            "collector_lag_seconds",
            "How far behind the service's newest write its collector's last report was",
            collector_lag.clone(),
        );
        let collector_error = Family::<ServiceLabels, FloatGauge>::default();
        registry.register(
            "collector_last_error_timestamp_seconds",
            "When the service's collector last reported an error (read when scraped)",
            collector_error.clone(),
        );
        let suspected = Family::<ServiceLabels, Gauge>::default();
        registry.register(
            "suspected_restores_open",
            "Suspected restores of the service not yet recorded or dismissed (read when scraped)",
            suspected.clone(),
        );
        let exposure = Family::<ServiceKindLabels, Gauge>::default();
        registry.register(
            "exposure_findings",
            "Findings a restore of the service to its latest backup would leave, by kind, at the newest exposure run",
            exposure.clone(),
        );
        let exposure_relation = Family::<RelationLabels, Gauge>::default();
        registry.register(
            "exposure_relation_findings",
            "Findings on the relation a restore of the service to its latest backup would leave, at the newest exposure run",
            exposure_relation.clone(),
        );
        registry.register(
            "build",
            "The running build",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Self {
            registry,
            requests,
            latency,
            ingest_events,
            ingest_bytes,
            computations,
            findings,
            queue,
            claims,
            pool,
            collector_seen,
            collector_rows,
            collector_lag,
            collector_error,
            suspected,
            exposure,
            exposure_relation,
        }
    }

    /// One answered request. `route` is the matched route template (not the
    /// path), so the label set stays bounded.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Events applied from one accepted events or snapshot request.
    pub fn ingested(&self, service: &str, events: usize, bytes: usize) {
        let labels = ServiceLabels {
            service: service.to_owned(),
        };
        self.ingest_events
            .get_or_create(&labels)
            .inc_by(events as u64);
        self.ingest_bytes
            .get_or_create(&labels)
            .inc_by(bytes as u64);
    }

    /// A finished restore or drill, with its finding counts by kind.
    pub fn computed<'a>(
        &self,
        drill: bool,
        took: Duration,
        counts: impl IntoIterator<Item = (&'a String, &'a i64)>,
    ) {
        let mode = if drill { "drill" } else { "restore" };
        self.computations
            .get_or_create(&ModeLabels { mode })
            .observe(took.as_secs_f64());
        for (kind, n) in counts {
            self.findings
                .get_or_create(&ModeKindLabels {
                    mode,
                    kind: kind.clone(),
                })
                .inc_by((*n).max(0) as u64);
        }
    }

    /// The exposition text: the database-backed gauges are refreshed first.
    /// A database that does not answer leaves them out rather than failing
    /// the scrape (the HTTP and pool metrics matter most then).
    pub async fn render(&self, db: &PgPool) -> String {
        let in_use = db.size() as i64 - db.num_idle() as i64;
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(in_use.max(0));
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(db.num_idle() as i64);
        self.queue.clear();
        match crate::queue::db::sizes(db).await {
            Ok(rows) => {
                let mut claimed = 0;
                for (kind, status, n) in rows {
                    if status == "claimed" {
                        claimed += n;
                    }
                    self.queue
                        .get_or_create(&QueueLabels { kind, status })
                        .set(n);
                }
                self.claims.set(claimed);
            }
            Err(error) => tracing::warn!(%error, "metrics: reading the queue size"),
        }
        self.read_collectors(db).await;
        self.read_exposure(db).await;
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// The collectors' progress and the open suspected restores, as the
    /// database holds them.
    async fn read_collectors(&self, db: &PgPool) {
        for family in [
            &self.collector_seen,
            &self.collector_lag,
            &self.collector_error,
        ] {
            family.clear();
        }
        self.collector_rows.clear();
        self.suspected.clear();
        let seconds = |t: chrono::DateTime<chrono::Utc>| t.timestamp_micros() as f64 / 1e6;
        match crate::inventory::db::collectors::all(db).await {
            Ok(collectors) => {
                for c in collectors {
                    let labels = ServiceLabels { service: c.service };
                    self.collector_seen
                        .get_or_create(&labels)
                        .set(seconds(c.last_seen_at));
                    self.collector_rows.get_or_create(&labels).set(c.rows_sent);
                    if let Some(lag) = c.lag_seconds {
                        self.collector_lag.get_or_create(&labels).set(lag);
                    }
                    if let Some(at) = c.last_error_at {
                        self.collector_error.get_or_create(&labels).set(seconds(at));
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "metrics: reading the collectors"),
        }
        match crate::restores::db::suspected::open_per_service(db).await {
            Ok(rows) => {
                for (service, n) in rows {
                    self.suspected
                        .get_or_create(&ServiceLabels { service })
                        .set(n);
                }
            }
            Err(error) => tracing::warn!(%error, "metrics: reading the suspected restores"),
        }
    }

    /// Each service's newest exposure point, per kind and per relation.
    async fn read_exposure(&self, db: &PgPool) {
        self.exposure.clear();
        self.exposure_relation.clear();
        match crate::exposure::db::latest(db).await {
            Ok(points) => {
                for p in points {
                    for (kind, n) in &p.counts {
                        self.exposure
                            .get_or_create(&ServiceKindLabels {
                                service: p.service.clone(),
                                kind: kind.clone(),
                            })
                            .set(*n);
                    }
                    for (relation, counts) in &p.by_relation {
                        self.exposure_relation
                            .get_or_create(&RelationLabels {
                                relation: relation.clone(),
                                service: p.service.clone(),
                            })
                            .set(counts.values().sum());
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "metrics: reading the exposure series"),
        }
    }
}
