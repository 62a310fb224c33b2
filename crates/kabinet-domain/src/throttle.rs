//! Limits on how often something may happen to one personal account: failed
//! sign-ins and registration checks (growing delays, then a hard cap per
//! window) and e-mails sent to a resident on a stranger's request. The counts
//! live in the database, so the limits hold across servers; these are the rules.

use time::{Duration, OffsetDateTime};

/// Events counted in the current window of one account (or user).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Events in the current window.
    pub count: i32,
    /// When the current window began; `None` when nothing was counted yet.
    pub window_start: Option<OffsetDateTime>,
    /// The latest event.
    pub last_at: Option<OffsetDateTime>,
}

impl Counter {
    /// The counter after one more event at `now`, in windows of `window`
    /// (a new window starts when the old one is over).
    pub fn after_event(self, now: OffsetDateTime, window: Duration) -> Counter {
        let fresh = self.window_start.is_none_or(|s| now - s >= window);
        Counter {
            count: if fresh { 1 } else { self.count.saturating_add(1) },
            window_start: if fresh { Some(now) } else { self.window_start },
            last_at: Some(now),
        }
    }

    /// Events counted in the window that is current at `now`.
    pub fn in_window(&self, now: OffsetDateTime, window: Duration) -> i32 {
        match self.window_start {
            Some(s) if now - s < window => self.count,
            _ => 0,
        }
    }
}

/// How failures on one account are limited: some free, then a delay that
/// doubles with each further failure, and a hard cap per window after which
/// even the right answer is refused until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountThrottle {
    /// Failures allowed before delays begin.
    pub free_failures: i32,
    /// The delay after the first counted failure; it doubles with each further one.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// At most this many failures in one window; after that every attempt is
    /// refused until the window ends.
    pub max_failures: i32,
    /// The window's length.
    pub window: Duration,
}

impl AccountThrottle {
    /// Sign-in: five free failures, then 2 s doubling up to 15 min, at most 100
    /// an hour (ASVS 2.2.1).
    pub const SIGN_IN: AccountThrottle = AccountThrottle {
        free_failures: 5,
        base_delay: Duration::seconds(2),
        max_delay: Duration::minutes(15),
        max_failures: 100,
        window: Duration::hours(1),
    };

    /// Registration checks (the amount on the receipt or the passport): five
    /// free failures, then 1 min doubling up to an hour, at most 10 a day;
    /// after the tenth the account cannot be registered until the day is over
    /// or staff unlock it.
    pub const REGISTRATION: AccountThrottle = AccountThrottle {
        free_failures: 5,
        base_delay: Duration::minutes(1),
        max_delay: Duration::hours(1),
        max_failures: 10,
        window: Duration::days(1),
    };

    /// When the next attempt is allowed; `None` when it is now.
    pub fn blocked_until(&self, c: &Counter, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let start = c.window_start?;
        if now - start >= self.window {
            return None;
        }
        let n = c.count;
        if n >= self.max_failures {
            return Some(start + self.window);
        }
        if n < self.free_failures {
            return None;
        }
        let doublings = (n - self.free_failures).clamp(0, 20);
        let delay = (self.base_delay * 2f64.powi(doublings)).min(self.max_delay);
        let until = c.last_at? + delay;
        (until > now).then_some(until)
    }
}

impl Default for AccountThrottle {
    fn default() -> Self {
        AccountThrottle::SIGN_IN
    }
}

/// At most `max` e-mails to one account's resident per `window` that anyone
/// can cause (password-reset links, "this account is already registered"):
/// beyond it nothing is sent, and the answer stays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimit {
    /// E-mails allowed in a window.
    pub max: i32,
    /// The window's length.
    pub window: Duration,
}

impl MailLimit {
    /// Three an hour.
    pub const DEFAULT: MailLimit = MailLimit {
        max: 3,
        window: Duration::hours(1),
    };

    /// Whether one more e-mail may go now.
    pub fn allows(&self, c: &Counter, now: OffsetDateTime) -> bool {
        c.in_window(now, self.window) < self.max
    }
}

impl Default for MailLimit {
    fn default() -> Self {
        MailLimit::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(count: i32, start: OffsetDateTime, last: OffsetDateTime) -> Counter {
        Counter {
            count,
            window_start: Some(start),
            last_at: Some(last),
        }
    }

    #[test]
    fn sign_in_delays_grow_then_the_hourly_cap_holds() {
        let t = AccountThrottle::SIGN_IN;
        let now = OffsetDateTime::now_utc();
        assert_eq!(t.blocked_until(&counter(4, now, now), now), None);
        assert_eq!(
            t.blocked_until(&counter(5, now, now), now),
            Some(now + Duration::seconds(2))
        );
        assert_eq!(
            t.blocked_until(&counter(7, now, now), now),
            Some(now + Duration::seconds(8))
        );
        assert_eq!(
            t.blocked_until(&counter(30, now, now), now),
            Some(now + Duration::minutes(15))
        );
        // After the delay has passed the next attempt is allowed.
        assert_eq!(
            t.blocked_until(&counter(5, now, now), now + Duration::seconds(3)),
            None
        );
        // 100 failures: refused until the window ends, whatever the delay says.
        let start = now - Duration::minutes(50);
        assert_eq!(
            t.blocked_until(&counter(100, start, start), now),
            Some(start + Duration::hours(1))
        );
        assert_eq!(
            t.blocked_until(&counter(100, start, start), start + Duration::hours(1)),
            None
        );
    }

    #[test]
    fn registration_allows_ten_a_day() {
        let t = AccountThrottle::REGISTRATION;
        let start = OffsetDateTime::now_utc();
        let mut c = Counter::default();
        let mut now = start;
        let mut allowed = 0;
        // Someone guessing as fast as the rules let them, for a day.
        while now < start + Duration::days(1) {
            match t.blocked_until(&c, now) {
                None => {
                    allowed += 1;
                    c = c.after_event(now, t.window);
                }
                Some(until) => now = until.max(now + Duration::seconds(1)),
            }
        }
        assert_eq!(allowed, 10);
        assert_eq!(
            t.blocked_until(&c, start + Duration::hours(23)),
            Some(start + Duration::days(1))
        );
        assert_eq!(t.blocked_until(&c, start + Duration::days(1)), None);
    }

    #[test]
    fn counters_start_a_new_window_when_the_old_one_is_over() {
        let w = Duration::hours(1);
        let t0 = OffsetDateTime::now_utc();
        let c = Counter::default()
            .after_event(t0, w)
            .after_event(t0 + Duration::minutes(10), w);
        assert_eq!((c.count, c.window_start), (2, Some(t0)));
        assert_eq!(c.in_window(t0 + Duration::minutes(59), w), 2);
        assert_eq!(c.in_window(t0 + Duration::minutes(60), w), 0);
        let c = c.after_event(t0 + Duration::minutes(61), w);
        assert_eq!((c.count, c.window_start), (1, Some(t0 + Duration::minutes(61))));
        let limit = MailLimit::DEFAULT;
        let c3 = c
            .after_event(t0 + Duration::minutes(62), w)
            .after_event(t0 + Duration::minutes(63), w);
        assert!(limit.allows(&c, t0 + Duration::minutes(62)));
        assert!(!limit.allows(&c3, t0 + Duration::minutes(64)));
        assert!(limit.allows(&c3, t0 + Duration::minutes(122)));
    }
}
