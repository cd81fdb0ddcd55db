//! Property tests of the parsers that read what users and services send:
//! the topology document, a Backstage catalog, NDJSON events. Whatever the
//! input — random text, or a valid document with random edits — they
//! return, never panic, and a rejection names at least one problem, each
//! with a message and, where it has one, a line inside the input.
#![cfg(feature = "ssr")]

use app::inventory::events;
use app::problem::Problem;
use app::topology::{backstage, document, model::Topology};
use proptest::prelude::*;

const TOPOLOGY: &str = include_str!("../../demo/shop-topology.yaml");

const CATALOG: &str = "kind: Component\nmetadata: { name: orders }\nspec: { owner: group:default/sales, dependsOn: [resource:orders-db, component:fraud] }\n---\nkind: Resource\nmetadata: { name: orders-db }\nspec: { type: mysql }\n---\nkind: Component\nmetadata: { name: fraud }\nspec: { owner: risk }\n";

const EVENTS: &str = r#"{"type":"entity","key":"C/1","at":"2026-11-01T08:00:00Z","data":{"name":"Ada"}}
{"type":"reference","from":"O/1","relation":"order.customer","to":"C/1","observed":"2026-11-01T08:00:00Z","at":"2026-11-01T09:00:00Z","cache":{"name":"Ada"}}
{"type":"entity","key":"C/2","at":"2026-11-01T10:00:00Z","deleted":true,"seq":7}
{"type":"reference","from":"O/1","relation":"order.customer","to":"C/1","at":"2026-11-01T11:00:00Z","removed":true}
"#;

/// A valid document with `edits` applied: each replaces, inserts or
/// deletes one character at a position (modulo the length).
fn mutate(base: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for &(at, op, c) in edits {
        let at = if chars.is_empty() {
            0
        } else {
            at % chars.len()
        };
        match op % 3 {
            0 if !chars.is_empty() => chars[at] = c,
            1 => chars.insert(at, c),
            _ if !chars.is_empty() => {
                chars.remove(at);
            }
            _ => chars.push(c),
        }
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, char)>> {
    // Characters that matter to YAML and JSON, and any other one.
    let c = prop_oneof![
        prop::sample::select(vec![
            ':', '-', '{', '}', '[', ']', '"', '\'', '\n', ' ', '#', ',', '&', '*', '!', '|', '>',
            '\t', '\\', '0'
        ]),
        any::<char>(),
    ];
    prop::collection::vec((any::<usize>(), any::<u8>(), c), 1..12)
}

fn check_rejection(input: &str, problems: &[Problem]) {
    assert!(
        !problems.is_empty(),
        "a rejection without a problem for {input:?}"
    );
    // YAML counts a lone carriage return as a line break too.
    let lines = input.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
    for p in problems {
        assert!(!p.message.is_empty(), "a problem without a message: {p:?}");
        if let Some(line) = p.line {
            assert!(
                (1..=lines).contains(&line),
                "line {line} outside the input ({lines} lines): {p}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn topology_documents_never_panic(text in ".{0,400}", edits in edits()) {
        for input in [text, mutate(TOPOLOGY, &edits)] {
            if let Err(problems) = document::parse(&input) {
                check_rejection(&input, &problems);
            }
        }
    }

    #[test]
    fn backstage_catalogs_never_panic(text in ".{0,400}", edits in edits()) {
        for input in [text, mutate(CATALOG, &edits)] {
            if let Err(problems) = backstage::import(&input, &Topology::default()) {
                check_rejection(&input, &problems);
            }
        }
    }

    #[test]
    fn ndjson_events_never_panic(text in ".{0,400}", edits in edits()) {
        for input in [text, mutate(EVENTS, &edits)] {
            if let Err(problems) = events::parse(&input) {
                check_rejection(&input, &problems);
            }
        }
    }
}

#[test]
fn the_unedited_documents_are_accepted() {
    assert!(document::parse(TOPOLOGY).is_ok());
    assert!(backstage::import(CATALOG, &Topology::default()).is_ok());
    assert_eq!(events::parse(EVENTS).unwrap().len(), 4);
}
