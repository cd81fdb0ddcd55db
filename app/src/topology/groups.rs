//! Lockstep groups: the connected components of the graph whose edges are
//! the relations with an effective `lockstep` policy (spec §4).

use std::collections::{BTreeMap, HashMap};

use petgraph::unionfind::UnionFind;

use super::model::{BackupMethod, LockstepGroup, Policy, SharedBackup, Topology};

/// Every service appears in exactly one group (singletons included);
/// groups are sorted by their first member. Relations to services the
/// topology does not declare are skipped: the document reader refuses them
/// before they get here.
pub fn lockstep_groups(topology: &Topology) -> Vec<LockstepGroup> {
    let index: HashMap<&str, usize> = topology
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut components = UnionFind::<usize>::new(topology.services.len());
    let lockstep = topology
        .relations
        .iter()
        .filter(|r| r.effective_policy() == Policy::Lockstep)
        .filter_map(|r| Some((r, *index.get(r.from.as_str())?, *index.get(r.to.as_str())?)));
    let mut relations_by_root: HashMap<usize, Vec<String>> = HashMap::new();
    let mut edges = Vec::new();
    for (relation, from, to) in lockstep {
        components.union(from, to);
        edges.push((relation.name.clone(), from));
    }
    for (name, from) in edges {
        relations_by_root
            .entry(components.find(from))
            .or_default()
            .push(name);
    }

    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..topology.services.len() {
        members.entry(components.find(i)).or_default().push(i);
    }

    let mut groups: Vec<LockstepGroup> = members
        .into_iter()
        .map(|(root, member_ids)| {
            let services = &topology.services;
            let slowest = member_ids
                .iter()
                .filter_map(|&i| Some((services[i].backup.duration_s?, i)))
                .max_by_key(|&(duration, i)| (duration, std::cmp::Reverse(&services[i].name)));
            let shared_method = if member_ids.len() == 1 {
                SharedBackup::Independent
            } else if member_ids
                .iter()
                .all(|&i| services[i].backup.method == Some(BackupMethod::Pitr))
            {
                SharedBackup::CommonPitr
            } else {
                SharedBackup::CoordinatedFreeze
            };
            let mut names: Vec<String> = member_ids
                .iter()
                .map(|&i| services[i].name.clone())
                .collect();
            names.sort();
            let mut relations = relations_by_root.remove(&root).unwrap_or_default();
            relations.sort();
            LockstepGroup {
                id: names[0].clone(),
                services: names,
                backup_window_s: slowest.map_or(0, |(duration, _)| duration),
                slowest: slowest.map(|(_, i)| services[i].name.clone()),
                shared_method,
                relations,
            }
        })
        .collect();
    groups.sort_by(|a, b| a.services[0].cmp(&b.services[0]));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::model::*;

    fn service(name: &str, method: Option<BackupMethod>, duration: Option<i64>) -> Service {
        Service {
            name: name.into(),
            team: None,
            description: None,
            datastore: None,
            pattern: None,
            backup: Backup {
                method,
                interval_s: None,
                duration_s: duration,
            },
            prefers: None,
        }
    }

    fn relation(name: &str, from: &str, to: &str) -> Relation {
        Relation {
            name: name.into(),
            from: from.into(),
            to: to.into(),
            kind: RelationKind::Reference,
            required: true,
            cached: false,
            policy: None,
            on_broken: None,
        }
    }

    fn members(groups: &[LockstepGroup]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.services.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn required_uncached_relations_join_services_and_the_rest_stay_single() {
        let mut cached = relation("c", "b", "c");
        cached.cached = true;
        let topology = Topology {
            services: vec![
                service("c", None, None),
                service("a", Some(BackupMethod::Pitr), Some(60)),
                service("b", Some(BackupMethod::LogicalDump), Some(600)),
            ],
            relations: vec![relation("ab", "a", "b"), cached],
        };
        let groups = lockstep_groups(&topology);
        assert_eq!(members(&groups), vec![vec!["a", "b"], vec!["c"]]);
        assert_eq!(groups[0].backup_window_s, 600);
        assert_eq!(groups[0].slowest.as_deref(), Some("b"));
        assert_eq!(groups[0].shared_method, SharedBackup::CoordinatedFreeze);
        assert_eq!(groups[0].relations, vec!["ab"]);
        assert_eq!(groups[1].shared_method, SharedBackup::Independent);
    }

    #[test]
    fn cycles_and_self_references_form_one_group_each() {
        let topology = Topology {
            services: ["a", "b", "c", "d"]
                .map(|n| service(n, Some(BackupMethod::Pitr), None))
                .to_vec(),
            relations: vec![
                relation("ab", "a", "b"),
                relation("bc", "b", "c"),
                relation("ca", "c", "a"),
                relation("dd", "d", "d"),
            ],
        };
        let groups = lockstep_groups(&topology);
        assert_eq!(members(&groups), vec![vec!["a", "b", "c"], vec!["d"]]);
        assert_eq!(groups[0].shared_method, SharedBackup::CommonPitr);
        assert_eq!(groups[0].backup_window_s, 0);
        assert_eq!(groups[1].relations, vec!["dd"]);
    }

    #[test]
    fn tolerating_a_relation_splits_its_group() {
        let mut topology = Topology {
            services: ["a", "b", "c"].map(|n| service(n, None, None)).to_vec(),
            relations: vec![relation("ab", "a", "b"), relation("bc", "b", "c")],
        };
        assert_eq!(
            members(&lockstep_groups(&topology)),
            vec![vec!["a", "b", "c"]]
        );
        topology.relations[1].policy = Some(Policy::Tolerate);
        assert_eq!(
            members(&lockstep_groups(&topology)),
            vec![vec!["a", "b"], vec!["c"]]
        );
    }

    #[test]
    fn mirrors_are_grouped_by_their_policy_like_any_relation() {
        let mut mirror = relation("m", "a", "b");
        mirror.kind = RelationKind::Mirror;
        let topology = Topology {
            services: ["a", "b"].map(|n| service(n, None, None)).to_vec(),
            relations: vec![mirror],
        };
        assert_eq!(members(&lockstep_groups(&topology)), vec![vec!["a", "b"]]);
    }
}
