//! The `lockstep` binary: `serve` (the default) runs the dashboard and the
//! HTTP API, `migrate` brings the database schema up to date and exits,
//! `collect` reports services' own databases, `backup run` records a backup
//! as it is made.

use clap::Parser;
use lockstep::{
    accounts,
    cli::{BackupCommand, Cli, Command, DemoCommand, UserCommand},
    db, startup, telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match cli.command.as_ref().unwrap_or(&Command::Serve) {
        Command::Serve => startup::serve(&cli).await,
        Command::Generate(sizes) => {
            let pool = db::connect(cli.database_url()?).await?;
            db::migrate(&pool).await?;
            lockstep::generate::run(&pool, *sizes).await
        }
        Command::User(UserCommand::Add { name, role }) => {
            let pool = db::connect(cli.database_url()?).await?;
            db::migrate(&pool).await?;
            accounts::add(&pool, name, role).await
        }
        Command::Collect {
            config,
            once,
            snapshot,
        } => {
            let mode = match (once, snapshot) {
                (true, _) => lockstep::collect::Mode::Once,
                (_, true) => lockstep::collect::Mode::Snapshot,
                _ => lockstep::collect::Mode::Forever,
            };
            lockstep::collect::run(config, mode).await
        }
        Command::Backup(BackupCommand::Run {
            service,
            lockstep,
            token,
            label,
            command,
        }) => {
            let code =
                lockstep::backup_run::run(service, lockstep, token, label.as_deref(), command)
                    .await?;
            std::process::exit(code)
        }
        Command::Demo(DemoCommand::Disaster { service, dir }) => {
            lockstep::demo::live::disaster(dir, service).await
        }
        Command::Migrate => {
            let pool = db::connect(cli.database_url()?).await?;
            db::migrate(&pool).await?;
            tracing::info!("database schema is up to date");
            Ok(())
        }
    }
}
