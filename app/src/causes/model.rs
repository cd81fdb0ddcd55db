//! A cause (spec §8) as the API and the queue page show it, and the shapes
//! of its repair kit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::queue::model::{FindingKind, Strategy};

/// The findings of one restore or scan that share a kind, a relation, the
/// two services and the strategy suggested when they were raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CauseSummary {
    pub id: i64,
    pub restore_id: Option<i64>,
    pub scan_id: Option<i64>,
    pub kind: FindingKind,
    /// The relation's name (null when the relation was removed since).
    pub relation: Option<String>,
    pub source_service: String,
    pub target_service: String,
    /// The strategy suggested when the findings were raised; an operator
    /// may resolve a finding with another one and it stays in its cause.
    pub strategy: Strategy,
    pub counts: CauseCounts,
    /// When the cause was raised.
    pub first_at: DateTime<Utc>,
    /// When one of its findings last changed.
    pub last_at: DateTime<Utc>,
}

/// How many of a cause's findings are in each state. `resolved` counts the
/// operators' resolutions, `verified` those Lockstep made itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CauseCounts {
    pub open: i64,
    pub claimed: i64,
    pub resolved: i64,
    pub verified: i64,
    pub accepted: i64,
    pub dismissed: i64,
}

impl CauseCounts {
    pub fn total(&self) -> i64 {
        self.open + self.claimed + self.resolved + self.verified + self.accepted + self.dismissed
    }

    /// The findings still waiting for someone (open or claimed).
    pub fn pending(&self) -> i64 {
        self.open + self.claimed
    }

    /// The bar's segments in the order drawn, each with its count.
    pub fn segments(&self) -> [(&'static str, i64); 6] {
        [
            ("verified", self.verified),
            ("resolved", self.resolved),
            ("accepted", self.accepted),
            ("dismissed", self.dismissed),
            ("claimed", self.claimed),
            ("open", self.open),
        ]
    }
}

/// Which causes a list covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CauseFilter {
    pub restore: Option<i64>,
    pub scan: Option<i64>,
    /// Causes with at least one finding in this state (a status, or
    /// `verified`).
    pub status: Option<String>,
}

/// What a repair kit lists for each key, by the kind and strategy of its
/// cause (spec §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KitShape {
    /// `cache`: the newest cached copy of each lost target, to re-apply
    /// with its observed time: `{"key","observed","data"}`.
    CachedCopy,
    /// `replay`: each lost write as the referrers last saw it (its time,
    /// and their copy when they keep one), `{"key","at","data"}`.
    LostWrite,
    /// Missing state: the surviving counterpart of each lost key,
    /// `{"key","at","data"}`.
    Counterpart,
    /// `reconstruct` (and the rest): who refers to each missing key,
    /// `{"key","referrers":[{"service","key"}]}`.
    Referrers,
    /// Orphan candidates: `{"key","last_referrer":{"service","key"}}`.
    LastReferrer,
}

impl KitShape {
    pub fn of(kind: FindingKind, strategy: Strategy) -> KitShape {
        match (kind, strategy) {
            (FindingKind::OrphanCandidate, _) => KitShape::LastReferrer,
            (FindingKind::MissingState, _) => KitShape::Counterpart,
            (_, Strategy::Replay) => KitShape::LostWrite,
            (_, Strategy::Cache) => KitShape::CachedCopy,
            _ => KitShape::Referrers,
        }
    }

    /// What the owner of the damaged side does with the kit's lines.
    pub fn instructions(self, service: &str) -> String {
        match self {
            KitShape::CachedCopy => format!(
                "Re-apply each line to {service} with its `observed` time (an entity event with \
                 `at` = `observed`); Lockstep verifies each finding as the write arrives."
            ),
            KitShape::LostWrite => format!(
                "Replay each key's lost write in {service} (its time is `at`, the referrers' copy \
                 `data`); Lockstep verifies each finding as the write arrives."
            ),
            KitShape::Counterpart => format!(
                "Re-create each key in {service} from its surviving counterpart (`at`, `data`); \
                 Lockstep verifies each finding as the write arrives."
            ),
            KitShape::Referrers => format!(
                "Reconstruct each key in {service} from what its referrers hold, or have them \
                 remove the references; Lockstep verifies each finding as either arrives."
            ),
            KitShape::LastReferrer => format!(
                "Nothing refers to these entities of {service} any more: delete each, or have \
                 something refer to it again; Lockstep verifies each finding as it changes."
            ),
        }
    }
}

/// A kit's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KitFormat {
    Ndjson,
    Csv,
}

impl KitFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            KitFormat::Ndjson => "application/x-ndjson",
            KitFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            KitFormat::Ndjson => "ndjson",
            KitFormat::Csv => "csv",
        }
    }

    /// From a `format` parameter (`ndjson` or `csv`), else from an
    /// `Accept` header (NDJSON when it accepts anything); None when
    /// neither is offered (406).
    pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Option<KitFormat> {
        if let Some(format) = format {
            return match format {
                "ndjson" => Some(KitFormat::Ndjson),
                "csv" => Some(KitFormat::Csv),
                _ => None,
            };
        }
        let Some(accept) = accept else {
            return Some(KitFormat::Ndjson);
        };
        // The first acceptable range, quality factors aside: clients of a
        // download name the one they want.
        accept
            .split(',')
            .map(|range| range.split(';').next().unwrap_or("").trim())
            .find_map(|range| match range {
                "application/x-ndjson" | "application/*" | "*/*" => Some(KitFormat::Ndjson),
                "text/csv" | "text/*" => Some(KitFormat::Csv),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kit_is_offered_as_ndjson_or_csv_and_nothing_else() {
        let n = Some(KitFormat::Ndjson);
        let c = Some(KitFormat::Csv);
        assert_eq!(KitFormat::negotiate(None, None), n);
        assert_eq!(KitFormat::negotiate(None, Some("*/*")), n);
        assert_eq!(KitFormat::negotiate(None, Some("text/csv")), c);
        assert_eq!(
            KitFormat::negotiate(None, Some("application/json, text/csv;q=0.5")),
            c
        );
        assert_eq!(KitFormat::negotiate(None, Some("application/x-ndjson")), n);
        assert_eq!(KitFormat::negotiate(None, Some("application/xml")), None);
        assert_eq!(
            KitFormat::negotiate(Some("csv"), Some("application/xml")),
            c
        );
        assert_eq!(KitFormat::negotiate(Some("xlsx"), None), None);
    }

    #[test]
    fn each_kind_and_strategy_has_its_kit() {
        use FindingKind::*;
        assert_eq!(
            KitShape::of(OrphanCandidate, Strategy::Decide),
            KitShape::LastReferrer
        );
        assert_eq!(
            KitShape::of(MissingState, Strategy::Replay),
            KitShape::Counterpart
        );
        assert_eq!(
            KitShape::of(StaleReference, Strategy::Replay),
            KitShape::LostWrite
        );
        assert_eq!(
            KitShape::of(BrokenLink, Strategy::Cache),
            KitShape::CachedCopy
        );
        assert_eq!(
            KitShape::of(BrokenLink, Strategy::Reconstruct),
            KitShape::Referrers
        );
        assert_eq!(
            KitShape::of(DanglingDelete, Strategy::Ignore),
            KitShape::Referrers
        );
    }
}
