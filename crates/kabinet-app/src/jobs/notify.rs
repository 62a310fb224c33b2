//! The notification jobs: producing events from the billing data, and
//! sending their e-mails. Both recur, one row each, so at most one of each
//! runs at a time across servers (and the e-mail pace holds for all); an
//! import wakes the producer at once.

use super::{Attempt, Job, JobEnv, JobError, Recurring};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Produces the events of new invoices and imported payments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProduceNotifications {}

impl Job for ProduceNotifications {
    const KIND: &'static str = "notify_produce";
    /// A million accounts take about a minute.
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(900);

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        env.app.notify.produce(OffsetDateTime::now_utc()).await?;
        Ok(())
    }
}

impl Recurring for ProduceNotifications {
    const SCHEDULE: &'static str = "0 * * * * *";
}

/// How long one run of the e-mail sender sends before it gives way.
pub const SEND_FOR: std::time::Duration = std::time::Duration::from_secs(50);

/// Sends the e-mails of notifications waiting.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SendNotifications {}

impl Job for SendNotifications {
    const KIND: &'static str = "notify_email";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        let sender = env.app.settings.sender.current().await?;
        let until = std::time::Instant::now() + SEND_FOR;
        let sent = env
            .app
            .notify
            .send_email(&env.mailer, sender.as_deref(), until)
            .await?;
        if sent > 0 {
            tracing::info!(sent, "notification e-mails sent");
        }
        Ok(())
    }
}

impl Recurring for SendNotifications {
    const SCHEDULE: &'static str = "*/10 * * * * *";
}

/// Sends the SMS of notifications waiting.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SendSmsNotifications {}

impl Job for SendSmsNotifications {
    const KIND: &'static str = "notify_sms";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        let until = std::time::Instant::now() + SEND_FOR;
        let sent = env.app.notify.send_sms(until).await?;
        if sent > 0 {
            tracing::info!(sent, "notification SMS sent");
        }
        Ok(())
    }
}

impl Recurring for SendSmsNotifications {
    const SCHEDULE: &'static str = "5/10 * * * * *";
}

/// Sends the MAX messages of notifications waiting.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SendMaxNotifications {}

impl Job for SendMaxNotifications {
    const KIND: &'static str = "notify_max";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        let until = std::time::Instant::now() + SEND_FOR;
        let sent = env.app.notify.send_max(until).await?;
        if sent > 0 {
            tracing::info!(sent, "notification MAX messages sent");
        }
        Ok(())
    }
}

impl Recurring for SendMaxNotifications {
    const SCHEDULE: &'static str = "7/10 * * * * *";
}

/// How long one long poll for the MAX bot's updates waits.
pub const MAX_POLL: std::time::Duration = std::time::Duration::from_secs(20);

/// Takes the MAX bot's updates by long polling and answers them (when MAX
/// is offered and no webhook is subscribed). One runs at a time across
/// servers, so each update is answered once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PollMax {}

impl Job for PollMax {
    const KIND: &'static str = "max_updates";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        if env.app.max.enabled() && !env.app.notify.max_webhook() {
            env.app.max.poll(MAX_POLL).await?;
        }
        Ok(())
    }
}

impl Recurring for PollMax {
    const SCHEDULE: &'static str = "*/2 * * * * *";
}

/// Asks the SMS provider what became of the SMS sent in the last day.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PollSms {}

impl Job for PollSms {
    const KIND: &'static str = "sms_status";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

    async fn run(&self, env: &JobEnv, _: Attempt) -> Result<(), JobError> {
        env.app.notify.poll_sms(OffsetDateTime::now_utc()).await?;
        Ok(())
    }
}

impl Recurring for PollSms {
    const SCHEDULE: &'static str = "30 * * * * *";
}

/// Sends one SMS of the outbox outside the notifications: a phone
/// verification code, at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendSms {
    /// The message.
    pub outbox: kabinet_domain::OutboxId,
}

impl Job for SendSms {
    const KIND: &'static str = kabinet_domain::jobs::SMS;
    const MAX_ATTEMPTS: i32 = kabinet_db::outbox::SMS_ATTEMPTS;

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        let retry = (!attempt.last).then(|| attempt.now + kabinet_domain::jobs::backoff(attempt.number));
        env.app.notify.send_outbox_sms(self.outbox, retry).await?;
        Ok(())
    }
}
