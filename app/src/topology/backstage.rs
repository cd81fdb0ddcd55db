//! Import from a Backstage software catalog (multi-document YAML).
//!
//! Components become services (owner → team); a Resource of a storage type
//! that a Component depends on becomes that component's datastore;
//! `dependsOn` / `dependencyOf` between components become required
//! references. Systems, APIs and anything else are reported as skipped, with
//! the reason. The import merges into the current model.

use std::collections::{BTreeMap, HashMap};

use saphyr::{Scalar, YamlData};

use super::model::{
    is_slug, Backup, Datastore, ImportReport, Relation, RelationKind, Service, Skipped, Topology,
};
use crate::problem::Problem;
use crate::yaml_reader::{self, Node};

struct Entity {
    kind: String,
    name: String,
    owner: Option<String>,
    description: Option<String>,
    resource_type: Option<String>,
    depends_on: Vec<String>,
    dependency_of: Vec<String>,
}

/// The merged model and what happened; malformed YAML is the only error.
pub fn import(text: &str, current: &Topology) -> Result<(Topology, ImportReport), Vec<Problem>> {
    let docs = yaml_reader::load(text).map_err(|p| vec![p])?;
    let mut report = ImportReport::default();
    let mut entities = Vec::new();
    for doc in docs.iter().filter(|d| !yaml_reader::is_null(d)) {
        match read_entity(doc) {
            Ok(entity) => entities.push(entity),
            Err(reason) => report.skipped.push(Skipped {
                kind: "?".into(),
                name: format!("document at line {}", doc.span.start.line()),
                reason,
            }),
        }
    }

    // Storage resources by name, for the components that depend on them.
    let mut storage: HashMap<String, Datastore> = HashMap::new();
    let mut components: BTreeMap<String, Entity> = BTreeMap::new();
    for entity in entities {
        match entity.kind.as_str() {
            "component" => {
                if is_slug(&entity.name) {
                    components.insert(entity.name.clone(), entity);
                } else {
                    report.skipped.push(skip(&entity, "the name is not a valid service name (lowercase letters, digits, '-' and '_')"));
                }
            }
            "resource" => match entity.resource_type.as_deref().and_then(datastore_for) {
                Some(datastore) => {
                    storage.insert(entity.name.clone(), datastore);
                }
                None => report.skipped.push(skip(
                    &entity,
                    &format!(
                        "resource type {:?} is not a datastore",
                        entity.resource_type.as_deref().unwrap_or("unset")
                    ),
                )),
            },
            "system" => report.skipped.push(skip(
                &entity,
                "systems group components; Lockstep models the components themselves",
            )),
            "api" => report.skipped.push(skip(
                &entity,
                "APIs carry no state of their own; references are modelled between components",
            )),
            other => report
                .skipped
                .push(skip(&entity, &format!("kind {other:?} is not imported"))),
        }
    }

    let mut topology = current.clone();
    for component in components.values() {
        let datastore = component
            .depends_on
            .iter()
            .filter_map(|r| parse_ref(r, "component"))
            .find_map(|(kind, name)| {
                (kind == "resource")
                    .then(|| storage.get(&name).copied())
                    .flatten()
            });
        let service = topology
            .services
            .iter_mut()
            .find(|s| s.name == component.name);
        match service {
            Some(existing) => {
                existing.team = component.owner.clone().or(existing.team.take());
                existing.description = component
                    .description
                    .clone()
                    .or(existing.description.take());
                existing.datastore = datastore.or(existing.datastore);
            }
            None => topology.services.push(Service {
                name: component.name.clone(),
                team: component.owner.clone(),
                description: component.description.clone(),
                datastore,
                pattern: None,
                backup: Backup::default(),
                prefers: None,
            }),
        }
        report.services.push(component.name.clone());
    }

    // Dependencies in both directions, each becoming one relation.
    let mut edges = Vec::new();
    for component in components.values() {
        for target in &component.depends_on {
            edges.push((component.name.clone(), target.clone()));
        }
        for source in &component.dependency_of {
            if let Some((kind, name)) = parse_ref(source, "component") {
                if kind == "component" {
                    edges.push((name, format!("component:{}", component.name)));
                }
            }
        }
    }
    for (from, target) in edges {
        let Some((kind, to)) = parse_ref(&target, "component") else {
            continue;
        };
        if kind != "component" {
            continue; // resources became datastores above
        }
        if !topology.services.iter().any(|s| s.name == to)
            || !topology.services.iter().any(|s| s.name == from)
        {
            report.skipped.push(Skipped {
                kind: "dependency".into(),
                name: format!("{from} → {to}"),
                reason: format!("{to:?} is neither in the catalog nor in the model"),
            });
            continue;
        }
        let name = format!("{from}.{to}");
        if topology.relations.iter().any(|r| r.name == name) {
            continue;
        }
        topology.relations.push(Relation {
            name: name.clone(),
            from,
            to,
            kind: RelationKind::Reference,
            required: true,
            cached: false,
            policy: None,
            on_broken: None,
        });
        report.relations.push(name);
    }
    Ok((topology, report))
}

fn skip(entity: &Entity, reason: &str) -> Skipped {
    Skipped {
        kind: entity.kind.clone(),
        name: entity.name.clone(),
        reason: reason.into(),
    }
}

/// `[kind:][namespace/]name`, lower-cased, with the kind defaulting as
/// Backstage does for the field it appears in.
fn parse_ref(reference: &str, default_kind: &str) -> Option<(String, String)> {
    let reference = reference.trim().to_lowercase();
    let (kind, rest) = match reference.split_once(':') {
        Some((kind, rest)) => (kind.to_string(), rest.to_string()),
        None => (default_kind.to_string(), reference),
    };
    let name = rest.rsplit('/').next()?.to_string();
    (!name.is_empty()).then_some((kind, name))
}

/// Backstage resource types that hold state, mapped to our datastores.
fn datastore_for(resource_type: &str) -> Option<Datastore> {
    let t = resource_type.to_lowercase();
    Datastore::parse(&t).or(match t.as_str() {
        "database" | "postgresql" | "rds" => Some(Datastore::Postgres),
        "mongo" => Some(Datastore::Mongodb),
        "bucket" | "s3-bucket" | "object-store" | "storage" => Some(Datastore::S3),
        "cache" => Some(Datastore::Redis),
        "queue" | "topic" | "kafka-topic" => Some(Datastore::Kafka),
        "search" | "opensearch" => Some(Datastore::Elasticsearch),
        "mariadb" => Some(Datastore::Mysql),
        _ => None,
    })
}

fn read_entity(doc: &Node<'_>) -> Result<Entity, String> {
    if !matches!(doc.data, YamlData::Mapping(_)) {
        return Err("not a catalog entity (expected a mapping)".into());
    }
    let kind = field(Some(doc), "kind")
        .and_then(text)
        .ok_or("no kind")?
        .to_lowercase();
    let metadata = field(Some(doc), "metadata").ok_or("no metadata")?;
    let spec = field(Some(doc), "spec");
    let name = field(Some(metadata), "name")
        .and_then(text)
        .ok_or("no metadata.name")?
        .to_lowercase();
    let list = |key: &str| -> Vec<String> {
        match field(spec, key).map(|n| &n.data) {
            Some(YamlData::Sequence(items)) => items.iter().filter_map(text).collect(),
            _ => Vec::new(),
        }
    };
    Ok(Entity {
        kind,
        owner: field(spec, "owner")
            .and_then(text)
            .map(|o| o.rsplit(['/', ':']).next().unwrap_or(&o).to_string()),
        description: field(Some(metadata), "description").and_then(text),
        resource_type: field(spec, "type").and_then(text),
        depends_on: list("dependsOn"),
        dependency_of: list("dependencyOf"),
        name,
    })
}

/// A mapping's value by key; `None` when absent or not a mapping.
fn field<'n, 'a>(node: Option<&'n Node<'a>>, key: &str) -> Option<&'n Node<'a>> {
    let YamlData::Mapping(map) = &node?.data else {
        return None;
    };
    map.iter()
        .find(|(k, _)| text(k).as_deref() == Some(key))
        .map(|(_, v)| v)
}

fn text(node: &Node<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Representation(s, ..) => Some(s.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: System
metadata: { name: shop }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: orders, description: Order service }
spec:
  type: service
  owner: group:default/checkout
  system: shop
  dependsOn: [resource:orders-db, component:customers]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: customers }
spec: { type: service, owner: accounts, dependencyOf: [component:billing] }
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: { name: orders-db }
spec: { type: database, owner: checkout }
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: { name: cdn }
spec: { type: cdn }
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: orders-api }
"#;

    #[test]
    fn components_become_services_and_dependencies_relations() {
        let (topology, report) = import(CATALOG, &Topology::default()).unwrap();
        assert_eq!(report.services, vec!["customers", "orders"]);
        assert_eq!(report.relations, vec!["orders.customers"]);
        let orders = topology
            .services
            .iter()
            .find(|s| s.name == "orders")
            .unwrap();
        assert_eq!(orders.team.as_deref(), Some("checkout"));
        assert_eq!(orders.datastore, Some(Datastore::Postgres));
        assert_eq!(orders.description.as_deref(), Some("Order service"));
        let skipped: Vec<(&str, &str)> = report
            .skipped
            .iter()
            .map(|s| (s.kind.as_str(), s.name.as_str()))
            .collect();
        assert!(skipped.contains(&("system", "shop")));
        assert!(skipped.contains(&("resource", "cdn")));
        assert!(skipped.contains(&("api", "orders-api")));
        // customers is a dependency of billing, which nobody declared.
        assert!(
            skipped.contains(&("dependency", "billing → customers")),
            "{skipped:?}"
        );
    }

    #[test]
    fn importing_merges_into_the_current_model() {
        let current = Topology {
            services: vec![Service {
                name: "orders".into(),
                team: None,
                description: None,
                datastore: None,
                pattern: None,
                backup: Backup {
                    method: None,
                    interval_s: Some(3600),
                    duration_s: None,
                },
                prefers: None,
            }],
            relations: vec![],
        };
        let (topology, _) = import(CATALOG, &current).unwrap();
        let orders = topology
            .services
            .iter()
            .find(|s| s.name == "orders")
            .unwrap();
        assert_eq!(orders.backup.interval_s, Some(3600), "kept from the model");
        assert_eq!(
            orders.team.as_deref(),
            Some("checkout"),
            "taken from the catalog"
        );
    }

    #[test]
    fn malformed_yaml_is_refused() {
        assert!(import("kind: [", &Topology::default()).is_err());
    }
}
