use leptos::prelude::*;

use crate::components::{EmptyState, PageHeader};

#[component]
pub fn InventoryPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Inventory"
            subtitle="What each service owns and whom it refers to, with every version kept, so Lockstep can tell what a service held at any time."
        />
        <EmptyState
            title="No inventory reported yet"
            example="curl -X POST http://127.0.0.1:3000/api/v1/services/orders/events \\
    -H 'Authorization: Bearer $SERVICE_TOKEN' -H 'Content-Type: application/x-ndjson' \\
    --data-binary @events.ndjson"
        >
            <p>
                "Per service you will see entity and reference counts, incoming and outgoing references by relation, and its backups. Services report their state as NDJSON events:"
            </p>
        </EmptyState>
    }
}
