use leptos::prelude::*;
use leptos_router::components::A;

use super::PageHeader;

/// Shown for any path the router does not know; the server answers 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageHeader title="Page not found" subtitle="There is nothing at this address." />
        <p data-testid="not-found" class="text-sm">
            "Check the address, or go back to the "
            <A href="/" attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">
                "overview"
            </A> "."
        </p>
    }
}
