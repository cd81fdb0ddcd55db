//! The reconciliation queue: findings to work after a restore.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;

use leptos::prelude::*;

use crate::components::{EmptyState, PageHeader};

#[component]
pub fn QueuePage() -> impl IntoView {
    view! {
        <PageHeader
            title="Reconciliation queue"
            subtitle="Broken links, stale references, orphan candidates and missing state, to claim, repair and resolve."
        />
        <EmptyState title="The queue is empty">
            <p>
                "Findings appear here when a restore is recorded or the integrity scan flags a dangling delete. Each one shows both entities, the timestamps, any cached copy, and a suggested strategy."
            </p>
        </EmptyState>
    }
}
