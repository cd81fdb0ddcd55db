//! The exposure series as the API and the groups page see it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One service's drill of one measurement run: a restore to its latest
/// backup, back at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct ExposurePoint {
    /// When the run measured it (every service of a run shares it).
    pub at: DateTime<Utc>,
    pub service: String,
    /// The backup drilled to (null once that backup is deleted).
    pub backup_id: Option<i64>,
    pub backup_taken_at: DateTime<Utc>,
    /// Findings per kind, every kind present.
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub counts: BTreeMap<String, i64>,
    /// Findings per relation name and kind (only relations with findings,
    /// except the one a `relation=` filter asks for).
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub by_relation: BTreeMap<String, BTreeMap<String, i64>>,
}

impl ExposurePoint {
    pub fn total(&self) -> i64 {
        self.counts.values().sum()
    }
}

/// Which points `GET /api/v1/exposure` returns.
#[derive(Debug, Clone, Default)]
pub struct ExposureFilter {
    pub service: Option<String>,
    /// The points of the services at either end of this relation, their
    /// `by_relation` narrowed to it.
    pub relation: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// The newest runs, added up for the groups page's charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExposureOverview {
    /// The runs, oldest first.
    pub runs: Vec<DateTime<Utc>>,
    /// Per service, the findings its drill counted in each run (aligned
    /// with `runs`; zero where it was not measured).
    pub services: BTreeMap<String, Vec<i64>>,
    /// Per relation, per restored service, its findings in each run.
    pub relations: BTreeMap<String, BTreeMap<String, Vec<i64>>>,
}

impl ExposureOverview {
    /// Per run, the sum of the series of `names` in `series`.
    pub fn sum<'a>(
        &self,
        series: &BTreeMap<String, Vec<i64>>,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Vec<i64> {
        let mut total = vec![0; self.runs.len()];
        for values in names.into_iter().filter_map(|n| series.get(n)) {
            for (sum, v) in total.iter_mut().zip(values) {
                *sum += v;
            }
        }
        total
    }

    /// Per run, the findings a restore of either end of `relation` would
    /// leave on it.
    pub fn relation(&self, relation: &str) -> Vec<i64> {
        self.relations
            .get(relation)
            .map(|by_service| self.sum(by_service, by_service.keys()))
            .unwrap_or_else(|| vec![0; self.runs.len()])
    }

    /// Builds the overview from the points of the newest runs.
    pub fn from_points(points: &[ExposurePoint]) -> Self {
        let mut runs: Vec<DateTime<Utc>> = points.iter().map(|p| p.at).collect();
        runs.sort();
        runs.dedup();
        let index = |at: DateTime<Utc>| runs.binary_search(&at).unwrap_or_default();
        let zeros = vec![0; runs.len()];
        let mut overview = ExposureOverview::default();
        for p in points {
            let run = index(p.at);
            overview
                .services
                .entry(p.service.clone())
                .or_insert_with(|| zeros.clone())[run] += p.total();
            for (relation, counts) in &p.by_relation {
                overview
                    .relations
                    .entry(relation.clone())
                    .or_default()
                    .entry(p.service.clone())
                    .or_insert_with(|| zeros.clone())[run] += counts.values().sum::<i64>();
            }
        }
        overview.runs = runs;
        overview
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(minute: u32, service: &str, relation: &str, n: i64) -> ExposurePoint {
        let at = format!("2026-12-01T10:{minute:02}:00Z").parse().unwrap();
        ExposurePoint {
            at,
            service: service.into(),
            backup_id: Some(1),
            backup_taken_at: at,
            counts: [("broken_link".to_string(), n)].into(),
            by_relation: [(
                relation.to_string(),
                [("broken_link".to_string(), n)].into(),
            )]
            .into(),
        }
    }

    #[test]
    fn an_overview_aligns_services_and_relations_with_the_runs() {
        let points = [
            point(0, "customers", "order.customer", 4),
            point(0, "orders", "order.customer", 1),
            // orders was not measured in the second run
            point(5, "customers", "order.customer", 6),
        ];
        let overview = ExposureOverview::from_points(&points);
        assert_eq!(overview.runs.len(), 2);
        assert_eq!(overview.services["orders"], vec![1, 0]);
        assert_eq!(overview.relation("order.customer"), vec![5, 6]);
        assert_eq!(overview.relation("unknown"), vec![0, 0]);
        let members = ["customers".to_string(), "orders".to_string()];
        assert_eq!(overview.sum(&overview.services, &members), vec![5, 6]);
    }
}
