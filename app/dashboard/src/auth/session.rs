//! Sessions live in the browser's cookie only, encrypted and authenticated
//! with a key from configuration, so any Lambda instance serves any request.
//! The cookie names a session version of the user's; bumping that version
//! (logout, password reset, disabling) ends every session at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "session";
/// The longest a session lasts, however active.
pub const LIFETIME_SECS: i64 = 12 * 3600;
/// A session unused this long has ended.
pub const IDLE_SECS: i64 = 30 * 60;
const NONCE_LEN: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub email: String,
    pub version: u64,
    /// Unix seconds.
    pub issued: i64,
    pub seen: i64,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl Session {
    pub fn start(email: &str, version: u64, now: i64) -> Self {
        let mut token = [0u8; 24];
        getrandom::fill(&mut token).expect("the OS has randomness");
        Self {
            email: email.to_owned(),
            version,
            issued: now,
            seen: now,
            csrf: URL_SAFE_NO_PAD.encode(token),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the session cookie is not one of ours (tampered, or made with another key)")]
    Forged,
    #[error("the session is older than its lifetime")]
    Expired,
    #[error("the session was idle too long")]
    Idle,
}

/// The key that seals session cookies.
pub struct SessionKey(XChaCha20Poly1305);

impl SessionKey {
    /// A key from a configured secret (at least 32 characters).
    pub fn from_secret(secret: &str) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the session secret must be at least 32 characters".to_owned());
        }
        let digest = Sha256::digest(secret.as_bytes());
        Ok(Self(XChaCha20Poly1305::new(&digest)))
    }

    /// A random secret, for a local stack whose sessions may end with it.
    pub fn random_secret() -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn seal(&self, session: &Session) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS has randomness");
        let plain = serde_json::to_vec(session).expect("a session serializes");
        let sealed = self
            .0
            .encrypt(XNonce::from_slice(&nonce), plain.as_slice())
            .expect("encryption of a small message cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn open(&self, cookie: &str, now: i64) -> Result<Session, Refused> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cookie)
            .map_err(|_| Refused::Forged)?;
        if bytes.len() <= NONCE_LEN {
            return Err(Refused::Forged);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .0
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| Refused::Forged)?;
        let session: Session = serde_json::from_slice(&plain).map_err(|_| Refused::Forged)?;
        if now - session.issued > LIFETIME_SECS {
            Err(Refused::Expired)
        } else if now - session.seen > IDLE_SECS {
            Err(Refused::Idle)
        } else {
            Ok(session)
        }
    }
}

/// The `Set-Cookie` value carrying a sealed session.
pub fn cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECS}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn removal(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The session cookie's value in a `Cookie` header.
pub fn from_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .find_map(|pair| pair.trim().strip_prefix(&format!("{COOKIE}=")))
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> SessionKey {
        SessionKey::from_secret(secret).unwrap()
    }

    #[test]
    fn sealed_sessions_open_with_their_key_only() {
        let key = key("0123456789abcdef0123456789abcdef");
        let session = Session::start("ana@example.com", 3, 1000);
        let sealed = key.seal(&session);
        assert!(!sealed.contains("ana"), "the cookie is encrypted");
        assert_eq!(key.open(&sealed, 1000), Ok(session));
        let other = self::key("another secret of at least thirty-two chars");
        assert_eq!(other.open(&sealed, 1000), Err(Refused::Forged));
    }

    #[test]
    fn tampered_expired_and_idle_sessions_are_refused() {
        let key = key("0123456789abcdef0123456789abcdef");
        let mut session = Session::start("ana@example.com", 0, 1000);
        let sealed = key.seal(&session);
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            key.open(&URL_SAFE_NO_PAD.encode(bytes), 1000),
            Err(Refused::Forged)
        );
        assert_eq!(key.open("garbage", 1000), Err(Refused::Forged));
        assert_eq!(key.open(&sealed, 1000 + IDLE_SECS + 1), Err(Refused::Idle));
        session.seen = 1000 + LIFETIME_SECS;
        assert_eq!(
            key.open(&key.seal(&session), 1000 + LIFETIME_SECS + 1),
            Err(Refused::Expired)
        );
    }

    #[test]
    fn cookies() {
        assert!(cookie("v", true).contains("; Secure"));
        assert!(!cookie("v", false).contains("Secure"));
        assert!(cookie("v", false).contains("HttpOnly; SameSite=Strict"));
        assert_eq!(from_header("flash=x; session=abc; other=1"), Some("abc"));
        assert_eq!(from_header("session="), None);
        assert!(SessionKey::from_secret("short").is_err());
    }
}
