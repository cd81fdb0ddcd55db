//! The queue page's causes: one row per cause with its findings as a bar,
//! its repair kit and one decision for all its pending findings — a plain
//! form, so it works before and without the WASM.

use leptos::prelude::*;

use super::api::{list_causes, DecideCause};
use super::model::{CauseCounts, CauseSummary, KitShape};
use crate::accounts::csrf::CsrfField;
use crate::accounts::{model::Permission, ui::may};
use crate::components::ErrorNotice;
use crate::queue::model::Strategy;

const INPUT: &str = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-950";
const LINK: &str = "text-indigo-700 underline hover:text-indigo-500 dark:text-indigo-300";

/// Each bucket's colour in the bar.
fn colour(bucket: &str) -> &'static str {
    match bucket {
        "verified" => "#059669",
        "resolved" => "#34d399",
        "accepted" => "#64748b",
        "dismissed" => "#cbd5e1",
        "claimed" => "#6366f1",
        _ => "#f59e0b", // open
    }
}

/// The causes of `restore` (every cause when none), biggest first;
/// refreshed when `version` moves (live updates, decisions made here).
#[component]
pub fn CausesPanel(
    restore: Option<i64>,
    version: RwSignal<u64>,
    decide: ServerAction<DecideCause>,
) -> impl IntoView {
    let causes = Resource::new(
        move || (version.get(), decide.version().get()),
        move |_| list_causes(restore),
    );
    view! {
        <Transition fallback=|| view! { <p class="mb-4 text-sm text-slate-600 dark:text-slate-400">"Loading causes…"</p> }>
            {move || Suspend::new(async move {
                match causes.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section aria-labelledby="causes-heading" data-testid="causes" class="mb-6">
                            <h2 id="causes-heading" class="text-lg font-medium">"Causes"</h2>
                            <p class="mb-2 text-sm text-slate-600 dark:text-slate-400">
                                "Findings that share a restore, a relation, both services and a strategy. Decide a cause for all its pending findings at once, download its repair kit, or open its rows."
                            </p>
                            <ul class="space-y-3">
                                {list.into_iter().map(|c| cause_row(c, restore, decide)).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        {move || decide.value().get().map(|result| match result {
            Ok(outcome) => view! {
                <p data-testid="cause-notice" role="status" class="mb-3 text-sm text-indigo-700 dark:text-indigo-300">
                    {format!("{} findings decided, {} skipped (claimed by another operator)", outcome.changed, outcome.skipped)}
                </p>
            }.into_any(),
            Err(error) => view! { <div class="mb-3"><ErrorNotice error /></div> }.into_any(),
        })}
    }
}

fn cause_row(
    c: CauseSummary,
    restore: Option<i64>,
    decide: ServerAction<DecideCause>,
) -> impl IntoView {
    let rows = match restore {
        Some(r) => format!("/queue?restore={r}&cause={}", c.id),
        None => format!("/queue?cause={}", c.id),
    };
    let kit = format!("/api/v1/findings/causes/{}/repair-kit", c.id);
    let shape = KitShape::of(c.kind, c.strategy);
    let pending = c.counts.pending();
    let title = format!(
        "{} · {} → {}{}",
        c.kind.label(),
        c.source_service,
        c.target_service,
        c.relation
            .as_ref()
            .map(|r| format!(" · {r}"))
            .unwrap_or_default()
    );
    view! {
        <li data-testid="cause" data-cause=c.id.to_string() class="rounded-lg border border-slate-200 p-3 text-sm dark:border-slate-800">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <p class="font-medium">{title}</p>
                <p class="text-slate-600 dark:text-slate-400">{format!("suggested: {}", c.strategy.as_str())}</p>
            </div>
            {bar(c.counts)}
            <p class="mt-1 text-slate-700 dark:text-slate-300" data-testid="cause-counts">{legend(c.counts)}</p>
            <p class="mt-1 text-slate-600 dark:text-slate-400">
                {shape.instructions(&c.target_service)}" "
                <a class=LINK href=format!("{kit}?format=ndjson") data-testid="kit-ndjson" download>"Repair kit (NDJSON)"</a>
                " · "
                <a class=LINK href=format!("{kit}?format=csv") download>"CSV"</a>
                " · "
                <a class=LINK href=rows data-testid="cause-rows">"Open its rows"</a>
            </p>
            {(may(Permission::Operate) && pending > 0).then(|| decision_form(c.id, c.strategy, pending, decide))}
        </li>
    }
}

/// The findings as one bar, a segment a bucket.
fn bar(counts: CauseCounts) -> impl IntoView {
    let total = counts.total().max(1) as f64;
    let mut x = 0.0;
    let segments: Vec<_> = counts
        .segments()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(bucket, n)| {
            let width = 300.0 * n as f64 / total;
            let start = x;
            x += width;
            view! { <rect x=start y="0" width=width height="10" fill=colour(bucket) data-bucket=bucket /> }
        })
        .collect();
    view! {
        <svg viewBox="0 0 300 10" preserveAspectRatio="none" class="mt-2 h-3 w-full rounded" role="img" aria-label=legend(counts) data-testid="cause-bar">
            {segments}
        </svg>
    }
}

/// The counts in words, the non-zero ones.
fn legend(counts: CauseCounts) -> String {
    counts
        .segments()
        .into_iter()
        .rev()
        .filter(|(_, n)| *n > 0)
        .map(|(bucket, n)| format!("{n} {bucket}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn decision_form(
    id: i64,
    suggested: Strategy,
    pending: i64,
    decide: ServerAction<DecideCause>,
) -> impl IntoView {
    view! {
        <ActionForm action=decide attr:class="mt-2 flex flex-wrap items-end gap-2" attr:data-testid="cause-decision">
            <CsrfField />
            <input type="hidden" name="id" value=id.to_string() />
            <label class="block">"Decision"
                <select name="action" class=INPUT data-testid="cause-action">
                    <option value="resolve">"resolve"</option>
                    <option value="accept">"accept"</option>
                    <option value="dismiss">"dismiss"</option>
                </select>
            </label>
            <label class="block">"Strategy used"
                <select name="strategy" class=INPUT>
                    {Strategy::ALL.iter().map(|s| view! { <option value=s.as_str() selected=*s == suggested>{s.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <label class="block grow">"Note"
                <input name="note" class=format!("{INPUT} w-full") data-testid="cause-note" />
            </label>
            <button
                type="submit"
                data-testid="cause-decide"
                class="rounded-md bg-indigo-600 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-40"
                prop:disabled=move || decide.pending().get()
            >
                {format!("Decide {pending} pending")}
            </button>
        </ActionForm>
    }
}
