use leptos::prelude::*;

/// Switches between light and dark mode and remembers the choice. It only
/// does anything once the page has hydrated, which makes it the end-to-end
/// suite's proof that the WASM is alive.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let (dark, set_dark) = signal(false);
    // The boot script in the shell already applied the stored theme; read it
    // back once the browser runs us.
    Effect::new(move |_| set_dark.set(browser::is_dark()));

    let toggle = move |_| {
        let next = !dark.get_untracked();
        browser::apply(next);
        set_dark.set(next);
    };

    view! {
        <button
            type="button"
            data-testid="theme-toggle"
            aria-pressed=move || dark.get().to_string()
            title="Switch between light and dark mode"
            on:click=toggle
            class="rounded-md border border-slate-200 px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100 dark:border-slate-700 dark:text-slate-200 dark:hover:bg-slate-800"
        >
            {move || if dark.get() { "☀ Light" } else { "☾ Dark" }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;

    const KEY: &str = "lockstep-theme";

    pub fn is_dark() -> bool {
        document()
            .document_element()
            .is_some_and(|root| root.class_list().contains("dark"))
    }

    pub fn apply(dark: bool) {
        if let Some(root) = document().document_element() {
            let _ = root.class_list().toggle_with_force("dark", dark);
        }
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item(KEY, if dark { "dark" } else { "light" });
        }
    }
}

/// On the server there is no document: the page renders in light mode and
/// the boot script corrects it before paint.
#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn is_dark() -> bool {
        false
    }

    pub fn apply(_dark: bool) {}
}
