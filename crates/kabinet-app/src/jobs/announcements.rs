//! Fans an announcement out to the residents it targets, as
//! notifications (an emergency to everyone on every channel they have, in
//! quiet hours too): a chunk of residents a run, each run queueing the job
//! for the rest, so a million residents never sit in one transaction.

use super::{Attempt, Job, JobEnv, JobError};
use serde::{Deserialize, Serialize};

/// The job: the announcement and the last resident covered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NotifyAnnouncement {
    /// The announcement.
    pub id: i64,
    /// The last resident (user id) already covered.
    pub after: i64,
}

impl Job for NotifyAnnouncement {
    const KIND: &'static str = "announcement_notify";

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        if let Some(last) = env.app.notify.announce(self.id, self.after, attempt.now).await? {
            let rest = NotifyAnnouncement {
                id: self.id,
                after: last,
            };
            super::enqueue(env.app.db(), &rest, attempt.now, attempt.now).await?;
        }
        Ok(())
    }
}
