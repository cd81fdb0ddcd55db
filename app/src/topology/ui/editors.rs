//! Forms to create, edit and delete services and relations. Validation runs
//! in the browser as the architect types (the same rules the server applies
//! again on save); every field is reachable by keyboard and labelled.

use leptos::prelude::*;

use crate::components::ErrorNotice;
use crate::problem::Problem;
use crate::topology::api::{DeleteRelation, DeleteService, SaveRelation, SaveService};
use crate::topology::forms::{RelationForm, ServiceForm};
use crate::topology::model::*;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950";
const PRIMARY: &str = "rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
const SECONDARY: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
const DANGER: &str = "rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-500 disabled:opacity-50";

/// Which editor is open on the topology page.
#[derive(Debug, Clone, PartialEq)]
pub enum Editing {
    Service { form: ServiceForm, new: bool },
    Relation { form: RelationForm, new: bool },
    DeleteService(String),
}

/// The outcome of an action dispatched since this editor opened: an
/// earlier editor's success must not close this one, nor its error show here.
fn outcome_since_open<A>(
    action: ServerAction<A>,
) -> Signal<Option<Result<(), crate::error::AppError>>>
where
    A: leptos::server_fn::ServerFn<Output = (), Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let opened_at = action.version().get_untracked();
    Signal::derive(move || {
        (action.version().get() > opened_at)
            .then(|| action.value().get())
            .flatten()
    })
}

fn problem_for(problems: &[Problem], field: &str) -> Option<String> {
    problems
        .iter()
        .find(|p| p.field == field)
        .map(|p| p.message.clone())
}

/// A labelled field with its inline problem under it.
#[component]
fn Field(
    label: &'static str,
    id: &'static str,
    #[prop(into)] problem: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-xs font-medium text-slate-600 dark:text-slate-400">
                {label}
            </label>
            {children()}
            <p class="mt-1 min-h-4 text-xs text-red-600 dark:text-red-400" data-testid=format!("problem-{id}")>
                {move || problem.get()}
            </p>
        </div>
    }
}

fn options(values: Vec<&'static str>, blank: &'static str) -> impl IntoView {
    let blank = (!blank.is_empty()).then(|| view! { <option value="">{blank}</option> });
    view! {
        {blank}
        {values.into_iter().map(|v| view! { <option value=v>{v}</option> }).collect_view()}
    }
}

fn words<T: Copy + std::fmt::Display>(
    all: &'static [T],
    as_str: fn(T) -> &'static str,
) -> Vec<&'static str> {
    all.iter().map(|v| as_str(*v)).collect()
}

/// The frame both editors share: title, fields, save and cancel, the
/// server's refusal if any, and closing once the save went through.
#[component]
fn EditorFrame(
    testid: &'static str,
    title: &'static str,
    save_label: &'static str,
    save_testid: &'static str,
    #[prop(into)] pending: Signal<bool>,
    outcome: Signal<Option<Result<(), crate::error::AppError>>>,
    on_submit: Callback<()>,
    close: Callback<()>,
    children: Children,
) -> impl IntoView {
    Effect::new(move |_| {
        if let Some(Ok(())) = outcome.get() {
            close.run(());
        }
    });
    view! {
        <form
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                on_submit.run(());
            }
            data-testid=testid
            class="mb-6 rounded-xl border border-indigo-200 bg-white p-5 shadow-sm dark:border-indigo-900 dark:bg-slate-900"
        >
            <h2 class="mb-3 text-lg font-medium">{title}</h2>
            {children()}
            <div class="mt-3 flex items-center gap-2">
                <button type="submit" class=PRIMARY data-testid=save_testid disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { save_label }}
                </button>
                <button type="button" class=SECONDARY on:click=move |_| close.run(())>
                    "Cancel"
                </button>
            </div>
            {move || {
                outcome
                    .get()
                    .and_then(Result::err)
                    .map(|error| view! { <div class="mt-3"><ErrorNotice error /></div> })
            }}
        </form>
    }
}

#[component]
pub fn ServiceEditor(
    initial: ServiceForm,
    new: bool,
    save: ServerAction<SaveService>,
    close: Callback<()>,
) -> impl IntoView {
    let form = RwSignal::new(initial);
    let tried = RwSignal::new(false);
    let problems = Memo::new(move |_| form.with(|f| f.validate().err().unwrap_or_default()));
    let shown = move |field: &'static str| {
        Signal::derive(move || {
            let dirty = tried.get() || (field == "name" && !form.with(|f| f.name.is_empty()));
            dirty.then(|| problem_for(&problems.get(), field)).flatten()
        })
    };
    let text_input = move |id: &'static str,
                           get: fn(&ServiceForm) -> String,
                           set: fn(&mut ServiceForm, String)| {
        view! {
            <input
                id=id
                class=INPUT
                prop:value=move || form.with(get)
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
            />
        }
    };
    let select = move |id: &'static str,
                       values: Vec<&'static str>,
                       get: fn(&ServiceForm) -> String,
                       set: fn(&mut ServiceForm, String)| {
        view! {
            <select
                id=id
                class=INPUT
                prop:value=move || form.with(get)
                on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))
            >
                {options(values, "—")}
            </select>
        }
    };
    let submit = Callback::new(move |()| {
        tried.set(true);
        if problems.with(Vec::is_empty) {
            save.dispatch(SaveService {
                form: form.get_untracked(),
            });
        }
    });
    let outcome = outcome_since_open(save);
    view! {
        <EditorFrame
            testid="service-editor"
            title=if new { "New service" } else { "Edit service" }
            save_label="Save service"
            save_testid="save-service"
            pending=save.pending()
            outcome
            on_submit=submit
            close
        >
            <div class="grid gap-x-4 gap-y-1 sm:grid-cols-2 lg:grid-cols-3">
                <Field label="Name" id="service-name" problem=shown("name")>
                    <input
                        id="service-name"
                        class=INPUT
                        required
                        autofocus
                        readonly=!new
                        placeholder="orders"
                        prop:value=move || form.with(|f| f.name.clone())
                        on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))
                    />
                </Field>
                <Field label="Owner team" id="service-team" problem=shown("team")>
                    {text_input("service-team", |f| f.team.clone(), |f, v| f.team = v)}
                </Field>
                <Field label="Description" id="service-description" problem=shown("description")>
                    {text_input("service-description", |f| f.description.clone(), |f, v| f.description = v)}
                </Field>
                <Field label="Datastore" id="service-datastore" problem=shown("datastore")>
                    {select("service-datastore", words(Datastore::ALL, Datastore::as_str), |f| f.datastore.clone(), |f, v| f.datastore = v)}
                </Field>
                <Field label="Storage pattern" id="service-pattern" problem=shown("pattern")>
                    {select("service-pattern", words(StoragePattern::ALL, StoragePattern::as_str), |f| f.pattern.clone(), |f, v| f.pattern = v)}
                </Field>
                <Field label="Prefers (BAC)" id="service-prefers" problem=shown("prefers")>
                    {select("service-prefers", words(Preference::ALL, Preference::as_str), |f| f.prefers.clone(), |f, v| f.prefers = v)}
                </Field>
                <Field label="Backup method" id="service-backup-method" problem=shown("backup_method")>
                    {select("service-backup-method", words(BackupMethod::ALL, BackupMethod::as_str), |f| f.backup_method.clone(), |f, v| f.backup_method = v)}
                </Field>
                <Field label="Backup interval (e.g. 24h)" id="service-backup-interval" problem=shown("backup_interval")>
                    {text_input("service-backup-interval", |f| f.backup_interval.clone(), |f, v| f.backup_interval = v)}
                </Field>
                <Field label="Backup duration (e.g. 20m)" id="service-backup-duration" problem=shown("backup_duration")>
                    {text_input("service-backup-duration", |f| f.backup_duration.clone(), |f, v| f.backup_duration = v)}
                </Field>
            </div>
        </EditorFrame>
    }
}

#[component]
pub fn RelationEditor(
    initial: RelationForm,
    new: bool,
    services: Vec<String>,
    save: ServerAction<SaveRelation>,
    close: Callback<()>,
) -> impl IntoView {
    let form = RwSignal::new(initial);
    let tried = RwSignal::new(false);
    let names = StoredValue::new(services);
    let problems = Memo::new(move |_| {
        form.with(|f| names.with_value(|n| f.validate(n).err().unwrap_or_default()))
    });
    let shown = move |field: &'static str| {
        Signal::derive(move || {
            tried
                .get()
                .then(|| problem_for(&problems.get(), field))
                .flatten()
        })
    };
    let service_select = move |id: &'static str,
                               get: fn(&RelationForm) -> String,
                               set: fn(&mut RelationForm, String)| {
        view! {
            <select
                id=id
                class=INPUT
                prop:value=move || form.with(get)
                on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))
            >
                <option value="">"choose a service"</option>
                {names.get_value().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
            </select>
        }
    };
    let submit = Callback::new(move |()| {
        tried.set(true);
        if problems.with(Vec::is_empty) {
            save.dispatch(SaveRelation {
                form: form.get_untracked(),
            });
        }
    });
    let outcome = outcome_since_open(save);
    let default_hint = move || {
        form.with(|f| {
            let default = if f.required && !f.cached {
                "lockstep"
            } else {
                "tolerate"
            };
            format!("default ({default})")
        })
    };
    view! {
        <EditorFrame
            testid="relation-editor"
            title=if new { "New relation" } else { "Edit relation" }
            save_label="Save relation"
            save_testid="save-relation"
            pending=save.pending()
            outcome
            on_submit=submit
            close
        >
            <div class="grid gap-x-4 gap-y-1 sm:grid-cols-2 lg:grid-cols-4">
                <Field label="Name" id="relation-name" problem=shown("name")>
                    <input
                        id="relation-name"
                        class=INPUT
                        autofocus
                        readonly=!new
                        placeholder="order.customer"
                        prop:value=move || form.with(|f| f.name.clone())
                        on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))
                    />
                </Field>
                <Field label="From (holds the reference)" id="relation-from" problem=shown("from")>
                    {service_select("relation-from", |f| f.from.clone(), |f, v| f.from = v)}
                </Field>
                <Field label="To (is referred to)" id="relation-to" problem=shown("to")>
                    {service_select("relation-to", |f| f.to.clone(), |f, v| f.to = v)}
                </Field>
                <Field label="Kind" id="relation-kind" problem=shown("kind")>
                    <select
                        id="relation-kind"
                        class=INPUT
                        prop:value=move || form.with(|f| f.kind.clone())
                        on:change=move |ev| form.update(|f| f.kind = event_target_value(&ev))
                    >
                        {options(words(RelationKind::ALL, RelationKind::as_str), "")}
                    </select>
                </Field>
                <Field label="Policy" id="relation-policy" problem=shown("policy")>
                    <select
                        id="relation-policy"
                        class=INPUT
                        prop:value=move || form.with(|f| f.policy.clone())
                        on:change=move |ev| form.update(|f| f.policy = event_target_value(&ev))
                    >
                        <option value="default">{default_hint}</option>
                        {options(words(Policy::ALL, Policy::as_str), "")}
                    </select>
                </Field>
                <Field label="On a broken link" id="relation-on-broken" problem=shown("on_broken")>
                    <select
                        id="relation-on-broken"
                        class=INPUT
                        prop:value=move || form.with(|f| f.on_broken.clone())
                        on:change=move |ev| form.update(|f| f.on_broken = event_target_value(&ev))
                    >
                        {options(words(OnBroken::ALL, OnBroken::as_str), "—")}
                    </select>
                </Field>
                <div class="flex items-center gap-4 pt-4 text-sm">
                    <label class="flex items-center gap-1.5">
                        <input
                            type="checkbox"
                            id="relation-required"
                            prop:checked=move || form.with(|f| f.required)
                            on:change=move |ev| form.update(|f| f.required = event_target_checked(&ev))
                        />
                        "Required"
                    </label>
                    <label class="flex items-center gap-1.5">
                        <input
                            type="checkbox"
                            id="relation-cached"
                            prop:checked=move || form.with(|f| f.cached)
                            on:change=move |ev| form.update(|f| f.cached = event_target_checked(&ev))
                        />
                        "Source caches the target"
                    </label>
                </div>
            </div>
        </EditorFrame>
    }
}

/// Asks before deleting a service, and says which relations go with it.
#[component]
pub fn DeleteServiceConfirm(
    name: String,
    relations: Vec<String>,
    delete: ServerAction<DeleteService>,
    close: Callback<()>,
) -> impl IntoView {
    let consequence = if relations.is_empty() {
        "It has no relations.".to_string()
    } else {
        format!(
            "Its {} relation{} go{} with it: {}.",
            relations.len(),
            if relations.len() == 1 { "" } else { "s" },
            if relations.len() == 1 { "es" } else { "" },
            relations.join(", ")
        )
    };
    let target = name.clone();
    let outcome = outcome_since_open(delete);
    Effect::new(move |_| {
        if let Some(Ok(())) = outcome.get() {
            close.run(());
        }
    });
    view! {
        <div
            role="alertdialog"
            aria-labelledby="delete-service-title"
            data-testid="delete-service-confirm"
            class="mb-6 rounded-xl border border-red-300 bg-red-50 p-5 dark:border-red-900 dark:bg-red-950/40"
        >
            <h2 id="delete-service-title" class="font-medium">{format!("Delete service {name}?")}</h2>
            <p class="mt-1 text-sm">{consequence}</p>
            <div class="mt-3 flex gap-2">
                <button
                    type="button"
                    class=DANGER
                    autofocus
                    data-testid="confirm-delete"
                    disabled=move || delete.pending().get()
                    on:click={
                        let target = target.clone();
                        move |_| {
                            delete.dispatch(DeleteService { name: target.clone(), force: false });
                        }
                    }
                >
                    "Delete"
                </button>
                <button type="button" class=SECONDARY on:click=move |_| close.run(())>
                    "Keep it"
                </button>
            </div>
            // Refused because the service holds inventory: offer to drop it too.
            {move || {
                matches!(outcome.get(), Some(Err(crate::error::AppError::Conflict(_))))
                    .then(|| {
                        let target = target.clone();
                        view! {
                            <button
                                type="button"
                                class=format!("{DANGER} mt-3")
                                data-testid="force-delete"
                                on:click=move |_| {
                                    delete.dispatch(DeleteService { name: target.clone(), force: true });
                                }
                            >
                                "Delete it and its inventory"
                            </button>
                        }
                    })
            }}
            {move || outcome.get().and_then(Result::err).map(|error| view! { <div class="mt-3"><ErrorNotice error /></div> })}
        </div>
    }
}

/// A small "delete relation" button for a relation row.
#[component]
pub fn DeleteRelationButton(name: String, delete: ServerAction<DeleteRelation>) -> impl IntoView {
    view! {
        <button
            type="button"
            data-testid="delete-relation"
            title=format!("Delete relation {name}")
            class="rounded-md border border-slate-300 px-2 py-0.5 text-xs text-red-700 hover:bg-red-50 dark:border-slate-700 dark:text-red-400 dark:hover:bg-red-950"
            on:click=move |_| {
                delete.dispatch(DeleteRelation { name: name.clone(), force: false });
            }
        >
            "Delete"
        </button>
    }
}
