//! Returns deferred requests to the queue on the day they were deferred to,
//! with a fresh deadline and a line in their history.

use super::{Attempt, Job, JobEnv, JobError, Recurring};
use serde::{Deserialize, Serialize};

/// The job (no arguments).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReturnDeferred {}

impl Job for ReturnDeferred {
    const KIND: &'static str = "return_deferred";

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        let n = env.app.requests.return_deferred(attempt.now).await?;
        if n > 0 {
            tracing::info!(requests = n, "deferred requests returned to the queue");
        }
        Ok(())
    }
}

impl Recurring for ReturnDeferred {
    /// Just after midnight, and each hour after it in case a server was down.
    const SCHEDULE: &'static str = "0 1 * * * *";
}
