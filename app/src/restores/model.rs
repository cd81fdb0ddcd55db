//! What a restore or drill reports, shared by the server and the browser.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::queue::vocabulary::FindingKind;

/// From the time the restored state was last known (the backup) to the first
/// write after recovery; open (`to` null) until that write arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Amnesia {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// Findings of one kind raised against one referring service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceCount {
    pub service: String,
    pub kind: FindingKind,
    pub count: i64,
}

/// A recorded restore or drill: the response of `POST …/restores` and a row
/// of the restore history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreReport {
    pub id: i64,
    pub service: String,
    pub drill: bool,
    pub backup_id: Option<i64>,
    pub backup_taken_at: DateTime<Utc>,
    pub restored_at: DateTime<Utc>,
    pub epoch: i32,
    pub amnesia: Amnesia,
    /// Every kind, zero included.
    pub counts: BTreeMap<String, i64>,
    pub by_service: Vec<ServiceCount>,
    /// Its findings still to be worked (open or claimed): the others were
    /// decided, or verified by the inventory.
    #[serde(default)]
    pub left: i64,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    /// How long each step of the computation took (only in the response
    /// that recorded it; the history does not keep them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepTime>,
}

/// One step of a restore's or drill's computation and its duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepTime {
    pub label: String,
    pub ms: f64,
}

/// Where a running restore or drill is: step `step` of `steps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreProgress {
    pub drill: bool,
    pub step: u32,
    pub steps: u32,
    pub label: String,
    pub elapsed_ms: u64,
}

impl RestoreReport {
    pub fn total(&self) -> i64 {
        self.counts.values().sum()
    }
}

/// What a collected snapshot showed: entities Lockstep had that are gone
/// without a delete (`vanished`), and entities back at an older version than
/// Lockstep had seen (`regressed`); `first_lost_at` is the oldest write the
/// regression lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub vanished: i64,
    pub regressed: i64,
    pub first_lost_at: DateTime<Utc>,
}

/// A restore Lockstep suspects from a collected snapshot (spec §9), with the
/// recorded backup it most likely came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct SuspectedRestore {
    pub id: i64,
    pub service: String,
    /// When a snapshot first showed the regression: the restore's
    /// `restored_at` when it is recorded.
    pub seen_at: DateTime<Utc>,
    /// The latest snapshot that still showed it.
    pub last_seen_at: DateTime<Utc>,
    pub backup_id: Option<i64>,
    /// When that backup was taken.
    pub taken_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub evidence: Evidence,
    /// `open`, `recorded` (as `restore_id`) or `dismissed`.
    pub status: String,
    pub restore_id: Option<i64>,
}

/// What happened around a restore, for its pictures: when the backup was
/// taken and the restore recorded, when the lost writes had been made, and
/// how its findings have been worked off since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreStory {
    pub id: i64,
    pub service: String,
    pub backup_taken_at: DateTime<Utc>,
    pub restored_at: DateTime<Utc>,
    /// When the first write of the new epoch ended the service's amnesia.
    pub amnesia_to: Option<DateTime<Utc>>,
    /// The times of the writes the restore lost (of its service's lost
    /// branch), at most `STORY_SAMPLES` of them, evenly taken.
    pub lost_writes: Vec<DateTime<Utc>>,
    /// How many writes it lost in all.
    pub lost_total: i64,
    /// When Lockstep saw each repaired finding's condition gone (at most
    /// `STORY_SAMPLES`, evenly taken).
    pub repairs: Vec<DateTime<Utc>>,
    /// The findings over time, from the restore until now.
    pub burndown: Vec<BurndownPoint>,
}

/// How many times a story samples of its lost writes and repairs.
pub const STORY_SAMPLES: i64 = 400;

/// The restore's findings at one moment: still pending, verified by
/// Lockstep, decided by an operator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurndownPoint {
    pub at: DateTime<Utc>,
    pub pending: i64,
    pub verified: i64,
    pub decided: i64,
}

/// What each of a service's newest backups would break if it were restored
/// to it now, fewest findings first, and the consistent alternative the BAC
/// theorem offers: its whole lockstep group restored to one common point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorePlan {
    pub service: String,
    pub backups: Vec<BackupOption>,
    /// None when the service is alone in its group.
    pub group: Option<GroupAlternative>,
}

/// One backup, drilled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupOption {
    pub backup_id: i64,
    pub taken_at: DateTime<Utc>,
    pub label: Option<String>,
    /// Findings per kind, every kind present.
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
    /// The service's own writes after the backup, which the restore loses
    /// (entity and reference versions).
    pub writes_lost: i64,
}

/// Every member of the group back to one moment: no finding between the
/// members, paid for in the writes each loses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GroupAlternative {
    pub members: Vec<String>,
    /// The newest moment every member can go back to: the oldest of the
    /// members' newest backups (point-in-time members go to any moment).
    /// None when a member has no backup at all.
    pub point: Option<DateTime<Utc>>,
    pub restores: Vec<MemberRestore>,
    /// Members without a backup at or before the point.
    pub without_backup: Vec<String>,
}

/// One member's part of a group restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberRestore {
    pub service: String,
    /// The member's backup it goes back to; None for a point-in-time
    /// recovery to the group's point itself.
    pub backup_id: Option<i64>,
    pub restore_to: DateTime<Utc>,
    pub writes_lost: i64,
}

impl RestorePlan {
    /// How many backups a plan drills (the newest).
    pub const BACKUPS: i64 = 8;
}
