//! Planning a restore on the restores page (spec §10): which of the
//! service's backups breaks least, a drill each, and beside them the
//! consistent alternative of the BAC theorem — the whole lockstep group
//! back to one moment, paid for in every member's lost writes. A plain GET
//! form (`?plan=service`), so it works before and without the WASM.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{plan_restore, RestoreChoice};
use super::model::{GroupAlternative, RestorePlan};
use super::ui::when;
use crate::components::ErrorNotice;
use crate::queue::vocabulary::FindingKind;

const TD: &str = "px-3 py-2 align-top";

#[component]
pub fn RestorePlanPanel(choices: Vec<RestoreChoice>) -> impl IntoView {
    let query = use_query_map();
    let planned = move || query.with(|q| q.get("plan")).filter(|s| !s.is_empty());
    let plan = Resource::new(planned, |service| async move {
        match service {
            Some(service) => plan_restore(service).await.map(Some),
            None => Ok(None),
        }
    });
    let selected = planned().unwrap_or_default();
    view! {
        <section aria-labelledby="plan-heading" class="mt-6 rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="plan-heading" class="text-lg font-medium">"Plan: which backup breaks least?"</h2>
            <form method="get" action="/restores" class="mt-2 flex flex-wrap items-end gap-3" data-testid="plan-form">
                <label class="text-sm font-medium">
                    "Service"
                    <select name="plan" class="mt-1 block rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950">
                        {choices
                            .into_iter()
                            .filter(|c| !c.backups.is_empty())
                            .map(|c| {
                                let is = c.service == selected;
                                view! { <option value=c.service.clone() selected=is>{c.service.clone()}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit" data-testid="plan-button" class="rounded-md border border-indigo-300 px-4 py-1.5 text-sm font-medium text-indigo-700 hover:bg-indigo-50 dark:border-indigo-800 dark:text-indigo-300 dark:hover:bg-indigo-950">
                    "Compare its backups"
                </button>
                <span class="text-xs text-slate-600 dark:text-slate-400">
                    {format!("Drills its {} newest backups; nothing changes.", RestorePlan::BACKUPS)}
                </span>
            </form>
            <Transition fallback=|| view! { <p class="mt-3 text-sm" role="status">"Drilling each backup…"</p> }>
                {move || Suspend::new(async move {
                    match plan.await {
                        Ok(Some(plan)) => plan_view(plan).into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn plan_view(plan: RestorePlan) -> impl IntoView {
    if plan.backups.is_empty() {
        return view! {
            <p class="mt-3 text-sm" data-testid="restore-plan">
                {format!("No backup of {} is recorded: record one first, or drill a point in time above.", plan.service)}
            </p>
        }
        .into_any();
    }
    let top = plan
        .backups
        .iter()
        .map(|b| b.total)
        .max()
        .unwrap_or(0)
        .max(1);
    let best = plan.backups[0].clone();
    let rows = plan
        .backups
        .iter()
        .enumerate()
        .map(|(rank, b)| {
            let kinds = FindingKind::OF_RESTORES
                .iter()
                .map(|k| format!("{}: {}", k.label(), b.counts.get(k.as_str()).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", ");
            let width = format!("width: {}%", 100 * b.total / top);
            view! {
                <tr data-testid="plan-backup" data-backup=b.backup_id class="border-t border-slate-100 dark:border-slate-800">
                    <td class=TD>{rank + 1}</td>
                    <td class=TD>{when(b.taken_at)}{b.label.clone().map(|l| format!(" ({l})"))}</td>
                    <td class=TD>
                        <span class="font-medium" data-testid="plan-findings">{b.total}</span>
                        <span class="ml-2 inline-block h-2 w-32 rounded bg-slate-100 align-middle dark:bg-slate-800" title=kinds.clone()>
                            <span class="block h-2 rounded bg-amber-500" style=width></span>
                        </span>
                        <span class="block text-xs text-slate-600 dark:text-slate-400">{kinds}</span>
                    </td>
                    <td class=TD>{b.writes_lost}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div data-testid="restore-plan" class="mt-4 grid gap-4 lg:grid-cols-3">
            <div class="lg:col-span-2 overflow-x-auto">
                <table class="w-full text-left text-sm">
                    <caption class="mb-2 text-left text-sm font-medium">
                        {format!("Restoring {} alone: its backups, fewest findings first", plan.service)}
                    </caption>
                    <thead class="text-xs uppercase text-slate-600 dark:text-slate-400">
                        <tr>
                            <th scope="col" class=TD>"Rank"</th>
                            <th scope="col" class=TD>"Backup"</th>
                            <th scope="col" class=TD>"Findings it would leave"</th>
                            <th scope="col" class=TD>"Its writes lost"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {plan.group.map(|group| alternative(&plan.service, best.total, group))}
        </div>
    }
    .into_any()
}

/// The consistent alternative, and the trade-off in one sentence.
fn alternative(service: &str, findings: i64, group: GroupAlternative) -> impl IntoView {
    let lost: i64 = group.restores.iter().map(|r| r.writes_lost).sum();
    let verdict = match group.point {
        Some(point) if group.without_backup.is_empty() => format!(
            "Restoring the whole group to {} is consistent: nothing breaks between its members, and {lost} writes are lost across it. Restoring {service} alone keeps the others' writes and leaves {findings} findings at best.",
            when(point)
        ),
        Some(point) => format!(
            "A restore of the whole group to {} cannot be consistent: no backup of {} at or before it.",
            when(point),
            group.without_backup.join(", ")
        ),
        None => format!(
            "The whole group cannot go back to one moment: no backup of {}.",
            group.without_backup.join(", ")
        ),
    };
    view! {
        <aside data-testid="group-alternative" class="rounded-lg border border-indigo-200 bg-indigo-50 p-3 text-sm dark:border-indigo-900 dark:bg-indigo-950">
            <h3 class="font-medium">"The consistent alternative"</h3>
            <p class="mt-1">{verdict}</p>
            <ul class="mt-2 space-y-1">
                {group
                    .restores
                    .into_iter()
                    .map(|r| {
                        let to = match r.backup_id {
                            Some(_) => format!("its backup of {}", when(r.restore_to)),
                            None => format!("{} (point in time)", when(r.restore_to)),
                        };
                        view! {
                            <li data-testid="group-member-loss" data-service=r.service.clone()>
                                <span class="font-medium">{r.service.clone()}</span>
                                {format!(" back to {to}: {} writes lost", r.writes_lost)}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </aside>
    }
}
