use leptos::prelude::*;

use super::editors::{
    DeleteRelationButton, DeleteServiceConfirm, Editing, RelationEditor, ServiceEditor,
};
use super::graph::TopologyGraph;
use super::upload::{BackstageImport, TopologyUpload};
use crate::accounts::{model::Permission, ui::may};
use crate::components::{DataTable, EmptyState, ErrorNotice, PageHeader};
use crate::topology::api::{
    load_topology_view, DeleteRelation, DeleteService, ImportBackstage, SaveRelation, SaveService,
    SetRelationPolicy, TopologyView, UploadTopology,
};
use crate::topology::forms::{RelationForm, ServiceForm};
use crate::topology::model::{format_duration, Policy, Relation, RelationKind, Service};

const TD: &str = "px-3 py-2 align-top";
const SMALL_BUTTON: &str = "whitespace-nowrap rounded-md border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-100 disabled:opacity-50 dark:border-slate-700 dark:hover:bg-slate-800";

/// Everything on the page that changes the model; each reloads the view.
#[derive(Clone, Copy)]
struct Actions {
    set_policy: ServerAction<SetRelationPolicy>,
    save_service: ServerAction<SaveService>,
    delete_service: ServerAction<DeleteService>,
    save_relation: ServerAction<SaveRelation>,
    delete_relation: ServerAction<DeleteRelation>,
    editing: RwSignal<Option<Editing>>,
}

#[component]
pub fn TopologyPage() -> impl IntoView {
    let actions = Actions {
        set_policy: ServerAction::new(),
        save_service: ServerAction::new(),
        delete_service: ServerAction::new(),
        save_relation: ServerAction::new(),
        delete_relation: ServerAction::new(),
        editing: RwSignal::new(None),
    };
    let upload = ServerAction::<UploadTopology>::new();
    let import = ServerAction::<ImportBackstage>::new();
    // Reload the model after each *successful* change only: a refused one
    // keeps the editor (and its error) on screen as it is.
    let reload = RwSignal::new(0usize);
    let on_success = move |succeeded: Signal<bool>| {
        Effect::new(move |_| {
            if succeeded.get() {
                reload.update(|n| *n += 1);
            }
        });
    };
    on_success(succeeded(actions.set_policy));
    on_success(succeeded(actions.save_service));
    on_success(succeeded(actions.delete_service));
    on_success(succeeded(actions.save_relation));
    on_success(succeeded(actions.delete_relation));
    on_success(succeeded(upload));
    on_success(succeeded(import));
    let view_data = Resource::new(move || reload.get(), |_| load_topology_view());

    view! {
        <PageHeader
            title="Topology"
            subtitle="The services of the architecture, how each is backed up, and the references between them."
        />
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading the topology…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) if data.topology.services.is_empty() => {
                        view! {
                            {toolbar(actions, false)}
                            {editor(actions, &data)}
                            {empty()}
                        }
                            .into_any()
                    }
                    Ok(data) => model(data, actions).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <div class:hidden=!may(Permission::Design)>
            <TopologyUpload action=upload />
            <BackstageImport action=import />
        </div>
    }
}

/// True each time the action completes successfully.
fn succeeded<A, T>(action: ServerAction<A>) -> Signal<bool>
where
    A: leptos::server_fn::ServerFn<Output = T, Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().with(|v| matches!(v, Some(Ok(_)))))
}

fn empty() -> impl IntoView {
    view! {
        <EmptyState
            title="No services modelled yet"
            example="curl -X PUT http://127.0.0.1:3000/api/v1/topology \\
    -H \"Authorization: Bearer $LOCKSTEP_ADMIN_TOKEN\" -H 'Content-Type: application/yaml' \\
    --data-binary @topology.yaml"
        >
            <p>
                "Services will appear here with their owner team, datastore and backup schedule, and the relations between them with their backup policy."
            </p>
            <p>"Paste or load a topology document below, import a Backstage catalog, or upload it through the API:"</p>
        </EmptyState>
    }
}

fn toolbar(actions: Actions, has_services: bool) -> impl IntoView {
    let open = move |editing: Editing| actions.editing.set(Some(editing));
    view! {
        <div class="mb-4 flex flex-wrap gap-2" class:hidden=!may(Permission::Design)>
            <button
                type="button"
                data-testid="add-service"
                class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                on:click=move |_| open(Editing::Service { form: ServiceForm::default(), new: true })
            >
                "Add service"
            </button>
            <button
                type="button"
                data-testid="add-relation"
                disabled=!has_services
                class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 disabled:opacity-50 dark:border-slate-700 dark:hover:bg-slate-800"
                on:click=move |_| open(Editing::Relation { form: RelationForm::default(), new: true })
            >
                "Add relation"
            </button>
        </div>
    }
}

/// The open editor, if any, above the model.
fn editor(actions: Actions, data: &TopologyView) -> impl IntoView {
    let names: Vec<String> = data
        .topology
        .services
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let relations = data.topology.relations.clone();
    let close = Callback::new(move |_| actions.editing.set(None));
    move || {
        match actions.editing.get() {
        Some(Editing::Service { form, new }) => {
            view! { <ServiceEditor initial=form new save=actions.save_service close /> }.into_any()
        }
        Some(Editing::Relation { form, new }) => view! {
            <RelationEditor initial=form new services=names.clone() save=actions.save_relation close />
        }
        .into_any(),
        Some(Editing::DeleteService(name)) => {
            let going: Vec<String> = relations
                .iter()
                .filter(|r| r.from == name || r.to == name)
                .map(|r| r.name.clone())
                .collect();
            view! { <DeleteServiceConfirm name relations=going delete=actions.delete_service close /> }
                .into_any()
        }
        None => ().into_any(),
    }
    }
}

fn model(data: TopologyView, actions: Actions) -> impl IntoView {
    let groups = data.groups.clone();
    let group_of = move |name: &str| {
        groups
            .iter()
            .find(|g| g.services.iter().any(|s| s == name))
            .map(|g| g.id.clone())
            .unwrap_or_default()
    };
    let services = data.topology.services.clone();
    let relations = data.topology.relations.clone();
    let picture = data.picture.clone();
    let editor = editor(actions, &data);
    view! {
        {toolbar(actions, true)}
        {editor}
        <TopologyGraph
            picture
            on_relate=Callback::new(move |from: String| {
                let form = RelationForm { from, ..RelationForm::default() };
                actions.editing.set(Some(Editing::Relation { form, new: true }));
            })
        />
        <section class="mb-8">
            <h2 class="mb-3 text-lg font-medium">
                "Services " <span class="text-slate-600 dark:text-slate-400">{format!("({})", services.len())}</span>
            </h2>
            <DataTable headers=vec!["Service", "Team", "Datastore", "Backup", "Prefers", "Lockstep group", ""]>
                        {services
                            .into_iter()
                            .map(|s| {
                                let group = group_of(&s.name);
                                service_row(s, group, actions)
                            })
                            .collect_view()}
                    </DataTable>
        </section>
        <section>
            <h2 class="mb-3 text-lg font-medium">
                "Relations " <span class="text-slate-600 dark:text-slate-400">{format!("({})", relations.len())}</span>
            </h2>
            {if relations.is_empty() {
                view! {
                    <p class="text-sm text-slate-600 dark:text-slate-400">
                        "No relations: every service can be backed up on its own."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    // A refused delete (the relation carries inventory) says why.
                    {move || {
                        actions
                            .delete_relation
                            .value()
                            .get()
                            .and_then(Result::err)
                            .map(|error| view! { <div class="mb-3"><ErrorNotice error /></div> })
                    }}
                    <DataTable headers=vec!["Relation", "From → to", "Kind", "Required", "Cached", "On broken link", "Policy", ""]>
                                {relations.into_iter().map(|r| relation_row(r, actions)).collect_view()}
                            </DataTable>
                }
                    .into_any()
            }}
        </section>
    }
}

fn service_row(service: Service, group: String, actions: Actions) -> impl IntoView {
    let edit = ServiceForm::from_service(&service);
    let (delete_name, from_name) = (service.name.clone(), service.name.clone());
    let buttons = view! {
        <div class="flex justify-end gap-1" class:hidden=!may(Permission::Design)>
            <button
                type="button"
                class=SMALL_BUTTON
                data-testid="edit-service"
                on:click=move |_| actions.editing.set(Some(Editing::Service { form: edit.clone(), new: false }))
            >
                "Edit"
            </button>
            <button
                type="button"
                class=SMALL_BUTTON
                data-testid="relate-service"
                title="Add a relation from this service"
                on:click=move |_| {
                    let form = RelationForm { from: from_name.clone(), ..RelationForm::default() };
                    actions.editing.set(Some(Editing::Relation { form, new: true }))
                }
            >
                "+ Relation"
            </button>
            <button
                type="button"
                class=SMALL_BUTTON
                data-testid="delete-service"
                on:click=move |_| actions.editing.set(Some(Editing::DeleteService(delete_name.clone())))
            >
                "Delete"
            </button>
        </div>
    };
    let backup = match (
        service.backup.method,
        service.backup.interval_s,
        service.backup.duration_s,
    ) {
        (None, None, None) => "—".to_string(),
        (method, interval, duration) => {
            let mut parts = vec![method.map_or("unspecified".into(), |m| m.to_string())];
            if let Some(i) = interval {
                parts.push(format!("every {}", format_duration(i)));
            }
            if let Some(d) = duration {
                parts.push(format!("takes {}", format_duration(d)));
            }
            parts.join(", ")
        }
    };
    view! {
        <tr
            id=format!("service-{}", service.name)
            data-testid="service-row"
            data-service=service.name.clone()
            class="target:bg-indigo-50 dark:target:bg-indigo-950"
        >
            <td class=TD>
                <div class="font-medium">{service.name.clone()}</div>
                <div class="text-xs text-slate-600 dark:text-slate-400">{service.description.clone()}</div>
            </td>
            <td class=TD>{service.team.clone().unwrap_or_else(|| "—".into())}</td>
            <td class=TD>
                {service.datastore.map_or("—".into(), |d| d.to_string())}
                <span class="text-xs text-slate-600 dark:text-slate-400">
                    {service.pattern.map(|p| format!(" · {p}"))}
                </span>
            </td>
            <td class=TD>{backup}</td>
            <td class=TD>{service.prefers.map_or("—".into(), |p| p.to_string())}</td>
            <td class=TD data-testid="service-group">{group}</td>
            <td class=TD>{buttons}</td>
        </tr>
    }
}

fn relation_row(relation: Relation, actions: Actions) -> impl IntoView {
    let set_policy = actions.set_policy;
    let edit = RelationForm::from_relation(&relation);
    let effective = relation.effective_policy();
    let overridden = relation.policy.is_some();
    let next = match effective {
        Policy::Lockstep => Policy::Tolerate,
        Policy::Tolerate => Policy::Lockstep,
    };
    let name = relation.name.clone();
    let flip = move |_| {
        set_policy.dispatch(SetRelationPolicy {
            relation: name.clone(),
            policy: next.to_string(),
        });
    };
    let badge = match effective {
        Policy::Lockstep => "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200",
        Policy::Tolerate => "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-200",
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    view! {
        <tr data-testid="relation-row" data-relation=relation.name.clone()>
            <td class=TD>
                <span class="font-medium">{relation.name.clone()}</span>
            </td>
            <td class=TD>{format!("{} → {}", relation.from, relation.to)}</td>
            <td class=TD>
                {match relation.kind {
                    RelationKind::Reference => "reference",
                    RelationKind::Mirror => "⇄ mirror",
                }}
            </td>
            <td class=TD>{yes_no(relation.required)}</td>
            <td class=TD>{yes_no(relation.cached)}</td>
            <td class=TD>{relation.on_broken.map_or("—".into(), |o| o.to_string())}</td>
            <td class=TD>
                <div class="flex items-center gap-2">
                    <span
                        data-testid="relation-policy"
                        class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}")
                    >
                        {effective.to_string()}
                    </span>
                    <span class="text-xs text-slate-600 dark:text-slate-400">
                        {if overridden { "set by architect" } else { "default" }}
                    </span>
                    <button
                        type="button"
                        data-testid="flip-policy"
                        class:hidden=!may(Permission::Design)
                        on:click=flip
                        disabled=move || set_policy.pending().get()
                        class=SMALL_BUTTON
                    >
                        {format!("Make {next}")}
                    </button>
                </div>
            </td>
            <td class=TD>
                <div class="flex justify-end gap-1" class:hidden=!may(Permission::Design)>
                    <button
                        type="button"
                        class=SMALL_BUTTON
                        data-testid="edit-relation"
                        on:click=move |_| actions.editing.set(Some(Editing::Relation { form: edit.clone(), new: false }))
                    >
                        "Edit"
                    </button>
                    <DeleteRelationButton name=relation.name.clone() delete=actions.delete_relation />
                </div>
            </td>
        </tr>
    }
}
