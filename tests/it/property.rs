//! The queue the SQL builds, held to the reference model
//! (`app::reference_model`) over random histories: several services,
//! references with and without copies, a mirror, restores recorded on time
//! and late, re-applied and late events of an old epoch, complete
//! snapshots (`PUT …/inventory`) that change, keep and drop entities and
//! references, scans, second
//! restores, and operators accepting or dismissing findings. After each
//! history both must list the same findings (kind, relation, both sides,
//! status) and the same current entities.
//!
//! `PROPTEST_CASES` sets how many histories are tried (32 by default); a
//! failing one is shrunk to a shortest history that still fails.

use std::collections::BTreeMap;

use app::reference_model::{Current, Listed, Model, Relation, RelationKind, Time, Write};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{ndjson, post_events, spawn_app, TestApp};
use crate::inventory::put_snapshot;

const SERVICES: [&str; 3] = ["a", "b", "c"];
const KEYS: [&str; 3] = ["k0", "k1", "k2"];
const TOPOLOGY: &str = "
services: [{name: a}, {name: b}, {name: c}]
relations:
  - {name: a.b, from: a, to: b, cached: true}
  - {name: c.b, from: c, to: b}
  - {name: b.c, from: b, to: c}
  - {name: a.c, from: a, to: c, kind: mirror}
";

fn relations() -> Vec<Relation> {
    [
        ("a.b", "a", "b", RelationKind::Reference),
        ("c.b", "c", "b", RelationKind::Reference),
        ("b.c", "b", "c", RelationKind::Reference),
        ("a.c", "a", "c", RelationKind::Mirror),
    ]
    .into_iter()
    .map(|(name, from, to, kind)| Relation {
        name: name.into(),
        from: from.into(),
        to: to.into(),
        kind,
    })
    .collect()
}

/// One step of a history; times are minutes relative to a clock that only
/// moves forward.
#[derive(Debug, Clone)]
enum Step {
    Entity {
        service: usize,
        key: usize,
        deleted: bool,
        advance: i64,
    },
    /// A write of the current epoch with an older time (re-applied from a copy).
    Reapply {
        service: usize,
        key: usize,
        back: i64,
    },
    /// A late record of the previous epoch.
    OldEpoch {
        service: usize,
        key: usize,
        back: i64,
        deleted: bool,
    },
    Reference {
        relation: usize,
        from: usize,
        to: usize,
        removed: bool,
        stale: bool,
        cache: bool,
        advance: i64,
    },
    /// Back to `back` minutes ago, recorded `late` minutes after it happened.
    Restore {
        service: usize,
        back: i64,
        late: i64,
        advance: i64,
    },
    /// A complete snapshot of `service` (`PUT …/inventory`): per key of
    /// its entities, and per reference it may hold (its relations × keys ×
    /// keys), 0 absent, 1–2 as it stands, 3 changed. Taken now, or `back`
    /// minutes ago (arriving late).
    Snapshot {
        service: usize,
        entities: Vec<u8>,
        references: Vec<u8>,
        cache: bool,
        advance: i64,
        back: i64,
    },
    Scan,
    Decide {
        pick: usize,
        accept: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let service = 0..SERVICES.len();
    let key = 0..KEYS.len();
    prop_oneof![
        6 => (service.clone(), key.clone(), prop::bool::weighted(0.2), 1..20i64)
            .prop_map(|(service, key, deleted, advance)| Step::Entity { service, key, deleted, advance }),
        1 => (service.clone(), key.clone(), 1..120i64)
            .prop_map(|(service, key, back)| Step::Reapply { service, key, back }),
        1 => (service.clone(), key.clone(), 1..120i64, any::<bool>())
            .prop_map(|(service, key, back, deleted)| Step::OldEpoch { service, key, back, deleted }),
        6 => (0..4usize, key.clone(), key.clone(), prop::bool::weighted(0.2), prop::bool::weighted(0.3),
              any::<bool>(), 1..20i64)
            .prop_map(|(relation, from, to, removed, stale, cache, advance)| Step::Reference {
                relation, from, to, removed, stale, cache, advance }),
        2 => (service.clone(), 0..90i64, 0..30i64, 1..20i64)
            .prop_map(|(service, back, late, advance)| Step::Restore { service, back, late, advance }),
        2 => (service, prop::collection::vec(0..4u8, KEYS.len()),
              prop::collection::vec(0..4u8, 2 * KEYS.len() * KEYS.len()), any::<bool>(), 1..20i64,
              prop_oneof![Just(0), 1..60i64])
            .prop_map(|(service, entities, references, cache, advance, back)| Step::Snapshot {
                service, entities, references, cache, advance, back }),
        1 => Just(Step::Scan),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, accept)| Step::Decide { pick, accept }),
    ]
}

/// Plays histories into the model and the application side by side.
struct Player<'a> {
    app: &'a TestApp,
    model: Model,
    clock: Time,
}

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

fn start() -> Time {
    "2026-11-01T08:00:00Z".parse().unwrap()
}

fn event(write: &Write) -> Value {
    match write {
        Write::Entity {
            key,
            at,
            deleted,
            epoch,
        } => {
            let mut e = json!({"type": "entity", "key": key, "at": at, "deleted": deleted});
            if let Some(epoch) = epoch {
                e["epoch"] = json!(epoch);
            }
            e
        }
        Write::Reference {
            relation,
            from,
            to,
            observed,
            at,
            removed,
            epoch,
        } => {
            let mut e = json!({"type": "reference", "from": from, "relation": relation, "to": to,
                               "at": at, "removed": removed});
            if let Some(observed) = observed {
                e["observed"] = json!(observed);
            }
            if let Some(epoch) = epoch {
                e["epoch"] = json!(epoch);
            }
            e
        }
    }
}

/// Ok when the application took a write (200), else what it answered.
async fn taken(response: reqwest::Response, what: impl FnOnce() -> String) -> Result<(), String> {
    if response.status() == 200 {
        return Ok(());
    }
    Err(format!("{}: {}", what(), response.text().await.unwrap()))
}

impl Player<'_> {
    async fn send(&mut self, service: &str, batch: Vec<Write>, cache: bool) -> Result<(), String> {
        let mut events: Vec<Value> = batch.iter().map(event).collect();
        if cache {
            for e in events.iter_mut().filter(|e| e["type"] == "reference") {
                e["cache"] = json!({"copy": true});
            }
        }
        let response = post_events(self.app, service, None, &ndjson(&events)).await;
        taken(response, || format!("{service} {events:?}")).await?;
        self.model.write(service, &batch);
        Ok(())
    }

    /// Sends the snapshot the step's choices describe, and plays the
    /// difference the model finds into the model.
    async fn snapshot(
        &mut self,
        service: &str,
        at: Time,
        entities: &[u8],
        references: &[u8],
        cache: bool,
    ) -> Result<(), String> {
        let rows = self.model.rows(service);
        let mut ends = Vec::new();
        for relation in relations().into_iter().filter(|r| r.from == service) {
            for from in KEYS {
                for to in KEYS {
                    ends.push((relation.clone(), from, to));
                }
            }
        }
        let mut held_references = BTreeMap::new();
        for ((relation, from, to), choice) in ends.into_iter().zip(references) {
            let target = self.model.rows(&relation.to).get(to).map(|r| r.at);
            let observed = match choice {
                0 => continue,
                1 | 2 => self
                    .model
                    .live_reference(service, &relation.name, from, to)
                    .unwrap_or(target.or(Some(at))),
                _ => Some(at),
            };
            held_references.insert((relation.name, from.to_string(), to.to_string()), observed);
        }
        let mut held_entities = BTreeMap::new();
        // A reference's source is an entity of the snapshot: it is kept.
        let sources: Vec<&str> = held_references
            .keys()
            .map(|(_, from, _)| from.as_str())
            .collect();
        for (key, choice) in KEYS.iter().zip(entities) {
            let updated = match (choice, rows.get(*key)) {
                (0, _) if !sources.contains(key) => continue,
                (0..=2, Some(row)) => row.at,
                _ => at,
            };
            held_entities.insert(key.to_string(), updated);
        }
        let mut lines: Vec<Value> = held_entities
            .iter()
            .map(|(key, at)| json!({"type": "entity", "key": key, "at": at}))
            .collect();
        for ((relation, from, to), observed) in &held_references {
            let mut line =
                json!({"type": "reference", "from": from, "relation": relation, "to": to});
            if let Some(observed) = observed {
                line["observed"] = json!(observed);
            }
            if cache {
                line["cache"] = json!({"copy": true});
            }
            lines.push(line);
        }
        let writes = self
            .model
            .snapshot(service, at, &held_entities, &held_references);
        let query = format!(
            "?at={}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let response = put_snapshot(self.app, service, &query, &ndjson(&lines)).await;
        taken(response, || format!("snapshot of {service} {lines:?}")).await?;
        self.model.write(service, &writes);
        Ok(())
    }

    async fn play(&mut self, step: &Step) -> Result<(), String> {
        match *step {
            Step::Entity {
                service,
                key,
                deleted,
                advance,
            } => {
                self.clock += minutes(advance);
                let write = Write::Entity {
                    key: KEYS[key].into(),
                    at: self.clock,
                    deleted,
                    epoch: None,
                };
                self.send(SERVICES[service], vec![write], false).await
            }
            Step::Reapply { service, key, back } => {
                let at = (self.clock - minutes(back)).max(start());
                let write = Write::Entity {
                    key: KEYS[key].into(),
                    at,
                    deleted: false,
                    epoch: None,
                };
                self.send(SERVICES[service], vec![write], false).await
            }
            Step::OldEpoch {
                service,
                key,
                back,
                deleted,
            } => {
                let name = SERVICES[service];
                let epoch = (self.model.epoch(name) > 0).then(|| self.model.epoch(name) - 1);
                let at = (self.clock - minutes(back)).max(start());
                let write = Write::Entity {
                    key: KEYS[key].into(),
                    at,
                    deleted,
                    epoch,
                };
                self.send(name, vec![write], false).await
            }
            Step::Reference {
                relation,
                from,
                to,
                removed,
                stale,
                cache,
                advance,
            } => {
                self.clock += minutes(advance);
                let relations = relations();
                let rel = &relations[relation];
                let target = self.model.rows(&rel.to).get(KEYS[to]).map(|r| r.at);
                let observed = match (removed, stale, target) {
                    (true, _, _) => None,
                    (false, false, Some(at)) => Some(at),
                    _ => Some(self.clock),
                };
                let mut batch = Vec::new();
                if !self.model.rows(&rel.from).contains_key(KEYS[from]) {
                    batch.push(Write::Entity {
                        key: KEYS[from].into(),
                        at: self.clock,
                        deleted: false,
                        epoch: None,
                    });
                }
                batch.push(Write::Reference {
                    relation: rel.name.clone(),
                    from: KEYS[from].into(),
                    to: KEYS[to].into(),
                    observed,
                    at: self.clock,
                    removed,
                    epoch: None,
                });
                self.send(&rel.from, batch, cache).await
            }
            Step::Restore {
                service,
                back,
                late,
                advance,
            } => {
                self.clock += minutes(advance);
                let name = SERVICES[service];
                let taken_at = (self.clock - minutes(back)).max(start());
                let last = self.model.last_restored_at(name).unwrap_or(taken_at);
                let restored_at = (self.clock - minutes(late)).max(taken_at).max(last);
                let response = self
                    .app
                    .admin(Method::POST, &format!("/api/v1/services/{name}/restores"))
                    .json(&json!({"taken_at": taken_at, "restored_at": restored_at}))
                    .send()
                    .await
                    .unwrap();
                if response.status() != 201 {
                    return Err(format!(
                        "restore {name}: {}",
                        response.text().await.unwrap()
                    ));
                }
                self.model.restore(name, taken_at, restored_at);
                Ok(())
            }
            Step::Snapshot {
                service,
                ref entities,
                ref references,
                cache,
                advance,
                back,
            } => {
                let name = SERVICES[service];
                let at = if back == 0 {
                    self.clock += minutes(advance);
                    self.clock
                } else {
                    (self.clock - minutes(back)).max(start())
                };
                self.snapshot(name, at, entities, references, cache).await
            }
            Step::Scan => {
                let response = self
                    .app
                    .admin(Method::POST, "/api/v1/scans")
                    .send()
                    .await
                    .unwrap();
                if !response.status().is_success() {
                    return Err(format!("scan: {}", response.text().await.unwrap()));
                }
                self.model.scan();
                Ok(())
            }
            Step::Decide { pick, accept } => {
                let open: Vec<Listed> = self
                    .model
                    .queue()
                    .into_iter()
                    .filter(|f| f.status == "open")
                    .collect();
                if open.is_empty() {
                    return Ok(());
                }
                let chosen = &open[pick % open.len()];
                let (action, status) = if accept {
                    ("accept", "accepted")
                } else {
                    ("dismiss", "dismissed")
                };
                let id = queue(self.app)
                    .await
                    .into_iter()
                    .find(|(id_less, _)| id_less == chosen)
                    .map(|(_, id)| id)
                    .ok_or_else(|| format!("no open finding {chosen:?} in the queue"))?;
                let response = self
                    .app
                    .admin(Method::POST, &format!("/api/v1/findings/{id}/{action}"))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                if response.status() != 200 {
                    return Err(format!("{action} {id}: {}", response.text().await.unwrap()));
                }
                self.model.decide(chosen, status);
                Ok(())
            }
        }
    }
}

fn status(text: &str) -> &'static str {
    ["open", "claimed", "resolved", "accepted", "dismissed"]
        .into_iter()
        .find(|s| *s == text)
        .expect("a status")
}

fn kind(text: &str) -> &'static str {
    [
        "broken_link",
        "stale_reference",
        "orphan_candidate",
        "missing_state",
        "dangling_delete",
    ]
    .into_iter()
    .find(|k| *k == text)
    .expect("a kind")
}

/// Every finding in the queue as the model lists it, with its id.
async fn queue(app: &TestApp) -> Vec<(Listed, i64)> {
    let mut all = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(after) => format!("/api/v1/findings?limit=500&after={after}"),
            None => "/api/v1/findings?limit=500".to_string(),
        };
        let page = app.get_json(&path).await;
        for f in page["items"].as_array().unwrap() {
            let side = |s: &Value| {
                (
                    s["service"].as_str().unwrap().to_string(),
                    s["key"].as_str().unwrap().to_string(),
                )
            };
            all.push((
                Listed {
                    kind: kind(f["kind"].as_str().unwrap()),
                    relation: f["relation"].as_str().unwrap().to_string(),
                    source: side(&f["source"]),
                    target: side(&f["target"]),
                    status: status(f["status"].as_str().unwrap()),
                },
                f["id"].as_i64().unwrap(),
            ));
        }
        match page["next"].as_i64() {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
}

/// (kind, relation, source service, target service) → status → count.
type Tallies = BTreeMap<(String, String, String, String), BTreeMap<String, i64>>;

/// The model's findings counted as causes count them: the model knows no
/// origins or strategies, so those are summed over, and Lockstep's own
/// resolutions count as resolved.
fn by_cause(queue: &[Listed]) -> Tallies {
    let mut tallies = Tallies::new();
    for f in queue {
        let group = (
            f.kind.to_string(),
            f.relation.clone(),
            f.source.0.clone(),
            f.target.0.clone(),
        );
        *tallies
            .entry(group)
            .or_default()
            .entry(f.status.to_string())
            .or_default() += 1;
    }
    tallies
}

/// The causes' counts as the API lists them, in the same shape.
async fn causes(app: &TestApp) -> Tallies {
    let mut tallies = Tallies::new();
    for c in app
        .get_json("/api/v1/findings/causes")
        .await
        .as_array()
        .unwrap()
    {
        let group = (
            c["kind"].as_str().unwrap().to_string(),
            c["relation"].as_str().unwrap().to_string(),
            c["source_service"].as_str().unwrap().to_string(),
            c["target_service"].as_str().unwrap().to_string(),
        );
        for (bucket, n) in c["counts"].as_object().unwrap() {
            let n = n.as_i64().unwrap();
            if n == 0 {
                continue;
            }
            let status = if bucket == "verified" {
                "resolved"
            } else {
                bucket.as_str()
            };
            *tallies
                .entry(group.clone())
                .or_default()
                .entry(status.to_string())
                .or_default() += n;
        }
    }
    tallies
}

async fn rows(pool: &PgPool, service: &str) -> BTreeMap<String, Current> {
    let rows: Vec<(String, Time, bool)> = sqlx::query_as(
        "select e.key, e.updated_at, e.deleted from entity e join service s using (service_id)
         where s.name = $1",
    )
    .bind(service)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(key, at, deleted)| (key, Current { at, deleted }))
        .collect()
}

/// The counters the writers kept, as they stand (not counted here).
async fn dependents(pool: &PgPool, service: &str) -> BTreeMap<String, i32> {
    sqlx::query_as::<_, (String, i32)>(
        "select e.key, e.dependents from entity e join service s using (service_id)
         where s.name = $1",
    )
    .bind(service)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

async fn reset(app: &TestApp, pool: &PgPool) {
    sqlx::query(
        "truncate entity_version, entity, reference_version, finding, finding_cause, finding_event,
                  cause, restore, scan, ingested_event, backup, exposure, service_count, suspected_restore",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("update service set epoch = 0")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        app.put_topology("application/yaml", TOPOLOGY)
            .await
            .status(),
        200
    );
}

async fn check(app: &TestApp, pool: &PgPool, history: &[Step]) -> Result<(), TestCaseError> {
    reset(app, pool).await;
    let mut player = Player {
        app,
        model: Model::new(&SERVICES, relations()),
        clock: start(),
    };
    for (i, step) in history.iter().enumerate() {
        player
            .play(step)
            .await
            .map_err(|e| TestCaseError::fail(format!("step {i} {step:?}: {e}")))?;
    }
    let mut sql: Vec<Listed> = queue(app).await.into_iter().map(|(f, _)| f).collect();
    sql.sort();
    prop_assert_eq!(
        sql,
        player.model.queue(),
        "the queue differs from the model's"
    );
    prop_assert_eq!(
        causes(app).await,
        by_cause(&player.model.queue()),
        "the causes' counts differ from the model's queue"
    );
    for service in SERVICES {
        prop_assert_eq!(
            &rows(pool, service).await,
            player.model.rows(service),
            "entities of {}",
            service
        );
        prop_assert_eq!(
            dependents(pool, service).await,
            player.model.dependents(service),
            "dependency counters of {}",
            service
        );
    }
    Ok(())
}

/// Its own runtime and database: proptest drives the cases from this
/// thread, each blocking on the runtime that serves the application.
#[test]
fn the_queue_the_sql_builds_equals_the_reference_model() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (app, pool) = runtime.block_on(async {
        let admin = PgPool::connect(&server).await.unwrap();
        sqlx::query("drop database if exists lockstep_property with (force)")
            .execute(&admin)
            .await
            .unwrap();
        sqlx::query("create database lockstep_property")
            .execute(&admin)
            .await
            .unwrap();
        let url = format!("{}/lockstep_property", server.rsplit_once('/').unwrap().0);
        let pool = PgPool::connect(&url).await.unwrap();
        lockstep::db::MIGRATOR.run(&pool).await.unwrap();
        (spawn_app(pool.clone()).await, pool)
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&prop::collection::vec(step(), 1..30), |history| {
        runtime.block_on(check(&app, &pool, &history))
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
