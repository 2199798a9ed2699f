//! Passwords: a length rule, and argon2id hashes (never the password itself).

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use domain::values::Invalid;

pub const MIN_LENGTH: usize = 12;

/// A password that meets the rule; only ever hashed.
pub struct Password(String);

impl Password {
    pub fn parse(text: impl Into<String>) -> Result<Self, Invalid> {
        let text = text.into();
        if text.chars().count() < MIN_LENGTH {
            return Err(Invalid(format!("must be at least {MIN_LENGTH} characters")));
        }
        if text.chars().count() > 256 {
            return Err(Invalid("must be at most 256 characters".to_owned()));
        }
        Ok(Self(text))
    }

    /// An argon2id hash in PHC string form.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .expect("argon2 with default parameters hashes any password")
            .to_string()
    }

    /// A fresh random password (for a first admin nobody chose one for).
    pub fn generate() -> String {
        let mut bytes = [0u8; 18];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    }
}

/// Whether `attempt` matches the stored hash (in constant time).
pub fn verify(attempt: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(attempt.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the same time as a real check, for unknown accounts.
pub fn verify_nothing(attempt: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| Password("placeholder-password".to_owned()).hash());
    let _ = verify(attempt, hash);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = Password::parse("correct horse battery").unwrap().hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &hash));
        assert!(!verify("correct horse battery!", &hash));
        assert!(!verify("anything", "not a hash"));
        assert!(Password::parse("short").is_err());
        assert!(Password::generate().len() >= 24);
    }
}
