//! Who may do what (shared by the server and the browser, which hides what
//! a role cannot do; the server refuses it anyway).

use serde::{Deserialize, Serialize};

/// An account's role. Each grants reading plus one kind of change; an
/// admin may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    Viewer,
    Operator,
    Architect,
    Admin,
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See every page and read every API resource.
    Read,
    /// Work the queue, record restores and drills.
    Operate,
    /// Change the topology.
    Design,
    /// Manage accounts and service tokens, see the audit log.
    Administer,
}

pub const ROLES: [Role; 4] = [Role::Viewer, Role::Operator, Role::Architect, Role::Admin];

impl Role {
    pub fn may(self, permission: Permission) -> bool {
        matches!(
            (self, permission),
            (_, Permission::Read)
                | (Role::Operator, Permission::Operate)
                | (Role::Architect, Permission::Design)
                | (Role::Admin, _)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Architect => "architect",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        ROLES.into_iter().find(|r| r.as_str() == text)
    }
}

impl Permission {
    /// How a refusal names what was missing.
    pub fn needs(self) -> &'static str {
        match self {
            Permission::Read => "a login",
            Permission::Operate => "the operator role",
            Permission::Design => "the architect role",
            Permission::Administer => "the admin role",
        }
    }
}

/// The signed-in account, as the pages see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub name: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn may(&self, permission: Permission) -> bool {
        self.role.may(permission)
    }
}

/// An account as the users page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountRow {
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditRow {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: Option<serde_json::Value>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Names are short and safe in logs and cookies: letters, digits, `.`, `_`, `-`.
pub fn is_account_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The shortest password an account may have.
pub const MIN_PASSWORD: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_and_does_its_own_kind_of_change() {
        use Permission::*;
        let table = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Operator, [true, true, false, false]),
            (Role::Architect, [true, false, true, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, Operate, Design, Administer].map(|p| role.may(p));
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in ROLES {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
