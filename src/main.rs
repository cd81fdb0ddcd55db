//! The `lockstep` binary: `serve` (the default) runs the dashboard and the
//! HTTP API, `migrate` brings the database schema up to date and exits.

use clap::Parser;
use lockstep::{cli::Cli, cli::Command, db, startup, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match cli.command.unwrap_or_default() {
        Command::Serve => {
            startup::serve(&cli.database_url, cli.addr, cli.admin_token, cli.demo).await
        }
        Command::Migrate => {
            let pool = db::connect(&cli.database_url).await?;
            db::migrate(&pool).await?;
            tracing::info!("database schema is up to date");
            Ok(())
        }
    }
}
