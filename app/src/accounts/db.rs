//! Accounts and the audit log in PostgreSQL.

use sqlx::{PgConnection, PgPool};

use super::model::{is_account_name, AccountRow, AuditRow, CurrentUser, Role, MIN_PASSWORD};
use super::password;
use crate::error::AppError;

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    role: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn role_of(text: &str) -> Role {
    // The column's check constraint admits only the four names.
    Role::parse(text).unwrap_or(Role::Viewer)
}

fn check_new(name: &str, password: &str) -> Result<(), AppError> {
    if !is_account_name(name) {
        return Err(AppError::Invalid {
            field: "name".into(),
            message: "1 to 40 letters, digits, '.', '_' or '-'".into(),
        });
    }
    check_password(password)
}

fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::Invalid {
            field: "password".into(),
            message: format!("at least {MIN_PASSWORD} characters"),
        });
    }
    Ok(())
}

/// Creates an account; 409 when the name is taken.
pub async fn create(
    conn: &mut PgConnection,
    name: &str,
    role: Role,
    password: &str,
) -> Result<(), AppError> {
    check_new(name, password)?;
    let hash = password::hash(password)?;
    let inserted = sqlx::query(
        "insert into account (name, role, password_hash) values ($1, $2, $3)
         on conflict (name) do nothing",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(hash)
    .execute(conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(format!(
            "an account named {name:?} exists"
        )));
    }
    Ok(())
}

/// Whether any account exists (the first admin comes from the environment
/// or the CLI only while none does).
pub async fn any(db: &PgPool) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar("select exists (select 1 from account)")
        .fetch_one(db)
        .await?)
}

pub async fn list(db: &PgPool) -> Result<Vec<AccountRow>, AppError> {
    let rows: Vec<Row> = sqlx::query_as("select name, role, created_at from account order by name")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AccountRow {
            role: role_of(&r.role),
            name: r.name,
            created_at: r.created_at,
        })
        .collect())
}

/// The account a session holds, by id; `None` once it is deleted.
pub async fn by_id(db: &PgPool, id: i64) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<(String, String)> =
        sqlx::query_as("select name, role from account where account_id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(name, role)| CurrentUser {
        role: role_of(&role),
        name,
    }))
}

/// The account id when `password` is the account's; `None` for a wrong
/// name or password alike (and as slowly for both).
pub async fn authenticate(
    db: &PgPool,
    name: &str,
    password: &str,
) -> Result<Option<i64>, AppError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("select account_id, password_hash from account where name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?;
    let (id, stored) = match &row {
        Some((id, stored)) => (Some(*id), stored.as_str()),
        None => (None, password::decoy()),
    };
    let password = password.to_string();
    let stored = stored.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &stored))
        .await
        .map_err(|_| AppError::Internal)?;
    Ok(id.filter(|_| matches))
}

/// Changes an account's role and, when given, its password. An admin
/// cannot demote the last admin (nobody could manage accounts then).
pub async fn update(
    conn: &mut PgConnection,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<(), AppError> {
    if let Some(password) = password {
        check_password(password)?;
    }
    let hash = password.map(password::hash).transpose()?;
    if locked_role(conn, name).await? == Role::Admin && role != Role::Admin {
        last_admin_guard(conn, name).await?;
    }
    sqlx::query(
        "update account set role = $2, password_hash = coalesce($3, password_hash) where name = $1",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, name: &str) -> Result<(), AppError> {
    if locked_role(conn, name).await? == Role::Admin {
        last_admin_guard(conn, name).await?;
    }
    sqlx::query("delete from account where name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// The account's role, its row locked until the transaction ends; 404
/// when there is no such account.
async fn locked_role(conn: &mut PgConnection, name: &str) -> Result<Role, AppError> {
    let role: Option<String> =
        sqlx::query_scalar("select role from account where name = $1 for update")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    role.map(|r| role_of(&r))
        .ok_or_else(|| AppError::NotFound(format!("account {name:?}")))
}

/// 409 unless another admin remains besides `name`. The other admins'
/// rows are locked, so two admins demoting each other at once cannot
/// both succeed.
async fn last_admin_guard(conn: &mut PgConnection, name: &str) -> Result<(), AppError> {
    let others: Vec<i64> = sqlx::query_scalar(
        "select account_id from account where role = 'admin' and name <> $1 for update",
    )
    .bind(name)
    .fetch_all(conn)
    .await?;
    if others.is_empty() {
        return Err(AppError::Conflict(format!(
            "{name:?} is the last admin: make another account admin first"
        )));
    }
    Ok(())
}

/// Appends to the audit log.
pub async fn audit(
    conn: impl sqlx::PgExecutor<'_>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    sqlx::query("insert into audit_event (actor, action, subject, detail) values ($1, $2, $3, $4)")
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest entries first.
pub async fn audit_log(db: &PgPool, limit: i64) -> Result<Vec<AuditRow>, AppError> {
    Ok(sqlx::query_as(
        "select actor, action, subject, detail, at from audit_event
         order by at desc, audit_event_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}
