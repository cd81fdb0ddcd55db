//! Services, relations between them, and the lockstep groups they form.

use leptos::prelude::*;

use crate::components::{EmptyState, PageHeader};

#[component]
pub fn TopologyPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Topology"
            subtitle="The services of the architecture, how each is backed up, and the references between them."
        />
        <EmptyState
            title="No services modelled yet"
            example="curl -X PUT http://127.0.0.1:3000/api/v1/topology \\
  -H 'Authorization: Bearer $LOCKSTEP_ADMIN_TOKEN' -H 'Content-Type: application/yaml' \\
  --data-binary @topology.yaml"
        >
            <p>
                "Services will appear here with their owner team, datastore and backup schedule, drawn as a graph with their lockstep groups shaded."
            </p>
            <p>"Describe the architecture as YAML and upload it through the API:"</p>
        </EmptyState>
    }
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Lockstep groups"
            subtitle="Services joined by required, uncached references must be backed up together: consistency, paid for with a write freeze."
        />
        <EmptyState title="No groups to show yet">
            <p>
                "Once the topology is modelled, each group appears here with its members, its combined backup window, the backup method the members must share, and a runbook."
            </p>
        </EmptyState>
    }
}
