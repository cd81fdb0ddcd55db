//! The reconciliation queue's vocabulary, shared by the server and the
//! browser: a finding in the spec's JSON shape (§6), the queue's filter and
//! the actions an operator takes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::vocabulary::{FindingKind, FindingStatus, Strategy};
use crate::error::AppError;

use crate::restores::model::Amnesia;

/// One side of a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Side {
    pub service: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Finding {
    pub id: i64,
    pub restore_id: Option<i64>,
    pub scan_id: Option<i64>,
    pub kind: FindingKind,
    /// The relation's name.
    pub relation: Option<String>,
    pub source: Side,
    pub target: Side,
    pub observed_at: Option<DateTime<Utc>>,
    pub target_updated_at: Option<DateTime<Utc>>,
    pub amnesia: Option<Amnesia>,
    pub strategy: Strategy,
    pub cached: Option<serde_json::Value>,
    pub status: FindingStatus,
    pub assignee: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The restore or scan that raised it, then every later one that met
    /// the same condition (spec §5b), oldest first.
    #[serde(default)]
    pub causes: Vec<Cause>,
    /// Who resolved it: `operator`, or Lockstep itself (`inventory`,
    /// `restore`) when it saw the condition gone.
    pub resolved_by: Option<String>,
    /// When Lockstep saw the condition gone.
    pub verified_at: Option<DateTime<Utc>>,
}

impl Finding {
    /// Resolved by Lockstep, not by a person.
    pub fn verified(&self) -> bool {
        matches!(self.resolved_by.as_deref(), Some("inventory" | "restore"))
    }
}

/// A restore or scan that found a finding's condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Cause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// One entry of a finding's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub strategy: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingDetail {
    /// Flattened: the API's finding shape, plus its audit trail.
    #[serde(flatten)]
    pub finding: Finding,
    pub audit: Vec<AuditEntry>,
}

/// Which findings a page, a count, a bulk action or an export covers. Every
/// field is optional; an empty filter covers the whole queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Filter {
    pub restore: Option<i64>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Either side's service.
    pub service: Option<String>,
    pub relation: Option<String>,
    /// One cause's findings (spec §8).
    #[serde(default)]
    pub cause: Option<i64>,
}

/// Keyset pagination over finding ids, oldest or newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// Start after this id (exclusive).
    pub after: Option<i64>,
    pub limit: Option<i64>,
    pub newest_first: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingPage {
    pub items: Vec<Finding>,
    /// The `after` of the next page; null on the last one.
    pub next: Option<i64>,
}

/// What an operator does to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Claim,
    Resolve,
    Accept,
    Dismiss,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Claim,
        Action::Resolve,
        Action::Accept,
        Action::Dismiss,
        Action::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Claim => "claim",
            Action::Resolve => "resolve",
            Action::Accept => "accept",
            Action::Dismiss => "dismiss",
            Action::Reopen => "reopen",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The status the finding ends in.
    pub fn to_status(self) -> &'static str {
        match self {
            Action::Claim => "claimed",
            Action::Resolve => "resolved",
            Action::Accept => "accepted",
            Action::Dismiss => "dismissed",
            Action::Reopen => "open",
        }
    }

    /// The statuses the action applies to: claim, resolve, accept and
    /// dismiss work open or claimed findings; reopen undoes a decision or
    /// releases a claim.
    pub fn from_statuses(self) -> &'static [&'static str] {
        match self {
            Action::Claim => &["open", "claimed"],
            Action::Resolve | Action::Accept | Action::Dismiss => &["open", "claimed"],
            Action::Reopen => &["claimed", "resolved", "accepted", "dismissed"],
        }
    }
}

/// The optional body of an action (`{"note"?, "strategy"?}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionInput {
    pub note: Option<String>,
    pub strategy: Option<String>,
}

/// Findings per kind and status under a filter (the status filter aside,
/// so the counts show what each status would give).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CountRow {
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: FindingKind,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: FindingStatus,
    pub count: i64,
}

/// The queue's filter and page from a query string's values (`value` of
/// a parameter's name), as the API and the queue page both read them: an
/// empty value is no value, and a bad one is a 422 that names it.
pub fn read_query(value: impl Fn(&str) -> Option<String>) -> Result<(Filter, Page), AppError> {
    let text = |name: &str| value(name).filter(|v| !v.is_empty());
    let number = |name: &str| -> Result<Option<i64>, AppError> {
        text(name)
            .map(|v| {
                v.parse().map_err(|_| AppError::Invalid {
                    field: name.into(),
                    message: format!("{v:?} is not a number"),
                })
            })
            .transpose()
    };
    let newest_first = match text("order").as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(AppError::Invalid {
                field: "order".into(),
                message: format!("{other:?}: asc or desc"),
            })
        }
    };
    let filter = Filter {
        restore: number("restore")?,
        kind: text("kind"),
        status: text("status"),
        service: text("service"),
        relation: text("relation"),
        cause: number("cause")?,
    };
    let page = Page {
        after: number("after")?,
        limit: number("limit")?,
        newest_first,
    };
    Ok((filter, page))
}

/// Which findings a bulk action covers: a selection, or a whole filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Selection {
    Ids(Vec<i64>),
    Filter(Filter),
    /// The pending (open or claimed) findings of a cause (spec §8).
    Cause(i64),
}

/// The result of a bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    pub changed: i64,
    /// Findings left alone: another operator holds them, or the action does
    /// not apply to their status.
    pub skipped: i64,
}
