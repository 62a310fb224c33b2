//! Limits on how often a resident may do something (hand in readings,
//! comment on a request), counted in the database under the counter's row
//! lock, so that they hold across servers and parallel requests.

use crate::Error;
use kabinet_db::counters::CounterKind;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use time::{Duration, OffsetDateTime};

/// How often something may be done: `limit` times in `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// What is counted.
    pub kind: CounterKind,
    /// How many times.
    pub limit: i32,
    /// In how long.
    pub window: Duration,
    /// The message id of what the resident is told beyond it.
    pub message: &'static str,
}

/// Readings submissions: `per_minute` a minute per resident (the
/// organization's `readings_per_minute`, 10 by default, refused forms
/// included: a family correcting and handing in several accounts' meters
/// one after another stays inside).
pub fn readings(per_minute: i32) -> Rate {
    Rate {
        kind: CounterKind::Readings,
        limit: per_minute,
        window: Duration::minutes(1),
        message: "error-readings-too-often",
    }
}

/// Comments on requests: 5 a minute per resident.
pub const COMMENTS: Rate = Rate {
    kind: CounterKind::Comments,
    limit: 5,
    window: Duration::minutes(1),
    message: "error-comments-too-often",
};

/// Counts one more event against the user who signs in with `account`, or
/// refuses with [`Error::TooManyRequests`] when the rate is spent.
pub async fn take(db: &Db, account: d::AccountId, rate: Rate) -> Result<(), Error> {
    let tx = db.begin().await?;
    let c = tx.counters().lock(account, rate.kind).await?;
    let now = OffsetDateTime::now_utc();
    if c.in_window(now, rate.window) >= rate.limit {
        return Err(Error::TooManyRequests(d::Text::new(rate.message)));
    }
    tx.counters()
        .store(account, rate.kind, c.after_event(now, rate.window))
        .await?;
    tx.commit().await?;
    Ok(())
}
