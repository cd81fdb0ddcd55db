//! The timeline and the detection rules once more, as plain Rust over
//! in-memory histories (spec §5 and §5b, from the 2020 paper's
//! definitions): no SQL, no HTTP. It is what the SQL is held to — the
//! property test (`tests/it/property.rs`) plays random histories into both
//! and requires the same queue — so it is written for plainness, not
//! speed: every question is answered by looking at every version.
//!
//! The rules, in the model's words:
//! - A write of epoch `e` sits on the timeline at `max(at, start of e)`; it
//!   is lost when a later restore went back to before it (the restore that
//!   closed `e`: anything after its backup; a later one: what lay between
//!   its backup and its return). The current version of an entity is its
//!   last non-lost one in (epoch, time) order.
//! - Restoring B to `t_b`, back at `r`, loses B's writes placed in
//!   `(t_b, r]`; what B wrote after `r` is its new epoch's.
//! - A finding's condition is checked against the current inventory after
//!   every step; one that no longer holds is resolved (open, claimed) or
//!   cleared (accepted, dismissed). A condition a pending finding names is
//!   never raised twice.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

pub type Time = DateTime<Utc>;

/// A service's entity, or the entity a reference points at.
pub type Side = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    Reference,
    Mirror,
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub name: String,
    pub from: String,
    pub to: String,
    pub kind: RelationKind,
}

/// One event of a batch a service reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Entity {
        key: String,
        at: Time,
        deleted: bool,
        epoch: Option<i32>,
    },
    Reference {
        relation: String,
        from: String,
        to: String,
        observed: Option<Time>,
        at: Time,
        removed: bool,
        epoch: Option<i32>,
    },
}

/// A finding as the queue lists it: kind, relation, both sides, status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    pub kind: &'static str,
    pub relation: String,
    pub source: Side,
    pub target: Side,
    pub status: &'static str,
}

#[derive(Debug, Clone, Copy)]
struct EntityVersion {
    epoch: i32,
    deleted: bool,
    lost: bool,
}

#[derive(Debug, Clone, Copy)]
struct ReferenceVersion {
    observed: Option<Time>,
    removed: bool,
    lost: bool,
}

#[derive(Debug, Clone, Copy)]
struct Restore {
    epoch: i32,
    taken_at: Time,
    restored_at: Time,
}

/// The current state of an entity (the service's `entity` row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Current {
    pub at: Time,
    pub deleted: bool,
}

#[derive(Debug, Default)]
struct Service {
    epoch: i32,
    restores: Vec<Restore>,
    /// (key, at) → version.
    entities: BTreeMap<(String, Time), EntityVersion>,
    /// (relation, from, to, position) → version, for the references it holds.
    references: BTreeMap<(String, String, String, Time), ReferenceVersion>,
    /// Entities that ever had a current version, as they are now.
    rows: BTreeMap<String, Current>,
}

#[derive(Debug, Clone)]
struct Finding {
    kind: &'static str,
    relation: String,
    source: Side,
    target: Side,
    status: &'static str,
    cleared: bool,
}

impl Finding {
    fn pending(&self) -> bool {
        matches!(self.status, "open" | "claimed")
            || (matches!(self.status, "accepted" | "dismissed") && !self.cleared)
    }

    fn names(&self, kind: &str, relation: &str, source: &Side, target: &Side) -> bool {
        self.kind == kind
            && self.relation == relation
            && &self.source == source
            && &self.target == target
    }
}

/// The architecture and everything that happened to it.
#[derive(Debug, Default)]
pub struct Model {
    relations: Vec<Relation>,
    services: BTreeMap<String, Service>,
    findings: Vec<Finding>,
}

type Condition = (&'static str, String, Side, Side);

impl Service {
    fn start(&self, epoch: i32) -> Option<Time> {
        self.restores
            .iter()
            .find(|r| r.epoch == epoch)
            .map(|r| r.restored_at)
    }

    fn position(&self, epoch: i32, at: Time) -> Time {
        self.start(epoch).map_or(at, |start| at.max(start))
    }

    /// Whether a later restore lost a write of `epoch` placed at `position`.
    fn lost(&self, epoch: i32, position: Time) -> bool {
        self.restores.iter().any(|r| {
            r.epoch > epoch
                && position > r.taken_at
                && (r.epoch == epoch + 1 || position <= r.restored_at)
        })
    }

    /// The last version of `key` on the current branch, among those `keep`
    /// lets through (given their position).
    fn version_of(&self, key: &str, keep: impl Fn(Time) -> bool) -> Option<(Time, EntityVersion)> {
        self.entities
            .iter()
            .filter(|((k, at), v)| k == key && !v.lost && keep(self.position(v.epoch, *at)))
            .max_by_key(|((_, at), v)| (v.epoch, *at))
            .map(|((_, at), v)| (*at, *v))
    }

    /// The versions of one reference on the current branch, by position.
    fn reference_versions(
        &self,
        relation: &str,
        from: &str,
        to: &str,
    ) -> Vec<(Time, ReferenceVersion)> {
        self.references
            .iter()
            .filter(|((rel, f, t, _), v)| rel == relation && f == from && t == to && !v.lost)
            .map(|((_, _, _, position), v)| (*position, *v))
            .collect()
    }

    fn live_at(&self, relation: &str, from: &str, to: &str, t: Time) -> bool {
        self.reference_versions(relation, from, to)
            .into_iter()
            .rfind(|(position, _)| *position <= t)
            .is_some_and(|(_, v)| !v.removed)
    }

    /// The references it holds, each once: (relation, from, to).
    fn reference_ends(&self) -> BTreeSet<(String, String, String)> {
        self.references
            .keys()
            .map(|(rel, from, to, _)| (rel.clone(), from.clone(), to.clone()))
            .collect()
    }

    /// Live now, with what it observed.
    fn current_reference(&self, relation: &str, from: &str, to: &str) -> Option<Option<Time>> {
        self.reference_versions(relation, from, to)
            .last()
            .filter(|(_, v)| !v.removed)
            .map(|(_, v)| v.observed)
    }

    fn refresh_rows(&mut self) {
        let keys: BTreeSet<String> = self.entities.keys().map(|(k, _)| k.clone()).collect();
        for key in keys {
            match self.version_of(&key, |_| true) {
                Some((at, v)) => {
                    self.rows.insert(
                        key,
                        Current {
                            at,
                            deleted: v.deleted,
                        },
                    );
                }
                None => {
                    if let Some(row) = self.rows.get_mut(&key) {
                        row.deleted = true;
                    }
                }
            }
        }
    }

    fn live(&self, key: &str) -> bool {
        self.rows.get(key).is_some_and(|r| !r.deleted)
    }
}

impl Model {
    pub fn new(services: &[&str], relations: Vec<Relation>) -> Self {
        Model {
            relations,
            services: services
                .iter()
                .map(|s| (s.to_string(), Service::default()))
                .collect(),
            findings: Vec::new(),
        }
    }

    fn relation(&self, name: &str) -> &Relation {
        self.relations
            .iter()
            .find(|r| r.name == name)
            .expect("a relation of the model")
    }

    pub fn epoch(&self, service: &str) -> i32 {
        self.services[service].epoch
    }

    /// The dependency counter of each of the service's entities (spec §5b):
    /// the references live now that other services hold into it.
    pub fn dependents(&self, service: &str) -> BTreeMap<String, i32> {
        let mut counts: BTreeMap<String, i32> = self
            .rows(service)
            .keys()
            .map(|key| (key.clone(), 0))
            .collect();
        for relation in self
            .relations
            .iter()
            .filter(|r| r.to == service && r.from != service)
        {
            let holder = &self.services[&relation.from];
            for (name, from, to) in holder.reference_ends() {
                let live =
                    name == relation.name && holder.current_reference(&name, &from, &to).is_some();
                if let (true, Some(count)) = (live, counts.get_mut(&to)) {
                    *count += 1;
                }
            }
        }
        counts
    }

    /// The service's entities as they are now (deleted ones included).
    pub fn rows(&self, service: &str) -> &BTreeMap<String, Current> {
        &self.services[service].rows
    }

    /// What the service's reference observed, when it holds it live now.
    pub fn live_reference(
        &self,
        service: &str,
        relation: &str,
        from: &str,
        to: &str,
    ) -> Option<Option<Time>> {
        self.services[service].current_reference(relation, from, to)
    }

    /// When the service last came back from a restore.
    pub fn last_restored_at(&self, service: &str) -> Option<Time> {
        self.services[service]
            .restores
            .last()
            .map(|r| r.restored_at)
    }

    /// Applies a batch of events of `service`.
    pub fn write(&mut self, service: &str, batch: &[Write]) {
        let s = self
            .services
            .get_mut(service)
            .expect("a service of the model");
        for write in batch {
            match write {
                Write::Entity {
                    key,
                    at,
                    deleted,
                    epoch,
                } => {
                    let epoch = epoch.unwrap_or(s.epoch);
                    let lost = s.lost(epoch, s.position(epoch, *at));
                    let version = EntityVersion {
                        epoch,
                        deleted: *deleted,
                        lost,
                    };
                    let slot = (key.clone(), *at);
                    let replaces = s
                        .entities
                        .get(&slot)
                        .is_none_or(|old| old.epoch <= epoch && (old.lost || !lost));
                    if replaces {
                        s.entities.insert(slot, version);
                    }
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
                    let epoch = epoch.unwrap_or(s.epoch);
                    let position = s.position(epoch, *at);
                    let lost = s.lost(epoch, position);
                    let slot = (relation.clone(), from.clone(), to.clone(), position);
                    if s.references.get(&slot).is_none_or(|old| old.lost || !lost) {
                        s.references.insert(
                            slot,
                            ReferenceVersion {
                                observed: *observed,
                                removed: *removed,
                                lost,
                            },
                        );
                    }
                }
            }
        }
        s.refresh_rows();
        self.verify();
    }

    /// The events a complete snapshot of `service` taken at `at` amounts to,
    /// from its entities' last updates and the references it holds live
    /// (with what each observed): an entity the service has not got
    /// current, deleted, older, or of an earlier epoch at another time is
    /// written as reported; a reference that is not live with the same
    /// observed time is written at `at`. Live entities and references the
    /// snapshot lacks are deleted and removed at `at`, unless written after
    /// it (the snapshot was taken before them).
    pub fn snapshot(
        &self,
        service: &str,
        at: Time,
        entities: &BTreeMap<String, Time>,
        references: &BTreeMap<(String, String, String), Option<Time>>,
    ) -> Vec<Write> {
        let s = &self.services[service];
        let mut writes = Vec::new();
        for (key, updated) in entities {
            let current = s.version_of(key, |_| true);
            let changed = match (s.rows.get(key), current) {
                (Some(row), Some((_, v))) => {
                    row.deleted || row.at < *updated || (v.epoch < s.epoch && row.at != *updated)
                }
                _ => true,
            };
            if changed {
                writes.push(Write::Entity {
                    key: key.clone(),
                    at: *updated,
                    deleted: false,
                    epoch: None,
                });
            }
        }
        for (key, row) in &s.rows {
            if !row.deleted && row.at <= at && !entities.contains_key(key) {
                writes.push(Write::Entity {
                    key: key.clone(),
                    at,
                    deleted: true,
                    epoch: None,
                });
            }
        }
        for ((relation, from, to), observed) in references {
            if s.current_reference(relation, from, to) != Some(*observed) {
                writes.push(Write::Reference {
                    relation: relation.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    observed: *observed,
                    at,
                    removed: false,
                    epoch: None,
                });
            }
        }
        for (relation, from, to) in s.reference_ends() {
            let Some(&(position, current)) = s.reference_versions(&relation, &from, &to).last()
            else {
                continue;
            };
            let absent = !references.contains_key(&(relation.clone(), from.clone(), to.clone()));
            if !current.removed && position <= at && absent {
                writes.push(Write::Reference {
                    relation,
                    from,
                    to,
                    observed: current.observed,
                    at,
                    removed: true,
                    epoch: None,
                });
            }
        }
        writes
    }

    /// Records a restore of `service` to its state at `taken_at`, back at
    /// `restored_at`.
    pub fn restore(&mut self, service: &str, taken_at: Time, restored_at: Time) {
        let detected = self.detect(service, taken_at, restored_at);
        for (kind, relation, source, target) in detected {
            self.raise(kind, relation, source, target);
        }
        let s = self.services.get_mut(service).unwrap();
        let epoch = s.epoch + 1;
        let placed: Vec<((String, Time), Time)> = s
            .entities
            .iter()
            .filter(|(_, v)| !v.lost)
            .map(|((k, at), v)| ((k.clone(), *at), s.position(v.epoch, *at)))
            .collect();
        for (slot, position) in placed {
            let v = s.entities.get_mut(&slot).unwrap();
            if position > restored_at {
                v.epoch = epoch;
            } else if position > taken_at {
                v.lost = true;
            }
        }
        for ((_, _, _, position), v) in s.references.iter_mut() {
            if !v.lost && *position > taken_at && *position <= restored_at {
                v.lost = true;
            }
        }
        s.restores.push(Restore {
            epoch,
            taken_at,
            restored_at,
        });
        s.epoch = epoch;
        s.refresh_rows();
        self.verify();
    }

    /// The integrity scan: dangling deletes, each condition once.
    pub fn scan(&mut self) {
        self.verify();
        let mut dangling = Vec::new();
        for (holder, s) in &self.services {
            for (relation, from, to) in s.reference_ends() {
                let target_service = &self.relation(&relation).to;
                let deleted = self.services[target_service]
                    .rows
                    .get(&to)
                    .is_some_and(|r| r.deleted);
                if deleted && s.current_reference(&relation, &from, &to).is_some() {
                    dangling.push((
                        relation,
                        (holder.clone(), from),
                        (target_service.clone(), to),
                    ));
                }
            }
        }
        for (relation, source, target) in dangling {
            let named = self.findings.iter().any(|f| {
                f.pending()
                    && ["dangling_delete", "broken_link", "missing_state"]
                        .iter()
                        .any(|kind| f.names(kind, &relation, &source, &target))
            });
            if !named {
                self.findings.push(Finding {
                    kind: "dangling_delete",
                    relation,
                    source,
                    target,
                    status: "open",
                    cleared: false,
                });
            }
        }
    }

    /// An operator accepts or dismisses the open finding `listed` names.
    pub fn decide(&mut self, listed: &Listed, status: &'static str) {
        let finding = self
            .findings
            .iter_mut()
            .find(|f| {
                f.status == "open"
                    && f.names(
                        listed.kind,
                        &listed.relation,
                        &listed.source,
                        &listed.target,
                    )
            })
            .expect("an open finding");
        finding.status = status;
    }

    pub fn queue(&self) -> Vec<Listed> {
        let mut listed: Vec<Listed> = self
            .findings
            .iter()
            .map(|f| Listed {
                kind: f.kind,
                relation: f.relation.clone(),
                source: f.source.clone(),
                target: f.target.clone(),
                status: f.status,
            })
            .collect();
        listed.sort();
        listed
    }

    fn raise(&mut self, kind: &'static str, relation: String, source: Side, target: Side) {
        let named = self
            .findings
            .iter()
            .any(|f| f.pending() && f.names(kind, &relation, &source, &target));
        if !named {
            self.findings.push(Finding {
                kind,
                relation,
                source,
                target,
                status: "open",
                cleared: false,
            });
        }
    }

    /// Every finding of restoring `b` to `taken_at`, back at `restored_at`,
    /// computed before anything is rolled back.
    fn detect(&self, b: &str, taken_at: Time, restored_at: Time) -> BTreeSet<Condition> {
        let service = &self.services[b];
        let lost_window = |position: Time| position > taken_at && position <= restored_at;
        // B once restored: its writes placed in (t_b, r] are gone.
        let restored = |key: &str| service.version_of(key, |position| !lost_window(position));
        let restored_live = |key: &str| restored(key).is_some_and(|(_, v)| !v.deleted);
        let mut found = BTreeSet::new();

        // References into B from other services.
        for (holder, s) in self.services.iter().filter(|(name, _)| *name != b) {
            for (relation, from, to) in s.reference_ends() {
                let rel = self.relation(&relation);
                if rel.to != b {
                    continue;
                }
                let Some(observed) = s.current_reference(&relation, &from, &to) else {
                    continue;
                };
                let source = (holder.clone(), from);
                let target = (b.to_string(), to.clone());
                match restored(&to).filter(|(_, v)| !v.deleted) {
                    None if rel.kind == RelationKind::Reference => {
                        found.insert(("broken_link", relation, source, target));
                    }
                    Some((at, _)) if observed.is_some_and(|o| o > at) => {
                        found.insert(("stale_reference", relation, source, target));
                    }
                    _ => {}
                }
            }
        }

        // B's own references over reference relations into other services.
        let mut orphans: BTreeMap<Side, (String, String)> = BTreeMap::new();
        for (relation, from, to) in service.reference_ends() {
            let rel = self.relation(&relation);
            if rel.kind != RelationKind::Reference || rel.to == b {
                continue;
            }
            let target = (rel.to.clone(), to.clone());
            let versions = service.reference_versions(&relation, &from, &to);
            let target_live = self.services[&rel.to].live(&to);
            // Lost by the restore: live now, written in the window.
            if let Some((position, v)) = versions.last() {
                if !v.removed && lost_window(*position) {
                    let entry = orphans
                        .entry(target.clone())
                        .or_insert((from.clone(), relation.clone()));
                    if from < entry.0 {
                        *entry = (from.clone(), relation.clone());
                    }
                }
            }
            // Back with the rollback, pointing at what is gone.
            let at_backup = versions.iter().rposition(|(p, _)| *p <= taken_at);
            if let Some(i) = at_backup {
                let comes_back = !versions[i].1.removed
                    && versions.get(i + 1).is_some_and(|(p, _)| *p <= restored_at)
                    && versions.iter().all(|(p, _)| *p <= restored_at);
                if comes_back && !target_live {
                    found.insert(("broken_link", relation, (b.to_string(), from), target));
                }
            }
        }
        for (target, (from, relation)) in orphans {
            let adopted = service.reference_ends().into_iter().any(|(rel, f, to)| {
                self.relation(&rel).to == target.0
                    && to == target.1
                    && (service.live_at(&rel, &f, &to, taken_at)
                        || service
                            .reference_versions(&rel, &f, &to)
                            .last()
                            .is_some_and(|(p, v)| !v.removed && *p > restored_at))
            });
            let referred = self.services.iter().any(|(holder, s)| {
                holder != b
                    && holder != &target.0
                    && s.reference_ends().into_iter().any(|(rel, f, to)| {
                        self.relation(&rel).to == target.0
                            && to == target.1
                            && s.current_reference(&rel, &f, &to).is_some()
                    })
            });
            if self.services[&target.0].live(&target.1) && !adopted && !referred {
                found.insert(("orphan_candidate", relation, (b.to_string(), from), target));
            }
        }

        // Mirrors: every key the other side holds, B must hold.
        for rel in self.relations.iter().filter(|r| {
            r.kind == RelationKind::Mirror && r.from != r.to && (r.from == b || r.to == b)
        }) {
            let other = if rel.to == b { &rel.from } else { &rel.to };
            let o = &self.services[other];
            let mut pairs: BTreeSet<(String, String)> = o
                .rows
                .iter()
                .filter(|(_, r)| !r.deleted)
                .map(|(k, _)| (k.clone(), k.clone()))
                .collect();
            let holder = if rel.from == b { service } else { o };
            // Pairs only B's reference made, written in the lost window: the
            // restore loses the pairing even when both entities survive.
            let mut lost = BTreeSet::new();
            for (relation, from, to) in holder.reference_ends() {
                if relation != rel.name || holder.current_reference(&relation, &from, &to).is_none()
                {
                    continue;
                }
                let own_and_lost = rel.from == b
                    && from != to
                    && holder
                        .reference_versions(&relation, &from, &to)
                        .last()
                        .is_some_and(|(position, _)| lost_window(*position))
                    && !holder.live_at(&relation, &from, &to, taken_at);
                let (other_key, key) = if rel.from == b {
                    (to, from)
                } else {
                    (from, to)
                };
                if o.live(&other_key) {
                    if own_and_lost {
                        lost.insert((other_key.clone(), key.clone()));
                    }
                    pairs.insert((other_key, key));
                }
            }
            for (other_key, key) in pairs {
                if !restored_live(&key) || lost.contains(&(other_key.clone(), key.clone())) {
                    found.insert((
                        "missing_state",
                        rel.name.clone(),
                        (other.clone(), other_key),
                        (b.to_string(), key),
                    ));
                }
            }
        }
        found
    }

    /// Whether the condition a finding names holds in the inventory now.
    fn holds(&self, f: &Finding) -> bool {
        let target_service = &self.services[&f.target.0];
        let target_live = target_service.live(&f.target.1);
        let source_live = self.services[&f.source.0].live(&f.source.1);
        let reference =
            self.services[&f.source.0].current_reference(&f.relation, &f.source.1, &f.target.1);
        match f.kind {
            "stale_reference" => match (reference, target_service.rows.get(&f.target.1)) {
                (Some(observed), Some(row)) => !row.deleted && observed.is_some_and(|o| o > row.at),
                _ => false,
            },
            // A pair of different keys that B's own mirror reference made
            // is missing until B reports that reference again.
            "missing_state" => {
                let unpaired = || {
                    self.relation(&f.relation).from == f.target.0
                        && f.source.1 != f.target.1
                        && target_service
                            .current_reference(&f.relation, &f.target.1, &f.source.1)
                            .is_none()
                };
                source_live && (!target_live || unpaired())
            }
            "orphan_candidate" => {
                target_live
                    && !self.services.iter().any(|(holder, s)| {
                        holder != &f.target.0
                            && s.reference_ends().into_iter().any(|(rel, from, to)| {
                                self.relation(&rel).to == f.target.0
                                    && to == f.target.1
                                    && s.current_reference(&rel, &from, &to).is_some()
                            })
                    })
            }
            _ => reference.is_some() && !target_live,
        }
    }

    fn verify(&mut self) {
        let gone: Vec<usize> = (0..self.findings.len())
            .filter(|&i| self.findings[i].pending() && !self.holds(&self.findings[i]))
            .collect();
        for i in gone {
            let f = &mut self.findings[i];
            match f.status {
                "open" | "claimed" => f.status = "resolved",
                _ => f.cleared = true,
            }
        }
    }
}
