//! Staff TOTP secrets at rest: sealed with XChaCha20-Poly1305 under a key
//! derived from the server key (HMAC-SHA256 with its own purpose label), so a
//! copy of the database alone gives no one the second factor. The sealed form
//! is `v1.<nonce>.<ciphertext>` (URL-safe base64); the associated data names
//! what the secret belongs to (`staff:<id>`, `session:<id>`), so a sealed
//! value moved to another row does not open.

use crate::Error;
use crate::auth::ServerKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const PREFIX: &str = "v1.";

/// Seals and opens staff TOTP secrets.
#[derive(Clone)]
pub struct SecretBox {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// The box of an installation's server key.
    pub fn new(key: &ServerKey) -> SecretBox {
        SecretBox {
            key: key.sign("staff-totp-secret-v1", &[]),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }

    /// `secret` sealed for `owner`.
    pub fn seal(&self, owner: &str, secret: &str) -> Result<String, Error> {
        let nonce_bytes = crate::auth::secrets::random_bytes::<24>();
        let nonce = XNonce::from(nonce_bytes);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("sealing a TOTP secret".into()))?;
        Ok(format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(nonce_bytes),
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// The secret in `stored` for `owner`. A value of an older install that
    /// was stored unsealed is returned as it is ([`SecretBox::is_sealed`]
    /// tells it apart, so it can be sealed at its next use).
    pub fn open(&self, owner: &str, stored: &str) -> Result<String, Error> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let broken = || Error::Internal("a sealed TOTP secret does not open (another server key?)".into());
        let (nonce, body) = rest.split_once('.').ok_or_else(broken)?;
        let nonce: [u8; 24] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(broken)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| broken())?;
        let plain = self
            .cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &body,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }

    /// Whether `stored` is sealed (and not an older install's plain secret).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_owner_and_key() {
        let key = ServerKey::from_text(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        let b = SecretBox::new(&key);
        let sealed = b.seal("staff:7", "JBSWY3DPEHPK3PXP").unwrap_or_default();
        assert!(SecretBox::is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            b.open("staff:7", &sealed).ok().as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert!(b.open("staff:8", &sealed).is_err(), "another row");
        let other = SecretBox::new(&ServerKey::from_text(&"cd".repeat(32)).unwrap_or_else(|e| panic!("{e}")));
        assert!(other.open("staff:7", &sealed).is_err(), "another key");
        assert_ne!(
            b.seal("staff:7", "JBSWY3DPEHPK3PXP").unwrap_or_default(),
            sealed,
            "a new nonce each time"
        );
        // An older install's plain secret reads as it is.
        assert_eq!(
            b.open("staff:7", "JBSWY3DPEHPK3PXP").ok().as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
    }
}
