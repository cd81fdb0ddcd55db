//! Server functions for signing in and out and for managing accounts.

use leptos::prelude::*;

use super::csrf::CsrfClient;
use super::model::{AccountRow, AuditRow, Role};
use crate::error::AppError;

/// Where a successful login may send the browser: a path of this site.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/")
        .to_string()
}

/// Signs in (the login page then loads `next`). A wrong name or password is one
/// message (401); five failures for a name lock it for fifteen minutes
/// (429). Failures are logged with the name, never the password.
#[server(prefix = "/api/fn", endpoint = "login", client = CsrfClient)]
pub async fn login(
    name: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    use super::{db, session, throttle};
    let result = async {
        let name = name.trim().to_string();
        if let Err(wait) = throttle::check(&name) {
            tracing::warn!(user = %name, "login refused: too many failures");
            return Err(AppError::TooManyRequests(format!(
                "too many failed logins for {name:?}: try again in {} minute(s)",
                wait.as_secs().div_ceil(60)
            )));
        }
        let pool = crate::state::db()?;
        match db::authenticate(&pool, &name, &password).await? {
            Some(account_id) => {
                throttle::succeeded(&name);
                session::sign_in(&session::current_session().await?, account_id).await?;
                tracing::info!(user = %name, "signed in");
                crate::plain_form::go_to_after(&safe_next(next.as_deref()));
                Ok(())
            }
            None => {
                throttle::failed(&name);
                tracing::warn!(user = %name, "failed login");
                Err(AppError::Unauthorized("wrong name or password".into()))
            }
        }
    }
    .await;
    crate::error::with_status(result)
}

#[server(prefix = "/api/fn", endpoint = "logout", client = CsrfClient)]
pub async fn logout() -> Result<(), AppError> {
    let session = super::session::current_session().await?;
    super::session::sign_out(&session).await?;
    crate::plain_form::go_to_after("/login");
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "list_accounts", client = CsrfClient)]
pub async fn list_accounts() -> Result<Vec<AccountRow>, AppError> {
    use super::model::Permission;
    super::session::require(Permission::Administer).await?;
    crate::error::with_status(super::db::list(&crate::state::db()?).await)
}

/// Creates an account (`create`) or changes one's role and, when a
/// password is given, its password.
#[server(prefix = "/api/fn", endpoint = "save_account", client = CsrfClient)]
pub async fn save_account(
    name: String,
    role: Role,
    password: Option<String>,
    create: bool,
) -> Result<(), AppError> {
    use super::model::Permission;
    let admin = super::session::require(Permission::Administer).await?;
    let result = async {
        let pool = crate::state::db()?;
        let password = password.filter(|p| !p.is_empty());
        if !create {
            return super::commands::update(&pool, &admin.name, &name, role, password.as_deref())
                .await;
        }
        let password = password.ok_or_else(|| AppError::Invalid {
            field: "password".into(),
            message: "a new account needs a password".into(),
        })?;
        super::commands::create(&pool, &admin.name, &name, role, &password)
            .await
            .map(drop)
    }
    .await;
    crate::error::with_status(result)
}

#[server(prefix = "/api/fn", endpoint = "delete_account", client = CsrfClient)]
pub async fn delete_account(name: String) -> Result<(), AppError> {
    use super::model::Permission;
    let admin = super::session::require(Permission::Administer).await?;
    let result = async {
        let pool = crate::state::db()?;
        super::commands::delete(&pool, &admin.name, &name).await
    }
    .await;
    crate::error::with_status(result)
}

#[server(prefix = "/api/fn", endpoint = "audit_log", client = CsrfClient)]
pub async fn audit_log() -> Result<Vec<AuditRow>, AppError> {
    use super::model::Permission;
    super::session::require(Permission::Administer).await?;
    crate::error::with_status(super::db::audit_log(&crate::state::db()?, 500).await)
}
