//! Work a request starts and does not wait for: registration checks and
//! password-reset requests are answered at once, the same for every account,
//! and done here afterwards, so neither the answer nor its timing tells whether
//! the account exists, has a user, or matched.
//!
//! At most [`Background::LIMIT`] tasks run at once; a request that would start
//! one more waits for a free slot (under such a flood the wait depends on the
//! flood, not on the account). The server waits for running tasks before it
//! stops.

use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Tasks started by requests, bounded and awaitable.
#[derive(Clone)]
pub struct Background {
    slots: Arc<Semaphore>,
}

impl Background {
    /// Tasks running at most at once.
    pub const LIMIT: u32 = 256;

    /// An empty set of tasks.
    pub fn new() -> Background {
        Background {
            slots: Arc::new(Semaphore::new(Self::LIMIT as usize)),
        }
    }

    /// Starts `task` once a slot is free. A task that fails logs its error;
    /// nobody is waiting for its answer.
    pub async fn spawn<F>(&self, what: &'static str, task: F)
    where
        F: Future<Output = Result<(), crate::Error>> + Send + 'static,
    {
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            tracing::error!(
                task = what,
                "background work is shut down; the request was dropped"
            );
            return;
        };
        tokio::spawn(async move {
            if let Err(e) = task.await {
                tracing::error!(task = what, error = %e, "background work failed");
            }
            drop(slot);
        });
    }

    /// Waits until every task started so far has finished.
    pub async fn idle(&self) {
        if let Ok(all) = self.slots.acquire_many(Self::LIMIT).await {
            drop(all);
        }
    }
}

impl Default for Background {
    fn default() -> Self {
        Background::new()
    }
}
