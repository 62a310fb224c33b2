//! Random secrets and what is derived from them: session and reset tokens
//! (stored as SHA-256), one-time passwords, and the server key that signs CSRF
//! tokens and hashes passport numbers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Characters of generated passwords: lower-case letters and digits without
/// the look-alikes i, l, o, 0, 1.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// `n` bytes from the operating system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS generator failing is not something Kabinet can run without.
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system's random generator failed: {e}");
    }
    buf
}

/// A new secret token (256 bits, URL-safe base64) for a cookie, an API token
/// or a reset link.
pub fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A new unguessable public id (128 bits, URL-safe base64, 22 characters)
/// for something a URL names, such as a card payment.
pub fn new_public_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// What is stored for a token: its SHA-256 in hex. Tokens are random and long,
/// so no salt or slow hash is needed.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A one-time password: 12 characters from [`PASSWORD_ALPHABET`] in three
/// groups (`k7mq-x3pt-9cwe`, about 59 bits), easy to read and type.
pub fn generated_password() -> String {
    let mut out = String::with_capacity(14);
    let mut count = 0;
    while count < 12 {
        for b in random_bytes::<32>() {
            // Rejection sampling keeps every character equally likely.
            if usize::from(b) >= 256 - 256 % PASSWORD_ALPHABET.len() {
                continue;
            }
            if count > 0 && count % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(
                PASSWORD_ALPHABET[usize::from(b) % PASSWORD_ALPHABET.len()],
            ));
            count += 1;
            if count == 12 {
                break;
            }
        }
    }
    out
}

/// The server's secret key. Signs CSRF tokens and keys the passport hash, so
/// every server of one installation must share it.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Shorter than 32 bytes once decoded.
    #[error("the secret key must be at least 32 bytes (64 hex characters)")]
    TooShort,
    /// The key file could not be read or created.
    #[error("secret key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl ServerKey {
    /// A key from configuration text: hex, or any text of 32+ bytes (hashed to 32).
    pub fn from_text(text: &str) -> Result<ServerKey, KeyError> {
        let text = text.trim();
        if let Ok(bytes) = hex::decode(text)
            && bytes.len() >= 32
        {
            return Ok(ServerKey(Sha256::digest(&bytes).into()));
        }
        if text.len() < 32 {
            return Err(KeyError::TooShort);
        }
        Ok(ServerKey(Sha256::digest(text.as_bytes()).into()))
    }

    /// Reads the key from `path`, creating it with a new random key (mode 0600)
    /// when the file does not exist.
    pub fn load_or_create(path: &std::path::Path) -> Result<ServerKey, KeyError> {
        let err = |source| KeyError::File {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => ServerKey::from_text(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = hex::encode(random_bytes::<32>());
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                use std::io::Write;
                let mut f = options.open(path).map_err(err)?;
                f.write_all(format!("{key}\n").as_bytes()).map_err(err)?;
                ServerKey::from_text(&key)
            }
            Err(e) => Err(err(e)),
        }
    }

    /// HMAC-SHA256 of `parts` (length-prefixed, so parts cannot run into each
    /// other) under this key and a purpose label.
    pub fn sign(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for p in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of a passport's digits that is stored instead of the number.
    pub fn passport_hash(&self, passport: &kabinet_domain::Passport) -> String {
        hex::encode(self.sign("passport", &[passport.digits().as_bytes()]))
    }

    /// The CSRF token for a browser: bound to its CSRF cookie and, once signed
    /// in, to its session.
    pub fn csrf_token(&self, cookie: &str, session: Option<&str>) -> String {
        URL_SAFE_NO_PAD.encode(self.sign("csrf", &[cookie.as_bytes(), session.unwrap_or("").as_bytes()]))
    }

    /// Checks a CSRF token in constant time.
    pub fn csrf_valid(&self, token: &str, cookie: &str, session: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.csrf_token(cookie, session);
        !cookie.is_empty() && expected.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_readable_and_differ() {
        let a = generated_password();
        let b = generated_password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 14);
        assert_eq!(a.matches('-').count(), 2);
        assert!(
            a.chars()
                .all(|c| c == '-' || PASSWORD_ALPHABET.contains(&(c as u8)))
        );
        assert!(!a.contains(['0', '1', 'o', 'l', 'i']));
    }

    #[test]
    fn tokens_are_long_and_hashed() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), token_hash(&new_token()));
    }

    #[test]
    fn csrf_tokens_bind_cookie_and_session() {
        let k = ServerKey::from_text(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        let t = k.csrf_token("c1", None);
        assert!(k.csrf_valid(&t, "c1", None));
        assert!(!k.csrf_valid(&t, "c2", None));
        assert!(!k.csrf_valid(&t, "c1", Some("s")));
        assert!(!k.csrf_valid("", "", None));
        assert!(ServerKey::from_text("short").is_err());
    }
}
