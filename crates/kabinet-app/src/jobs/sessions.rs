//! Deletes resident sessions that have ended (idle too long or past their
//! end), so the table holds only live ones, and the per-address counters
//! whose minute is over.

use super::{Attempt, Job, JobEnv, JobError, Recurring};
use kabinet_db::Repos;
use serde::{Deserialize, Serialize};

/// The job (no arguments).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SweepSessions {}

impl Job for SweepSessions {
    const KIND: &'static str = "sweep_sessions";

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        let idle = env.app.auth.settings().session_idle;
        let n = env
            .app
            .db()
            .sessions()
            .sweep(attempt.now, attempt.now - idle)
            .await?;
        if n > 0 {
            tracing::info!(sessions = n, "ended sessions removed");
        }
        env.app
            .db()
            .address_hits()
            .forget_old(attempt.now.unix_timestamp())
            .await?;
        Ok(())
    }
}

impl Recurring for SweepSessions {
    const SCHEDULE: &'static str = "0 */10 * * * *";
}
