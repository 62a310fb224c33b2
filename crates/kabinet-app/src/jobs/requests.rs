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

/// Escalates an emergency nobody took within
/// [`crate::requests::ESCALATE_AFTER`] to the administrators.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EscalateEmergency {
    /// The request.
    pub request: i64,
}

impl Job for EscalateEmergency {
    const KIND: &'static str = "escalate_emergency";

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        if env
            .app
            .requests
            .escalate(kabinet_domain::RequestId(self.request), attempt.now)
            .await?
        {
            tracing::warn!(
                request = self.request,
                "an emergency was not taken in time: escalated"
            );
        }
        Ok(())
    }
}

impl Recurring for ReturnDeferred {
    /// Just after midnight, and each hour after it in case a server was down.
    const SCHEDULE: &'static str = "0 1 * * * *";
}
