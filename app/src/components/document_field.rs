use leptos::prelude::*;

/// A textarea for a YAML or JSON document, with a file picker that loads a
/// file into it, so a document can be pasted or chosen. Submitted under
/// `name` by the enclosing form.
#[component]
pub fn DocumentField(
    /// The form field name (the server function's argument).
    name: &'static str,
    id: &'static str,
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let file_id = format!("{id}-file");
    view! {
        <div class="space-y-2">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <label for=id class="block text-sm font-medium">
                    {label}
                </label>
                <label class="text-sm text-slate-600 dark:text-slate-400">
                    "or load a file: "
                    <input
                        id=file_id
                        type="file"
                        accept=".yaml,.yml,.json,text/yaml,application/json"
                        class="text-xs file:mr-2 file:rounded file:border-0 file:bg-slate-200 file:px-2 file:py-1 dark:file:bg-slate-700"
                        on:change=move |ev| browser::load_file(ev, set_text)
                    />
                </label>
            </div>
            <textarea
                id=id
                name=name
                rows="10"
                required
                spellcheck="false"
                placeholder=placeholder
                prop:value=text
                on:input=move |ev| set_text.set(event_target_value(&ev))
                class="block w-full rounded-lg border border-slate-300 bg-slate-50 p-3 font-mono text-xs dark:border-slate-700 dark:bg-slate-950"
            ></textarea>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;

    pub fn load_file(ev: leptos::ev::Event, set_text: WriteSignal<String>) {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                set_text.set(text.as_string().unwrap_or_default());
            }
        });
    }
}

/// Files are read in the browser only; on the server the handler never runs.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use leptos::prelude::*;

    pub fn load_file(_: leptos::ev::Event, _: WriteSignal<String>) {}
}
