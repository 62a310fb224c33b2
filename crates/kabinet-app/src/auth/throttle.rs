//! Limits on guessing: per account (the rules are
//! [`kabinet_domain::AccountThrottle`]; failures are counted in the database)
//! and per client address (also in the database, shared by every server).

use kabinet_db::Db;
pub use kabinet_domain::{AccountThrottle, MailLimit};
use time::OffsetDateTime;

/// A counter of requests per client address for one purpose (`scope`):
/// registration, sign-in and reset, or the machine-to-machine routes. It is
/// kept in the database, so the limit holds across every server of an
/// installation whichever one a request reaches: a window opens with an
/// address's first request and lasts a minute.
pub struct IpLimiter {
    db: Db,
    scope: &'static str,
    per_minute: u32,
}

impl IpLimiter {
    /// Allows `per_minute` requests a minute per address for `scope`.
    pub fn new(db: Db, scope: &'static str, per_minute: u32) -> IpLimiter {
        IpLimiter {
            db,
            scope,
            per_minute,
        }
    }

    /// Counts a request from `ip`; false when it is over the limit. A
    /// database that does not answer lets the request through (it will
    /// most likely fail on its own) and says so in the log.
    pub async fn allow(&self, ip: &str) -> bool {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let address: String = ip.chars().take(64).collect();
        // The windows that ended are deleted by the `sweep_sessions` job.
        match self.db.address_hits().hit(self.scope, &address, now).await {
            Ok(hits) => hits <= i64::from(self.per_minute),
            Err(e) => {
                tracing::warn!(error = %e, scope = self.scope, "the address limit could not be counted");
                true
            }
        }
    }
}
