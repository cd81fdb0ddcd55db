//! The collector's YAML config (`lockstep collect --config FILE`): per
//! service, where Lockstep is and the service's token, the service's own
//! database, and the SQL that reads its entities and references. Every
//! problem is reported with the file, its line and the field.

use std::time::Duration;

use anyhow::bail;
use app::{
    problem::Problem,
    yaml_reader::{self, Fields, Node, Reader},
};

/// The columns each query must return, by name.
pub const ENTITY_COLUMNS: &[&str] = &["key", "updated_at"];
pub const REFERENCE_COLUMNS: &[&str] = &["from_key", "to_key", "observed_at"];

#[derive(Debug, Clone)]
pub struct Config {
    pub services: Vec<ServiceConfig>,
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub service: String,
    /// Lockstep's base URL.
    pub lockstep: String,
    pub token: String,
    /// `postgres://…` or `mysql://…` (MariaDB too).
    pub database: String,
    /// Where this config entry is, for messages: `FILE: services[0]`.
    pub origin: String,
    pub collector: String,
    pub poll: Duration,
    pub snapshot: Duration,
    /// Rows per request.
    pub batch: usize,
    /// How far before its watermark a poll reads again, for rows committed
    /// late with an older last update (their replays are dropped by `seq`).
    pub overlap: Duration,
    pub entities: Query,
    pub references: Vec<Query>,
}

/// One SQL query and the extra columns it carries into Lockstep: an
/// entity's `data`, a reference's cached copy.
#[derive(Debug, Clone)]
pub struct Query {
    /// The relation, for a reference query.
    pub relation: Option<String>,
    pub sql: String,
    pub extra: Vec<String>,
    /// Where it is in the config: `services[0].references[1]`.
    pub field: String,
}

const TOP_FIELDS: &[&str] = &["lockstep", "collector", "services"];
const SERVICE_FIELDS: &[&str] = &[
    "service",
    "lockstep",
    "token",
    "token_env",
    "database",
    "database_env",
    "poll",
    "snapshot",
    "batch",
    "overlap",
    "entities",
    "references",
];

/// Reads the config at `path`; `env` resolves `token_env`/`database_env`.
pub fn read(path: &str, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("{path}: cannot read the collector config: {error}"))?;
    parse(path, &text, env).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("{path}: {p}")).collect();
        anyhow::anyhow!(
            "{path}: the collector config has {} problem(s):\n{}",
            problems.len(),
            lines.join("\n")
        )
    })
}

pub fn parse(
    path: &str,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, Vec<Problem>> {
    let docs = yaml_reader::load(text).map_err(|p| vec![p])?;
    let Some(root) = docs.first() else {
        return Err(vec![Problem::new(Some(1), "", "the config is empty")]);
    };
    let mut reader = Reader::default();
    let mut services = Vec::new();
    if let Some(mut top) = reader.mapping(root, "") {
        let lockstep = reader.optional_string(top.take("lockstep"), "lockstep");
        let collector = reader
            .optional_string(top.take("collector"), "collector")
            .unwrap_or_else(|| format!("lockstep collect ({path})"));
        match top.take("services") {
            Some(list) => {
                for (i, node) in reader
                    .sequence(list, "services")
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    let context = Context {
                        path,
                        lockstep: lockstep.as_deref(),
                        collector: &collector,
                        env: &env,
                    };
                    if let Some(service) = read_service(&mut reader, node, i, &context) {
                        services.push(service);
                    }
                }
                if services.is_empty() && reader.problems.is_empty() {
                    reader.report(list, "services", "list at least one service");
                }
            }
            None => reader.report(root, "services", "missing: list the services to collect"),
        }
        top.finish(&mut reader, TOP_FIELDS);
    }
    if reader.problems.is_empty() {
        Ok(Config { services })
    } else {
        Err(reader.problems)
    }
}

struct Context<'a> {
    path: &'a str,
    lockstep: Option<&'a str>,
    collector: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

fn read_service(
    reader: &mut Reader,
    node: &Node<'_>,
    i: usize,
    context: &Context<'_>,
) -> Option<ServiceConfig> {
    let at = format!("services[{i}]");
    let mut fields = reader.mapping(node, &at)?;
    let service = required(reader, node, &mut fields, "service");
    let lockstep = reader
        .optional_string(fields.take("lockstep"), &fields.path("lockstep"))
        .or(context.lockstep.map(str::to_string));
    if lockstep.is_none() {
        reader.report(
            node,
            &fields.path("lockstep"),
            "missing: Lockstep's URL, here or at the top",
        );
    }
    let token = secret(reader, node, &mut fields, "token", context.env);
    let database = secret(reader, node, &mut fields, "database", context.env);
    if let Some(url) = &database {
        if !(url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("mysql://")
            || url.starts_with("mariadb://"))
        {
            reader.report(
                node,
                &fields.path("database"),
                "expected a postgres:// or mysql:// URL",
            );
        }
    }
    let seconds = |reader: &mut Reader, fields: &mut Fields<'_, '_>, key: &str, default: u64| {
        let field = fields.path(key);
        reader
            .duration(fields.take(key), &field)
            .map_or(Duration::from_secs(default), |s| {
                Duration::from_secs(s as u64)
            })
    };
    let poll = seconds(reader, &mut fields, "poll", 10);
    let snapshot = seconds(reader, &mut fields, "snapshot", 600);
    let overlap = seconds(reader, &mut fields, "overlap", 5);
    if poll.is_zero() {
        reader.report(node, &fields.path("poll"), "must be at least 1s");
    }
    let batch = match fields.take("batch") {
        Some(n) => match reader.integer(n, &fields.path("batch")) {
            Some(b) if (1..=1_000_000).contains(&b) => b as usize,
            Some(_) => {
                reader.report(n, &fields.path("batch"), "must be between 1 and 1000000");
                1
            }
            None => 1,
        },
        None => 10_000,
    };
    let entities = match fields.take("entities") {
        Some(n) => read_query(reader, n, &fields.path("entities"), Kind::Entities),
        None => {
            reader.report(
                node,
                &fields.path("entities"),
                "missing: the SQL that lists the service's entities",
            );
            None
        }
    };
    let mut references = Vec::new();
    if let Some(list) = fields.take("references") {
        let field = fields.path("references");
        for (j, item) in reader
            .sequence(list, &field)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if let Some(query) =
                read_query(reader, item, &format!("{field}[{j}]"), Kind::References)
            {
                references.push(query);
            }
        }
    }
    fields.finish(reader, SERVICE_FIELDS);
    Some(ServiceConfig {
        service: service?,
        lockstep: lockstep?.trim_end_matches('/').to_string(),
        token: token?,
        database: database?,
        origin: format!("{}: {at}", context.path),
        collector: context.collector.to_string(),
        poll,
        snapshot,
        batch,
        overlap,
        entities: entities?,
        references,
    })
}

fn required(
    reader: &mut Reader,
    node: &Node<'_>,
    fields: &mut Fields<'_, '_>,
    key: &str,
) -> Option<String> {
    let field = fields.path(key);
    let value = reader.optional_string(fields.take(key), &field);
    if value.is_none() {
        reader.report(node, &field, "missing");
    }
    value
}

/// `key` given in the file, or `key_env` naming the variable that holds it.
fn secret(
    reader: &mut Reader,
    node: &Node<'_>,
    fields: &mut Fields<'_, '_>,
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let env_key = format!("{key}_env");
    let (direct, named) = (fields.take(key), fields.take(&env_key));
    match (direct, named) {
        (Some(value), None) => reader.string(value, &fields.path(key)),
        (None, Some(name_node)) => {
            let field = fields.path(&env_key);
            let name = reader.string(name_node, &field)?;
            let value = env(&name).filter(|v| !v.is_empty());
            if value.is_none() {
                reader.report(
                    name_node,
                    &field,
                    format!("the environment variable {name} is not set"),
                );
            }
            value
        }
        (Some(_), Some(name_node)) => {
            reader.report(
                name_node,
                &fields.path(&env_key),
                format!("give {key} or {env_key}, not both"),
            );
            None
        }
        (None, None) => {
            reader.report(
                node,
                &fields.path(key),
                format!("missing: give {key} or {env_key}"),
            );
            None
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Entities,
    References,
}

/// `{sql, data: [columns]}` for entities, `{relation, sql, cache:
/// [columns]}` for a relation's references.
fn read_query(reader: &mut Reader, node: &Node<'_>, field: &str, kind: Kind) -> Option<Query> {
    let mut fields = reader.mapping(node, field)?;
    let relation = match kind {
        Kind::Entities => None,
        Kind::References => Some(required(reader, node, &mut fields, "relation")?),
    };
    let sql = required(reader, node, &mut fields, "sql");
    let (extra_key, known): (&str, &[&str]) = match kind {
        Kind::Entities => ("data", &["sql", "data"]),
        Kind::References => ("cache", &["relation", "sql", "cache"]),
    };
    let mut extra = Vec::new();
    if let Some(list) = fields.take(extra_key) {
        let path = fields.path(extra_key);
        for item in reader.sequence(list, &path).unwrap_or(&[]) {
            if let Some(column) = reader.string(item, &path) {
                if column.is_empty()
                    || !column
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    reader.report(
                        item,
                        &path,
                        format!("{column:?} is not a plain column name (letters, digits, _)"),
                    );
                } else {
                    extra.push(column);
                }
            }
        }
    }
    fields.finish(reader, known);
    Some(Query {
        relation,
        sql: sql?.trim().trim_end_matches(';').to_string(),
        extra,
        field: field.to_string(),
    })
}

impl ServiceConfig {
    /// Every query of the service, entities first.
    pub fn queries(&self) -> impl Iterator<Item = &Query> {
        std::iter::once(&self.entities).chain(&self.references)
    }
}

/// Refuses a config whose services repeat (two collectors of one service
/// would fight over its watermarks).
pub fn check_unique(config: &Config) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for service in &config.services {
        if !seen.insert(&service.service) {
            bail!(
                "{}: service {:?} is collected twice",
                service.origin,
                service.service
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "ORDERS_TOKEN").then(|| "secret".to_string())
    }

    const GOOD: &str = "lockstep: http://127.0.0.1:3000/
services:
  - service: orders
    token_env: ORDERS_TOKEN
    database: postgres://127.0.0.1/orders
    poll: 5s
    entities:
      sql: select id as key, updated_at from orders;
      data: [status]
    references:
      - relation: order.customer
        sql: select id as from_key, customer_id as to_key, updated_at as observed_at from orders
        cache: [customer_name]
";

    #[test]
    fn a_complete_config_is_read_with_its_defaults() {
        let config = parse("c.yaml", GOOD, env).unwrap();
        let s = &config.services[0];
        assert_eq!(s.lockstep, "http://127.0.0.1:3000");
        assert_eq!(s.token, "secret");
        assert_eq!(s.poll, Duration::from_secs(5));
        assert_eq!(s.snapshot, Duration::from_secs(600));
        assert_eq!(s.batch, 10_000);
        assert_eq!(s.entities.sql, "select id as key, updated_at from orders");
        assert_eq!(s.entities.extra, ["status"]);
        assert_eq!(s.references[0].relation.as_deref(), Some("order.customer"));
        assert_eq!(s.references[0].extra, ["customer_name"]);
    }

    #[test]
    fn every_problem_names_its_line_and_field() {
        let bad = GOOD
            .replace("token_env: ORDERS_TOKEN", "token_env: MISSING_TOKEN")
            .replace("poll: 5s", "poll: soon")
            .replace("data: [status]", "data: [status]\n      colour: red")
            .replace("cache: [customer_name]", "cache: [\"customer name\"]");
        let problems = parse("c.yaml", &bad, env).unwrap_err();
        let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "line 4: services[0].token_env: the environment variable MISSING_TOKEN is not set",
                "line 6: services[0].poll: \"soon\" is not a duration: write e.g. 24h, 1h30m, 90s or a number of seconds",
                "line 10: services[0].entities.colour: unknown field \"colour\": expected one of sql, data",
                "line 14: services[0].references[0].cache: \"customer name\" is not a plain column name (letters, digits, _)",
            ]
        );
    }

    #[test]
    fn the_readmes_example_is_a_valid_config() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("# collect.yaml\n")
            .expect("the README's example");
        let example = &readme[start..];
        let example = &example[..example.find("```").unwrap()];
        let env = |name: &str| {
            Some(
                if name.ends_with("DATABASE_URL") {
                    "postgres://db/orders"
                } else {
                    "token"
                }
                .into(),
            )
        };
        let config = parse("collect.yaml", example, env).unwrap();
        let names: Vec<&str> = config.services.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(names, ["orders", "payments"]);
        assert_eq!(config.services[0].references[0].extra, ["customer_name"]);
        assert!(config.services[1].entities.sql.contains("`key`"));
    }

    #[test]
    fn a_service_without_its_queries_or_database_is_refused() {
        let problems = parse(
            "c.yaml",
            "services:\n  - service: orders\n    token: t\n",
            env,
        )
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "services[0].lockstep",
                "services[0].database",
                "services[0].entities"
            ]
        );
    }
}
