use leptos::prelude::*;
use leptos_router::components::A;

use super::ThemeToggle;
use crate::accounts::api::Logout;
use crate::accounts::csrf::CsrfField;
use crate::accounts::model::Permission;
use crate::accounts::ui::{current_user, may};

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
                <div class="ml-auto flex items-center gap-3">
                    {may(Permission::Administer).then(|| view! {
                        <A href="/users" attr:class="text-sm font-medium text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white">"Users"</A>
                    })}
                    <A href="/api" attr:class="text-sm font-medium text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white">"API"</A>
                    <SignedInAs />
                    <ThemeToggle />
                </div>
            </div>
        </header>
    }
}

/// The signed-in user, their role, and a way out.
#[component]
fn SignedInAs() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    // Signing out reloads the page, so nothing rendered for the user stays.
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            let _ = window().location().set_href("/login");
        }
    });
    current_user().map(|user| view! {
        <span class="text-sm text-slate-600 dark:text-slate-300" data-testid="signed-in-as">
            {user.name}
            <span class="ml-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">{user.role.as_str()}</span>
        </span>
        // A plain form too: signing out works before the WASM loads.
        <ActionForm action=logout attr:class="inline">
            <CsrfField />
            <button
                type="submit"
                data-testid="logout"
                class="text-sm text-slate-600 underline hover:text-slate-900 dark:text-slate-300"
            >
                "Sign out"
            </button>
        </ActionForm>
    })
}
