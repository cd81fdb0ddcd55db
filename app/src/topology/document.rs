//! Topology as code: the YAML/JSON document of `PUT/GET /api/v1/topology`
//! and of the upload in the UI, read into the model with every problem
//! located, and written back in the same shape.

use std::collections::HashSet;

use saphyr::{Mapping, Scalar, Yaml, YamlEmitter};
use serde_json::{json, Value};

use super::model::*;
use crate::problem::Problem;
use crate::yaml_reader::{self, Node, Reader};

const TOP_FIELDS: &[&str] = &["services", "relations"];
const SERVICE_FIELDS: &[&str] = &[
    "name",
    "team",
    "description",
    "datastore",
    "pattern",
    "backup",
    "prefers",
];
const BACKUP_FIELDS: &[&str] = &["method", "interval", "duration"];
const RELATION_FIELDS: &[&str] = &[
    "from",
    "to",
    "name",
    "kind",
    "required",
    "cached",
    "policy",
    "on_broken",
];

/// Reads a topology document. On any problem nothing is returned but the
/// full list, so the caller changes nothing.
pub fn parse(text: &str) -> Result<Topology, Vec<Problem>> {
    let docs = yaml_reader::load(text).map_err(|p| vec![p])?;
    let root = match docs.as_slice() {
        [] => return Err(vec![Problem::new(None, "", "the document is empty")]),
        [root] => root,
        [_, second, ..] => {
            return Err(vec![Problem::new(
                yaml_reader::line(second),
                "",
                "expected one YAML document, found several",
            )])
        }
    };
    let mut reader = Reader::default();
    let topology = read_topology(&mut reader, root);
    if reader.problems.is_empty() {
        Ok(topology)
    } else {
        // In reading order, so the author can fix them top to bottom.
        reader.problems.sort_by_key(|p| p.line);
        Err(reader.problems)
    }
}

fn read_topology(reader: &mut Reader, root: &Node<'_>) -> Topology {
    let mut topology = Topology::default();
    let Some(mut fields) = reader.mapping(root, "") else {
        return topology;
    };
    let services = fields.take("services");
    let relations = fields.take("relations");
    fields.finish(reader, TOP_FIELDS);

    let mut names = HashSet::new();
    for (i, node) in services
        .and_then(|n| reader.sequence(n, "services"))
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("services[{i}]");
        if let Some(service) = read_service(reader, node, &path) {
            if !names.insert(service.name.clone()) {
                reader.report(
                    node,
                    &format!("{path}.name"),
                    format!("duplicate service name {:?}", service.name),
                );
            }
            topology.services.push(service);
        }
    }

    let mut relation_names = HashSet::new();
    for (i, node) in relations
        .and_then(|n| reader.sequence(n, "relations"))
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("relations[{i}]");
        if let Some(relation) = read_relation(reader, node, &path, &names) {
            if !relation_names.insert(relation.name.clone()) {
                reader.report(
                    node,
                    &format!("{path}.name"),
                    format!("duplicate relation name {:?}", relation.name),
                );
            }
            topology.relations.push(relation);
        }
    }
    topology
}

fn read_name(
    reader: &mut Reader,
    node: Option<&Node<'_>>,
    parent: &Node<'_>,
    field: &str,
) -> Option<String> {
    let Some(node) = node else {
        reader.report(parent, field, "is required");
        return None;
    };
    let name = reader.string(node, field)?;
    if !is_slug(&name) {
        reader.report(
            node,
            field,
            format!("{name:?} is not a valid name: use lowercase letters, digits, '-' and '_', starting with a letter or digit"),
        );
        return None;
    }
    Some(name)
}

fn read_service(reader: &mut Reader, node: &Node<'_>, path: &str) -> Option<Service> {
    let mut fields = reader.mapping(node, path)?;
    let name = read_name(reader, fields.take("name"), node, &fields.path("name"));
    let team = reader.optional_string(fields.take("team"), &fields.path("team"));
    let description =
        reader.optional_string(fields.take("description"), &fields.path("description"));
    let datastore = reader.choice(
        fields.take("datastore"),
        &fields.path("datastore"),
        Datastore::parse,
        Datastore::choices,
    );
    let pattern = reader.choice(
        fields.take("pattern"),
        &fields.path("pattern"),
        StoragePattern::parse,
        StoragePattern::choices,
    );
    let prefers = reader.choice(
        fields.take("prefers"),
        &fields.path("prefers"),
        Preference::parse,
        Preference::choices,
    );
    let backup = match fields.take("backup").filter(|n| !yaml_reader::is_null(n)) {
        Some(backup) => read_backup(reader, backup, &fields.path("backup")),
        None => Backup::default(),
    };
    fields.finish(reader, SERVICE_FIELDS);
    Some(Service {
        name: name?,
        team,
        description,
        datastore,
        pattern,
        backup,
        prefers,
    })
}

fn read_backup(reader: &mut Reader, node: &Node<'_>, path: &str) -> Backup {
    let Some(mut fields) = reader.mapping(node, path) else {
        return Backup::default();
    };
    let backup = Backup {
        method: reader.choice(
            fields.take("method"),
            &fields.path("method"),
            BackupMethod::parse,
            BackupMethod::choices,
        ),
        interval_s: reader.duration(fields.take("interval"), &fields.path("interval")),
        duration_s: reader.duration(fields.take("duration"), &fields.path("duration")),
    };
    fields.finish(reader, BACKUP_FIELDS);
    backup
}

fn read_relation(
    reader: &mut Reader,
    node: &Node<'_>,
    path: &str,
    services: &HashSet<String>,
) -> Option<Relation> {
    let mut fields = reader.mapping(node, path)?;
    let name = match fields.take("name") {
        Some(n) => reader
            .string(n, &fields.path("name"))
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                reader.report(n, &fields.path("name"), "must not be empty");
                None
            }),
        None => {
            reader.report(node, &fields.path("name"), "is required");
            None
        }
    };
    let mut end = |key: &str, fields: &mut yaml_reader::Fields<'_, '_>| {
        let field = fields.path(key);
        let value = fields.take(key);
        let name = read_name(reader, value, node, &field)?;
        if !services.contains(&name) {
            reader.report(
                value.unwrap_or(node),
                &field,
                format!("unknown service {name:?}: declare it under services"),
            );
            return None;
        }
        Some(name)
    };
    let from = end("from", &mut fields);
    let to = end("to", &mut fields);
    let kind = reader
        .choice(
            fields.take("kind"),
            &fields.path("kind"),
            RelationKind::parse,
            RelationKind::choices,
        )
        .unwrap_or(RelationKind::Reference);
    let required = fields
        .take("required")
        .filter(|n| !yaml_reader::is_null(n))
        .and_then(|n| reader.boolean(n, &fields.path("required")))
        .unwrap_or(true);
    let cached = fields
        .take("cached")
        .filter(|n| !yaml_reader::is_null(n))
        .and_then(|n| reader.boolean(n, &fields.path("cached")))
        .unwrap_or(false);
    let policy = reader.choice(
        fields.take("policy"),
        &fields.path("policy"),
        Policy::parse,
        Policy::choices,
    );
    let on_broken = reader.choice(
        fields.take("on_broken"),
        &fields.path("on_broken"),
        OnBroken::parse,
        OnBroken::choices,
    );
    fields.finish(reader, RELATION_FIELDS);
    Some(Relation {
        name: name?,
        from: from?,
        to: to?,
        kind,
        required,
        cached,
        policy,
        on_broken,
    })
}

/// The topology as `GET /api/v1/topology` and the YAML download spell it
/// (spec §6): absent attributes are left out, durations are "6h"-style.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TopologyDocument {
    pub services: Vec<ServiceDocument>,
    pub relations: Vec<RelationDocument>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ServiceDocument {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    datastore: Option<Datastore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pattern: Option<StoragePattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    backup: Option<BackupDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    prefers: Option<Preference>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BackupDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    method: Option<BackupMethod>,
    /// How often, as "30m", "6h", "1d".
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, example = "6h")]
    interval: Option<String>,
    /// How long one backup takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, example = "20m")]
    duration: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RelationDocument {
    name: String,
    from: String,
    to: String,
    kind: RelationKind,
    required: bool,
    cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    on_broken: Option<OnBroken>,
}

pub fn to_json(topology: &Topology) -> TopologyDocument {
    let services = topology
        .services
        .iter()
        .map(|s| {
            let backup = BackupDocument {
                method: s.backup.method,
                interval: s.backup.interval_s.map(format_duration),
                duration: s.backup.duration_s.map(format_duration),
            };
            let empty =
                backup.method.is_none() && backup.interval.is_none() && backup.duration.is_none();
            ServiceDocument {
                name: s.name.clone(),
                team: s.team.clone(),
                description: s.description.clone(),
                datastore: s.datastore,
                pattern: s.pattern,
                backup: (!empty).then_some(backup),
                prefers: s.prefers,
            }
        })
        .collect();
    let relations = topology
        .relations
        .iter()
        .map(|r| RelationDocument {
            name: r.name.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            kind: r.kind,
            required: r.required,
            cached: r.cached,
            policy: r.policy,
            on_broken: r.on_broken,
        })
        .collect();
    TopologyDocument {
        services,
        relations,
    }
}

/// The same document as YAML, for download and `Accept: application/yaml`.
pub fn to_yaml(topology: &Topology) -> String {
    let mut out = String::new();
    let document = json_to_yaml(&json!(to_json(topology)));
    YamlEmitter::new(&mut out)
        .dump(&document)
        .expect("writing YAML into a String cannot fail");
    out.push('\n');
    out
}

fn json_to_yaml(value: &Value) -> Yaml<'static> {
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Value(Scalar::Integer(i)),
            None => Yaml::Value(Scalar::String(n.to_string().into())),
        },
        Value::String(s) => Yaml::Value(Scalar::String(s.clone().into())),
        Value::Array(items) => Yaml::Sequence(items.iter().map(json_to_yaml).collect()),
        Value::Object(map) => {
            let mut mapping = Mapping::new();
            for (k, v) in map {
                mapping.insert(
                    Yaml::Value(Scalar::String(k.clone().into())),
                    json_to_yaml(v),
                );
            }
            Yaml::Mapping(mapping)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r#"
services:
  - name: customers
    team: crm
    datastore: postgres
    pattern: snapshot
    backup: { method: pitr, interval: 24h, duration: 20m }
    prefers: consistency
  - name: orders
    datastore: mongodb
    backup: { method: logical-dump, duration: 3600 }
relations:
  - { name: order.customer, from: orders, to: customers }
  - { name: order.audit, from: orders, to: orders, required: false, on_broken: ignore }
"#;

    #[test]
    fn a_document_round_trips_through_the_model() {
        let topology = parse(SHOP).expect("valid");
        assert_eq!(topology.services.len(), 2);
        assert_eq!(topology.services[0].backup.duration_s, Some(1200));
        assert_eq!(topology.services[1].backup.duration_s, Some(3600));
        assert_eq!(topology.relations[0].kind, RelationKind::Reference);
        assert!(topology.relations[0].required);
        assert_eq!(parse(&to_yaml(&topology)), Ok(topology.clone()));
        assert_eq!(parse(&json!(to_json(&topology)).to_string()), Ok(topology));
    }

    #[test]
    fn every_problem_is_reported_with_its_line_and_field() {
        let text = "services:\n  - name: a\n  - name: a\n    datastore: oracle\n    colour: red\nrelations:\n  - { name: r, from: a, to: ghost }\n";
        let problems = parse(text).unwrap_err();
        let seen: Vec<(Option<usize>, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert!(
            seen.contains(&(Some(3), "services[1].name")),
            "{problems:?}"
        );
        assert!(
            seen.contains(&(Some(4), "services[1].datastore")),
            "{problems:?}"
        );
        assert!(
            seen.contains(&(Some(5), "services[1].colour")),
            "{problems:?}"
        );
        assert!(seen.contains(&(Some(7), "relations[0].to")), "{problems:?}");
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn malformed_yaml_is_one_located_problem() {
        let problems = parse("services:\n  - name: [unclosed\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("malformed YAML"));
        assert!(problems[0].line.is_some());
    }
}
