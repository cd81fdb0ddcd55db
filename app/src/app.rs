//! The HTML shell, the router and the layout every page shares.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::accounts::ui::{page_user, User, USER_META};
use crate::components::{NotFoundPage, TopBar};
use crate::{
    accounts::{LoginPage, UsersPage},
    api_reference::ApiPage,
    inventory::{InventoryPage, ServiceInventoryPage},
    overview::OverviewPage,
    queue::QueuePage,
    restores::RestoresPage,
    topology::{GroupsPage, TopologyPage},
};

/// Sets the theme class before the first paint, so a dark-mode user never
/// sees a white flash while the WASM loads.
const THEME_BOOT_SCRIPT: &str = "try{var t=localStorage.getItem('lockstep-theme');\
if(t==='dark'||(!t&&matchMedia('(prefers-color-scheme: dark)').matches))\
document.documentElement.classList.add('dark')}catch(e){}";

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The browser learns who the page is for from here (see accounts::ui).
    let user = page_user().and_then(|u| serde_json::to_string(&u).ok());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="icon" href="/favicon.ico" sizes="32x32" />
                {user.map(|user| view! { <meta name=USER_META content=user /> })}
                <script>{THEME_BOOT_SCRIPT}</script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(User(page_user()));
    // Effects run only in the browser: this marks the moment the page is
    // interactive, which the end-to-end suite waits for.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/lockstep.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Lockstep".to_string() } else { format!("{page} · Lockstep") }
        } />
        <Router>
            <TopBar />
            <main class="mx-auto w-full max-w-7xl px-4 py-6 sm:px-6 lg:px-8">
                // Each page is sent whole, its data in it: it reads (and its
                // plain forms work) before and without the WASM, where
                // streamed parts would wait for a script to put them in place.
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("topology") view=TopologyPage ssr=SsrMode::Async />
                    <Route path=path!("groups") view=GroupsPage ssr=SsrMode::Async />
                    <Route path=path!("inventory") view=InventoryPage ssr=SsrMode::Async />
                    <Route path=path!("inventory/:service") view=ServiceInventoryPage ssr=SsrMode::Async />
                    <Route path=path!("restores") view=RestoresPage ssr=SsrMode::Async />
                    <Route path=path!("queue") view=QueuePage ssr=SsrMode::Async />
                    <Route path=path!("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("api") view=ApiPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
