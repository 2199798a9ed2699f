//! Sign-in, sessions, roles and the activity log of the dashboard.

pub mod audit;
pub mod password;
pub mod role;
pub mod session;
pub mod throttle;
pub mod users;
pub mod web;

use std::sync::Arc;

use audit::AuditLog;
use password::Password;
pub use role::Role;
use session::{Session, SessionKey};
use throttle::Throttle;
use users::{User, UserStore};

use domain::Email;
use pipeline::aws::AwsError;

/// The first admin's address: `cargo run` creates this account, and the
/// deployment template's `DashboardAdminEmail` defaults to it.
pub const FIRST_ADMIN: &str = "admin@example.com";

/// The signed-in person, as pages and actions see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub email: String,
    pub role: Role,
    /// The session's anti-forgery token, which every form carries.
    pub csrf: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: the sealed session for the cookie.
    Welcome(String),
    WrongCredentials,
    /// Too many wrong passwords; try again after this many minutes.
    Locked {
        minutes: i64,
    },
    Disabled,
}

#[derive(Clone)]
pub struct Auth {
    pub users: UserStore,
    pub throttle: Throttle,
    pub audit: AuditLog,
    key: Arc<SessionKey>,
    /// `Secure` cookies: everywhere but plain-HTTP loopback.
    pub secure_cookies: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

impl Auth {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: &str,
        key: SessionKey,
        secure_cookies: bool,
    ) -> Self {
        Self {
            users: UserStore::new(client.clone(), table),
            throttle: Throttle::new(client.clone(), table),
            audit: AuditLog::new(client, table),
            key: Arc::new(key),
            secure_cookies,
        }
    }

    /// Checks a password, with throttling per account and per client address.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client_address: &str,
        now: i64,
    ) -> Result<SignIn, AwsError> {
        let email = email.trim().to_lowercase();
        let account = format!("account#{email}");
        let address = format!("address#{client_address}");
        for subject in [&account, &address] {
            if let Some(until) = self.throttle.locked_until(subject, now).await? {
                return Ok(SignIn::Locked {
                    minutes: ((until - now) + 59) / 60,
                });
            }
        }
        let user = self.users.get(&email).await?;
        let matches = match &user {
            Some(user) => password::verify(password, &user.password_hash),
            None => {
                password::verify_nothing(password);
                false
            }
        };
        match user {
            Some(user) if matches && user.disabled => Ok(SignIn::Disabled),
            Some(user) if matches => {
                self.throttle.cleared(&account).await?;
                Ok(SignIn::Welcome(self.key.seal(&Session::start(
                    &user.email,
                    user.session_version,
                    now,
                ))))
            }
            _ => {
                self.throttle.failed(&account, now).await?;
                self.throttle.failed(&address, now).await?;
                Ok(SignIn::WrongCredentials)
            }
        }
    }

    /// The user behind a session cookie, if it is valid, current and enabled.
    pub async fn authenticate(
        &self,
        cookie: &str,
        now: i64,
    ) -> Result<Option<(User, Session)>, AwsError> {
        let Ok(session) = self.key.open(cookie, now) else {
            return Ok(None);
        };
        let user = self.users.get(&session.email).await?;
        Ok(user
            .filter(|user| !user.disabled && user.session_version == session.version)
            .map(|user| (user, session)))
    }

    /// The session again, marked as seen now (sliding the idle timeout).
    pub fn refresh(&self, mut session: Session, now: i64) -> String {
        session.seen = now;
        self.key.seal(&session)
    }

    /// Creates the first admin if that address has no user yet.
    pub async fn ensure_admin(&self, email: &Email, password: &Password) -> Result<bool, AwsError> {
        if self.users.get(&email.normalized()).await?.is_some() {
            return Ok(false);
        }
        self.users.create(email, Role::Admin, password).await
    }
}
