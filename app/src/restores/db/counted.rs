//! A restore's or drill's findings counted per kind, referring service
//! and relation (one row of the count query each), and the totals the
//! restore history and the exposure series keep of them.

use std::collections::BTreeMap;

use crate::error::AppError;
use crate::queue::vocabulary::FindingKind;
use crate::restores::model::ServiceCount;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Counted {
    pub kind: String,
    /// The referring service (of an orphan: the service that still holds
    /// the target).
    pub service: String,
    pub relation: Option<String>,
    pub count: i64,
}

/// Findings per kind, every kind of a restore present (zero included).
pub fn per_kind(rows: &[Counted]) -> BTreeMap<String, i64> {
    let mut counts: BTreeMap<String, i64> = FindingKind::OF_RESTORES
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    for row in rows {
        *counts.entry(row.kind.clone()).or_default() += row.count;
    }
    counts
}

/// Findings per kind and referring service, ordered by kind and service.
pub fn per_service(rows: &[Counted]) -> Result<Vec<ServiceCount>, AppError> {
    let mut merged: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for row in rows {
        *merged.entry((&row.kind, &row.service)).or_default() += row.count;
    }
    merged
        .into_iter()
        .map(|((kind, service), count)| {
            Ok(ServiceCount {
                service: service.to_owned(),
                kind: FindingKind::try_from(kind.to_owned()).map_err(|_| AppError::Internal)?,
                count,
            })
        })
        .collect()
}

/// Findings per relation (by name) and kind; only the kinds it has.
pub fn per_relation(rows: &[Counted]) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut relations: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for row in rows {
        if let Some(relation) = &row.relation {
            *relations
                .entry(relation.clone())
                .or_default()
                .entry(row.kind.clone())
                .or_default() += row.count;
        }
    }
    relations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, service: &str, relation: &str, count: i64) -> Counted {
        Counted {
            kind: kind.into(),
            service: service.into(),
            relation: Some(relation.into()),
            count,
        }
    }

    #[test]
    fn rows_of_one_service_and_kind_add_up_across_relations() {
        let rows = [
            row("broken_link", "orders", "order.customer", 3),
            row("broken_link", "orders", "order.billing", 2),
            row("orphan_candidate", "payments", "payment.order", 1),
        ];
        assert_eq!(per_kind(&rows)["broken_link"], 5);
        assert_eq!(per_kind(&rows)["missing_state"], 0);
        let services = per_service(&rows).unwrap();
        assert_eq!(services.len(), 2);
        assert_eq!(
            (services[0].service.as_str(), services[0].count),
            ("orders", 5)
        );
        let relations = per_relation(&rows);
        assert_eq!(relations["order.billing"]["broken_link"], 2);
        assert_eq!(relations["payment.order"].len(), 1);
    }
}
