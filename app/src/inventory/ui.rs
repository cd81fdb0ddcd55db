//! The inventory pages: an overview of every service's inventory, and one
//! service's relations, backups and entity search.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{collectors, find_entity, inventory_overview, load_service_inventory};
use super::model::{CollectorStatus, EntityDetail, ServiceDetail, ServiceInventory};
use crate::components::{DataTable, EmptyState, ErrorNotice, PageHeader};

const TD: &str = "px-3 py-2 align-top";
const LINK: &str = "font-medium text-indigo-600 underline dark:text-indigo-400";

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("—".into(), |t| {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    })
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| inventory_overview());
    view! {
        <PageHeader
            title="Inventory"
            subtitle="What each service owns and whom it refers to, with every version kept, so Lockstep can tell what a service held at any time."
        />
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading the inventory…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(services) if services.iter().all(|s| s.entities == 0 && s.last_event.is_none()) => {
                        empty(!services.is_empty()).into_any()
                    }
                    Ok(services) => overview_table(services).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <Collectors />
    }
}

/// The collectors reading the services' own databases (`lockstep
/// collect`): when each last reported, how much, how far behind, and the
/// last thing that went wrong.
#[component]
fn Collectors() -> impl IntoView {
    let list = Resource::new(|| (), |_| collectors());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <h2 class="mb-2 mt-8 text-lg font-medium">"Collectors"</h2>
                        <DataTable headers=vec!["Service", "Collector", "Last seen", "Rows reported", "Lag", "Last error"]>
                            {list.into_iter().map(collector_row).collect_view()}
                        </DataTable>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn collector_row(c: CollectorStatus) -> impl IntoView {
    let error = match (c.last_error, c.last_error_at) {
        (Some(error), at) => format!("{} — {error}", when(at)),
        (None, _) => "none".to_string(),
    };
    let (service, label) = (c.service.clone(), c.service);
    view! {
        <tr data-testid="collector-row" data-service=service>
            <td class=TD>{label}</td>
            <td class=TD>{c.collector}</td>
            <td class=TD>{when(Some(c.last_seen_at))}</td>
            <td class=TD>{c.rows_sent}</td>
            <td class=TD>{c.lag_seconds.map_or("—".into(), |s| format!("{s:.1} s"))}</td>
            <td class=TD>{error}</td>
        </tr>
    }
}

fn empty(has_services: bool) -> impl IntoView {
    view! {
        <EmptyState
            title="No inventory reported yet"
            example="curl -X POST http://127.0.0.1:3000/api/v1/services/orders/events \\
    -H \"Authorization: Bearer $SERVICE_TOKEN\" -H 'Content-Type: application/x-ndjson' \\
    --data-binary @events.ndjson"
        >
            <p>
                {if has_services {
                    "The services are modelled; none has reported its entities and references yet."
                } else {
                    "Model the services first (Topology), then let them report."
                }}
            </p>
            <p>
                "Per service you will see entity and reference counts, incoming and outgoing references by relation, and its backups. Point "
                <code>"lockstep collect"</code>
                " at a service's own database (README, “Connect your services”), or let it report NDJSON events itself with a token minted by "
                <code>"POST /api/v1/services/{service}/tokens"</code>":"
            </p>
        </EmptyState>
    }
}

fn overview_table(services: Vec<ServiceInventory>) -> impl IntoView {
    view! {
        <DataTable headers=vec!["Service", "Entities", "References held", "Referred to by", "Last event", "Backups"]>
                    {services
                        .into_iter()
                        .map(|s| {
                            let (href, label) = (format!("/inventory/{}", s.name), s.name.clone());
                            view! {
                                <tr data-testid="inventory-row" data-service=s.name>
                                    <td class=TD>
                                        <A href=href attr:class=LINK>
                                            {label}
                                        </A>
                                    </td>
                                    <td class=TD>{s.entities}</td>
                                    <td class=TD>{s.outgoing}</td>
                                    <td class=TD>{s.incoming}</td>
                                    <td class=TD>{when(s.last_event)}</td>
                                    <td class=TD>{s.backups}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </DataTable>
    }
}

#[component]
pub fn ServiceInventoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let service = move || params.with(|p| p.get("service").unwrap_or_default());
    let key = move || query.with(|q| q.get("key").unwrap_or_default());
    let detail = Resource::new(service, load_service_inventory);
    let entity = Resource::new(
        move || (service(), key()),
        |(service, key)| async move {
            if key.trim().is_empty() {
                Ok(None)
            } else {
                find_entity(service, key).await
            }
        },
    );
    view! {
        <PageHeader title="Service inventory" subtitle="Relations, backups, and any entity's history and referrers.">
            <A href="/inventory" attr:class="text-sm text-indigo-600 underline dark:text-indigo-400">
                "← All services"
            </A>
        </PageHeader>
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => service_detail(detail).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="mt-8">
            <h2 class="mb-2 text-lg font-medium">"Find an entity"</h2>
            <Form method="GET" action="" attr:class="flex max-w-xl gap-2">
                <label for="entity-key" class="sr-only">"Entity key"</label>
                <input
                    id="entity-key"
                    name="key"
                    placeholder="e.g. C/3"
                    prop:value=key
                    class="block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950"
                />
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
                    "Find"
                </button>
            </Form>
            <Transition fallback=|| view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-400">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match entity.await {
                        Ok(Some(found)) => entity_detail(found).into_any(),
                        Ok(None) if !key().trim().is_empty() => {
                            view! {
                                <p data-testid="entity-missing" class="mt-3 text-sm text-slate-600 dark:text-slate-400">
                                    {format!("{} never reported an entity {:?}.", service(), key())}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn service_detail(detail: ServiceDetail) -> impl IntoView {
    let s = detail.summary;
    let stat = |label: &'static str, value: String| {
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
                <div class="text-xs uppercase tracking-wide text-slate-600 dark:text-slate-400">{label}</div>
                <div class="mt-1 text-lg font-semibold">{value}</div>
            </div>
        }
    };
    view! {
        <div class="mb-3 flex flex-wrap items-baseline gap-4">
            <h2 data-testid="service-name" class="text-xl font-semibold">{s.name.clone()}</h2>
            <A href=format!("/restores?service={}", s.name) attr:class=LINK>
                "Drill a restore of this service →"
            </A>
        </div>
        <div class="mb-6 grid gap-3 sm:grid-cols-3 lg:grid-cols-5">
            {stat("Entities", s.entities.to_string())}
            {stat("References held", s.outgoing.to_string())}
            {stat("Referred to by", s.incoming.to_string())}
            {stat("Backups", s.backups.to_string())}
            {stat("Last event", when(s.last_event))}
        </div>
        <div class="grid gap-6 lg:grid-cols-2">
            <div>
                <h3 class="mb-2 font-medium">"References by relation"</h3>
                <ul class="space-y-1 text-sm">
                    {detail
                        .relations
                        .into_iter()
                        .map(|r| {
                            let arrow = if r.outgoing {
                                format!("{} → {}", r.relation, r.other)
                            } else {
                                format!("{} ← {}", r.relation, r.other)
                            };
                            view! {
                                <li data-testid="relation-count" class="flex justify-between rounded-md bg-white px-3 py-1.5 dark:bg-slate-900">
                                    <span>{arrow}</span>
                                    <span class="font-medium">{r.references}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </div>
            <div>
                <h3 class="mb-2 font-medium">"Backups"</h3>
                {if detail.backups.is_empty() {
                    view! { <p class="text-sm text-slate-600 dark:text-slate-400">"No backup recorded yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-1 text-sm">
                            {detail
                                .backups
                                .into_iter()
                                .map(|b| {
                                    view! {
                                        <li data-testid="backup" class="rounded-md bg-white px-3 py-1.5 dark:bg-slate-900">
                                            {format!("#{} · {} · epoch {}", b.id, when(Some(b.taken_at)), b.epoch)}
                                            <span class="text-slate-600 dark:text-slate-400">{b.label.map(|l| format!(" · {l}"))}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </div>
        </div>
    }
}

fn pretty(value: &Option<serde_json::Value>) -> Option<String> {
    value
        .as_ref()
        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
}

fn entity_detail(entity: EntityDetail) -> impl IntoView {
    let flag = entity.to_delete.then(|| {
        view! {
            <span class="ml-2 rounded-full bg-red-100 px-2 py-0.5 text-xs text-red-800 dark:bg-red-950 dark:text-red-200">
                "to delete: still referred to"
            </span>
        }
    });
    view! {
        <div data-testid="entity-detail" class="mt-4 space-y-4">
            <h3 class="font-medium">
                {format!("{} · {}", entity.service, entity.key)}
                <span class="ml-2 text-sm text-slate-600 dark:text-slate-400" data-testid="dependents">
                    {format!("{} live referrer(s)", entity.dependents)}
                </span>
                {flag}
            </h3>
            <DataTable headers=vec!["Version of", "Valid until", "Epoch", "Data"]>
                        {entity
                            .versions
                            .iter()
                            .map(|v| {
                                view! {
                                    <tr data-testid="entity-version">
                                        <td class=TD>
                                            {when(Some(v.updated_at))}
                                            {v.deleted.then_some(" (deleted)")}
                                        </td>
                                        <td class=TD>{v.valid_to.map_or("current".into(), |t| when(Some(t)))}</td>
                                        <td class=TD>{v.epoch}</td>
                                        <td class=TD>
                                            <pre class="text-xs">{pretty(&v.data)}</pre>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </DataTable>
            <h4 class="font-medium">"Referred to by"</h4>
            {if entity.referrers.is_empty() {
                view! { <p class="text-sm text-slate-600 dark:text-slate-400">"No live reference points here."</p> }.into_any()
            } else {
                view! {
                    <DataTable headers=vec!["Referrer", "Relation", "Saw the target as of", "Since", "Cached copy"]>
                                {entity
                                    .referrers
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <tr data-testid="referrer">
                                                <td class=TD>{format!("{} · {}", r.service, r.key)}</td>
                                                <td class=TD>{r.relation.clone()}</td>
                                                <td class=TD>{when(r.observed_at)}</td>
                                                <td class=TD>{when(Some(r.since))}</td>
                                                <td class=TD>
                                                    <pre class="text-xs">{pretty(&r.cache).unwrap_or_else(|| "—".into())}</pre>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </DataTable>
                }
                    .into_any()
            }}
        </div>
    }
}
