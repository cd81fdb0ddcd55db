use leptos::prelude::*;

use crate::accounts::csrf::CsrfField;
use crate::components::{DocumentField, ErrorNotice};
use crate::topology::api::{ImportBackstage, UploadTopology};

const SECTION: &str =
    "mt-10 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900";
const SUBMIT: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";

/// Replace the model with a YAML or JSON document. A rejected document
/// lists every problem and leaves the model as it was.
#[component]
pub fn TopologyUpload(action: ServerAction<UploadTopology>) -> impl IntoView {
    let outcome = action.value();
    view! {
        <section class=SECTION>
            <h2 class="text-lg font-medium">"Topology as code"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "The same YAML as " <code>"PUT /api/v1/topology"</code>
                ": it replaces the whole model. Download the current one as "
                <a class="text-indigo-600 underline dark:text-indigo-400" href="/topology.yaml" download>
                    "topology.yaml"
                </a> "."
            </p>
            <ActionForm action attr:class="mt-4 space-y-3">
                <CsrfField />
                <DocumentField
                    name="document"
                    id="topology-document"
                    label="Topology document"
                    placeholder="services:\n  - name: orders\n    datastore: postgres\nrelations: []"
                />
                <button type="submit" data-testid="apply-topology" disabled=move || action.pending().get() class=SUBMIT>
                    {move || if action.pending().get() { "Applying…" } else { "Apply topology" }}
                </button>
            </ActionForm>
            <div class="mt-3" aria-live="polite">
                {move || match outcome.get() {
                    Some(Ok(count)) => {
                        view! {
                            <p data-testid="upload-ok" class="text-sm text-emerald-700 dark:text-emerald-400">
                                {format!("Applied: {count} services modelled.")}
                            </p>
                        }
                            .into_any()
                    }
                    Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </section>
    }
}

/// Merge a Backstage catalog into the model and say what came in and what
/// was left out.
#[component]
pub fn BackstageImport(action: ServerAction<ImportBackstage>) -> impl IntoView {
    let outcome = action.value();
    view! {
        <section class=SECTION>
            <h2 class="text-lg font-medium">"Import a Backstage catalog"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "Components become services, their storage Resources their datastore, and "
                <code>"dependsOn"</code> " / " <code>"dependencyOf"</code>
                " between components required references. The import adds to the model; nothing is removed."
            </p>
            <ActionForm action attr:class="mt-4 space-y-3">
                <CsrfField />
                <DocumentField
                    name="catalog"
                    id="backstage-catalog"
                    label="Catalog (multi-document YAML)"
                    placeholder="apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  owner: checkout\n  dependsOn: [component:customers]"
                />
                <button type="submit" data-testid="import-backstage" disabled=move || action.pending().get() class=SUBMIT>
                    {move || if action.pending().get() { "Importing…" } else { "Import catalog" }}
                </button>
            </ActionForm>
            <div class="mt-3" aria-live="polite">
                {move || match outcome.get() {
                    Some(Ok(report)) => {
                        view! {
                            <div data-testid="import-report" class="space-y-2 text-sm">
                                <p class="text-emerald-700 dark:text-emerald-400">
                                    {format!(
                                        "Imported {} services and {} relations.",
                                        report.services.len(),
                                        report.relations.len(),
                                    )}
                                </p>
                                {(!report.skipped.is_empty())
                                    .then(|| {
                                        view! {
                                            <p class="font-medium">"Skipped:"</p>
                                            <ul class="list-disc space-y-1 pl-5 text-slate-600 dark:text-slate-400">
                                                {report
                                                    .skipped
                                                    .into_iter()
                                                    .map(|s| {
                                                        view! {
                                                            <li data-testid="import-skipped">
                                                                {format!("{} {}: {}", s.kind, s.name, s.reason)}
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                    })}
                            </div>
                        }
                            .into_any()
                    }
                    Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </section>
    }
}
