//! The counts a cause keeps of its findings, moved in the statement that
//! moves the findings: every statement that writes a finding's status
//! appends `tally(…)` as one more of its CTEs, so a count can never drift
//! from the rows it counts (and no trigger does it behind the writer's
//! back, which a distributed store could not run).

/// The buckets a cause counts, each a column of `cause`: the statuses, with
/// the resolutions Lockstep made itself (`finding_bucket` in SQL) apart.
pub const BUCKETS: [&str; 6] = [
    "open",
    "claimed",
    "resolved",
    "verified",
    "accepted",
    "dismissed",
];

/// The CTE `tallied as (…)` (without a leading comma) that moves findings
/// between their causes' buckets. `changed` is the CTE of the changed
/// findings (with `target_service_id` and `cause_id`), one row each;
/// `from` and `to` are its expressions for the buckets left and entered.
/// The causes are updated in id order, so two statements moving findings
/// of the same causes wait for each other rather than deadlock.
pub fn tally(changed: &str, from: &str, to: &str) -> String {
    let moved = format!("select target_service_id, cause_id, {from}, {to} from {changed}");
    let deltas: Vec<String> = BUCKETS
        .iter()
        .map(|b| {
            format!(
                "count(*) filter (where m.to_bucket = '{b}')
                 - count(*) filter (where m.from_bucket = '{b}') as {b}"
            )
        })
        .collect();
    let sets: Vec<String> = BUCKETS
        .iter()
        .map(|b| format!("{b} = c.{b} + t.{b}"))
        .collect();
    format!(
        "tallied as (
             update cause c set {sets}, updated_at = now()
             from (select m.target_service_id, m.cause_id, {deltas}
                   from ({moved}) m(target_service_id, cause_id, from_bucket, to_bucket)
                   where m.from_bucket is distinct from m.to_bucket
                   group by m.target_service_id, m.cause_id
                   order by m.cause_id) t
             where c.target_service_id = t.target_service_id and c.cause_id = t.cause_id
             returning 1)",
        sets = sets.join(", "),
        deltas = deltas.join(",\n"),
    )
}
