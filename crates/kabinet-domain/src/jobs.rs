//! Background jobs: what a queued job is, and the pure rules of the runner —
//! how long to wait after a failure and when a job is given up (dead).
//!
//! A job is a row in the `jobs` table: a kind, a JSON payload and the time it
//! is due. A runner leases it for a while (`locked_until`), runs it, and then
//! deletes it (done), moves it on (a recurring job, to its next time), schedules
//! another attempt, or marks it dead. A job whose runner died is taken again
//! once its lease has run out; handlers are written to be run twice safely.

use crate::JobId;
use time::{Duration, OffsetDateTime};

/// The kind of the job that delivers one e-mail of the outbox; the outbox
/// queues it in the same transaction as the message.
pub const EMAIL: &str = "email";

/// The kind of the job that sends one SMS of the outbox outside the
/// notifications (a phone verification code).
pub const SMS: &str = "sms";

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for its time, or being run (then it has a lease).
    Queued,
    /// Given up after its last attempt; kept for a person to retry or discard.
    Dead,
}

impl JobStatus {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn from_stored(s: &str) -> Option<JobStatus> {
        match s {
            "queued" => Some(JobStatus::Queued),
            "dead" => Some(JobStatus::Dead),
            _ => None,
        }
    }
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Which handler runs it.
    pub kind: String,
    /// Its arguments, as JSON.
    pub payload: String,
    /// When it is due.
    pub run_at: OffsetDateTime,
    /// Attempts before it is given up.
    pub max_attempts: i32,
    /// At most one queued or dead job holds a key: queuing a second one with
    /// the same key does nothing (recurring jobs use their kind).
    pub unique_key: Option<String>,
}

/// A queued or dead job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its row.
    pub id: JobId,
    /// Which handler runs it.
    pub kind: String,
    /// Its arguments, as JSON.
    pub payload: String,
    /// Queued or dead.
    pub status: JobStatus,
    /// When it is (or was) due.
    pub run_at: OffsetDateTime,
    /// Attempts begun so far (a claim counts one).
    pub attempts: i32,
    /// Attempts before it is given up.
    pub max_attempts: i32,
    /// The error of the last failed attempt, empty if none.
    pub last_error: String,
    /// Until when a runner holds it; `None` when nobody does.
    pub locked_until: Option<OffsetDateTime>,
    /// The unique key, if any.
    pub unique_key: Option<String>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
}

impl Job {
    /// Whether a runner holds it at `now`.
    pub fn running(&self, now: OffsetDateTime) -> bool {
        self.status == JobStatus::Queued && self.locked_until.is_some_and(|t| t > now)
    }
}

/// A job taken by one runner: the job, and the token that proves the lease
/// is still this runner's when it reports the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The job, with `attempts` already counting this one.
    pub job: Job,
    /// The lease's token.
    pub token: String,
}

/// What happens after an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time.
    Retry(OffsetDateTime),
    /// Give it up.
    Dead,
}

/// The wait after `attempts` failed attempts: 30 s, 1, 2, 4 … minutes, at
/// most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) - 1;
    Duration::seconds((30i64 << exp).min(3600))
}

/// What becomes of a one-off job whose attempt number `attempts` (counting
/// from 1) failed at `now`.
pub fn after_failure(attempts: i32, max_attempts: i32, now: OffsetDateTime) -> AfterFailure {
    if attempts >= max_attempts {
        AfterFailure::Dead
    } else {
        AfterFailure::Retry(now + backoff(attempts))
    }
}

/// When a recurring job runs again after a failed attempt: after the backoff,
/// but never later than its next scheduled time. A recurring job is never
/// given up, or its schedule would stop.
pub fn recurring_retry(attempts: i32, now: OffsetDateTime, next: OffsetDateTime) -> OffsetDateTime {
    (now + backoff(attempts)).min(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_wait_doubles_and_stops_at_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(4), Duration::seconds(240));
        assert_eq!(backoff(8), Duration::seconds(3600));
        assert_eq!(backoff(50), Duration::seconds(3600));
        assert_eq!(backoff(0), Duration::seconds(30));
    }

    #[test]
    fn a_job_dies_on_its_last_attempt() {
        let now = datetime!(2026-12-06 10:00 UTC);
        assert_eq!(
            after_failure(1, 3, now),
            AfterFailure::Retry(now + Duration::seconds(30))
        );
        assert_eq!(
            after_failure(2, 3, now),
            AfterFailure::Retry(now + Duration::seconds(60))
        );
        assert_eq!(after_failure(3, 3, now), AfterFailure::Dead);
        assert_eq!(after_failure(9, 3, now), AfterFailure::Dead);
    }

    #[test]
    fn a_recurring_job_is_retried_no_later_than_its_next_time() {
        let now = datetime!(2026-12-06 10:00 UTC);
        let next = now + Duration::seconds(45);
        assert_eq!(recurring_retry(1, now, next), now + Duration::seconds(30));
        assert_eq!(recurring_retry(5, now, next), next);
    }

    #[test]
    fn stored_names_round_trip() {
        for s in [JobStatus::Queued, JobStatus::Dead] {
            assert_eq!(JobStatus::from_stored(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::from_stored("running"), None);
    }
}
