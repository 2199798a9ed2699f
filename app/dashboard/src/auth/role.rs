//! Who may do what. Checked on the server for every page and every action
//! (`auth::web`), not only by hiding links.

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

/// The role a path of the dashboard needs; `None` for paths open to anyone
/// (sign-in, assets). Unknown paths need a signed-in viewer (they answer 404).
pub fn required_role(path: &str) -> Option<Role> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if path == "/login" || path == "/api/login" || under("/assets") || path == "/favicon.ico" {
        None
    } else if under("/queues") || under("/dead-letters") || under("/api/dead-letters") {
        Some(Role::Operator)
    } else if under("/subscriptions")
        || under("/api/subscriptions")
        || under("/users")
        || under("/api/users")
        || under("/activity")
    {
        Some(Role::Admin)
    } else {
        Some(Role::Viewer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_need_their_role() {
        assert_eq!(required_role("/login"), None);
        assert_eq!(required_role("/api/login"), None);
        assert_eq!(required_role("/assets/dashboard.abc.css"), None);
        assert_eq!(required_role("/"), Some(Role::Viewer));
        assert_eq!(required_role("/orders/abc-12345"), Some(Role::Viewer));
        assert_eq!(required_role("/api/logout"), Some(Role::Viewer));
        assert_eq!(required_role("/dead-letters"), Some(Role::Operator));
        assert_eq!(
            required_role("/api/dead-letters/redrive"),
            Some(Role::Operator)
        );
        assert_eq!(required_role("/subscriptions"), Some(Role::Admin));
        assert_eq!(required_role("/api/users/add"), Some(Role::Admin));
        assert_eq!(required_role("/activity"), Some(Role::Admin));
        assert_eq!(
            required_role("/queuesx"),
            Some(Role::Viewer),
            "prefixes match whole segments"
        );
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
    }
}
