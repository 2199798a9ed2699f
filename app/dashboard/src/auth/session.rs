//! A signed-in session: who, which of their session versions, since when,
//! and the token every form of the session carries. The session lives only in
//! the browser, in a cookie the web layer encrypts and authenticates
//! (`web::cookies`), so any Lambda instance serves any request. Bumping the
//! user's session version (sign-out, password reset, disabling) ends every
//! session of theirs at once.

use serde::{Deserialize, Serialize};

/// The longest a session lasts, however active.
pub const LIFETIME_SECS: i64 = 12 * 3600;
/// A session unused this long has ended.
pub const IDLE_SECS: i64 = 30 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub email: String,
    pub version: u64,
    /// Unix seconds.
    pub issued: i64,
    pub seen: i64,
    /// The anti-forgery token every form of this session carries.
    pub csrf: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ended {
    #[error("the session is older than its lifetime")]
    Expired,
    #[error("the session was idle too long")]
    Idle,
}

impl Session {
    pub fn start(email: &str, version: u64, now: i64) -> Self {
        Self {
            email: email.to_owned(),
            version,
            issued: now,
            seen: now,
            csrf: super::random_token(),
        }
    }

    /// Whether the session still holds at `now`.
    pub fn check(&self, now: i64) -> Result<(), Ended> {
        if now - self.issued > LIFETIME_SECS {
            Err(Ended::Expired)
        } else if now - self.seen > IDLE_SECS {
            Err(Ended::Idle)
        } else {
            Ok(())
        }
    }

    /// The session, seen again at `now` (sliding its idle timeout).
    pub fn seen_at(mut self, now: i64) -> Self {
        self.seen = now;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_old_or_idle() {
        let session = Session::start("ana@example.com", 0, 1000);
        assert_eq!(session.check(1000), Ok(()));
        assert_eq!(session.check(1000 + IDLE_SECS + 1), Err(Ended::Idle));
        let busy = session.clone().seen_at(1000 + LIFETIME_SECS);
        assert_eq!(busy.check(1000 + LIFETIME_SECS + 1), Err(Ended::Expired));
        assert_eq!(
            session
                .clone()
                .seen_at(1000 + IDLE_SECS)
                .check(1000 + IDLE_SECS + 60),
            Ok(())
        );
        assert_ne!(session.csrf, Session::start("a", 0, 0).csrf);
    }
}
