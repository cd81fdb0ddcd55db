//! What independence costs, measured (spec §10): beside each group's
//! freeze window and each tolerated relation, the findings a restore to
//! the latest backups would leave now, and a chart of how that has moved
//! over the newest exposure runs.

use leptos::prelude::*;

use crate::components::Sparkline;
use crate::exposure::model::ExposureOverview;
use crate::restores::ui::when;
use crate::topology::model::LockstepGroup;

/// "orders 12 · customers 3": the services that add to a figure now, biggest
/// first, zeros left out.
fn breakdown<'a>(series: impl IntoIterator<Item = (&'a String, &'a Vec<i64>)>) -> String {
    let mut now: Vec<(&String, i64)> = series
        .into_iter()
        .map(|(name, values)| (name, values.last().copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    now.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    now.iter()
        .map(|(name, n)| format!("restoring {name}: {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The figure now, its chart and what has moved since the first charted run.
fn figure(overview: &ExposureOverview, values: Vec<i64>, what: String, parts: String) -> AnyView {
    let now = values.last().copied().unwrap_or(0);
    let first = values.first().copied().unwrap_or(0);
    let since = overview.runs.first().copied().map(when).unwrap_or_default();
    let label = format!(
        "{what}: {now} findings now, {first} at {since}, over {} exposure runs",
        overview.runs.len()
    );
    view! {
        <div data-testid="exposure-now" class="mt-2 flex flex-wrap items-center gap-3 text-sm">
            <Sparkline values runs=overview.runs.clone() label=label />
            <p>
                <span class="font-medium">{format!("{now} findings")}</span>
                {format!(" {what} now")}
                <span class="block text-xs text-slate-600 dark:text-slate-400">
                    {if parts.is_empty() { format!("{first} at {since}") } else { format!("{parts}; {first} at {since}") }}
                </span>
            </p>
        </div>
    }
    .into_any()
}

/// Said where no run has been measured yet.
fn not_measured() -> AnyView {
    view! {
        <p data-testid="exposure-now" class="mt-2 text-xs text-slate-600 dark:text-slate-400">
            "Not measured yet: Lockstep drills every service to its latest backup on a schedule (LOCKSTEP_EXPOSURE_INTERVAL, hourly by default)."
        </p>
    }
    .into_any()
}

/// Restoring one member of the group alone, to its latest backup.
pub fn of_group(group: &LockstepGroup, overview: &ExposureOverview) -> AnyView {
    if overview.runs.is_empty() {
        return not_measured();
    }
    let values = overview.sum(&overview.services, &group.services);
    let parts = breakdown(
        overview
            .services
            .iter()
            .filter(|(name, _)| group.services.contains(name)),
    );
    let what = if group.services.len() == 1 {
        "a restore to its latest backup would leave".to_string()
    } else {
        "a restore of one member alone to its latest backup would leave".to_string()
    };
    figure(overview, values, what, parts)
}

/// Restoring either end of the tolerated relation to its latest backup.
pub fn of_relation(relation: &str, overview: &ExposureOverview) -> AnyView {
    if overview.runs.is_empty() {
        return not_measured();
    }
    let parts = overview
        .relations
        .get(relation)
        .map(breakdown)
        .unwrap_or_default();
    figure(
        overview,
        overview.relation(relation),
        "on it a restore of either end to its latest backup would leave".into(),
        parts,
    )
}
