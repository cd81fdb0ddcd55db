//! The NDJSON events a service reports (spec §6), read line by line with
//! every bad line reported by number, so a rejected request applies nothing.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::problem::Problem;

/// An entity the service owns was created, updated or deleted at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityEvent {
    pub line: usize,
    pub seq: Option<i64>,
    /// The epoch it was written in; `None` is the service's current one.
    pub epoch: Option<i32>,
    pub key: String,
    pub at: DateTime<Utc>,
    pub deleted: bool,
    pub data: Option<Value>,
}

/// The service's entity `from` refers (or stopped referring, `removed`) to
/// `to` over `relation`, having last seen the target as of `observed`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceEvent {
    pub line: usize,
    pub seq: Option<i64>,
    /// The source service's epoch it was written in; `None` is the current one.
    pub epoch: Option<i32>,
    pub from: String,
    pub relation: String,
    pub to: String,
    pub observed: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
    pub cache: Option<Value>,
    pub removed: bool,
}

impl EntityEvent {
    /// A live entity at `at`, in the current epoch, without data or `seq`.
    pub fn new(line: usize, key: String, at: DateTime<Utc>) -> Self {
        EntityEvent {
            line,
            seq: None,
            epoch: None,
            key,
            at,
            deleted: false,
            data: None,
        }
    }
}

impl ReferenceEvent {
    /// A live reference `from` → `to` over `relation`, written at `at`
    /// having seen the target as of `observed`; no copy, no `seq`.
    pub fn new(
        line: usize,
        relation: &str,
        (from, to): (String, String),
        observed: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Self {
        ReferenceEvent {
            line,
            seq: None,
            epoch: None,
            from,
            relation: relation.to_string(),
            to,
            observed: Some(observed),
            at,
            cache: None,
            removed: false,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Events {
    pub entities: Vec<EntityEvent>,
    pub references: Vec<ReferenceEvent>,
}

impl Events {
    pub fn len(&self) -> usize {
        self.entities.len() + self.references.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum Raw {
    Entity {
        key: String,
        at: Option<String>,
        #[serde(default)]
        deleted: bool,
        data: Option<Value>,
        seq: Option<i64>,
        epoch: Option<i32>,
    },
    Reference {
        from: String,
        relation: String,
        to: String,
        observed: Option<String>,
        at: Option<String>,
        cache: Option<Value>,
        #[serde(default)]
        removed: bool,
        seq: Option<i64>,
        epoch: Option<i32>,
    },
}

fn timestamp(
    problems: &mut Vec<Problem>,
    line: usize,
    field: &str,
    text: &str,
) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            problems.push(Problem::new(
                Some(line),
                field,
                format!("{text:?} is not an RFC 3339 timestamp"),
            ));
            None
        }
    }
}

fn not_negative(problems: &mut Vec<Problem>, line: usize, epoch: Option<i32>) {
    if epoch.is_some_and(|e| e < 0) {
        problems.push(Problem::new(Some(line), "epoch", "must not be negative"));
    }
}

fn not_empty(problems: &mut Vec<Problem>, line: usize, field: &str, value: &str) {
    if value.trim().is_empty() {
        problems.push(Problem::new(Some(line), field, "must not be empty"));
    }
}

/// Parses NDJSON (blank lines are skipped). Any bad line fails the whole
/// body, with every problem listed.
pub fn parse(body: &str) -> Result<Events, Vec<Problem>> {
    parse_with_default(body, None)
}

/// The same, for a snapshot: events without their own `at` take `default_at`.
pub fn parse_with_default(
    body: &str,
    default_at: Option<DateTime<Utc>>,
) -> Result<Events, Vec<Problem>> {
    let at_of = |problems: &mut Vec<Problem>, line: usize, at: Option<String>| match at {
        Some(text) => timestamp(problems, line, "at", &text),
        None => default_at.or_else(|| {
            problems.push(Problem::new(Some(line), "at", "is required (RFC 3339)"));
            None
        }),
    };
    let mut events = Events::default();
    let mut problems = Vec::new();
    for (i, text) in body.lines().enumerate() {
        let line = i + 1;
        if text.trim().is_empty() {
            continue;
        }
        let before = problems.len();
        match serde_json::from_str::<Raw>(text) {
            Err(error) => problems.push(Problem::new(
                Some(line),
                "",
                format!("malformed event: {error}"),
            )),
            Ok(Raw::Entity {
                key,
                at,
                deleted,
                data,
                seq,
                epoch,
            }) => {
                not_empty(&mut problems, line, "key", &key);
                not_negative(&mut problems, line, epoch);
                let at = at_of(&mut problems, line, at);
                if let (Some(at), true) = (at, problems.len() == before) {
                    events.entities.push(EntityEvent {
                        line,
                        seq,
                        epoch,
                        key,
                        at,
                        deleted,
                        data,
                    });
                }
            }
            Ok(Raw::Reference {
                from,
                relation,
                to,
                observed,
                at,
                cache,
                removed,
                seq,
                epoch,
            }) => {
                not_empty(&mut problems, line, "from", &from);
                not_negative(&mut problems, line, epoch);
                not_empty(&mut problems, line, "to", &to);
                not_empty(&mut problems, line, "relation", &relation);
                let at = at_of(&mut problems, line, at);
                let observed = match observed {
                    Some(text) => timestamp(&mut problems, line, "observed", &text),
                    None if removed => None,
                    None => {
                        problems.push(Problem::new(
                            Some(line),
                            "observed",
                            "is required (the target's timestamp as last seen)",
                        ));
                        None
                    }
                };
                if let (Some(at), true) = (at, problems.len() == before) {
                    events.references.push(ReferenceEvent {
                        line,
                        seq,
                        epoch,
                        from,
                        relation,
                        to,
                        observed,
                        at,
                        cache,
                        removed,
                    });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(events)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_of_event_are_read() {
        let body = r#"{"type":"entity","key":"C/3","at":"2026-11-01T10:00:00Z","data":{"name":"Ada"},"seq":1}

{"type":"reference","from":"O/3","relation":"order.customer","to":"C/3","observed":"2026-11-01T10:00:00+01:00","at":"2026-11-01T10:05:00Z","cache":{"name":"Ada"}}
"#;
        let events = parse(body).unwrap();
        assert_eq!(events.entities[0].seq, Some(1));
        assert_eq!(events.entities[0].line, 1);
        let reference = &events.references[0];
        assert_eq!(reference.line, 3);
        assert_eq!(
            reference.observed.unwrap().to_rfc3339(),
            "2026-11-01T09:00:00+00:00"
        );
        assert!(reference.cache.is_some());
    }

    #[test]
    fn every_bad_line_is_reported_by_number() {
        let body = [
            r#"{"type":"entity","key":"ok","at":"2026-11-01T10:00:00Z"}"#,
            r#"{"type":"entity","key":"A","at":"yesterday"}"#,
            r#"not json"#,
            r#"{"type":"reference","from":"O/1","relation":"r","to":"C/1","at":"2026-11-01T10:00:00Z"}"#,
            r#"{"type":"entity","key":"B","at":"2026-11-01T10:00:00Z","colour":"red"}"#,
            r#"{"type":"gossip"}"#,
        ]
        .join("\n");
        let problems = parse(&body).unwrap_err();
        let lines: Vec<(Option<usize>, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (Some(2), "at"),
                (Some(3), ""),
                (Some(4), "observed"),
                (Some(5), ""),
                (Some(6), "")
            ]
        );
    }

    #[test]
    fn a_removal_needs_no_observed_timestamp() {
        let body = r#"{"type":"reference","from":"O/1","relation":"r","to":"C/1","at":"2026-11-01T10:00:00Z","removed":true}"#;
        assert!(parse(body).unwrap().references[0].removed);
    }
}
