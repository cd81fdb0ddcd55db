//! The topology and lockstep-group pages.

mod backup_skew;
mod editors;
mod exposure;
mod graph;
mod groups_page;
mod topology_page;
mod upload;

pub use groups_page::GroupsPage;
pub use topology_page::TopologyPage;
