//! The restores page: drill or record a restore, see what it found, and the
//! history of restores and drills with their amnesia intervals.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use super::api::{
    restore_choices, restore_history, running_restore, DismissSuspectedRestore, RecordRestore,
    RecordSuspectedRestore,
};
use super::model::{RestoreProgress, RestoreReport};
use super::plan::RestorePlanPanel;
use super::suspicions::SuspectedRestores;
use crate::accounts::csrf::CsrfField;
use crate::accounts::{model::Permission, ui::may};
use crate::components::{DataTable, EmptyState, ErrorNotice, PageHeader};
use crate::queue::vocabulary::FindingKind;

const TD: &str = "px-3 py-2 align-top";
const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950";

pub(crate) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn RestoresPage() -> impl IntoView {
    let query = use_query_map();
    let record = ServerAction::<RecordRestore>::new();
    let record_suspected = ServerAction::<RecordSuspectedRestore>::new();
    let dismiss_suspected = ServerAction::<DismissSuspectedRestore>::new();
    let history = Resource::new(
        move || (record.version().get(), record_suspected.version().get()),
        |_| restore_history(),
    );
    let choices = Resource::new(|| (), |_| restore_choices());
    let service = RwSignal::new(query.with_untracked(|q| q.get("service").unwrap_or_default()));

    view! {
        <PageHeader
            title="Restores"
            subtitle="Drill a restore first: Lockstep computes what it would break from the inventory's history and changes nothing. Record the real one to fill the queue."
        />
        <SuspectedRestores record=record_suspected dismiss=dismiss_suspected />
        <section class="rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading services…"</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(_) if !may(Permission::Operate) => view! {
                            <p class="text-sm" data-testid="restore-needs-operator">"Drills and restores need the operator role; the history below is open to everyone."</p>
                        }.into_any(),
                        Ok(choices) if choices.is_empty() => view! {
                            <p class="text-sm">"Model the services first (Topology); their backups appear here."</p>
                        }.into_any(),
                        Ok(choices) => restore_form(choices, service, record).into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
            {move || record.pending().get().then(|| view! { <Running service=service.get_untracked() /> })}
            {move || record.value().get().map(|result| match result {
                Ok(report) => outcome(report).into_any(),
                Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
            })}
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(choices) if may(Permission::Operate) && choices.iter().any(|c| !c.backups.is_empty()) => {
                        view! { <RestorePlanPanel choices /> }.into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Transition>
        <h2 class="mb-2 mt-8 text-lg font-medium">"History"</h2>
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No restores or drills yet">
                            <p>"Each restore is listed with its backup, its amnesia interval and its findings per kind."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => history_table(list).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn restore_form(
    choices: Vec<super::api::RestoreChoice>,
    service: RwSignal<String>,
    record: ServerAction<RecordRestore>,
) -> impl IntoView {
    if service.get_untracked().is_empty() {
        if let Some(first) = choices
            .iter()
            .find(|c| !c.backups.is_empty())
            .or(choices.first())
        {
            service.set(first.service.clone());
        }
    }
    let choices = StoredValue::new(choices);
    let backups = move || {
        choices.with_value(|c| {
            c.iter()
                .find(|c| c.service == service.get())
                .map(|c| c.backups.clone())
                .unwrap_or_default()
        })
    };
    let backup = RwSignal::new(String::new());
    let at = RwSignal::new(String::new());
    let restored_at = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let submit = move |drill: bool| {
        record.dispatch(RecordRestore {
            service: service.get_untracked(),
            backup: Some(backup.get_untracked()).filter(|b| !b.is_empty()),
            at: Some(at.get_untracked()).filter(|_| backup.get_untracked().is_empty()),
            // A drill asks what a restore now would break.
            restored_at: Some(restored_at.get_untracked()).filter(|t| !drill && !t.is_empty()),
            drill,
        });
        confirming.set(false);
    };
    // A plain form before (and without) the WASM: the drill and record
    // buttons submit it with their `drill` value; with the WASM they send
    // it by `fetch`, and recording asks to confirm first.
    let action = <RecordRestore as leptos::server_fn::ServerFn>::PATH;
    view! {
        <form method="post" action=action on:submit=|ev| ev.prevent_default()>
        <CsrfField />
        <div class="grid gap-4 sm:grid-cols-4">
            <label class="text-sm font-medium">
                "Service"
                <select
                    name="service"
                    data-testid="restore-service"
                    class=INPUT
                    prop:value=move || service.get()
                    on:change=move |ev| {
                        service.set(event_target_value(&ev));
                        backup.set(String::new());
                    }
                >
                    {choices.with_value(|c| c.iter().map(|c| {
                        let name = c.service.clone();
                        view! { <option value=name.clone()>{name.clone()}</option> }
                    }).collect_view())}
                </select>
            </label>
            <label class="text-sm font-medium">
                "Backup"
                <select
                    name="backup"
                    data-testid="restore-backup"
                    class=INPUT
                    prop:value=move || backup.get()
                    on:change=move |ev| backup.set(event_target_value(&ev))
                >
                    <option value="">"A point in time…"</option>
                    {move || backups().into_iter().map(|b| {
                        let label = format!("{}{}", when(b.taken_at), b.label.map(|l| format!(" ({l})")).unwrap_or_default());
                        view! { <option value=b.id.to_string()>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="text-sm font-medium" class:opacity-40=move || !backup.get().is_empty()>
                "Point in time (UTC)"
                <input
                    type="datetime-local"
                    name="at"
                    data-testid="restore-at"
                    class=INPUT
                    prop:disabled=move || !backup.get().is_empty()
                    prop:value=move || at.get()
                    on:input=move |ev| at.set(event_target_value(&ev))
                />
            </label>
            <label class="text-sm font-medium">
                "When did the restore happen? (UTC)"
                <input
                    type="datetime-local"
                    name="restored_at"
                    data-testid="restore-restored-at"
                    class=INPUT
                    prop:value=move || restored_at.get()
                    on:input=move |ev| restored_at.set(event_target_value(&ev))
                />
                <span class="mt-1 block text-xs font-normal text-slate-600 dark:text-slate-400">
                    "Empty means now. What the service wrote after it is kept as its new epoch."
                </span>
            </label>
        </div>
        <div class="mt-4 flex flex-wrap items-center gap-3">
            <button
                type="submit"
                name="drill"
                value="true"
                data-testid="drill-button"
                class="rounded-md bg-indigo-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                prop:disabled=move || record.pending().get()
                on:click=move |ev| {
                    ev.prevent_default();
                    submit(true);
                }
            >
                "Drill: what would break?"
            </button>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button
                        type="submit"
                        name="drill"
                        value="false"
                        data-testid="restore-button"
                        class="rounded-md border border-red-300 px-4 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950"
                        on:click=move |ev| {
                            ev.prevent_default();
                            confirming.set(true);
                        }
                    >
                        "Record a restore…"
                    </button>
                }
            >
                <span class="text-sm">
                    {move || format!("Roll {}'s inventory back and fill the queue?", service.get())}
                </span>
                <button
                    type="button"
                    data-testid="confirm-restore"
                    class="rounded-md bg-red-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-red-500"
                    on:click=move |_| submit(false)
                >
                    "Yes, record it"
                </button>
                <button type="button" class="text-sm underline" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </Show>
        </div>
        </form>
    }
}

/// What a drill predicts or a restore found: counts per kind, then per
/// referring service.
/// While a restore or drill is computed: its current step, polled from the
/// server twice a second (a large restore takes seconds).
#[component]
fn Running(service: String) -> impl IntoView {
    let progress = RwSignal::new(None::<RestoreProgress>);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let service = service.clone();
            leptos::task::spawn_local(async move {
                if let Ok(Some(now)) = running_restore(service).await {
                    progress.set(Some(now));
                }
            });
        },
        std::time::Duration::from_millis(500),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <div class="mt-3 text-sm text-slate-600 dark:text-slate-300" role="status" data-testid="restore-progress">
            {move || match progress.get() {
                None => view! { <p>"Computing the findings…"</p> }.into_any(),
                Some(p) => view! {
                    <p>{format!("Step {} of {}: {}… ({:.1} s)", p.step, p.steps, p.label, p.elapsed_ms as f64 / 1000.0)}</p>
                    <progress class="mt-1 w-64" max=p.steps value=p.step.saturating_sub(1)></progress>
                }.into_any(),
            }}
        </div>
    }
}

fn outcome(report: RestoreReport) -> impl IntoView {
    let total = report.total();
    let heading = if report.drill {
        format!(
            "Drill of {}: {total} finding(s) predicted, nothing changed",
            report.service
        )
    } else {
        format!(
            "Restore of {} recorded: {total} finding(s) in the queue, epoch {}",
            report.service, report.epoch
        )
    };
    let queue_link = (!report.drill).then(|| format!("/queue?restore={}", report.id));
    view! {
        <div data-testid="restore-outcome" class="mt-4 rounded-lg border border-indigo-200 bg-indigo-50 p-4 text-sm dark:border-indigo-900 dark:bg-indigo-950">
            <p class="font-medium">{heading}</p>
            <p class="mt-1 text-slate-600 dark:text-slate-300">
                {format!("Amnesia from {} (the backup) until the service's first write after recovery.", when(report.amnesia.from))}
            </p>
            <ul class="mt-2 flex flex-wrap gap-2">
                {FindingKind::OF_RESTORES.iter().map(|kind| {
                    let n = report.counts.get(kind.as_str()).copied().unwrap_or(0);
                    view! {
                        <li data-testid="outcome-count" data-kind=kind.as_str() class="rounded-full bg-white px-3 py-1 dark:bg-slate-900">
                            {format!("{}: {n}", kind.label())}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!report.by_service.is_empty()).then(|| view! {
                <table class="mt-3 text-left">
                    <thead><tr><th class="pr-4">"Referring service"</th><th class="pr-4">"Kind"</th><th>"Findings"</th></tr></thead>
                    <tbody>
                        {report.by_service.into_iter().map(|row| view! {
                            <tr><td class="pr-4">{row.service}</td><td class="pr-4">{row.kind.label()}</td><td>{row.count}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(!report.steps.is_empty()).then(|| {
                let total: f64 = report.steps.iter().map(|s| s.ms).sum();
                let detail = report.steps.iter()
                    .map(|s| format!("{} {:.2} s", s.label, s.ms / 1000.0))
                    .collect::<Vec<_>>()
                    .join(" · ");
                view! {
                    <p class="mt-2 text-xs text-slate-600 dark:text-slate-400" title=detail.clone()>
                        {format!("Computed in {:.2} s — {detail}", total / 1000.0)}
                    </p>
                }
            })}
            {queue_link.map(|href| view! {
                <A href=href attr:class="mt-3 inline-block font-medium text-indigo-700 underline dark:text-indigo-300">"Work these findings in the queue →"</A>
            })}
        </div>
    }
}

fn history_table(list: Vec<RestoreReport>) -> impl IntoView {
    view! {
        <DataTable headers=vec!["", "Service", "Backup", "Amnesia", "Findings", "By"]>
            {list.into_iter().map(|r| {
                let amnesia = format!(
                    "{} → {}",
                    when(r.amnesia.from),
                    r.amnesia.to.map(when).unwrap_or_else(|| if r.drill { "—".into() } else { "open".into() })
                );
                let counts = FindingKind::OF_RESTORES.iter()
                    .filter_map(|k| r.counts.get(k.as_str()).filter(|n| **n > 0).map(|n| format!("{n} {}", k.label().to_lowercase())))
                    .collect::<Vec<_>>()
                    .join(", ");
                let counts = if counts.is_empty() { "none".to_string() } else { counts };
                let counts = if r.drill || r.total() == 0 { counts } else { format!("{counts} · {} left", r.left) };
                let what = if r.drill { "Drill".to_string() } else { format!("Restore #{}", r.id) };
                let link = (!r.drill).then(|| format!("/queue?restore={}", r.id));
                view! {
                    <tr data-testid="restore-row" data-drill=r.drill.to_string()>
                        <td class=TD>
                            {match link {
                                Some(href) => view! { <A href=href attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">{what}</A> }.into_any(),
                                None => view! { <span class="text-slate-600 dark:text-slate-400">{what}</span> }.into_any(),
                            }}
                        </td>
                        <td class=TD>{r.service}</td>
                        <td class=TD>{when(r.backup_taken_at)}</td>
                        <td class=TD>{amnesia}</td>
                        <td class=TD>{counts}</td>
                        <td class=TD>{r.recorded_by}</td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
}
