//! Background work: one queue (the `jobs` table), one runner, one file per
//! kind of job.
//!
//! - A kind implements [`Job`]: a serializable payload and an idempotent
//!   `run`, because a job whose server died mid-run is run again once its
//!   lease has passed. A kind that runs on a schedule also implements
//!   [`Recurring`] with a cron pattern evaluated in the organization's time.
//! - Work is queued with [`enqueue`], usually inside the transaction of the
//!   change that causes it, so it exists only if that change commits.
//! - [`Runner`] claims due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so
//!   every server of an installation may run one; failures are retried with
//!   a growing wait ([`kabinet_domain::jobs::backoff`]) and a one-off job is
//!   kept dead after its last attempt for `kabinet jobs` to show, retry or
//!   discard.
//!
//! The kinds: [`email::SendEmail`] (one e-mail of the outbox),
//! [`imports::CheckPackage`] (a billing package's check or import),
//! [`payments::ReconcilePayments`], [`payments::RunAutopay`],
//! [`sessions::SweepSessions`],
//! [`requests::ReturnDeferred`], and the notifications'
//! [`notify::ProduceNotifications`], [`notify::SendNotifications`],
//! [`notify::SendSmsNotifications`], [`notify::PollSms`],
//! [`notify::SendMaxNotifications`], [`notify::PollMax`] (the MAX bot's
//! updates) and
//! [`notify::SendSms`] (a phone verification code).

pub mod announcements;
pub mod email;
pub mod imports;
pub mod notify;
pub mod payments;
pub mod requests;
mod runner;
mod schedule;
pub mod sessions;

pub use runner::{Ran, Runner, RunnerSettings};
pub use schedule::Schedule;

use crate::App;
use kabinet_db::{Conn, DbError, Repos};
use kabinet_domain::JobId;
use kabinet_domain::jobs::NewJob;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use time::OffsetDateTime;

/// What a failed attempt reports; its text is kept on the job.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// What jobs work with: the use cases and the mailer.
#[derive(Clone)]
pub struct JobEnv {
    /// The use cases (and through them the database).
    pub app: Arc<App>,
    /// Where e-mails go.
    pub mailer: Arc<kabinet_notify::Mailer>,
}

/// The attempt being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Its number, from 1.
    pub number: i32,
    /// Whether the job is given up if this attempt fails.
    pub last: bool,
    /// The runner's time when it began.
    pub now: OffsetDateTime,
}

/// One kind of background job.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored name of the kind; never change it once jobs were queued.
    const KIND: &'static str;
    /// Attempts before the job is given up.
    const MAX_ATTEMPTS: i32 = 8;
    /// How long one attempt may take; the lease is a little longer.
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

    /// Does the work. Must be safe to run again after a crash.
    fn run(&self, env: &JobEnv, attempt: Attempt) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// A job that runs on a schedule rather than when queued.
pub trait Recurring: Job + Default {
    /// A cron pattern with seconds (`sec min hour day month weekday`), in the
    /// organization's time.
    const SCHEDULE: &'static str;
}

/// Queues `job` to run at `run_at` on the pool or inside a transaction.
pub async fn enqueue<C: Conn, J: Job>(
    c: &C,
    job: &J,
    run_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Option<JobId>, DbError> {
    let payload = serde_json::to_string(job).map_err(|e| DbError::Corrupt {
        table: "jobs",
        column: "payload",
        value: e.to_string(),
    })?;
    c.jobs()
        .enqueue(
            &NewJob {
                kind: J::KIND.into(),
                payload,
                run_at,
                max_attempts: J::MAX_ATTEMPTS,
                unique_key: None,
            },
            now,
        )
        .await
}
