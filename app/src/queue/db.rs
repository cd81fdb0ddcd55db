//! The queue's SQL: filtered keyset pages, counts, the audit trail, and the
//! operators' actions — each one conditional UPDATE, so two operators can
//! never both hold a finding and no decision overwrites another unseen.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::model::*;
use crate::causes::tally::tally;
use crate::download::{Chunk, Chunks, CsvDownload};
use crate::error::AppError;
use crate::restores::model::Amnesia;

/// The columns of a finding as the API shows it; `f` is the finding.
const COLUMNS: &str = "f.finding_id, f.restore_id, f.scan_id, f.kind, rel.name as relation,
    src.name as source_service, f.source_key, tgt.name as target_service, f.target_key,
    f.observed_at, f.target_updated_at, f.amnesia_from, f.amnesia_to, f.strategy, f.cached,
    f.status, f.assignee, f.note, f.created_at, f.resolved_by, f.verified_at";
const JOINS: &str = "join service src on src.service_id = f.source_service_id
    join service tgt on tgt.service_id = f.target_service_id
    left join relation rel on rel.relation_id = f.relation_id";

/// The page size when the caller gives none, and the most it may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(sqlx::FromRow)]
struct FindingRow {
    finding_id: i64,
    restore_id: Option<i64>,
    scan_id: Option<i64>,
    #[sqlx(try_from = "String")]
    kind: FindingKind,
    relation: Option<String>,
    source_service: String,
    source_key: String,
    target_service: String,
    target_key: String,
    observed_at: Option<DateTime<Utc>>,
    target_updated_at: Option<DateTime<Utc>>,
    amnesia_from: Option<DateTime<Utc>>,
    amnesia_to: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    strategy: Strategy,
    cached: Option<serde_json::Value>,
    #[sqlx(try_from = "String")]
    status: FindingStatus,
    assignee: Option<String>,
    note: Option<String>,
    created_at: DateTime<Utc>,
    resolved_by: Option<String>,
    verified_at: Option<DateTime<Utc>>,
}

impl From<FindingRow> for Finding {
    fn from(r: FindingRow) -> Self {
        Finding {
            id: r.finding_id,
            restore_id: r.restore_id,
            scan_id: r.scan_id,
            kind: r.kind,
            relation: r.relation,
            source: Side {
                service: r.source_service,
                key: r.source_key,
            },
            target: Side {
                service: r.target_service,
                key: r.target_key,
            },
            observed_at: r.observed_at,
            target_updated_at: r.target_updated_at,
            amnesia: r.amnesia_from.map(|from| Amnesia {
                from,
                to: r.amnesia_to,
            }),
            strategy: r.strategy,
            cached: r.cached,
            status: r.status,
            assignee: r.assignee,
            causes: vec![Cause {
                restore_id: r.restore_id,
                scan_id: r.scan_id,
                at: r.created_at,
            }],
            note: r.note,
            created_at: r.created_at,
            resolved_by: r.resolved_by,
            verified_at: r.verified_at,
        }
    }
}

/// A finding as a page or its detail shows it: its row, and the restores
/// and scans that found its condition again after the one that raised it
/// (`LATER_CAUSES`), read in the same statement.
#[derive(sqlx::FromRow)]
struct ShownRow {
    #[sqlx(flatten)]
    row: FindingRow,
    later_causes: sqlx::types::Json<Vec<Cause>>,
}

/// The later causes as a JSON array, oldest first, for `ShownRow`: one
/// probe of `finding_cause` per row, in the statement that reads the rows
/// (a page used to spend a third round trip on them).
const LATER_CAUSES: &str = "coalesce((select json_agg(json_build_object(
        'restore_id', c.restore_id, 'scan_id', c.scan_id, 'at', c.at) order by c.at)
    from finding_cause c where c.finding_id = f.finding_id), '[]') as later_causes";

impl From<ShownRow> for Finding {
    fn from(shown: ShownRow) -> Self {
        let mut finding = Finding::from(shown.row);
        finding.causes.extend(shown.later_causes.0);
        finding
    }
}

/// Checks a filter's enumerated values, so a typo is a 422 and not an
/// empty page.
pub fn validate(filter: &Filter) -> Result<(), AppError> {
    // PostgreSQL cannot compare text holding a NUL character: refused here,
    // before a streamed export has sent its headers (the database's error
    // would cut the download short instead of answering 422).
    for (field, value) in [("service", &filter.service), ("relation", &filter.relation)] {
        if value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(AppError::Invalid {
                field: field.into(),
                message: "must not contain a NUL character".into(),
            });
        }
    }
    one_of(
        "kind",
        filter.kind.as_deref(),
        FindingKind::parse,
        FindingKind::names,
    )?;
    one_of(
        "status",
        filter.status.as_deref(),
        FindingStatus::parse,
        FindingStatus::names,
    )
}

/// 422 naming the wire names when `value` is none of them.
fn one_of<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<(), AppError> {
    match value {
        Some(v) if parse(v).is_none() => Err(AppError::Invalid {
            field: field.into(),
            message: format!("unknown {field} {v:?}: one of {}", names()),
        }),
        _ => Ok(()),
    }
}

/// Appends ` and …` for every filter field; values are always bound.
fn push_filter(q: &mut QueryBuilder<'_, Postgres>, filter: &Filter, with_status: bool) {
    if let Some(restore) = filter.restore {
        q.push(" and f.restore_id = ").push_bind(restore);
    }
    if let Some(kind) = &filter.kind {
        q.push(" and f.kind = ").push_bind(kind.clone());
    }
    if let (true, Some(status)) = (with_status, &filter.status) {
        q.push(" and f.status = ").push_bind(status.clone());
    }
    if let Some(service) = &filter.service {
        // Two index range scans (source side, target side) rather than an `or`.
        q.push(" and f.finding_id in (select finding_id from finding where source_service_id = (select service_id from service where name = ")
            .push_bind(service.clone())
            .push(") union all select finding_id from finding where target_service_id = (select service_id from service where name = ")
            .push_bind(service.clone())
            .push("))");
    }
    if let Some(cause) = filter.cause {
        q.push(" and f.cause_id = ").push_bind(cause);
    }
    if let Some(relation) = &filter.relation {
        q.push(" and f.relation_id = (select relation_id from relation where name = ")
            .push_bind(relation.clone())
            .push(")");
    }
}

pub async fn list(db: &PgPool, filter: &Filter, page: Page) -> Result<FindingPage, AppError> {
    validate(filter)?;
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    // One statement: the page's ids, a page at most from each index range
    // that serves the filter (see `ranges`), each read straight from its
    // index (see `push_range`) and merged; then their rows, names and later
    // causes. Its plan is cached per connection like any other: every range
    // leads on its index's columns and asks for that index's order, so the
    // generic plan walks the right index whatever the values (a rare kind
    // and a common one alike). Planning the ids for their values each time,
    // in a statement of their own, cost three times running them, and two
    // more round trips to the database.
    let mut q = QueryBuilder::new("with page as (select f.finding_id from (");
    for (i, (range, lead)) in ranges(filter).iter().enumerate() {
        if i > 0 {
            q.push(" union all ");
        }
        q.push("(select f.finding_id from finding f where true");
        if let [(column, service @ Lead::Service(_))] = lead.as_slice() {
            q.push(format!(" and {column} = "));
            service.push_bind(&mut q);
        }
        push_filter(&mut q, range, true);
        push_range(&mut q, lead, page, limit);
        q.push(")");
    }
    q.push(") f where true");
    push_keyset(&mut q, page, limit);
    let order = if page.newest_first { "desc" } else { "asc" };
    q.push(format!(
        ") select {COLUMNS}, {LATER_CAUSES} from page join finding f on f.finding_id = page.finding_id
         {JOINS} order by f.finding_id {order}"
    ));
    let mut rows: Vec<ShownRow> = q.build_query_as().fetch_all(db).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.row.finding_id)
    } else {
        None
    };
    Ok(FindingPage {
        items: rows.into_iter().map(Finding::from).collect(),
        next,
    })
}

/// A value of an index column before `finding_id`.
enum Lead {
    Text(String),
    Id(i64),
    /// A service's id, looked up by its name in the statement.
    Service(String),
}

impl Lead {
    fn push_bind(&self, q: &mut QueryBuilder<'_, Postgres>) {
        match self {
            Lead::Text(text) => {
                q.push_bind(text.clone());
            }
            Lead::Id(id) => {
                q.push_bind(*id);
            }
            Lead::Service(name) => {
                q.push("(select service_id from service where name = ")
                    .push_bind(name.clone())
                    .push(")");
            }
        }
    }
}

/// The index ranges a page is merged from, each the filter it reads and
/// the columns, with their values, that lead its index (before
/// `finding_id`):
/// - a service: one range per side, on the (service, finding_id) indexes;
/// - else the cause, else the restore, else kind and status, else status;
/// - a kind alone: one range per status on the (kind, status, finding_id)
///   index. Walking the primary key and filtering on the kind read 415,883
///   rows for one deep page of broken links (351 ms) where five ranges read
///   a page each;
/// - no filter: the primary key.
fn ranges(filter: &Filter) -> Vec<(Filter, Vec<(&'static str, Lead)>)> {
    let rest = Filter {
        service: None,
        ..filter.clone()
    };
    if let Some(name) = &filter.service {
        return ["f.source_service_id", "f.target_service_id"]
            .into_iter()
            .map(|column| (rest.clone(), vec![(column, Lead::Service(name.clone()))]))
            .collect();
    }
    if let (Some(_), None, None, None) = (&rest.kind, &rest.status, rest.cause, rest.restore) {
        return FindingStatus::ALL
            .iter()
            .map(|status| {
                let range = Filter {
                    status: Some(status.as_str().to_string()),
                    ..rest.clone()
                };
                let lead = leading(&range);
                (range, lead)
            })
            .collect();
    }
    let lead = leading(&rest);
    vec![(rest, lead)]
}

/// The columns, with the filter's values, that lead the index serving a
/// range of a filter without a service.
fn leading(filter: &Filter) -> Vec<(&'static str, Lead)> {
    if let Some(cause) = filter.cause {
        return vec![("f.cause_id", Lead::Id(cause))];
    }
    if let Some(restore) = filter.restore {
        return vec![("f.restore_id", Lead::Id(restore))];
    }
    match (&filter.kind, &filter.status) {
        (Some(kind), Some(status)) => vec![
            ("f.kind", Lead::Text(kind.clone())),
            ("f.status", Lead::Text(status.clone())),
        ],
        (None, Some(status)) => vec![("f.status", Lead::Text(status.clone()))],
        _ => Vec::new(),
    }
}

/// The keyset range as one row comparison over the serving index's
/// columns, `(kind, status, finding_id) > ($kind, $status, $after)`, in that
/// index's order. With only `finding_id` to order by, PostgreSQL preferred
/// walking the primary key and filtering, blind to a queue's clustering (a
/// new restore's findings are all open, the claimed ones far in): a first
/// page of claimed stale references read 100,000 rows and took 50 ms
/// instead of 0.2 ms. (It also needs the index-only scans to look cheap:
/// see the vacuum after a restore in `restores::db::engine`.)
///
/// The comparison's values are subqueries, which the planner does not
/// look into: with the values in sight it priced the comparison by the
/// leading column's histogram, which for the last kind or status says
/// "nothing is greater", so a plan for those values looked ten times
/// cheaper than the cached plan and every such page was planned anew.
fn push_range(
    q: &mut QueryBuilder<'_, Postgres>,
    lead: &[(&'static str, Lead)],
    page: Page,
    limit: i64,
) {
    let (cmp, order, from) = if page.newest_first {
        ("<", "desc", i64::MAX)
    } else {
        (">", "asc", 0)
    };
    let columns: Vec<&str> = lead
        .iter()
        .map(|(column, _)| *column)
        .chain(["f.finding_id"])
        .collect();
    q.push(format!(" and ({}) {cmp} (", columns.join(", ")));
    for (_, value) in lead {
        q.push("(select ");
        value.push_bind(q);
        q.push("), ");
    }
    q.push("(select ")
        .push_bind(page.after.unwrap_or(from))
        .push("))");
    // The same bound on its own, for the primary key when the planner
    // walks that instead.
    if let Some(after) = page.after {
        q.push(format!(" and f.finding_id {cmp} ")).push_bind(after);
    }
    let ordering: Vec<String> = columns.iter().map(|c| format!("{c} {order}")).collect();
    q.push(format!(
        " order by {} limit {}",
        ordering.join(", "),
        limit + 1
    ));
}

/// ` and f.finding_id > after order by f.finding_id limit n+1` (or the
/// newest-first mirror): one more than the page tells whether there is a
/// next page.
fn push_keyset(q: &mut QueryBuilder<'_, Postgres>, page: Page, limit: i64) {
    let (cmp, order) = if page.newest_first {
        ("<", "desc")
    } else {
        (">", "asc")
    };
    if let Some(after) = page.after {
        q.push(format!(" and f.finding_id {cmp} ")).push_bind(after);
    }
    // The limit is written out, not bound: a cached plan priced for a
    // parameter's guessed tenth of the table looked twenty times dearer
    // than planning for the value, so PostgreSQL planned every page anew.
    q.push(format!(
        " order by f.finding_id {order} limit {}",
        limit + 1
    ));
}

pub async fn get(db: &PgPool, id: i64) -> Result<FindingDetail, AppError> {
    let finding: Finding = sqlx::query_as::<_, ShownRow>(&format!(
        "select {COLUMNS}, {LATER_CAUSES} from finding f {JOINS} where f.finding_id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("finding {id}")))?
    .into();
    let audit = sqlx::query_as::<_, AuditEntry>(
        "select actor, action, from_status, to_status, strategy, note, at
         from finding_event where finding_id = $1 order by at, finding_event_id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(FindingDetail { finding, audit })
}

/// Findings per kind and status under the filter, the status filter aside.
pub async fn counts(db: &PgPool, filter: &Filter) -> Result<Vec<CountRow>, AppError> {
    validate(filter)?;
    let mut q =
        QueryBuilder::new("select f.kind, f.status, count(*) as count from finding f where true");
    push_filter(&mut q, filter, false);
    q.push(" group by f.kind, f.status order by f.kind, f.status");
    Ok(q.build_query_as().fetch_all(db).await?)
}

fn check_strategy(input: &ActionInput) -> Result<(), AppError> {
    one_of(
        "strategy",
        input.strategy.as_deref(),
        Strategy::parse,
        Strategy::names,
    )
}

/// The SET clause of an action, after `update finding f set`. A claim and
/// every decision name the operator; a reopen frees the finding.
fn push_set(q: &mut QueryBuilder<'_, Postgres>, action: Action, input: &ActionInput, actor: &str) {
    q.push("status = ").push_bind(action.to_status());
    match action {
        Action::Reopen => {
            q.push(", assignee = null");
        }
        _ => {
            q.push(", assignee = ").push_bind(actor.to_string());
        }
    }
    // An operator's resolution is theirs; any other decision, or a
    // reopen, leaves none (and a reopened condition is pending again).
    match action {
        Action::Resolve => q.push(", resolved_by = 'operator', verified_at = null"),
        Action::Claim => q.push(""),
        _ => q.push(", resolved_by = null, verified_at = null, cleared_at = null"),
    };
    if action != Action::Claim {
        if let Some(note) = &input.note {
            q.push(", note = ").push_bind(note.clone());
        }
        if let Some(strategy) = &input.strategy {
            q.push(", strategy = ").push_bind(strategy.clone());
        }
    }
}

/// Who may act: a finding another operator has claimed is theirs until they
/// decide or release it.
fn push_allowed(q: &mut QueryBuilder<'_, Postgres>, action: Action, actor: &str) {
    q.push(" and f.status = any(")
        .push_bind(action.from_statuses().to_vec())
        .push(") and (f.status <> 'claimed' or f.assignee = ")
        .push_bind(actor.to_string())
        .push(")");
}

/// What the `changed` CTE of an action returns (from `update finding f …
/// from prior`): each finding with the status it left, and the buckets of
/// its cause it moves between.
const CHANGED: &str = " returning f.target_service_id, f.finding_id, f.cause_id,
    prior.status as from_status, finding_bucket(prior.status, prior.resolved_by) as from_bucket,
    finding_bucket(f.status, f.resolved_by) as to_bucket";

/// Appends the audit rows and the causes' counts for `changed` (see
/// `CHANGED`); selects how many changed and the first of them (0 when none).
fn push_audit(
    q: &mut QueryBuilder<'_, Postgres>,
    action: Action,
    input: &ActionInput,
    actor: &str,
    extra_column: &str,
) {
    q.push(
        "), audited as (
            insert into finding_event (target_service_id, finding_id, actor, action, from_status,
                                       to_status, strategy, note)
            select target_service_id, finding_id, ",
    )
    .push_bind(actor.to_string())
    .push(", ")
    .push_bind(action.as_str())
    .push(", from_status, ")
    .push_bind(action.to_status())
    .push(", ")
    .push_bind(input.strategy.clone())
    .push(", ")
    .push_bind(input.note.clone())
    .push(" from changed returning finding_id), ")
    .push(format!(
        "{} select count(*), coalesce(min(finding_id), 0)",
        tally("changed", "from_bucket", "to_bucket")
    ))
    .push(extra_column)
    .push(" from audited");
}

/// One action on one finding. 409 when another operator holds it, or when
/// the action does not apply to its status.
pub async fn act(
    db: &PgPool,
    id: i64,
    action: Action,
    input: &ActionInput,
    actor: &str,
) -> Result<FindingDetail, AppError> {
    check_strategy(input)?;
    let mut q = QueryBuilder::new(
        "with prior as (select finding_id, status, resolved_by from finding where finding_id = ",
    );
    q.push_bind(id)
        .push(" for update), changed as (update finding f set ");
    push_set(&mut q, action, input, actor);
    q.push(" from prior where f.finding_id = prior.finding_id");
    push_allowed(&mut q, action, actor);
    q.push(CHANGED);
    push_audit(&mut q, action, input, actor, "");
    let (changed, _): (i64, i64) = q.build_query_as().fetch_one(db).await?;
    if changed == 0 {
        let current = get(db, id).await?.finding;
        return Err(AppError::Conflict(
            match (current.status, &current.assignee) {
                (FindingStatus::Claimed, Some(holder)) if holder != actor => {
                    format!("finding {id} is claimed by {holder}")
                }
                (status, _) => format!("cannot {} a finding that is {status}", action.as_str()),
            },
        ));
    }
    notify(db).await?;
    get(db, id).await
}

/// One action on many findings in one statement. Findings another operator
/// holds, or whose status the action does not apply to, are skipped and
/// counted; rows being changed concurrently are waited for and re-checked,
/// so no decision is lost.
pub async fn bulk(
    db: &PgPool,
    selection: &Selection,
    action: Action,
    input: &ActionInput,
    actor: &str,
) -> Result<BulkOutcome, AppError> {
    check_strategy(input)?;
    let mut q = QueryBuilder::new(
        "with prior as (select f.finding_id, f.status, f.resolved_by from finding f where true",
    );
    match selection {
        Selection::Ids(ids) => {
            q.push(" and f.finding_id = any(")
                .push_bind(ids.clone())
                .push(")");
        }
        Selection::Filter(filter) => {
            validate(filter)?;
            push_filter(&mut q, filter, true);
        }
        Selection::Cause(cause) => {
            q.push(" and f.cause_id = ")
                .push_bind(*cause)
                .push(" and f.status in ('open', 'claimed')");
        }
    }
    q.push(" for update), changed as (update finding f set ");
    push_set(&mut q, action, input, actor);
    q.push(" from prior where f.finding_id = prior.finding_id");
    push_allowed(&mut q, action, actor);
    q.push(CHANGED)
        .push("), total as (select count(*) as n from prior");
    push_audit(&mut q, action, input, actor, ", (select n from total)");
    let (changed, _, total): (i64, i64, i64) = q.build_query_as().fetch_one(db).await?;
    if changed > 0 {
        notify(db).await?;
    }
    Ok(BulkOutcome {
        changed,
        skipped: total - changed,
    })
}

/// Claims the oldest open finding under the filter that no one else is
/// claiming at this instant (`skip locked`): concurrent operators each get
/// a different one.
pub async fn claim_next(
    db: &PgPool,
    filter: &Filter,
    actor: &str,
) -> Result<Option<FindingDetail>, AppError> {
    validate(filter)?;
    let mut q = QueryBuilder::new(
        "with prior as (select f.finding_id, f.status, f.resolved_by from finding f where f.status = 'open'",
    );
    push_filter(&mut q, filter, false);
    q.push(
        " order by f.finding_id limit 1 for update skip locked), changed as (update finding f set ",
    );
    push_set(&mut q, Action::Claim, &ActionInput::default(), actor);
    q.push(" from prior where f.finding_id = prior.finding_id")
        .push(CHANGED);
    push_audit(&mut q, Action::Claim, &ActionInput::default(), actor, "");
    let (changed, id): (i64, i64) = q.build_query_as().fetch_one(db).await?;
    if changed == 0 {
        return Ok(None);
    }
    notify(db).await?;
    Ok(Some(get(db, id).await?))
}

/// Tells every dashboard watching the queue (see `live`) that it changed.
pub async fn notify(db: &PgPool) -> Result<(), AppError> {
    sqlx::query("select pg_notify('lockstep_findings', '')")
        .execute(db)
        .await?;
    Ok(())
}

/// Findings per kind and status: one index-only pass over the queue's
/// (kind, status) index, bounded so a slow database cannot stall scrapes.
pub async fn sizes(db: &PgPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("set local statement_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query_as("select kind, status, count(*) from finding group by kind, status")
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The export's columns.
const CSV_HEADER: [&str; 18] = [
    "id",
    "restore_id",
    "scan_id",
    "kind",
    "relation",
    "source_service",
    "source_key",
    "target_service",
    "target_key",
    "observed_at",
    "target_updated_at",
    "amnesia_from",
    "amnesia_to",
    "strategy",
    "status",
    "assignee",
    "note",
    "created_at",
];

/// Every finding under the filter as CSV, oldest first, streamed
/// (`download::stream`): an export of a million findings costs the server
/// a couple of chunks of memory. The filter is checked before anything is
/// sent (422 then).
pub fn export_csv(
    db: PgPool,
    filter: Filter,
) -> Result<impl futures::Stream<Item = Chunk> + Send + 'static, AppError> {
    validate(&filter)?;
    Ok(crate::download::stream(
        "the CSV export",
        move |chunks| async move { write_csv(&db, &filter, &chunks).await },
    ))
}

async fn write_csv(db: &PgPool, filter: &Filter, chunks: &Chunks) -> Result<(), AppError> {
    use futures::TryStreamExt;
    let mut q = QueryBuilder::new(format!(
        "select {COLUMNS} from finding f {JOINS} where true"
    ));
    push_filter(&mut q, filter, true);
    q.push(" order by f.finding_id");
    let mut rows = q.build_query_as::<FindingRow>().fetch(db);
    let mut csv = CsvDownload::new(chunks, &CSV_HEADER)?;
    while let Some(row) = rows.try_next().await? {
        if !csv.write(csv_record(row)).await? {
            return Ok(()); // the download was cancelled
        }
    }
    csv.finish().await
}

/// One finding as the export's cells.
fn csv_record(r: FindingRow) -> [String; 18] {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    [
        r.finding_id.to_string(),
        r.restore_id.map(|i| i.to_string()).unwrap_or_default(),
        r.scan_id.map(|i| i.to_string()).unwrap_or_default(),
        r.kind.to_string(),
        r.relation.unwrap_or_default(),
        r.source_service,
        r.source_key,
        r.target_service,
        r.target_key,
        time(r.observed_at),
        time(r.target_updated_at),
        time(r.amnesia_from),
        time(r.amnesia_to),
        r.strategy.to_string(),
        r.status.to_string(),
        r.assignee.unwrap_or_default(),
        r.note.unwrap_or_default(),
        r.created_at.to_rfc3339(),
    ]
}
