use leptos::prelude::*;
use leptos_router::components::A;

use super::ThemeToggle;

/// The sections of the dashboard, in the order an incident walks them.
const SECTIONS: [(&str, &str); 5] = [
    ("/topology", "Topology"),
    ("/groups", "Lockstep groups"),
    ("/inventory", "Inventory"),
    ("/restores", "Restores"),
    ("/queue", "Queue"),
];

#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="sticky top-0 z-20 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
            <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6 lg:px-8">
                <A href="/" attr:class="flex items-center gap-2 font-semibold tracking-tight">
                    <span
                        aria-hidden="true"
                        class="grid h-7 w-7 place-items-center rounded-md bg-indigo-600 text-sm text-white"
                    >
                        "L"
                    </span>
                    <span>"Lockstep"</span>
                </A>
                <nav aria-label="Main" class="order-last flex w-full gap-1 overflow-x-auto md:order-none md:w-auto">
                    {SECTIONS
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <A
                                    href=href
                                    attr:class="whitespace-nowrap rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white dark:aria-[current=page]:bg-indigo-950 dark:aria-[current=page]:text-indigo-300"
                                >
                                    {label}
                                </A>
                            }
                        })
                        .collect_view()}
                </nav>
                <div class="ml-auto">
                    <ThemeToggle />
                </div>
            </div>
        </header>
    }
}
