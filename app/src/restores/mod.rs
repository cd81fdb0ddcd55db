//! Restores and what-if drills, with their amnesia intervals.

#[cfg(feature = "ssr")]
pub mod engine;
#[cfg(feature = "ssr")]
pub mod history;
pub mod model;

use leptos::prelude::*;

use crate::components::{EmptyState, PageHeader};

#[component]
pub fn RestoresPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Restores"
            subtitle="Record a restore, or drill one first: Lockstep computes what it breaks from the inventory's history."
        />
        <EmptyState
            title="No restores or drills yet"
            example="curl -X POST http://127.0.0.1:3000/api/v1/services/orders/restores \\
    -H 'Authorization: Bearer $LOCKSTEP_ADMIN_TOKEN' -H 'Content-Type: application/json' \\
    -d '{\"taken_at\": \"2026-11-23T02:00:00Z\", \"drill\": true}'"
        >
            <p>
                "Each restore will be listed with the backup it used, its amnesia interval and its findings per kind. A drill answers \"what if we restored this service to last night's backup?\" without changing anything:"
            </p>
        </EmptyState>
    }
}
