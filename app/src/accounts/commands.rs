//! The account use cases, shared by the Users page, `POST /api/v1/users`
//! and `lockstep user add`: each one transaction with its audit entry.

use sqlx::PgPool;

use super::db;
use super::model::Role;
use crate::error::AppError;

/// Creates an account (its name trimmed, as the sign-in form trims it);
/// returns the name stored.
pub async fn create(
    pool: &PgPool,
    actor: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<String, AppError> {
    let name = name.trim();
    let mut tx = pool.begin().await?;
    db::create(&mut tx, name, role, password).await?;
    let detail = serde_json::json!({"role": role});
    db::audit(&mut *tx, actor, "create account", name, Some(detail)).await?;
    tx.commit().await?;
    Ok(name.to_string())
}

/// Changes an account's role and, when one is given, its password.
pub async fn update(
    pool: &PgPool,
    actor: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    db::update(&mut tx, name, role, password).await?;
    let detail = serde_json::json!({"role": role});
    db::audit(&mut *tx, actor, "update account", name, Some(detail)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, actor: &str, name: &str) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    db::delete(&mut tx, name).await?;
    db::audit(&mut *tx, actor, "delete account", name, None).await?;
    tx.commit().await?;
    Ok(())
}
