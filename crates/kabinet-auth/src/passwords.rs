//! Argon2id password hashing (OWASP minimum: 19 MiB, 2 passes, 1 lane) on the
//! blocking thread pool, with at most one hash per CPU core at a time so a burst
//! of sign-ins queues instead of exhausting memory or starving other requests.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified when there is no real hash, so an
    /// unknown account takes as long as a known one.
    dummy: Arc<str>,
}

/// Hashing failed (out of memory, a worker panicked).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl Hasher {
    /// A hasher with the OWASP parameters and one permit per core.
    pub fn new() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::with(
            Params::new(19 * 1024, 2, 1, None).unwrap_or_else(|e| unreachable!("valid params: {e}")),
            cores,
        )
    }

    /// A hasher with other parameters and `concurrency` simultaneous hashes.
    pub fn with(params: Params, concurrency: usize) -> Hasher {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy = argon
            .hash_password(&crate::secrets::random_bytes::<16>())
            .map(|h| h.to_string())
            .unwrap_or_default();
        Hasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: dummy.into(),
        }
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a password.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        let argon = self.argon();
        let password = password.to_string();
        tokio::task::spawn_blocking(move || argon.hash_password(password.as_bytes()).map(|h| h.to_string()))
            .await
            .map_err(|e| HashError(e.to_string()))?
            .map_err(|e| HashError(e.to_string()))
    }

    /// Whether `password` matches `hash`. An empty or malformed hash never
    /// matches, but costs as much time as a real one.
    pub async fn verify(&self, hash: &str, password: &str) -> Result<bool, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        let argon = self.argon();
        let real = !hash.is_empty() && hash.starts_with("$argon2");
        let hash = if real {
            hash.to_string()
        } else {
            self.dummy.to_string()
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            argon.verify_password(password.as_bytes(), hash.as_str()).is_ok()
        })
        .await
        .map_err(|e| HashError(e.to_string()))?;
        Ok(ok && real)
    }

    /// Spends the time of one verification without a result (for unknown
    /// accounts and refused attempts).
    pub async fn waste(&self) {
        let _ = self.verify("", "x").await;
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let h = Hasher::new();
        let hash = h.hash("зелёный трамвай").await.unwrap_or_else(|e| panic!("{e}"));
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(h.verify(&hash, "зелёный трамвай").await.unwrap_or(false));
        assert!(!h.verify(&hash, "зелёный трамвай!").await.unwrap_or(true));
        assert!(!h.verify("", "").await.unwrap_or(true));
        assert!(!h.verify("not a hash", "x").await.unwrap_or(true));
    }
}
