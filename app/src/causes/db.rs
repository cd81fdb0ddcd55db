//! The causes' SQL: the list (a handful of rows, their counts kept by
//! `tally`), one cause, and a decision on all its pending findings.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::model::{CauseCounts, CauseFilter, CauseSummary};
use crate::error::AppError;
use crate::queue::model::{Action, ActionInput, BulkOutcome, FindingKind, Selection, Strategy};

/// The most causes one list returns.
pub const MAX_CAUSES: i64 = 1_000;

#[derive(sqlx::FromRow)]
struct CauseRow {
    cause_id: i64,
    target_service_id: i64,
    restore_id: Option<i64>,
    scan_id: Option<i64>,
    #[sqlx(try_from = "String")]
    kind: FindingKind,
    relation: Option<String>,
    source_service: String,
    target_service: String,
    #[sqlx(try_from = "String")]
    strategy: Strategy,
    open: i32,
    claimed: i32,
    resolved: i32,
    verified: i32,
    accepted: i32,
    dismissed: i32,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<CauseRow> for CauseSummary {
    fn from(r: CauseRow) -> Self {
        CauseSummary {
            id: r.cause_id,
            restore_id: r.restore_id,
            scan_id: r.scan_id,
            kind: r.kind,
            relation: r.relation,
            source_service: r.source_service,
            target_service: r.target_service,
            strategy: r.strategy,
            counts: CauseCounts {
                open: r.open.into(),
                claimed: r.claimed.into(),
                resolved: r.resolved.into(),
                verified: r.verified.into(),
                accepted: r.accepted.into(),
                dismissed: r.dismissed.into(),
            },
            first_at: r.created_at,
            last_at: r.updated_at,
        }
    }
}

const SELECT: &str = "select c.cause_id, c.target_service_id, c.restore_id, c.scan_id, c.kind,
        rel.name as relation, src.name as source_service, tgt.name as target_service, c.strategy,
        c.open, c.claimed, c.resolved, c.verified, c.accepted, c.dismissed, c.created_at, c.updated_at
    from cause c
    join service src on src.service_id = c.source_service_id
    join service tgt on tgt.service_id = c.target_service_id
    left join relation rel on rel.relation_id = c.relation_id";

/// The causes under the filter, biggest first.
pub async fn list(db: &PgPool, filter: &CauseFilter) -> Result<Vec<CauseSummary>, AppError> {
    let mut q = QueryBuilder::<Postgres>::new(SELECT);
    q.push(" where true");
    if let Some(restore) = filter.restore {
        q.push(" and c.restore_id = ").push_bind(restore);
    }
    if let Some(scan) = filter.scan {
        q.push(" and c.scan_id = ").push_bind(scan);
    }
    if let Some(status) = &filter.status {
        let bucket = super::tally::BUCKETS
            .iter()
            .find(|b| *b == status)
            .ok_or_else(|| AppError::Invalid {
                field: "status".into(),
                message: format!(
                    "unknown status {status:?}: one of {}",
                    super::tally::BUCKETS.join(", ")
                ),
            })?;
        q.push(format!(" and c.{bucket} > 0"));
    }
    q.push(
        " order by c.open + c.claimed + c.resolved + c.verified + c.accepted + c.dismissed desc,
                   c.cause_id limit ",
    )
    .push_bind(MAX_CAUSES);
    let rows: Vec<CauseRow> = q.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(CauseSummary::from).collect())
}

/// One cause, with the service its findings are kept under.
pub async fn get(db: &PgPool, id: i64) -> Result<(CauseSummary, i64), AppError> {
    let row: CauseRow = sqlx::query_as(&format!("{SELECT} where c.cause_id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("cause {id}")))?;
    let target_service_id = row.target_service_id;
    Ok((row.into(), target_service_id))
}

/// One decision (resolve, accept or dismiss) for every pending finding of
/// the cause, in one statement, each with its audit row. Findings another
/// operator has claimed are left to them and counted as skipped.
pub async fn decide(
    db: &PgPool,
    id: i64,
    action: Action,
    input: &ActionInput,
    actor: &str,
) -> Result<BulkOutcome, AppError> {
    if !matches!(action, Action::Resolve | Action::Accept | Action::Dismiss) {
        return Err(AppError::NotFound(format!(
            "decision {:?} on a cause: resolve, accept or dismiss",
            action.as_str()
        )));
    }
    get(db, id).await?;
    crate::queue::db::bulk(db, &Selection::Cause(id), action, input, actor).await
}
