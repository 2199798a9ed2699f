//! Who may do what. Each page and action of the dashboard names the level it
//! needs as a type (`Viewer`, `Operator`, `Admin`), and is checked against it
//! on the server (`crate::web::gate`), not only by hiding links.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Each role includes everything the ones before it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Store staff: the overview and the orders.
    Viewer,
    /// Ops: also the queues and the dead letters, with redrive and delete.
    Operator,
    /// Also the email subscriptions, the users and the activity log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// What a person in this role does, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Viewer => "overview and orders",
            Role::Operator => "also queues and dead letters",
            Role::Admin => "also notifications, users and activity",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may reach a page or an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone, signed in or not (the sign-in page and action, the assets).
    Anyone,
    /// A signed-in user with at least this role.
    AtLeast(Role),
}

impl Access {
    /// Whether someone with `role` (None: not signed in) may pass.
    pub fn admits(self, role: Option<Role>) -> bool {
        match self {
            Access::Anyone => true,
            Access::AtLeast(needed) => role.is_some_and(|role| role >= needed),
        }
    }
}

/// A level of access as a type, so that what a page or action needs is part
/// of its definition and the compiler makes every one of them say it.
pub trait Level: Send + Sync + 'static {
    const ACCESS: Access;
}

/// Anyone at all.
pub struct Public;
/// Store staff and up.
pub struct Viewer;
/// Ops and up.
pub struct Operator;
/// Admins only.
pub struct Admin;

impl Level for Public {
    const ACCESS: Access = Access::Anyone;
}
impl Level for Viewer {
    const ACCESS: Access = Access::AtLeast(Role::Viewer);
}
impl Level for Operator {
    const ACCESS: Access = Access::AtLeast(Role::Operator);
}
impl Level for Admin {
    const ACCESS: Access = Access::AtLeast(Role::Admin);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
        assert!(Operator::ACCESS.admits(Some(Role::Admin)));
        assert!(!Operator::ACCESS.admits(Some(Role::Viewer)));
        assert!(!Viewer::ACCESS.admits(None));
        assert!(Public::ACCESS.admits(None));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
