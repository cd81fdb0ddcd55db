//! Accounts outside the dashboard: the first admin from the environment,
//! the demo's logins, and `lockstep user add`.

use app::accounts::{commands, db, model::Role};
use sqlx::PgPool;

/// The demo's logins, one per role, all with `DEMO_PASSWORD` (README).
pub const DEMO_PASSWORD: &str = "lockstep-demo";
const DEMO_ACCOUNTS: [(&str, Role); 4] = [
    ("admin", Role::Admin),
    ("architect", Role::Architect),
    ("operator", Role::Operator),
    ("viewer", Role::Viewer),
];

/// Creates `name` as an admin while the database has no account at all
/// (`LOCKSTEP_ADMIN_USER` / `LOCKSTEP_ADMIN_PASSWORD`).
pub async fn first_admin(pool: &PgPool, name: &str, password: &str) -> anyhow::Result<()> {
    if db::any(pool).await.map_err(anyhow_of)? {
        return Ok(());
    }
    commands::create(pool, "environment", name, Role::Admin, password)
        .await
        .map_err(anyhow_of)?;
    tracing::info!(user = name, "created the first admin");
    Ok(())
}

/// The demo's logins, into a database without accounts.
pub async fn demo_logins(pool: &PgPool) -> anyhow::Result<()> {
    if db::any(pool).await.map_err(anyhow_of)? {
        return Ok(());
    }
    for (name, role) in DEMO_ACCOUNTS {
        commands::create(pool, "demo", name, role, DEMO_PASSWORD)
            .await
            .map_err(anyhow_of)?;
    }
    tracing::info!("demo logins: admin, architect, operator, viewer (password {DEMO_PASSWORD})");
    Ok(())
}

/// `lockstep user add --name N --role R`.
pub async fn add(pool: &PgPool, name: &str, role: &str) -> anyhow::Result<()> {
    let role = Role::parse(role).ok_or_else(|| {
        anyhow::anyhow!("unknown role {role:?}: viewer, operator, architect or admin")
    })?;
    let password = match std::env::var("LOCKSTEP_USER_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let name = commands::create(pool, "command line", name, role, &password)
        .await
        .map_err(anyhow_of)?;
    println!("created {name} ({})", role.as_str());
    Ok(())
}

fn anyhow_of(error: app::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}
