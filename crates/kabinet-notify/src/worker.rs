//! The outbox worker: takes due messages, sends them, and on failure retries
//! with a growing delay (1, 2, 4 … minutes, at most an hour) until
//! [`MAX_ATTEMPTS`]; then the message stays `failed` with its last error for a
//! person to look at (`kabinet outbox`).

use crate::Mailer;
use kabinet_db::Db;
use kabinet_db::Repos;
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 10;

/// The delay before attempt number `attempts + 1`, after `attempts` failures.
pub fn retry_delay(attempts: i32) -> Duration {
    let minutes = 1i64 << attempts.clamp(0, 6);
    Duration::minutes(minutes.min(60))
}

/// What one pass delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Delivered.
    pub sent: u32,
    /// Failed this time (to be retried or given up).
    pub failed: u32,
}

/// Delivers every message due now, in batches; returns the counts.
pub async fn deliver_due(db: &Db, mailer: &Mailer) -> Result<Pass, kabinet_db::DbError> {
    let mut pass = Pass::default();
    loop {
        let now = OffsetDateTime::now_utc();
        let batch = db.outbox().claim(now, Duration::minutes(2), 20).await?;
        if batch.is_empty() {
            return Ok(pass);
        }
        for m in batch {
            match mailer.send(&m.email).await {
                Ok(()) => {
                    db.outbox().sent(m.id, OffsetDateTime::now_utc()).await?;
                    pass.sent += 1;
                }
                Err(e) => {
                    let attempts = m.attempts + 1;
                    let retry = (attempts < MAX_ATTEMPTS)
                        .then(|| OffsetDateTime::now_utc() + retry_delay(m.attempts));
                    tracing::warn!(id = m.id.0, attempts, error = %e, given_up = retry.is_none(), "e-mail delivery failed");
                    db.outbox().attempt_failed(m.id, &e.to_string(), retry).await?;
                    pass.failed += 1;
                }
            }
        }
    }
}

/// Runs [`deliver_due`] every `every` until `shutdown` resolves; errors are
/// logged and the loop goes on.
pub async fn run(
    db: Db,
    mailer: Mailer,
    every: StdDuration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        match deliver_due(&db, &mailer).await {
            Ok(p) if p.sent + p.failed > 0 => tracing::info!(sent = p.sent, failed = p.failed, "outbox pass"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox pass failed"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop_at_an_hour() {
        assert_eq!(retry_delay(0), Duration::minutes(1));
        assert_eq!(retry_delay(1), Duration::minutes(2));
        assert_eq!(retry_delay(5), Duration::minutes(32));
        assert_eq!(retry_delay(6), Duration::minutes(60));
        assert_eq!(retry_delay(9), Duration::minutes(60));
    }
}
