//! Delivers one e-mail of the outbox. Queued by the outbox itself in the
//! transaction that writes the message. A message already sent is not sent
//! again; one sent just before its server died is (delivery is at least once).

use super::{Attempt, Job, JobEnv, JobError};
use kabinet_db::Repos;
use kabinet_domain::{OutboxId, OutboxStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The job: the outbox row to deliver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    /// The message.
    pub outbox: OutboxId,
}

impl Job for SendEmail {
    const KIND: &'static str = kabinet_domain::jobs::EMAIL;
    const MAX_ATTEMPTS: i32 = kabinet_db::outbox::MAX_ATTEMPTS;

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        let db = env.app.db();
        let Some(m) = db.outbox().get(self.outbox).await? else {
            return Ok(());
        };
        if m.status == OutboxStatus::Sent {
            return Ok(());
        }
        let sender = env.app.settings.sender.current().await?;
        match env.mailer.send(&m.email, sender.as_deref()).await {
            Ok(()) => {
                db.outbox().sent(m.id, OffsetDateTime::now_utc()).await?;
                Ok(())
            }
            Err(e) => {
                let retry =
                    (!attempt.last).then(|| attempt.now + kabinet_domain::jobs::backoff(attempt.number));
                db.outbox().attempt_failed(m.id, &e.to_string(), retry).await?;
                Err(e.into())
            }
        }
    }
}
