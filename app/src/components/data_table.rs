use leptos::prelude::*;

const TH: &str = "px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400";

/// The dashboard's table: a bordered card, a header row, and the rows the
/// caller gives. An empty header names an actions column for screen readers.
#[component]
pub fn DataTable(headers: Vec<&'static str>, children: Children) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table class="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
                <thead>
                    <tr>
                        {headers
                            .into_iter()
                            .map(|h| {
                                if h.is_empty() {
                                    view! {
                                        <th class=TH>
                                            <span class="sr-only">"Actions"</span>
                                        </th>
                                    }
                                        .into_any()
                                } else {
                                    view! { <th class=TH>{h}</th> }.into_any()
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">{children()}</tbody>
            </table>
        </div>
    }
}
