//! The topology as the architect describes it: services, relations, and the
//! vocabulary of their attributes. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// Declares a closed vocabulary: the enum, its wire spelling (the one the
/// topology document and the API use) and the list of accepted values that
/// error messages quote.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        // By hand: the derive does not see a `rename` whose value comes
        // from a macro argument, and would document the Rust names.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// "a, b or c", for error messages.
            pub fn choices() -> String {
                let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match all.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// The kind of store a service keeps its state in.
    Datastore {
        Postgres = "postgres", Mysql = "mysql", Mongodb = "mongodb", Redis = "redis",
        Cassandra = "cassandra", Elasticsearch = "elasticsearch", S3 = "s3",
        Kafka = "kafka", Rabbitmq = "rabbitmq", Other = "other",
    }
);

vocabulary!(
    /// How a service stores its state: current values, or the events that led to them.
    StoragePattern { Snapshot = "snapshot", EventSourced = "event-sourced" }
);

vocabulary!(
    /// How a service's backups are taken.
    BackupMethod {
        LogicalDump = "logical-dump", Pitr = "pitr", VolumeSnapshot = "volume-snapshot", None = "none",
    }
);

vocabulary!(
    /// Which side of the BAC theorem the service's owners would rather keep.
    Preference { Availability = "availability", Consistency = "consistency" }
);

vocabulary!(
    /// `reference`: the source holds URIs of the target's entities.
    /// `mirror`: both sides hold the same business key (missing state).
    RelationKind { Reference = "reference", Mirror = "mirror" }
);

vocabulary!(
    /// `lockstep`: back both ends up together. `tolerate`: back up
    /// independently and reconcile after a restore.
    Policy { Lockstep = "lockstep", Tolerate = "tolerate" }
);

vocabulary!(
    /// What to do about a broken link over this relation.
    OnBroken { Reconstruct = "reconstruct", Ignore = "ignore", Cache = "cache" }
);

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Backup {
    pub method: Option<BackupMethod>,
    /// Seconds between two backups.
    pub interval_s: Option<i64>,
    /// Seconds a backup typically takes: the write freeze a lockstep group pays.
    pub duration_s: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub team: Option<String>,
    pub description: Option<String>,
    pub datastore: Option<Datastore>,
    pub pattern: Option<StoragePattern>,
    pub backup: Backup,
    pub prefers: Option<Preference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub name: String,
    pub from: String,
    pub to: String,
    pub kind: RelationKind,
    pub required: bool,
    pub cached: bool,
    /// The architect's override; `None` takes the default (see [`Relation::effective_policy`]).
    pub policy: Option<Policy>,
    pub on_broken: Option<OnBroken>,
}

impl Relation {
    /// The spec's default: a required reference the source does not cache
    /// breaks on restore, so it is backed up in lockstep; anything else can
    /// be tolerated and reconciled.
    pub fn default_policy(&self) -> Policy {
        if self.required && !self.cached {
            Policy::Lockstep
        } else {
            Policy::Tolerate
        }
    }

    pub fn effective_policy(&self) -> Policy {
        self.policy.unwrap_or_else(|| self.default_policy())
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Topology {
    pub services: Vec<Service>,
    pub relations: Vec<Relation>,
}

/// Services that must be backed up together, with what that costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LockstepGroup {
    /// Stable as long as the membership is: the first member's name.
    pub id: String,
    /// Member names, sorted.
    pub services: Vec<String>,
    /// The write-freeze window: the slowest member's backup duration.
    pub backup_window_s: i64,
    /// The member whose backup sets that window.
    pub slowest: Option<String>,
    /// How the members must be backed up together.
    pub shared_method: SharedBackup,
    /// The lockstep relations that hold the group together.
    pub relations: Vec<String>,
}

/// How a group achieves a consistent backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SharedBackup {
    /// A single service: its own backup is consistent by itself.
    Independent,
    /// Every member supports point-in-time recovery: restore all to one timestamp.
    CommonPitr,
    /// Freeze writes across the group, back every member up, unfreeze.
    CoordinatedFreeze,
}

impl SharedBackup {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Independent => "independent backup",
            Self::CommonPitr => "common point-in-time recovery timestamp",
            Self::CoordinatedFreeze => "coordinated write freeze",
        }
    }
}

/// What a Backstage catalog import did: which services and relations it
/// added or updated, and every entity it left out with the reason.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub services: Vec<String>,
    pub relations: Vec<String>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub kind: String,
    pub name: String,
    pub reason: String,
}

/// The topology drawn: boxes for services, paths for relations, shaded
/// rectangles behind lockstep groups. Coordinates in SVG user units.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Picture {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<PictureNode>,
    pub edges: Vec<PictureEdge>,
    pub clusters: Vec<PictureCluster>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PictureNode {
    pub name: String,
    /// The datastore, shown under the name.
    pub label: String,
    /// Index of the service's group in the groups list (for its colour).
    pub group: usize,
    /// Top-left corner and size.
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PictureEdge {
    pub relation: String,
    /// SVG path data, from the source's border to the target's.
    pub path: String,
    pub lockstep: bool,
    pub mirror: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PictureCluster {
    pub group: usize,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Service names are slugs: they appear in URLs and in the services' own
/// configuration.
pub fn is_slug(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Seconds as the shortest readable duration: `90` → `1m30s`, `86400` → `1d`.
pub fn format_duration(seconds: i64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Parses `1d`, `24h`, `1h30m`, `90s`, `45m` into seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let size = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(size)?)?;
        number.clear();
    }
    if !number.is_empty() {
        return None; // a trailing number without a unit is ambiguous
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_through_their_shortest_form() {
        for (text, seconds) in [
            ("1d", 86_400),
            ("1h30m", 5_400),
            ("90s", 90),
            ("2d3h4m5s", 183_845),
        ] {
            assert_eq!(parse_duration(text), Some(seconds), "{text}");
        }
        assert_eq!(format_duration(5_400), "1h30m");
        assert_eq!(format_duration(90), "1m30s");
        assert_eq!(parse_duration(&format_duration(183_845)), Some(183_845));
    }

    #[test]
    fn malformed_durations_are_rejected() {
        for text in ["", "10", "1x", "h", "1h30"] {
            assert_eq!(parse_duration(text), None, "{text:?}");
        }
    }

    #[test]
    fn only_required_uncached_relations_default_to_lockstep() {
        let mut relation = Relation {
            name: "order.customer".into(),
            from: "orders".into(),
            to: "customers".into(),
            kind: RelationKind::Reference,
            required: true,
            cached: false,
            policy: None,
            on_broken: None,
        };
        assert_eq!(relation.effective_policy(), Policy::Lockstep);
        relation.cached = true;
        assert_eq!(relation.effective_policy(), Policy::Tolerate);
        relation.cached = false;
        relation.required = false;
        assert_eq!(relation.effective_policy(), Policy::Tolerate);
        relation.policy = Some(Policy::Lockstep);
        assert_eq!(relation.effective_policy(), Policy::Lockstep);
    }

    #[test]
    fn names_must_be_slugs() {
        assert!(is_slug("order-service_2"));
        for bad in ["", "Orders", "-x", "a b", "ü"] {
            assert!(!is_slug(bad), "{bad:?}");
        }
    }

    #[test]
    fn choices_read_as_a_sentence() {
        assert_eq!(Policy::choices(), "lockstep or tolerate");
        assert_eq!(
            StoragePattern::parse("event-sourced"),
            Some(StoragePattern::EventSourced)
        );
        assert_eq!(StoragePattern::parse("eventsourced"), None);
    }
}
