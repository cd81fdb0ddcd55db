use leptos::prelude::*;
use leptos_meta::Title;

/// The title block at the top of each page; it also names the browser tab.
#[component]
pub fn PageHeader(
    title: &'static str,
    subtitle: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600 dark:text-slate-400">{subtitle}</p>
            </div>
            {children.map(|c| c())}
        </div>
    }
}
