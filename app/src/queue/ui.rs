//! The queue page: counts, filters (kept in the URL), a keyset-paginated
//! table, a detail pane with the evidence and the actions, bulk actions,
//! keyboard shortcuts, and live updates from other operators.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::{
    components::{Form, A},
    hooks::use_query_map,
};

use super::api::{
    act_on_finding, bulk_act, claim_next_finding, load_finding, queue_counts, queue_page,
    ActOnFinding,
};
use super::model::{
    read_query, Action as Op, ActionInput, BulkOutcome, CountRow, Filter, Finding, FindingDetail,
    FindingKind, FindingPage, FindingStatus, Page, Selection, Strategy,
};
use crate::accounts::{csrf::CsrfField, model::Permission, ui::may};
use crate::causes::{api::DecideCause, CausesPanel};
use crate::components::{DataTable, EmptyState, ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::restores::RestoreStoryPanel;

const TD: &str = "px-3 py-2 align-top";
/// Where the detail pane's plain forms go.
const ACT: &str = <ActOnFinding as leptos::server_fn::ServerFn>::PATH;
const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-950";
const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-100 disabled:opacity-40 dark:border-slate-700 dark:hover:bg-slate-800";
const PRIMARY: &str = "rounded-md bg-indigo-600 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-40";

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("—".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Runs `changed` whenever the server announces a change to the queue.
#[cfg(feature = "hydrate")]
fn on_live_change(changed: impl Fn() + 'static) {
    use leptos::wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new("/api/live/findings") else {
        return;
    };
    let callback = Closure::<dyn Fn()>::new(changed);
    let _ = source.add_event_listener_with_callback("findings", callback.as_ref().unchecked_ref());
    callback.forget();
    let source = StoredValue::new_local(source);
    on_cleanup(move || source.with_value(|s| s.close()));
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let query = use_query_map();
    // The address read as the API reads it: a bad value is shown above the
    // list (which then ignores the whole filter), never silently dropped.
    let read = Memo::new(move |_| query.with(|q| read_query(|name| q.get(name))));
    let filter =
        Memo::new(move |_| read.with(|r| r.as_ref().map(|(f, _)| f.clone()).unwrap_or_default()));
    let page = Memo::new(move |_| {
        read.with(|r| Page {
            limit: Some(25),
            ..r.as_ref().map(|(_, p)| *p).unwrap_or_default()
        })
    });
    let bad_address = move || read.with(|r| r.as_ref().err().cloned());
    // Bumped by live events and by this operator's own actions.
    let version = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    on_live_change(move || version.update(|v| *v += 1));

    let items = Resource::new(
        move || (filter.get(), page.get(), version.get()),
        |(f, p, _)| queue_page(f, p),
    );
    let counts = Resource::new(
        move || (filter.get(), version.get()),
        |(f, _)| queue_counts(f),
    );
    // The finding shown in the detail pane; `?finding=` opens one (the
    // rows link there, for a browser without the WASM).
    let selected = RwSignal::new(
        query.with_untracked(|q| q.get("finding").and_then(|v| v.parse::<i64>().ok())),
    );
    let checked = RwSignal::new(BTreeSet::<i64>::new());
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    let visible_ids = RwSignal::new(Vec::<i64>::new());

    let act = Action::new(move |(id, action, input): &(i64, Op, ActionInput)| {
        let (id, action, input) = (*id, *action, input.clone());
        async move { act_on_finding(id, action, input.note, input.strategy).await }
    });
    Effect::new(move |_| {
        if let Some(result) = act.value().get() {
            notice.set(Some(result.map(|d| {
                format!("Finding {} is now {}", d.finding.id, d.finding.status)
            })));
            version.update(|v| *v += 1);
        }
    });
    let bulk = Action::new(move |(selection, action): &(Selection, Op)| {
        let (selection, action) = (selection.clone(), *action);
        async move { bulk_act(selection, action, ActionInput::default()).await }
    });
    Effect::new(move |_| {
        if let Some(result) = bulk.value().get() {
            notice.set(Some(result.map(|o| {
                format!(
                    "{} changed, {} skipped (held by others or not applicable)",
                    o.changed, o.skipped
                )
            })));
            checked.set(BTreeSet::new());
            version.update(|v| *v += 1);
        }
    });
    let next = Action::new(move |filter: &Filter| claim_next_finding(filter.clone()));
    Effect::new(move |_| {
        if let Some(result) = next.value().get() {
            match result {
                Ok(Some(detail)) => {
                    selected.set(Some(detail.finding.id));
                    notice.set(Some(Ok(format!(
                        "You claimed finding {}",
                        detail.finding.id
                    ))));
                }
                Ok(None) => notice.set(Some(Ok("No open finding left under this filter".into()))),
                Err(error) => notice.set(Some(Err(error))),
            }
            version.update(|v| *v += 1);
        }
    });

    // A decision on a cause changes its rows too.
    let decide = ServerAction::<DecideCause>::new();
    Effect::new(move |_| {
        if decide.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });

    #[cfg(feature = "hydrate")]
    keyboard_shortcuts(visible_ids, selected, filter, act, next);

    view! {
        <PageHeader
            title="Reconciliation queue"
            subtitle="What restores and the integrity scan found: claim an item, look at the evidence, repair, and resolve with a note."
        />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                counts.await.map(|rows| count_strip(rows, filter.get_untracked()))
            })}
        </Transition>
        {move || {
            let f = filter.get();
            match (f.cause, f.restore) {
                (Some(cause), restore) => cause_heading(cause, restore).into_any(),
                (None, Some(restore)) => view! {
                    <RestoreStoryPanel id=restore version />
                    <CausesPanel restore=Some(restore) version decide />
                }.into_any(),
                (None, None) => ().into_any(),
            }
        }}
        <FilterForm filter />
        {move || bad_address().map(|error| view! { <div class="mb-3" data-testid="bad-filter"><ErrorNotice error /></div> })}
        {toolbar(filter, checked, bulk, next)}
        {move || notice.get().map(|n| match n {
            Ok(message) => view! { <p data-testid="queue-notice" role="status" class="mb-3 text-sm text-indigo-700 dark:text-indigo-300">{message}</p> }.into_any(),
            Err(error) => view! { <div class="mb-3"><ErrorNotice error /></div> }.into_any(),
        })}
        <div class="grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
            <div>
                <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading findings…"</p> }>
                    {move || Suspend::new(async move {
                        match items.await {
                            Ok(page) if page.items.is_empty() && page_is_first(&query) => empty().into_any(),
                            Ok(page) => {
                                visible_ids.set(page.items.iter().map(|f| f.id).collect());
                                findings_table(page, selected, checked, filter.get_untracked()).into_any()
                            }
                            Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <DetailPane selected version act />
        </div>
        <p class="mt-4 text-xs text-slate-600 dark:text-slate-400">
            "Keys: j/k move · c claim · a accept · d dismiss · o reopen · n claim next"
        </p>
    }
}

/// What an operator does to one finding, to a selection, and "claim next".
type ActOn = Action<(i64, Op, ActionInput), Result<FindingDetail, AppError>>;
type ActOnMany = Action<(Selection, Op), Result<BulkOutcome, AppError>>;
type ClaimNext = Action<Filter, Result<Option<FindingDetail>, AppError>>;

/// Above the table: claim next, the bulk actions on the selection and on
/// the filter, the CSV export.
fn toolbar(
    filter: Memo<Filter>,
    checked: RwSignal<BTreeSet<i64>>,
    bulk: ActOnMany,
    next: ClaimNext,
) -> impl IntoView {
    view! {
    <div class="mb-3 flex flex-wrap items-center gap-2 text-sm" class:hidden=!may(Permission::Operate)>
        <button data-testid="claim-next" class=PRIMARY on:click=move |_| { next.dispatch(filter.get_untracked()); }>
            "Claim next (n)"
        </button>
        <span class="mx-2 text-slate-500 dark:text-slate-400">"|"</span>
        <span>{move || format!("{} selected:", checked.with(BTreeSet::len))}</span>
        {[Op::Claim, Op::Accept, Op::Dismiss, Op::Reopen].into_iter().map(|a| view! {
            <button
                class=BUTTON
                data-testid=format!("bulk-selected-{}", a.as_str())
                prop:disabled=move || checked.with(BTreeSet::is_empty)
                on:click=move |_| { bulk.dispatch((Selection::Ids(checked.get_untracked().into_iter().collect()), a)); }
            >
                {a.as_str()}
            </button>
        }).collect_view()}
        <span class="mx-2 text-slate-500 dark:text-slate-400">"|"</span>
        <span>"Everything matching the filter:"</span>
        {[Op::Accept, Op::Dismiss].into_iter().map(|a| view! {
            <button
                class=BUTTON
                data-testid=format!("bulk-filter-{}", a.as_str())
                on:click=move |_| { bulk.dispatch((Selection::Filter(filter.get_untracked()), a)); }
            >
                {a.as_str()}
            </button>
        }).collect_view()}
        <a
            data-testid="export-csv"
            class="ml-auto font-medium text-indigo-600 underline dark:text-indigo-400"
            href=move || format!("/queue/export.csv?{}", query_string(&filter.get()))
            rel="external"
        >
            "Export CSV"
        </a>
    </div>
    }
}

/// Keyboard: j/k move, c claim, a accept, d dismiss, o reopen, n next
/// (not while typing in a field).
#[cfg(feature = "hydrate")]
fn keyboard_shortcuts(
    visible_ids: RwSignal<Vec<i64>>,
    selected: RwSignal<Option<i64>>,
    filter: Memo<Filter>,
    act: ActOn,
    next: ClaimNext,
) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        use leptos::wasm_bindgen::JsCast;
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let ids = visible_ids.get_untracked();
        let current = selected.get_untracked();
        let position = current.and_then(|id| ids.iter().position(|i| *i == id));
        let action = match ev.key().as_str() {
            "j" => {
                let i = position.map_or(0, |p| (p + 1).min(ids.len().saturating_sub(1)));
                selected.set(ids.get(i).copied());
                None
            }
            "k" => {
                let i = position.map_or(0, |p| p.saturating_sub(1));
                selected.set(ids.get(i).copied());
                None
            }
            "n" => {
                next.dispatch(filter.get_untracked());
                None
            }
            "c" => Some(Op::Claim),
            "a" => Some(Op::Accept),
            "d" => Some(Op::Dismiss),
            "o" => Some(Op::Reopen),
            _ => None,
        };
        if let (Some(action), Some(id)) = (action, current) {
            act.dispatch((id, action, ActionInput::default()));
        }
    });
    on_cleanup(move || handle.remove());
}

/// Above a cause's rows: which cause, and the way back to all of them.
fn cause_heading(cause: i64, restore: Option<i64>) -> impl IntoView {
    let back = restore.map_or("/queue".to_string(), |r| format!("/queue?restore={r}"));
    view! {
        <p data-testid="cause-heading" class="mb-3 text-sm">
            {format!("The findings of cause #{cause}. ")}
            <A href=back attr:class="text-indigo-700 underline dark:text-indigo-300">"Back to the causes"</A>
        </p>
    }
}

fn page_is_first(query: &Memo<leptos_router::params::ParamsMap>) -> bool {
    query.with_untracked(|q| q.get("after").is_none())
}

fn query_string(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if let Some(r) = filter.restore {
        parts.push(format!("restore={r}"));
    }
    if let Some(c) = filter.cause {
        parts.push(format!("cause={c}"));
    }
    for (name, value) in [
        ("kind", &filter.kind),
        ("status", &filter.status),
        ("service", &filter.service),
        ("relation", &filter.relation),
    ] {
        if let Some(v) = value {
            parts.push(format!(
                "{name}={}",
                v.replace(['&', '=', '#', ' ', '?'], "")
            ));
        }
    }
    parts.join("&")
}

fn empty() -> impl IntoView {
    view! {
        <EmptyState title="Nothing in the queue here">
            <p>
                "Findings appear when a restore is recorded (Restores) or the integrity scan flags a dangling delete. Each shows both entities, the timestamps, any cached copy, and a suggested strategy."
            </p>
        </EmptyState>
    }
}

/// Findings per kind and status; each number filters the queue to it.
fn count_strip(rows: Vec<CountRow>, filter: Filter) -> impl IntoView {
    // `None`: every status.
    let count = |kind: FindingKind, status: Option<FindingStatus>| {
        rows.iter()
            .filter(|r| r.kind == kind && status.is_none_or(|s| r.status == s))
            .map(|r| r.count)
            .sum::<i64>()
    };
    let link = |kind: FindingKind, status: Option<FindingStatus>| {
        let mut f = filter.clone();
        f.kind = Some(kind.to_string());
        f.status = status.map(|s| s.to_string());
        format!("/queue?{}", query_string(&f))
    };
    // For each kind present: (status, or "" for all; link; count).
    type Cells = Vec<(&'static str, String, i64)>;
    let table: Vec<(FindingKind, Cells)> = FindingKind::ALL
        .iter()
        .copied()
        .filter(|k| count(*k, None) > 0)
        .map(|kind| {
            let cells = std::iter::once(None)
                .chain(FindingStatus::ALL.iter().copied().map(Some))
                .map(|status| {
                    let wire = status.map_or("", FindingStatus::as_str);
                    (wire, link(kind, status), count(kind, status))
                })
                .collect();
            (kind, cells)
        })
        .collect();
    (!table.is_empty()).then(|| view! {
        <div class="mb-4 overflow-x-auto">
            <table data-testid="queue-counts" class="text-sm">
                <thead>
                    <tr class="text-xs uppercase text-slate-600 dark:text-slate-400">
                        <th class="pr-4 text-left">"Kind"</th>
                        <th class="pr-4 text-right">"All"</th>
                        {FindingStatus::ALL.iter().map(|s| view! { <th class="pr-4 text-right">{s.as_str()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {table.into_iter().map(|(kind, cells)| view! {
                        <tr data-testid="count-row" data-kind=kind.as_str()>
                            <td class="pr-4">{kind.label()}</td>
                            {cells.into_iter().map(|(status, href, n)| view! {
                                <td class="pr-4 text-right" data-status=status>
                                    <A href=href attr:class="underline">{n}</A>
                                </td>
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    })
}

#[component]
fn FilterForm(filter: Memo<Filter>) -> impl IntoView {
    let f = filter.get_untracked();
    view! {
        <Form method="GET" action="" attr:class="mb-4 grid gap-2 sm:grid-cols-6 items-end text-sm">
            <label>"Kind"
                <select name="kind" class=INPUT data-testid="filter-kind">
                    <option value="">"any"</option>
                    {FindingKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=f.kind.as_deref() == Some(k.as_str())>{k.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Status"
                <select name="status" class=INPUT data-testid="filter-status">
                    <option value="">"any"</option>
                    {FindingStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=f.status.as_deref() == Some(s.as_str())>{s.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Service (either side)"
                <input name="service" class=INPUT value=f.service.clone().unwrap_or_default() data-testid="filter-service" />
            </label>
            <label>"Relation"
                <input name="relation" class=INPUT value=f.relation.clone().unwrap_or_default() />
            </label>
            <label>"Restore #"
                <input name="restore" class=INPUT inputmode="numeric" value=f.restore.map(|r| r.to_string()).unwrap_or_default() />
            </label>
            {f.cause.map(|c| view! { <input type="hidden" name="cause" value=c.to_string() /> })}
            <div class="flex gap-2">
                <button type="submit" class=PRIMARY data-testid="filter-apply">"Filter"</button>
                <A href="/queue" attr:class=BUTTON>"Clear"</A>
            </div>
        </Form>
    }
}

/// A finding's status as the queue shows it: who holds a claim, and a
/// resolution Lockstep verified itself apart from an operator's.
fn status_badge(f: &Finding) -> String {
    match (f.status, f.assignee.as_deref(), f.resolved_by.as_deref()) {
        (FindingStatus::Claimed, Some(who), _) => format!("claimed by {who}"),
        (FindingStatus::Resolved, _, Some("inventory")) => "verified by the inventory".into(),
        (FindingStatus::Resolved, _, Some("restore")) => "verified by a restore".into(),
        (status, _, _) => status.to_string(),
    }
}

fn findings_table(
    page: FindingPage,
    selected: RwSignal<Option<i64>>,
    checked: RwSignal<BTreeSet<i64>>,
    filter: Filter,
) -> impl IntoView {
    let query = query_string(&filter);
    let next = page
        .next
        .map(|after| format!("/queue?{query}&after={after}"));
    let first = format!("/queue?{query}");
    view! {
        <DataTable headers=vec!["", "#", "Kind", "Source", "Target", "Strategy", "Status"]>
            {page.items.into_iter().map(|f| {
                let id = f.id;
                let open = format!("/queue?{query}&finding={id}");
                let source = format!("{} {}", f.source.service, f.source.key);
                let target = format!("{} {}", f.target.service, f.target.key);
                view! {
                    <tr
                        data-testid="finding-row"
                        data-id=id.to_string()
                        data-status=f.status.as_str()
                        class="cursor-pointer hover:bg-slate-50 dark:hover:bg-slate-800"
                        class:bg-indigo-50=move || selected.get() == Some(id)
                        class:dark:bg-indigo-950=move || selected.get() == Some(id)
                        on:click=move |_| selected.set(Some(id))
                    >
                        <td class=TD>
                            <input
                                type="checkbox"
                                aria-label=format!("select finding {id}")
                                prop:checked=move || checked.with(|c| c.contains(&id))
                                on:click=move |ev| ev.stop_propagation()
                                on:change=move |_| checked.update(|c| if !c.remove(&id) { c.insert(id); })
                            />
                        </td>
                        <td class=TD>
                            <a
                                class="underline"
                                href=open
                                on:click=move |ev| {
                                    ev.prevent_default();
                                    selected.set(Some(id));
                                }
                            >
                                {id}
                            </a>
                        </td>
                        <td class=TD>{f.kind.label()}</td>
                        <td class=TD>{source}</td>
                        <td class=TD>{target}</td>
                        <td class=TD>{f.strategy.as_str()}</td>
                        <td class=TD data-testid="finding-status" data-verified=f.verified().to_string()>{status_badge(&f)}</td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
        <div class="mt-2 flex gap-4 text-sm">
            <A href=first attr:class="underline">"First page"</A>
            {next.map(|href| view! { <A href=href attr:class="underline" attr:data-testid="next-page">"Next page →"</A> })}
        </div>
    }
}

#[component]
fn DetailPane(
    selected: RwSignal<Option<i64>>,
    version: RwSignal<u64>,
    act: ActOn,
) -> impl IntoView {
    let detail = Resource::new(
        move || (selected.get(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_finding(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <aside data-testid="finding-detail" class="rounded-xl border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900">
            <Transition fallback=|| view! { <p class="text-slate-600 dark:text-slate-400">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Some(detail)) => evidence(detail, act).into_any(),
                        Ok(None) => view! { <p class="text-slate-600 dark:text-slate-400">"Select a finding to see its evidence (or press j)."</p> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
        </aside>
    }
}

fn evidence(detail: FindingDetail, act: ActOn) -> impl IntoView {
    let f = detail.finding;
    let id = f.id;
    let strategy = RwSignal::new(f.strategy.to_string());
    let note = RwSignal::new(String::new());
    let run = move |action: Op| {
        act.dispatch((
            id,
            action,
            ActionInput {
                note: Some(note.get_untracked()),
                strategy: (action == Op::Resolve).then(|| strategy.get_untracked()),
            },
        ));
    };
    let cached = f
        .cached
        .as_ref()
        .map(|c| serde_json::to_string_pretty(c).unwrap_or_default());
    let origin = match (f.restore_id, f.scan_id) {
        (Some(r), _) => format!("restore #{r}"),
        (_, Some(s)) => format!("integrity scan #{s}"),
        _ => String::new(),
    };
    view! {
        <h2 class="text-base font-semibold">{format!("#{id} · {}", f.kind.label())}</h2>
        <p class="text-slate-600 dark:text-slate-400">{format!("Raised by {origin} on {}", when(Some(f.created_at)))}</p>
        <dl class="mt-3 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
            <dt class="text-slate-600 dark:text-slate-400">"Source"</dt><dd>{format!("{} · {}", f.source.service, f.source.key)}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Relation"</dt><dd>{f.relation.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Target"</dt><dd>{format!("{} · {}", f.target.service, f.target.key)}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Observed"</dt><dd>{when(f.observed_at)}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Target restored at"</dt><dd>{when(f.target_updated_at)}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Status"</dt><dd data-testid="detail-status">{status_badge(&f)}</dd>
            {(f.causes.len() > 1).then(|| {
                let causes = f.causes.iter().map(|c| match (c.restore_id, c.scan_id) {
                    (Some(id), _) => format!("restore #{id} ({})", when(Some(c.at))),
                    (_, Some(id)) => format!("scan #{id} ({})", when(Some(c.at))),
                    _ => when(Some(c.at)),
                }).collect::<Vec<_>>().join(", ");
                view! { <dt class="text-slate-600 dark:text-slate-400">"Met by"</dt><dd data-testid="detail-causes">{causes}</dd> }
            })}
            <dt class="text-slate-600 dark:text-slate-400">"Suggested"</dt><dd>{f.strategy.as_str()}</dd>
            {f.note.clone().map(|n| view! { <dt class="text-slate-600 dark:text-slate-400">"Note"</dt><dd>{n}</dd> })}
        </dl>
        {f.amnesia.clone().map(|a| timeline(a.from, a.to, f.observed_at, f.target_updated_at))}
        {cached.map(|c| view! {
            <h3 class="mt-3 font-medium">"Cached copy (newest a referrer holds)"</h3>
            <pre data-testid="cached-copy" class="mt-1 overflow-x-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">{c}</pre>
        })}
        // Plain forms to `act_on_finding` before (and without) the WASM;
        // with it, the clicks dispatch the action and the page stays.
        <div class="mt-4 space-y-2" class:hidden=!may(Permission::Operate)>
            <form method="post" action=ACT class="flex flex-wrap gap-2">
                <CsrfField />
                <input type="hidden" name="id" value=id.to_string() />
                {[(Op::Claim, "Claim (c)"), (Op::Accept, "Accept (a)"), (Op::Dismiss, "Dismiss (d)"), (Op::Reopen, "Reopen (o)")]
                    .into_iter()
                    .map(|(action, label)| view! {
                        <button
                            type="submit"
                            name="action"
                            value=action.as_str()
                            class=BUTTON
                            data-testid=format!("{}-button", action.as_str())
                            on:click=move |ev| {
                                ev.prevent_default();
                                run(action);
                            }
                        >
                            {label}
                        </button>
                    })
                    .collect_view()}
            </form>
            <form method="post" action=ACT class="space-y-2" on:submit=move |ev| { ev.prevent_default(); run(Op::Resolve); }>
                <CsrfField />
                <input type="hidden" name="id" value=id.to_string() />
                <input type="hidden" name="action" value="resolve" />
                <label class="block">"Strategy used"
                    <select name="strategy" class=INPUT data-testid="resolve-strategy" prop:value=move || strategy.get() on:change=move |ev| strategy.set(event_target_value(&ev))>
                        {Strategy::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="block">"Note"
                    <textarea name="note" data-testid="resolve-note" class=INPUT rows="2" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class=PRIMARY data-testid="resolve-button">"Resolve"</button>
            </form>
        </div>
        <h3 class="mt-4 font-medium">"Audit trail"</h3>
        <ol data-testid="audit-trail" class="mt-1 space-y-1 text-xs">
            {if detail.audit.is_empty() {
                view! { <li class="text-slate-600 dark:text-slate-400">"No decisions yet."</li> }.into_any()
            } else {
                detail.audit.into_iter().map(|e| view! {
                    <li>
                        {format!("{} · {} {} ({} → {})", when(Some(e.at)), e.actor, e.action, e.from_status, e.to_status)}
                        {e.strategy.map(|s| format!(" · {s}"))}
                        {e.note.map(|n| format!(" · “{n}”"))}
                    </li>
                }).collect_view().into_any()
            }}
        </ol>
    }
}

/// The amnesia interval on a line, with what the referrer saw and what the
/// target was restored to; an open interval runs to the right edge.
fn timeline(
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    observed: Option<DateTime<Utc>>,
    restored: Option<DateTime<Utc>>,
) -> impl IntoView {
    let times: Vec<DateTime<Utc>> = [Some(from), to, observed, restored]
        .into_iter()
        .flatten()
        .collect();
    let start = times.iter().min().copied().unwrap_or(from);
    let end = times.iter().max().copied().unwrap_or(from);
    let span = (end - start).num_seconds().max(1) as f64;
    let x = |t: DateTime<Utc>| 10.0 + 280.0 * (t - start).num_seconds() as f64 / span;
    let bar_end = to.map_or(300.0, x);
    let marker = |t: Option<DateTime<Utc>>, label: &'static str, color: &'static str| {
        t.map(|t| view! {
            <g>
                <circle cx=x(t) cy="20" r="4" fill=color />
                <text x=x(t) y="38" font-size="9" text-anchor="middle" fill="currentColor">{label}</text>
            </g>
        })
    };
    view! {
        <h3 class="mt-3 font-medium">"Amnesia interval"</h3>
        <p class="text-xs text-slate-600 dark:text-slate-400">
            {format!("{} → {}", when(Some(from)), to.map_or("open (no write since the restore)".into(), |t| when(Some(t))))}
        </p>
        <svg data-testid="amnesia-timeline" viewBox="0 0 300 44" class="mt-1 h-12 w-full" role="img" aria-label="amnesia interval">
            <line x1="0" y1="20" x2="300" y2="20" stroke="currentColor" stroke-opacity="0.2" />
            <rect x=x(from) y="14" width=(bar_end - x(from)).max(2.0) height="12" rx="3" fill="#f59e0b" fill-opacity="0.5" />
            {marker(observed, "observed", "#4f46e5")}
            {marker(restored, "restored", "#059669")}
        </svg>
    }
}
