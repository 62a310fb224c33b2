//! E-mails an announcement to the residents it targets who chose
//! announcements, a batch a run: each run queues the next batch and the
//! job for the rest, so a million residents never sit in one transaction.

use super::{Attempt, Job, JobEnv, JobError};
use serde::{Deserialize, Serialize};

/// Residents e-mailed per run.
pub const BATCH: u64 = 500;

/// The job: the announcement and the last resident written to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NotifyAnnouncement {
    /// The announcement.
    pub id: i64,
    /// The last resident (user id) already e-mailed.
    pub after: i64,
}

impl Job for NotifyAnnouncement {
    const KIND: &'static str = "announcement_notify";

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        let n = env
            .app
            .announcements
            .notify_batch(self.id, self.after, BATCH)
            .await?;
        if n > 0 {
            tracing::info!(
                announcement = self.id,
                residents = n,
                "announcement e-mails queued"
            );
        }
        Ok(())
    }
}
