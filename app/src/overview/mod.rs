//! The landing page: what Lockstep does and where to start.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::PageHeader;

/// The path from an empty installation to a worked restore, one card a step.
const STEPS: [(&str, &str, &str); 4] = [
    (
        "/topology",
        "1. Model the architecture",
        "Services, their backups and the references between them.",
    ),
    (
        "/groups",
        "2. See what must be backed up together",
        "Lockstep groups and the availability they cost.",
    ),
    (
        "/inventory",
        "3. Let services report their inventory",
        "Entities and references, with their history.",
    ),
    (
        "/queue",
        "4. Reconcile after a restore",
        "Broken links, orphans and missing state, worked as a queue.",
    ),
];

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Overview"
            subtitle="Backup, availability, consistency: pick two. Lockstep shows which services must be backed up together, and what a restore of any one of them leaves broken."
        />
        <div class="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            {STEPS
                .into_iter()
                .map(|(href, title, text)| {
                    view! {
                        <A
                            href=href
                            attr:class="group rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-indigo-400 hover:shadow dark:border-slate-800 dark:bg-slate-900 dark:hover:border-indigo-500"
                        >
                            <h2 class="font-medium group-hover:text-indigo-700 dark:group-hover:text-indigo-300">
                                {title}
                            </h2>
                            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{text}</p>
                        </A>
                    }
                })
                .collect_view()}
        </div>
    }
}
