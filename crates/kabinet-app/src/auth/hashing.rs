//! Argon2id password hashing (OWASP minimum: 19 MiB, 2 passes, 1 lane) on a
//! few threads of its own, one per CPU core: a burst of sign-ins queues instead
//! of exhausting memory or starving other requests. Each thread allocates its
//! 19 MiB working area once and reuses it, so the server's memory does not
//! grow with the number of sign-ins (a fresh area per hash left the allocator
//! holding hundreds of megabytes).

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordVerifier, Version};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce(&mut Engine) + Send>;

/// One hashing thread's Argon2id instance and its reusable working memory.
struct Engine {
    argon: Argon2<'static>,
    params: Params,
    blocks: Vec<Block>,
}

impl Engine {
    fn new(params: Params) -> Engine {
        Engine {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            blocks: vec![Block::new(); params.block_count()],
            params,
        }
    }

    fn output_len(&self) -> usize {
        self.params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN)
            .min(Output::MAX_LENGTH)
    }

    /// The PHC string of `password` with a fresh random salt.
    fn hash(&mut self, password: &[u8]) -> Result<String, String> {
        let salt = super::secrets::random_bytes::<16>();
        let mut buf = [0u8; Output::MAX_LENGTH];
        let out = &mut buf[..self.output_len()];
        self.argon
            .hash_password_into_with_memory(password, &salt, &mut *out, &mut self.blocks)
            .map_err(|e| e.to_string())?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| e.to_string())?,
            salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
            hash: Some(Output::new(out).map_err(|e| e.to_string())?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `hash`. Hashes made with our
    /// parameters reuse the working memory; others (older settings) are
    /// checked the ordinary way.
    fn verify(&mut self, password: &[u8], hash: &str) -> bool {
        let Ok(phc) = PasswordHash::new(hash) else {
            return false;
        };
        let ours = phc.algorithm == Algorithm::Argon2id.ident()
            && phc.version == Some(Version::V0x13.into())
            && Params::try_from(&phc).is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    == (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
                    && p.keyid().is_empty()
                    && p.data().is_empty()
            });
        match (ours, &phc.salt, &phc.hash) {
            (true, Some(salt), Some(expected)) if expected.len() == self.output_len() => {
                let mut buf = [0u8; Output::MAX_LENGTH];
                let out = &mut buf[..self.output_len()];
                let done =
                    self.argon
                        .hash_password_into_with_memory(password, salt, &mut *out, &mut self.blocks);
                // `Output` compares in constant time.
                done.is_ok() && Output::new(out).is_ok_and(|o| &o == expected)
            }
            _ => self.argon.verify_password(password, &phc).is_ok(),
        }
    }
}

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
    /// A hash of a random password, verified when there is no real hash, so an
    /// unknown account takes as long as a known one.
    dummy: Arc<str>,
}

fn worker(params: Params, jobs: Arc<Mutex<Receiver<Job>>>) {
    let mut engine = Engine::new(params);
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut engine),
            // Every Hasher is gone.
            Err(_) => return,
        }
    }
}

/// Hashing failed (out of memory, a worker panicked).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl Hasher {
    /// A hasher with the OWASP parameters and one thread per core.
    pub fn new() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::with(
            Params::new(19 * 1024, 2, 1, None).unwrap_or_else(|e| unreachable!("valid params: {e}")),
            cores,
        )
    }

    /// A hasher with other parameters and `concurrency` hashing threads.
    pub fn with(params: Params, concurrency: usize) -> Hasher {
        let dummy = Engine::new(params.clone())
            .hash(&super::secrets::random_bytes::<16>())
            .unwrap_or_default();
        // Jobs beyond this many waiting make callers wait asynchronously for room.
        let (tx, rx) = sync_channel::<Job>(1024);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..concurrency.max(1) {
            let (params, rx) = (params.clone(), rx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(params, rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Hasher {
            jobs: tx,
            dummy: dummy.into(),
        }
    }

    /// Runs `f` on a hashing thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Engine) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut job: Job = Box::new(move |engine| {
            let _ = tx.send(f(engine));
        });
        // The queue is full only under extreme load: wait for room without
        // blocking the async runtime.
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    job = back;
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(HashError("the hashing threads stopped".into()));
                }
            }
        }
        rx.await.map_err(|_| HashError("a hashing thread failed".into()))
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a password.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_string();
        self.run(move |engine| engine.hash(password.as_bytes()))
            .await?
            .map_err(HashError)
    }

    /// Whether `password` matches `hash`. An empty or malformed hash never
    /// matches, but costs as much time as a real one.
    pub async fn verify(&self, hash: &str, password: &str) -> Result<bool, HashError> {
        let real = hash.starts_with("$argon2");
        let hash = if real {
            hash.to_string()
        } else {
            self.dummy.to_string()
        };
        let password = password.to_string();
        let ok = self
            .run(move |engine| engine.verify(password.as_bytes(), &hash))
            .await?;
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

    #[tokio::test]
    async fn verifies_hashes_made_with_other_parameters() {
        use argon2::PasswordHasher;
        let old = Params::new(8 * 1024, 1, 1, None).unwrap_or_else(|e| panic!("{e}"));
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, old)
            .hash_password(b"old password")
            .map(|h| h.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let h = Hasher::new();
        assert!(h.verify(&hash, "old password").await.unwrap_or(false));
        assert!(!h.verify(&hash, "old passworD").await.unwrap_or(true));
        // A hash made by the standard implementation with our parameters
        // verifies on the reused memory too.
        let ours = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap_or_else(|e| panic!("{e}")),
        )
        .hash_password(b"same")
        .map(|h| h.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(h.verify(&ours, "same").await.unwrap_or(false));
        assert!(!h.verify(&ours, "Same").await.unwrap_or(true));
    }
}
