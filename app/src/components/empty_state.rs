use leptos::prelude::*;

/// What a page shows before there is anything to show: what will appear
/// here, and the concrete next step to get data in.
#[component]
pub fn EmptyState(
    title: &'static str,
    children: Children,
    /// A command or document that gets data in, shown verbatim.
    #[prop(optional)]
    example: Option<&'static str>,
) -> impl IntoView {
    view! {
        <section
            data-testid="empty-state"
            class="rounded-xl border border-dashed border-slate-300 bg-white p-8 dark:border-slate-700 dark:bg-slate-900"
        >
            <h2 class="text-lg font-medium">{title}</h2>
            <div class="mt-2 max-w-3xl space-y-2 text-sm text-slate-600 dark:text-slate-400">
                {children()}
            </div>
            {example
                .map(|code| {
                    view! {
                        <pre class="mt-4 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs leading-relaxed text-slate-100 dark:bg-black">
                            <code>{code}</code>
                        </pre>
                    }
                })}
        </section>
    }
}
