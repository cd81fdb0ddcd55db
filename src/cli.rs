//! Command line and environment configuration, parsed once at start.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};

/// Every setting can come from the environment, so the same binary runs
/// under `make run`, cargo-leptos, CI and a service manager unchanged.
#[derive(Debug, Parser)]
#[command(name = "lockstep", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// PostgreSQL connection string (every command but `collect` and
    /// `backup run`, which talk to Lockstep over HTTP).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Address the dashboard and the API listen on.
    #[arg(
        long,
        env = "LOCKSTEP_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Bearer token with every right on the API; unset disables admin access.
    #[arg(
        long,
        env = "LOCKSTEP_ADMIN_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    /// Seconds between two runs of the background integrity scan; 0 turns it off.
    #[arg(
        long,
        env = "LOCKSTEP_SCAN_INTERVAL",
        default_value_t = 300,
        global = true
    )]
    pub scan_interval: u64,

    /// One background scan in this many reads the whole inventory (the first
    /// is one); the others read only what changed since the last pass. 0:
    /// never (`POST /api/v1/scans?full=true` still does).
    #[arg(
        long,
        env = "LOCKSTEP_SCAN_FULL_EVERY",
        default_value_t = 288,
        global = true
    )]
    pub scan_full_every: u64,

    /// Seconds between two exposure runs (a drill of every service to its
    /// latest backup, spec §10); 0 turns them off. The first runs at start.
    #[arg(
        long,
        env = "LOCKSTEP_EXPOSURE_INTERVAL",
        default_value_t = 3600,
        global = true
    )]
    pub exposure_interval: u64,

    /// Mark cookies `Secure`: set when a TLS-terminating proxy serves Lockstep.
    #[arg(long, env = "LOCKSTEP_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,

    /// The first admin's name, created at start while no account exists
    /// (with `LOCKSTEP_ADMIN_PASSWORD`).
    #[arg(long, env = "LOCKSTEP_ADMIN_USER", global = true)]
    pub admin_user: Option<String>,

    #[arg(
        long,
        env = "LOCKSTEP_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,

    /// Load the demo architecture into an empty database at start.
    #[arg(long, env = "LOCKSTEP_DEMO", global = true)]
    pub demo: bool,

    /// `pretty` for people at a terminal, `json` for log collectors.
    #[arg(long, env = "LOCKSTEP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the dashboard and the API (migrates first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Replace the model and inventory with generated data (benchmarks, demos).
    Generate(crate::generate::Sizes),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Read services' own databases and report their inventory (spec §9).
    Collect {
        /// The YAML config naming each service, its database and its SQL.
        #[arg(long)]
        config: String,
        /// One pass per service (a snapshot the first time), then exit.
        #[arg(long)]
        once: bool,
        /// One snapshot per service, then exit.
        #[arg(long, conflicts_with = "once")]
        snapshot: bool,
    },
    /// Backups recorded as they are made.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// The live demo's own commands.
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Restores one of the live demo's databases (orders, customers,
    /// payments) from its latest dump with the real restore tool.
    Disaster {
        service: String,
        /// The live demo's folder (its dumps and state file).
        #[arg(long, env = "LOCKSTEP_DEMO_DIR", default_value = ".data/demo")]
        dir: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Runs a backup command (`-- pg_dump …`) and, when it succeeds, records
    /// the backup at the time it started; a failing command records nothing
    /// and its exit status is this command's.
    Run {
        #[arg(long)]
        service: String,
        /// Lockstep's URL.
        #[arg(long, env = "LOCKSTEP_URL", default_value = "http://127.0.0.1:3000")]
        lockstep: String,
        /// The service's token (or the admin token).
        #[arg(long, env = "LOCKSTEP_TOKEN", hide_env_values = true)]
        token: String,
        /// A label for the backup (the command line when left out).
        #[arg(long)]
        label: Option<String>,
        /// The backup command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

impl Cli {
    /// The database URL, which every command that opens the database needs.
    pub fn database_url(&self) -> anyhow::Result<&str> {
        self.database_url
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("DATABASE_URL (or --database-url) is required"))
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from `LOCKSTEP_USER_PASSWORD`
    /// or, when that is unset, from the first line of standard input.
    Add {
        /// 1 to 40 letters, digits, `.`, `_` or `-`.
        #[arg(long)]
        name: String,
        /// viewer, operator, architect or admin.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}
