use leptos::prelude::*;

use crate::components::ErrorNotice;
use crate::topology::api::UploadTopology;

/// Replace the model with a pasted YAML or JSON document. A rejected
/// document lists every problem and leaves the model as it was.
#[component]
pub fn TopologyUpload(action: ServerAction<UploadTopology>) -> impl IntoView {
    let outcome = action.value();
    view! {
        <section class="mt-10 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900">
            <h2 class="text-lg font-medium">"Topology as code"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "The same YAML as " <code>"PUT /api/v1/topology"</code>
                ": it replaces the whole model. Download the current one from "
                <a class="text-indigo-600 underline dark:text-indigo-400" href="/topology.yaml" download>
                    "topology.yaml"
                </a> "."
            </p>
            <ActionForm action attr:class="mt-4 space-y-3">
                <label for="topology-document" class="block text-sm font-medium">
                    "Document"
                </label>
                <textarea
                    id="topology-document"
                    name="document"
                    rows="10"
                    required
                    spellcheck="false"
                    placeholder="services:\n  - name: orders\n    datastore: postgres\nrelations: []"
                    class="block w-full rounded-lg border border-slate-300 bg-slate-50 p-3 font-mono text-xs dark:border-slate-700 dark:bg-slate-950"
                ></textarea>
                <button
                    type="submit"
                    data-testid="apply-topology"
                    disabled=move || action.pending().get()
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                >
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
