//! The dashboard's cookies, all private (encrypted and authenticated with a
//! key from configuration, through axum-extra's `PrivateCookieJar`): the
//! session; the one-time message an action leaves for the next page; and
//! the device, which a successful sign-in leaves so that the browser can
//! prove later that its account signed in from it (sign-in pacing spares it).
//! Deployed over HTTPS they carry the `__Host-` prefix and `Secure`.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use cookie::time::Duration;

use crate::auth::session::{LIFETIME_SECS, Session};
use crate::request::flash::Flash;

/// How long a flash message waits for the next page.
const FLASH_SECS: i64 = 120;

/// How long a browser counts as one its account signed in from.
const DEVICE_SECS: i64 = 180 * 86_400;

/// What the device cookie says: which account signed in from this browser.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Device {
    account: String,
}

/// Reads and writes the dashboard's cookies.
#[derive(Clone)]
pub struct Cookies {
    key: Key,
    /// HTTPS (deployed): `Secure`, `__Host-` names and HSTS. Plain-HTTP
    /// loopback (`cargo run`): none of them, or browsers drop the cookies.
    pub secure: bool,
}

impl std::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cookies")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// Why a secret cannot seal cookies.
#[derive(Debug, thiserror::Error)]
#[error("the session secret must be at least 32 characters")]
pub struct WeakSecret;

impl Cookies {
    pub fn new(secret: &str, secure: bool) -> Result<Self, WeakSecret> {
        if secret.len() < 32 {
            return Err(WeakSecret);
        }
        Ok(Self {
            key: Key::derive_from(secret.as_bytes()),
            secure,
        })
    }

    /// A random secret, for a local stack whose sessions may end with it.
    pub fn random_secret() -> String {
        crate::auth::random_token() + &crate::auth::random_token()
    }

    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-session"
        } else {
            "session"
        }
    }

    pub fn flash_name(&self) -> &'static str {
        if self.secure { "__Host-flash" } else { "flash" }
    }

    pub fn device_name(&self) -> &'static str {
        if self.secure {
            "__Host-device"
        } else {
            "device"
        }
    }

    /// The account that signed in from this browser before, if it says so.
    pub fn device(&self, jar: &PrivateCookieJar) -> Option<String> {
        serde_json::from_str::<Device>(jar.get(self.device_name())?.value())
            .ok()
            .map(|device| device.account)
    }

    pub fn with_device(&self, jar: PrivateCookieJar, account: &str) -> PrivateCookieJar {
        let device = Device {
            account: account.to_owned(),
        };
        let value = serde_json::to_string(&device).expect("a device serializes");
        jar.add(self.build(self.device_name(), value, DEVICE_SECS))
    }

    /// The cookies a request carries, decrypted on reading.
    pub fn jar(&self, headers: &HeaderMap) -> PrivateCookieJar {
        PrivateCookieJar::from_headers(headers, self.key.clone())
    }

    /// The session a request carries, if its cookie is ours and readable.
    /// (Whether the session still holds is for `Auth::authenticate`.)
    pub fn session(&self, jar: &PrivateCookieJar) -> Option<Session> {
        serde_json::from_str(jar.get(self.session_name())?.value()).ok()
    }

    /// Whether the request sent a session cookie at all (valid or not).
    pub fn sent_session(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .flatten()
            .any(|cookie| cookie.name() == self.session_name())
    }

    pub fn with_session(&self, jar: PrivateCookieJar, session: &Session) -> PrivateCookieJar {
        let value = serde_json::to_string(session).expect("a session serializes");
        jar.add(self.build(self.session_name(), value, LIFETIME_SECS))
    }

    /// The `name=value` pair a browser sends for this session (for tools and tests).
    pub fn session_pair(&self, session: &Session) -> String {
        let mut jar = cookie::CookieJar::new();
        let value = serde_json::to_string(session).expect("a session serializes");
        jar.private_mut(&self.key)
            .add(Cookie::new(self.session_name(), value));
        let sealed = jar.get(self.session_name()).expect("just added");
        format!("{}={}", sealed.name(), sealed.value())
    }

    pub fn without_session(&self, jar: PrivateCookieJar) -> PrivateCookieJar {
        jar.remove(self.build(self.session_name(), String::new(), 0))
    }

    pub fn flash(&self, jar: &PrivateCookieJar) -> Option<Flash> {
        serde_json::from_str(jar.get(self.flash_name())?.value()).ok()
    }

    pub fn with_flash(&self, jar: PrivateCookieJar, flash: &Flash) -> PrivateCookieJar {
        let value = serde_json::to_string(flash).expect("a flash serializes");
        jar.add(self.build(self.flash_name(), value, FLASH_SECS))
    }

    pub fn without_flash(&self, jar: PrivateCookieJar) -> PrivateCookieJar {
        jar.remove(self.build(self.flash_name(), String::new(), 0))
    }

    fn build(&self, name: &'static str, value: String, max_age_secs: i64) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(Duration::seconds(max_age_secs))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    fn set_cookies(jar: PrivateCookieJar) -> Vec<String> {
        jar.into_response()
            .headers()
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn deployed_cookies_are_host_only_and_secure() {
        let cookies = Cookies::new("0123456789abcdef0123456789abcdef", true).unwrap();
        let session = Session::start("ana@example.com", 0, 1000);
        let jar = cookies.with_session(cookies.jar(&HeaderMap::new()), &session);
        let jar = cookies.with_flash(jar, &Flash::success("done"));
        let set = set_cookies(jar);
        assert_eq!(set.len(), 2);
        for cookie in &set {
            assert!(cookie.starts_with("__Host-"), "{cookie}");
            for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
            }
            assert!(!cookie.contains("ana@example.com"), "encrypted: {cookie}");
        }
    }

    #[test]
    fn sessions_open_with_their_own_key_only() {
        let ours = Cookies::new("0123456789abcdef0123456789abcdef", false).unwrap();
        let theirs = Cookies::new("another secret of at least thirty-two chars", false).unwrap();
        let session = Session::start("ana@example.com", 3, 1000);
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            ours.session_pair(&session).parse().unwrap(),
        );
        assert_eq!(ours.session(&ours.jar(&headers)), Some(session));
        assert_eq!(theirs.session(&theirs.jar(&headers)), None);
        assert!(Cookies::new("short", false).is_err());
        // A flash cookie cannot be replayed as a session: the name is authenticated too.
        let flash_as_session = ours
            .session_pair(&Session::start("x@example.com", 0, 0))
            .replacen("session=", "flash=", 1);
        headers.insert(
            axum::http::header::COOKIE,
            flash_as_session.parse().unwrap(),
        );
        assert_eq!(ours.flash(&ours.jar(&headers)), None);
    }
}
