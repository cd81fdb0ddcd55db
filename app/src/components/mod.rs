//! UI pieces shared by every feature.

mod data_table;
mod document_field;
mod empty_state;
mod error_notice;
mod not_found;
mod page_header;
mod sparkline;
mod theme_toggle;
mod top_bar;

pub use data_table::DataTable;
pub use document_field::DocumentField;
pub use empty_state::EmptyState;
pub use error_notice::ErrorNotice;
pub use not_found::NotFoundPage;
pub use page_header::PageHeader;
pub use sparkline::Sparkline;
pub use theme_toggle::ThemeToggle;
pub use top_bar::TopBar;
