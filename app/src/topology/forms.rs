//! The service and relation forms of the topology page: what the browser
//! sends, and the validation both the browser (inline, as you type) and the
//! server (authoritative) run on it.

use serde::{Deserialize, Serialize};

use super::model::*;
use crate::problem::Problem;

/// A service as its form holds it: every field text, empty meaning unset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceForm {
    pub name: String,
    pub team: String,
    pub description: String,
    pub datastore: String,
    pub pattern: String,
    pub backup_method: String,
    pub backup_interval: String,
    pub backup_duration: String,
    pub prefers: String,
}

/// A relation as its form holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationForm {
    pub name: String,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub required: bool,
    pub cached: bool,
    /// `default`, `lockstep` or `tolerate`.
    pub policy: String,
    pub on_broken: String,
}

impl Default for RelationForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            from: String::new(),
            to: String::new(),
            kind: RelationKind::Reference.to_string(),
            required: true,
            cached: false,
            policy: "default".into(),
            on_broken: String::new(),
        }
    }
}

fn text(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// An optional word of a vocabulary; records a problem when it is not one.
fn choice<T>(
    problems: &mut Vec<Problem>,
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Option<T> {
    let value = text(value)?;
    let parsed = parse(&value);
    if parsed.is_none() {
        problems.push(Problem::new(None, field, format!("expected {}", choices())));
    }
    parsed
}

fn duration(problems: &mut Vec<Problem>, field: &str, value: &str) -> Option<i64> {
    let value = text(value)?;
    let parsed = parse_duration(&value).or_else(|| value.parse::<i64>().ok().filter(|s| *s >= 0));
    if parsed.is_none() {
        problems.push(Problem::new(
            None,
            field,
            "write a duration such as 24h, 1h30m or 90s",
        ));
    }
    parsed
}

impl ServiceForm {
    pub fn from_service(s: &Service) -> Self {
        let word = |v: Option<String>| v.unwrap_or_default();
        Self {
            name: s.name.clone(),
            team: word(s.team.clone()),
            description: word(s.description.clone()),
            datastore: word(s.datastore.map(|v| v.to_string())),
            pattern: word(s.pattern.map(|v| v.to_string())),
            backup_method: word(s.backup.method.map(|v| v.to_string())),
            backup_interval: word(s.backup.interval_s.map(format_duration)),
            backup_duration: word(s.backup.duration_s.map(format_duration)),
            prefers: word(s.prefers.map(|v| v.to_string())),
        }
    }

    /// The service, or every problem keyed by form field.
    pub fn validate(&self) -> Result<Service, Vec<Problem>> {
        let mut problems = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            problems.push(Problem::new(None, "name", "a service needs a name"));
        } else if !is_slug(&name) {
            problems.push(Problem::new(
                None,
                "name",
                "use lowercase letters, digits, '-' and '_', starting with a letter or digit",
            ));
        }
        let service = Service {
            name,
            team: text(&self.team),
            description: text(&self.description),
            datastore: choice(
                &mut problems,
                "datastore",
                &self.datastore,
                Datastore::parse,
                Datastore::choices,
            ),
            pattern: choice(
                &mut problems,
                "pattern",
                &self.pattern,
                StoragePattern::parse,
                StoragePattern::choices,
            ),
            backup: Backup {
                method: choice(
                    &mut problems,
                    "backup_method",
                    &self.backup_method,
                    BackupMethod::parse,
                    BackupMethod::choices,
                ),
                interval_s: duration(&mut problems, "backup_interval", &self.backup_interval),
                duration_s: duration(&mut problems, "backup_duration", &self.backup_duration),
            },
            prefers: choice(
                &mut problems,
                "prefers",
                &self.prefers,
                Preference::parse,
                Preference::choices,
            ),
        };
        if problems.is_empty() {
            Ok(service)
        } else {
            Err(problems)
        }
    }
}

impl RelationForm {
    pub fn from_relation(r: &Relation) -> Self {
        Self {
            name: r.name.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            kind: r.kind.to_string(),
            required: r.required,
            cached: r.cached,
            policy: r.policy.map_or("default".into(), |p| p.to_string()),
            on_broken: r.on_broken.map(|o| o.to_string()).unwrap_or_default(),
        }
    }

    /// The relation, or every problem keyed by form field. `services` are
    /// the names the ends may take.
    pub fn validate(&self, services: &[String]) -> Result<Relation, Vec<Problem>> {
        let mut problems = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            problems.push(Problem::new(
                None,
                "name",
                "a relation needs a name, such as order.customer",
            ));
        }
        for (field, end) in [("from", &self.from), ("to", &self.to)] {
            if !services.iter().any(|s| s == end) {
                problems.push(Problem::new(
                    None,
                    field,
                    "choose one of the modelled services",
                ));
            }
        }
        let kind = choice(
            &mut problems,
            "kind",
            &self.kind,
            RelationKind::parse,
            RelationKind::choices,
        );
        let policy = match self.policy.as_str() {
            "" | "default" => None,
            other => choice(
                &mut problems,
                "policy",
                other,
                Policy::parse,
                Policy::choices,
            ),
        };
        let relation = Relation {
            name,
            from: self.from.clone(),
            to: self.to.clone(),
            kind: kind.unwrap_or(RelationKind::Reference),
            required: self.required,
            cached: self.cached,
            policy,
            on_broken: choice(
                &mut problems,
                "on_broken",
                &self.on_broken,
                OnBroken::parse,
                OnBroken::choices,
            ),
        };
        if problems.is_empty() {
            Ok(relation)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_form_reports_each_bad_field() {
        let form = ServiceForm {
            name: "Orders".into(),
            datastore: "oracle".into(),
            backup_interval: "soon".into(),
            backup_duration: "20m".into(),
            ..Default::default()
        };
        let fields: Vec<String> = form
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, vec!["name", "datastore", "backup_interval"]);
    }

    #[test]
    fn a_service_survives_the_form_round_trip() {
        let form = ServiceForm {
            name: "orders".into(),
            team: " checkout ".into(),
            datastore: "postgres".into(),
            backup_method: "pitr".into(),
            backup_duration: "1h30m".into(),
            ..Default::default()
        };
        let service = form.validate().unwrap();
        assert_eq!(service.team.as_deref(), Some("checkout"));
        assert_eq!(service.backup.duration_s, Some(5_400));
        assert_eq!(ServiceForm::from_service(&service).validate(), Ok(service));
    }

    #[test]
    fn a_relation_must_join_modelled_services() {
        let services = vec!["orders".to_string(), "customers".to_string()];
        let mut form = RelationForm {
            name: "order.customer".into(),
            from: "orders".into(),
            to: "ghost".into(),
            ..Default::default()
        };
        let fields: Vec<String> = form
            .validate(&services)
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, vec!["to"]);
        form.to = "customers".into();
        form.policy = "tolerate".into();
        let relation = form.validate(&services).unwrap();
        assert_eq!(relation.effective_policy(), Policy::Tolerate);
    }
}
