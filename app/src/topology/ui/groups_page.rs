use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::backup_skew::backup_skew;
use super::exposure;

use crate::components::{EmptyState, ErrorNotice, PageHeader};
use crate::exposure::api::load_exposure;
use crate::exposure::model::ExposureOverview;
use crate::topology::api::{load_topology_view, TopologyView};
use crate::topology::model::{format_duration, LockstepGroup, Policy, RelationKind};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_topology_view());
    let measured = Resource::new(|| (), |_| load_exposure());
    view! {
        <PageHeader
            title="Lockstep groups"
            subtitle="Services joined by required, uncached references must be backed up together: consistency, paid for with a write freeze."
        />
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Computing groups…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) if data.groups.is_empty() => {
                        view! {
                            <EmptyState title="No groups to show yet">
                                <p>
                                    "Once the topology is modelled, each group appears here with its members, its combined backup window, the backup method the members must share, and a runbook."
                                </p>
                            </EmptyState>
                        }
                            .into_any()
                    }
                    Ok(data) => {
                        // Without the exposure series the groups still show.
                        let (overview, error) = match measured.await {
                            Ok(overview) => (overview, None),
                            Err(error) => (ExposureOverview::default(), Some(error)),
                        };
                        view! {
                            {error.map(|error| view! { <ErrorNotice error /> })}
                            {groups(data, &overview)}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Type-erased (as are the cards): the page's view type is otherwise too
/// deep for the compiler's query limit in the browser build.
fn groups(data: TopologyView, overview: &ExposureOverview) -> AnyView {
    let tolerated: Vec<_> = data
        .topology
        .relations
        .iter()
        .filter(|r| r.effective_policy() == Policy::Tolerate)
        .cloned()
        .collect();
    view! {
        <div class="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
            {data.groups.into_iter().map(|g| group_card(g, &data.latest_backups, overview)).collect_view()}
        </div>
        <section class="mt-10">
            <h2 class="mb-3 text-lg font-medium">"What tolerated relations expose"</h2>
            {if tolerated.is_empty() {
                view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Every relation is backed up in lockstep."</p> }
                    .into_any()
            } else {
                view! {
                    <ul class="space-y-2 text-sm">
                        {tolerated
                            .into_iter()
                            .map(|r| {
                                let exposure = match r.kind {
                                    RelationKind::Reference => format!(
                                        "restoring {} can leave broken links and stale references in {}; restoring {} can leave orphans in {}.",
                                        r.to, r.from, r.from, r.to,
                                    ),
                                    RelationKind::Mirror => format!(
                                        "restoring {} can lose state that {} still mirrors (missing state).",
                                        r.to, r.from,
                                    ),
                                };
                                let strategy = r
                                    .on_broken
                                    .map_or("no strategy declared".to_string(), |s| format!("declared strategy: {s}"));
                                view! {
                                    <li data-testid="exposure" class="rounded-lg border border-amber-200 bg-amber-50 p-3 dark:border-amber-900 dark:bg-amber-950/40">
                                        <span class="font-medium">{r.name.clone()}</span>
                                        ": " {exposure} " "
                                        <span class="text-slate-600 dark:text-slate-400">{format!("({strategy})")}</span>
                                        {exposure::of_relation(&r.name, overview)}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
    .into_any()
}

fn group_card(
    group: LockstepGroup,
    latest: &BTreeMap<String, DateTime<Utc>>,
    overview: &ExposureOverview,
) -> AnyView {
    let measured = exposure::of_group(&group, overview);
    let skew = backup_skew(&group, latest);
    let single = group.services.len() == 1;
    let price = if single {
        "Backed up on its own: no write freeze needed.".to_string()
    } else {
        format!(
            "A consistent backup freezes writes to all {} services for {}{}.",
            group.services.len(),
            format_duration(group.backup_window_s),
            group
                .slowest
                .as_ref()
                .map(|s| format!(" (the slowest member, {s})"))
                .unwrap_or_default(),
        )
    };
    view! {
        <article
            data-testid="lockstep-group"
            data-group=group.id.clone()
            class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900"
        >
            <div class="flex items-start justify-between gap-2">
                <h2 class="font-medium">{if single { "Independent service" } else { "Lockstep group" }}</h2>
                <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs dark:bg-slate-800">
                    {group.shared_method.describe()}
                </span>
            </div>
            <ul class="mt-3 flex flex-wrap gap-1.5">
                {group
                    .services
                    .iter()
                    .map(|s| {
                        view! {
                            <li data-testid="group-member" class="rounded-md bg-indigo-50 px-2 py-0.5 text-sm text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200">
                                {s.clone()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="mt-3 text-sm text-slate-600 dark:text-slate-400">{price}</p>
            {measured}
            {skew}
            <a
                href=format!("/groups/{}/runbook.md", group.id)
                download
                data-testid="runbook-link"
                class="mt-3 inline-block text-sm font-medium text-indigo-600 underline dark:text-indigo-400"
            >
                "Download runbook (Markdown)"
            </a>
            {(!group.relations.is_empty())
                .then(|| {
                    view! {
                        <p class="mt-2 text-xs text-slate-600 dark:text-slate-400">
                            "Held together by: " {group.relations.join(", ")}
                        </p>
                    }
                })}
        </article>
    }
    .into_any()
}
