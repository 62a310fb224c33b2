//! Fans an announcement out to the residents it targets, as
//! notifications (an emergency to everyone on every channel they have, in
//! quiet hours too), and a new version of the Rules or the consent to
//! everyone: a chunk of residents a run, each run queueing the job for the
//! rest, so a million residents never sit in one transaction.

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

/// The job: a new version of the Rules or the consent, and the last
/// resident covered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyDocument {
    /// `rules` or `consent`.
    pub doc: String,
    /// The version published.
    pub version: i32,
    /// The last resident (user id) already covered.
    pub after: i64,
}

impl Job for NotifyDocument {
    const KIND: &'static str = "document_notify";

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        let doc = match self.doc.as_str() {
            "consent" => kabinet_domain::Document::Consent,
            _ => kabinet_domain::Document::Rules,
        };
        let next = env
            .app
            .notify
            .announce_document(doc, self.version, self.after, attempt.now)
            .await?;
        if let Some(last) = next {
            let rest = NotifyDocument {
                after: last,
                ..self.clone()
            };
            super::enqueue(env.app.db(), &rest, attempt.now, attempt.now).await?;
        }
        Ok(())
    }
}
