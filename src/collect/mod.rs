//! `lockstep collect --config FILE`: reads each configured service's own
//! database and reports its inventory to Lockstep with the service's token
//! (spec §9), so services need no emitter of their own.
//!
//! Per service, every `poll`: the rows last updated since its watermark, as
//! events (each with a `seq` derived from the row's key and last update, so
//! a batch sent again — after a crash, a timeout — is dropped as a replay);
//! every `snapshot`, and first of all: the whole state, so hard deletes are
//! seen. The watermarks live in Lockstep (`PUT …/collector`) and move only
//! after Lockstep acknowledged the rows before them: a collector restarted
//! anywhere resumes where the last one was acknowledged. When the database
//! or Lockstep goes away the collector says so, backs off, and carries on.

pub mod config;
mod lockstep;
mod source;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use self::config::{Query, ServiceConfig};
use self::lockstep::Lockstep;
use self::source::{Range, Shape, Source};

pub use self::lockstep::Lockstep as Client;

/// What one `lockstep collect` run does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Collect until stopped.
    Forever,
    /// One pass per service (a snapshot when none was taken yet), then exit.
    Once,
    /// One snapshot per service, then exit.
    Snapshot,
}

/// Reads the config, checks every query against its database (nothing is
/// sent when one lacks a column), then collects.
pub async fn run(path: &str, mode: Mode) -> anyhow::Result<()> {
    let config = config::read(path, |name| std::env::var(name).ok())?;
    config::check_unique(&config)?;
    let mut collectors = Vec::new();
    for service in config.services {
        collectors.push(Collector::prepare(service).await?);
    }
    if mode != Mode::Forever {
        for collector in &mut collectors {
            collector.pass(mode == Mode::Snapshot).await?;
        }
        return Ok(());
    }
    let tasks: Vec<_> = collectors
        .into_iter()
        .map(|c| tokio::spawn(c.forever()))
        .collect();
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping the collectors");
    for task in tasks {
        task.abort();
    }
    Ok(())
}

/// Collects one service in the background until the task is aborted (the
/// live demo's collectors, inside the server); its queries are checked first.
pub async fn spawn(config: ServiceConfig) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let collector = Collector::prepare(config).await?;
    Ok(tokio::spawn(collector.forever()))
}

/// One service's collector.
struct Collector {
    config: ServiceConfig,
    lockstep: Lockstep,
    source: Option<Source>,
    /// The optional columns each query returns (entities first).
    shapes: Vec<Shape>,
    /// Per source (`entities`, or a relation's name): the newest last
    /// update Lockstep has acknowledged, in microseconds; None until read.
    watermarks: Option<BTreeMap<String, i64>>,
    last_snapshot: Option<Instant>,
}

const ENTITIES: &str = "entities";

/// One pass's outcome, for the log and for Lockstep.
#[derive(Default)]
struct Pass {
    rows: i64,
    snapshot: bool,
}

impl Collector {
    /// Connects and checks each query's columns.
    async fn prepare(config: ServiceConfig) -> anyhow::Result<Collector> {
        let mut source = Source::connect(&config.database)
            .await
            .with_context(|| config.origin.clone())?;
        let mut shapes = Vec::new();
        for (i, query) in config.queries().enumerate() {
            let shape = source
                .check(query, i == 0)
                .await
                .with_context(|| config.origin.clone())?;
            shapes.push(shape);
        }
        Ok(Collector {
            lockstep: Lockstep::new(&config.lockstep, &config.token),
            config,
            source: Some(source),
            shapes,
            watermarks: None,
            last_snapshot: None,
        })
    }

    async fn forever(mut self) {
        let service = self.config.service.clone();
        let mut backoff = Duration::from_secs(1);
        loop {
            // The first pass polls from the stored watermarks (a snapshot
            // when there are none); snapshots follow every interval.
            let snapshot_due = self
                .last_snapshot
                .get_or_insert_with(Instant::now)
                .elapsed()
                >= self.config.snapshot;
            match self.pass(snapshot_due).await {
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    tokio::time::sleep(self.config.poll).await;
                }
                Err(error) => {
                    tracing::warn!(%service, error = format!("{error:#}"), retry_in_s = backoff.as_secs(),
                        "collecting failed; trying again");
                    say_error(&self.lockstep, &self.config, &error).await;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// One pass: a snapshot when asked or when none was ever taken (no
    /// watermark), else a poll; then the progress to Lockstep.
    async fn pass(&mut self, snapshot: bool) -> anyhow::Result<()> {
        let started = Instant::now();
        if self.watermarks.is_none() {
            let stored = self.lockstep.watermarks(&self.config.service).await?;
            self.watermarks = Some(read_watermarks(stored));
        }
        if self.source.is_none() {
            self.source = Some(Source::connect(&self.config.database).await?);
        }
        let outcome = self.read_and_send(snapshot).await;
        if outcome.is_err() {
            // Reconnect on the next pass: the connection may be broken.
            self.source = None;
        }
        let pass = outcome?;
        let report = json!({
            "collector": self.config.collector,
            "rows": pass.rows,
            "lag_seconds": started.elapsed().as_secs_f64(),
            "watermarks": self.watermarks,
        });
        self.lockstep.report(&self.config.service, &report).await?;
        tracing::info!(service = %self.config.service, rows = pass.rows, snapshot = pass.snapshot,
            took_ms = started.elapsed().as_millis() as u64, "collected");
        Ok(())
    }

    async fn read_and_send(&mut self, snapshot: bool) -> anyhow::Result<Pass> {
        let marks = self.watermarks.clone().unwrap_or_default();
        let source = self.source.as_mut().expect("connected above");
        let now = source.begin().await?;
        let result = if snapshot || marks.is_empty() {
            self.snapshot(now).await
        } else {
            self.poll(&marks).await
        };
        let source = self.source.as_mut().expect("connected above");
        source.commit().await?;
        result
    }

    /// The whole state as of `now` (the database's clock), in one request.
    async fn snapshot(&mut self, now: i64) -> anyhow::Result<Pass> {
        let source = self.source.as_mut().expect("connected");
        let mut body = String::new();
        let mut marks = BTreeMap::new();
        let entities = source
            .entities(&self.config.entities, self.shapes[0], Range::All, None)
            .await?;
        let mut rows = entities.len() as i64;
        marks.insert(
            ENTITIES.to_string(),
            newest(entities.iter().map(|e| e.updated), now),
        );
        // A deleted entity is absent from the state, with its references.
        let deleted: std::collections::HashSet<&str> = entities
            .iter()
            .filter(|e| e.deleted)
            .map(|e| e.key.as_str())
            .collect();
        for row in entities.iter().filter(|e| !e.deleted) {
            body.push_str(&entity_line(row, None));
        }
        for (query, shape) in self.config.references.iter().zip(&self.shapes[1..]) {
            let references = source.references(query, *shape, Range::All, None).await?;
            rows += references.len() as i64;
            let relation = query.relation.as_deref().unwrap_or_default();
            marks.insert(
                relation.to_string(),
                newest(references.iter().map(|r| r.updated), now),
            );
            for row in references
                .iter()
                .filter(|r| !deleted.contains(r.from.as_str()))
            {
                body.push_str(&reference_line(relation, row, None));
            }
        }
        let at = micros_to_time(now);
        self.lockstep
            .put_snapshot(&self.config.service, at, body)
            .await?;
        self.watermarks = Some(marks);
        self.last_snapshot = Some(Instant::now());
        Ok(Pass {
            rows,
            snapshot: true,
        })
    }

    /// What changed since each watermark, as events in batches. A poll
    /// that finds the database's newest write older than its watermark has
    /// seen the database go back in time: it takes a snapshot instead, so
    /// Lockstep sees the regression now rather than at the next snapshot.
    async fn poll(&mut self, marks: &BTreeMap<String, i64>) -> anyhow::Result<Pass> {
        let overlap = self.config.overlap.as_micros() as i64;
        let mut pass = Pass::default();
        let queries: Vec<(String, Query, Shape)> = self
            .config
            .queries()
            .zip(&self.shapes)
            .map(|(q, s)| {
                (
                    q.relation.clone().unwrap_or(ENTITIES.to_string()),
                    q.clone(),
                    *s,
                )
            })
            .collect();
        for (name, query, shape) in queries {
            let Some(&mark) = marks.get(&name) else {
                // A source added to the config since the last snapshot.
                return self.snapshot_now().await;
            };
            let (sent, newest) = self.poll_one(&name, &query, shape, mark - overlap).await?;
            if sent == 0 && name == ENTITIES {
                let source = self.source.as_mut().expect("connected");
                if source
                    .newest(&query, "updated_at")
                    .await?
                    .is_some_and(|n| n < mark - overlap)
                {
                    tracing::warn!(service = %self.config.service,
                        "the database's newest write is older than the collector's watermark: taking a snapshot");
                    return self.snapshot_now().await;
                }
            }
            pass.rows += sent;
            if let Some(newest) = newest {
                let marks = self.watermarks.get_or_insert_with(BTreeMap::new);
                let kept = marks.entry(name).or_insert(newest);
                *kept = (*kept).max(newest);
            }
        }
        Ok(pass)
    }

    async fn snapshot_now(&mut self) -> anyhow::Result<Pass> {
        let source = self.source.as_mut().expect("connected");
        source.commit().await?;
        let now = source.begin().await?;
        self.snapshot(now).await
    }

    /// One source's rows since `from`, page by page, each page sent before
    /// the next is read; the rows sent and the newest last update among them.
    async fn poll_one(
        &mut self,
        name: &str,
        query: &Query,
        shape: Shape,
        from: i64,
    ) -> anyhow::Result<(i64, Option<i64>)> {
        let batch = self.config.batch;
        let (mut sent, mut newest, mut range) = (0, None::<i64>, Range::From(from));
        loop {
            let source = self.source.as_mut().expect("connected");
            let (lines, times) = if name == ENTITIES {
                let rows = source.entities(query, shape, range, Some(batch)).await?;
                let times: Vec<i64> = rows.iter().filter_map(|r| r.updated).collect();
                (
                    rows.iter()
                        .map(|r| entity_line(r, Some(seq_of(&[&r.key], r.updated))))
                        .collect::<Vec<_>>(),
                    times,
                )
            } else {
                let rows = source.references(query, shape, range, Some(batch)).await?;
                let times: Vec<i64> = rows.iter().filter_map(|r| r.updated).collect();
                let lines = rows
                    .iter()
                    .map(|r| {
                        reference_line(name, r, Some(seq_of(&[name, &r.from, &r.to], r.updated)))
                    })
                    .collect::<Vec<_>>();
                (lines, times)
            };
            let count = lines.len();
            if count > 0 {
                self.lockstep
                    .post_events(&self.config.service, lines.concat())
                    .await?;
                sent += count as i64;
            }
            let (low, high) = (times.iter().min().copied(), times.iter().max().copied());
            newest = newest.max(high);
            range = match (range, low, high) {
                // A full page of one time: read that time whole, then go on past it.
                (Range::From(_), Some(low), Some(high)) if count == batch && low == high => {
                    Range::At(high)
                }
                (Range::At(at), ..) => Range::From(at + 1),
                // A full page: the next starts at its newest time (the rows
                // of that time read again are replays).
                (Range::From(_), _, Some(high)) if count == batch => Range::From(high),
                _ => break,
            };
        }
        Ok((sent, newest))
    }
}

/// Tells Lockstep what went wrong, if it can be reached (a free function:
/// the collector's database connection may not be shared across threads).
async fn say_error(lockstep: &Lockstep, config: &ServiceConfig, error: &anyhow::Error) {
    let report = json!({"collector": config.collector, "error": format!("{error:#}")});
    let _ = lockstep.report(&config.service, &report).await;
}

/// The newest of some last updates, or `otherwise` when there are none.
fn newest(times: impl Iterator<Item = Option<i64>>, otherwise: i64) -> i64 {
    times.flatten().max().unwrap_or(otherwise)
}

fn read_watermarks(stored: Option<Value>) -> BTreeMap<String, i64> {
    stored
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A row's sequence number: the same row at the same last update always
/// gets the same one, so sending it again is a replay.
fn seq_of(parts: &[&str], updated: Option<i64>) -> i64 {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(updated.unwrap_or_default().to_be_bytes());
    let digest = hash.finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) & i64::MAX
}

fn entity_line(row: &source::EntityRow, seq: Option<i64>) -> String {
    let mut line = json!({"type": "entity", "key": row.key});
    if let Some(updated) = row.updated {
        line["at"] = json!(micros_to_time(updated));
    }
    if row.deleted {
        line["deleted"] = json!(true);
    }
    if let Some(data) = &row.data {
        line["data"] = data.clone();
    }
    if let Some(seq) = seq {
        line["seq"] = json!(seq);
    }
    line.to_string() + "\n"
}

fn reference_line(relation: &str, row: &source::ReferenceRow, seq: Option<i64>) -> String {
    let mut line =
        json!({"type": "reference", "from": row.from, "relation": relation, "to": row.to});
    if let Some(observed) = row.observed {
        line["observed"] = json!(micros_to_time(observed));
    }
    if let Some(updated) = row.updated {
        line["at"] = json!(micros_to_time(updated));
    }
    if let Some(cache) = &row.cache {
        line["cache"] = cache.clone();
    }
    if let Some(seq) = seq {
        line["seq"] = json!(seq);
    }
    line.to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_sequence_number_until_it_changes() {
        let first = seq_of(&["O/1"], Some(1_000));
        assert_eq!(first, seq_of(&["O/1"], Some(1_000)));
        assert_ne!(first, seq_of(&["O/1"], Some(1_001)));
        assert_ne!(first, seq_of(&["O/2"], Some(1_000)));
        assert_ne!(seq_of(&["a", "bc"], None), seq_of(&["ab", "c"], None));
        assert!(first >= 0);
    }
}
