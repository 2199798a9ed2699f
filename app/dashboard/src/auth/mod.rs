//! Who may use the dashboard: users and their roles, passwords, sessions,
//! sign-in throttling and the activity log. Free of HTTP: the web layer
//! (`crate::web`) carries sessions in cookies and calls this.

pub mod audit;
pub mod password;
pub mod role;
pub mod session;
pub mod throttle;
pub mod users;

use std::fmt;
use std::net::IpAddr;

use chrono::Utc;
use domain::Email;
use pipeline::aws::AwsError;

use audit::{AuditLog, Record, Refusal};
use password::Password;
pub use role::{Access, Admin, Level, Operator, Public, Role, Viewer};
use session::Session;
use throttle::{Admission, Known, Throttle};
use users::{User, UserStore};

/// The first admin's address locally: `cargo run` creates this account. On
/// AWS the deployer names the first admin (`DashboardAdminEmail`).
pub const FIRST_ADMIN: &str = "admin@example.com";

/// The signed-in person, as pages and actions see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub email: String,
    pub role: Role,
    /// The session's anti-forgery token, which every form carries.
    pub csrf: String,
}

/// Where a request came from, as the platform saw it (never a header the
/// client chose): the function URL's `sourceIp` on Lambda, the socket's peer
/// locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientAddress(pub Option<IpAddr>);

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(address) => write!(f, "{address}"),
            None => f.write_str("unknown"),
        }
    }
}

/// The account that signed in from the requesting browser before, as its
/// sealed device cookie says (`web::cookies`); `None` for a stranger.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedInBefore(pub Option<String>);

impl SignedInBefore {
    /// Whether this browser is known for `account`.
    pub fn known(&self, account: &str) -> Known {
        match &self.0 {
            Some(known) if known.eq_ignore_ascii_case(account.trim()) => Known::Device,
            _ => Known::Stranger,
        }
    }
}

/// What came of a sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: the new session.
    Welcome(Session),
    WrongCredentials,
    /// Too many attempts from this address: locked until the window ends.
    Locked {
        minutes: i64,
    },
    /// The account is being paced after many attempts: try again later.
    Paused,
    /// This address made too many attempts, over all accounts.
    OverBudget,
    Disabled,
}

#[derive(Clone, Debug)]
pub struct Auth {
    pub users: UserStore,
    pub throttle: Throttle,
    pub audit: AuditLog,
}

/// A random URL-safe token (session ids, form tokens, task ids).
pub fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

const TOKEN_BYTES: usize = 24;

/// Whether `text` has the form of a [`random_token`], and nothing else.
pub fn is_random_token(text: &str) -> bool {
    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text)
        .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES)
}

impl Auth {
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        Self {
            users: UserStore::new(client.clone(), table),
            throttle: Throttle::new(client.clone(), table),
            audit: AuditLog::new(client, table),
        }
    }

    /// Checks a password, throttled per client address and account (see
    /// `throttle`), and records the outcome in the activity log: a sign-in
    /// as an entry of its own, refused attempts as counts in the summary of
    /// their window, so that a flood of them cannot push actions out of view.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        from: ClientAddress,
        known: &SignedInBefore,
        now: i64,
    ) -> Result<SignIn, AwsError> {
        let account = email.trim().to_lowercase();
        let refused = |refusal: Refusal| self.count_refusal(refusal, &account, from);
        match self
            .throttle
            .admit(&account, &from, known.known(&account), now)
            .await?
        {
            Admission::Check => {}
            Admission::Locked { until, locked_now } => {
                if locked_now {
                    lockout_metric(&account);
                }
                refused(Refusal::Locked).await;
                return Ok(SignIn::Locked {
                    minutes: ((until - now) + 59).max(60) / 60,
                });
            }
            Admission::Paused => {
                refused(Refusal::Paced).await;
                return Ok(SignIn::Paused);
            }
            Admission::OverBudget => {
                refused(Refusal::OverBudget).await;
                return Ok(SignIn::OverBudget);
            }
        }
        let user = self.users.get(&account).await?;
        let matches = match &user {
            Some(user) => password::verify(password, &user.password_hash),
            None => {
                password::verify_nothing(password);
                false
            }
        };
        let attempt = |action: &'static str| {
            Record::new(format!("{account} from {from}"), action, account.clone())
        };
        match user {
            Some(user) if matches && user.disabled => {
                self.log(attempt("sign in").failed("the account is disabled"))
                    .await;
                Ok(SignIn::Disabled)
            }
            Some(user) if matches => {
                self.throttle.succeeded(&account, &from).await?;
                self.log(attempt("sign in")).await;
                Ok(SignIn::Welcome(Session::start(
                    &user.email,
                    user.session_version,
                    now,
                )))
            }
            _ => {
                refused(Refusal::WrongCredentials).await;
                Ok(SignIn::WrongCredentials)
            }
        }
    }

    /// The user behind a session, if it holds, is current and the user enabled.
    pub async fn authenticate(
        &self,
        session: &Session,
        now: i64,
    ) -> Result<Option<CurrentUser>, AwsError> {
        if session.check(now).is_err() {
            return Ok(None);
        }
        let user = self.users.get(&session.email).await?;
        Ok(user
            .filter(|user| !user.disabled && user.session_version == session.version)
            .map(|user| CurrentUser {
                email: user.email,
                role: user.role,
                csrf: session.csrf.clone(),
            }))
    }

    /// Ends every session of the user.
    pub async fn sign_out(&self, user: &CurrentUser) -> Result<(), AwsError> {
        let result = self.users.end_sessions(&user.email).await;
        self.log(Record::new(&user.email, "sign out", &user.email).outcome(&result))
            .await;
        result
    }

    /// Creates the first admin if that address has no user yet.
    pub async fn ensure_admin(&self, email: &Email, password: &Password) -> Result<bool, AwsError> {
        if self.users.get(&email.normalized()).await?.is_some() {
            return Ok(false);
        }
        self.users.create(email, Role::Admin, password).await
    }

    /// Records a sign-in event; a failure to record is logged, not fatal:
    /// signing in must not depend on the log being writable.
    async fn log(&self, record: Record) {
        if let Err(error) = self.audit.record(record, Utc::now()).await {
            tracing::error!(%error, "a sign-in event could not be recorded in the activity log");
        }
    }

    /// Counts a refused attempt in its window's summary, likewise not fatal.
    async fn count_refusal(&self, refusal: Refusal, account: &str, from: ClientAddress) {
        let counted = self
            .audit
            .count_refusal(refusal, account, &from.to_string(), Utc::now())
            .await;
        if let Err(error) = counted {
            tracing::error!(%error, "a refused sign-in could not be counted in the activity log");
        }
    }
}

/// One CloudWatch embedded-metric line per lockout, which the
/// `SignInLockouts` alarm of `infra/template.yaml` watches.
fn lockout_metric(account: &str) {
    let line = serde_json::json!({
        "_aws": {
            "Timestamp": Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "ShopOrders/Dashboard",
                "Dimensions": [[]],
                "Metrics": [{"Name": "SignInLockouts", "Unit": "Count"}]
            }]
        },
        "SignInLockouts": 1,
        "account": account,
    });
    // Lambda sends standard output to CloudWatch Logs, which extracts the metric.
    println!("{line}");
}

impl User {
    pub fn is(&self, email: &str) -> bool {
        self.email == email.trim().to_lowercase()
    }
}
