//! What the inventory pages show, shared by the server and the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One service's line in the inventory overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ServiceInventory {
    pub name: String,
    /// Live (not deleted) entities.
    pub entities: i64,
    /// Live references this service holds.
    pub outgoing: i64,
    /// Live references other services hold into it.
    pub incoming: i64,
    pub last_event: Option<DateTime<Utc>>,
    pub backups: i64,
}

/// Live references over one relation, seen from one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RelationCount {
    pub relation: String,
    /// The service at the other end.
    pub other: String,
    pub outgoing: bool,
    pub references: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct BackupRow {
    pub id: i64,
    pub taken_at: DateTime<Utc>,
    pub epoch: i32,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub summary: ServiceInventory,
    pub relations: Vec<RelationCount>,
    pub backups: Vec<BackupRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct EntityVersion {
    pub updated_at: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    pub epoch: i32,
    pub deleted: bool,
    pub data: Option<serde_json::Value>,
}

/// A live reference into the entity: who holds it, what they saw, and the
/// copy they keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Referrer {
    pub service: String,
    pub key: String,
    pub relation: String,
    pub observed_at: Option<DateTime<Utc>>,
    pub since: DateTime<Utc>,
    pub cache: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityDetail {
    pub service: String,
    pub key: String,
    pub dependents: i32,
    pub to_delete: bool,
    /// Newest first.
    pub versions: Vec<EntityVersion>,
    pub referrers: Vec<Referrer>,
}

/// Where a service's collector (`lockstep collect`) is, as it last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct CollectorStatus {
    pub service: String,
    /// The collector's name (its host and config, by default).
    pub collector: String,
    pub last_seen_at: DateTime<Utc>,
    /// Rows it has reported in all.
    pub rows_sent: i64,
    /// How far Lockstep was behind the service's database at the last
    /// report: from the moment its last pass read to Lockstep's acknowledgement.
    pub lag_seconds: Option<f64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Its resume point per source, opaque to Lockstep.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub watermarks: serde_json::Value,
}
