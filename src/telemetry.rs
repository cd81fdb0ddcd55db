//! Tracing set-up: `RUST_LOG` filters, `LOCKSTEP_LOG_FORMAT` picks the shape.

use tracing_subscriber::{fmt, EnvFilter};

use crate::cli::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,lockstep=debug,sqlx=warn,rust_sugiyama=warn"));
    let builder = fmt().with_env_filter(filter).with_target(true);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
