//! Limits on guessing passwords: per account (failures counted in the database,
//! growing delays, a hard cap per hour) and per client address (in memory, per
//! server).

use kabinet_domain::ResidentUser;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use time::{Duration, OffsetDateTime};

/// How failed sign-ins of one account are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountThrottle {
    /// Failures allowed before delays begin.
    pub free_failures: i32,
    /// The delay after the first counted failure; it doubles with each further one.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// At most this many failures in one window; after that every attempt is
    /// refused until the window ends (ASVS 2.2.1: 100 an hour).
    pub max_failures: i32,
    /// The window's length.
    pub window: Duration,
}

impl Default for AccountThrottle {
    fn default() -> Self {
        AccountThrottle {
            free_failures: 5,
            base_delay: Duration::seconds(2),
            max_delay: Duration::minutes(15),
            max_failures: 100,
            window: Duration::hours(1),
        }
    }
}

impl AccountThrottle {
    /// When the next attempt on this user is allowed; `None` when it is now.
    pub fn blocked_until(&self, user: &ResidentUser, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let start = user.failed_window_start?;
        if now - start >= self.window {
            return None;
        }
        let n = user.failed_count;
        if n >= self.max_failures {
            return Some(start + self.window);
        }
        if n < self.free_failures {
            return None;
        }
        let doublings = (n - self.free_failures).clamp(0, 20) as u32;
        let delay = (self.base_delay * 2f64.powi(doublings as i32)).min(self.max_delay);
        let until = user.last_failed_at? + delay;
        (until > now).then_some(until)
    }
}

/// A fixed-window counter of requests per client address (per server), for
/// registration, sign-in and password reset.
pub struct IpLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl IpLimiter {
    /// Allows `per_minute` requests a minute per address.
    pub fn new(per_minute: u32) -> IpLimiter {
        IpLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `ip`; false when it is over the limit.
    pub fn allow(&self, ip: &str) -> bool {
        let now = Instant::now();
        let Ok(mut map) = self.windows.lock() else {
            return true;
        };
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start).as_secs() < 60);
        }
        let entry = map.entry(ip.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0).as_secs() >= 60 {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kabinet_domain::{AccountId, AccountNumber, EmailAddress, UserId};

    fn user(count: i32, start: OffsetDateTime, last: OffsetDateTime) -> ResidentUser {
        ResidentUser {
            id: UserId(1),
            account_id: AccountId(1),
            account_number: AccountNumber::parse("1").unwrap_or_else(|e| panic!("{e}")),
            email: EmailAddress::parse("a@b.ru").unwrap_or_else(|e| panic!("{e}")),
            password_hash: String::new(),
            password_generated: false,
            password_expires_at: None,
            blocked: false,
            rules_version: 0,
            failed_count: count,
            failed_window_start: Some(start),
            last_failed_at: Some(last),
        }
    }

    #[test]
    fn delays_grow_then_the_hourly_cap_holds() {
        let t = AccountThrottle::default();
        let now = OffsetDateTime::now_utc();
        assert_eq!(t.blocked_until(&user(4, now, now), now), None);
        assert_eq!(
            t.blocked_until(&user(5, now, now), now),
            Some(now + Duration::seconds(2))
        );
        assert_eq!(
            t.blocked_until(&user(7, now, now), now),
            Some(now + Duration::seconds(8))
        );
        assert_eq!(
            t.blocked_until(&user(30, now, now), now),
            Some(now + Duration::minutes(15))
        );
        // After the delay has passed the next attempt is allowed.
        assert_eq!(
            t.blocked_until(&user(5, now, now), now + Duration::seconds(3)),
            None
        );
        // 100 failures: refused until the window ends, whatever the delay says.
        let start = now - Duration::minutes(50);
        assert_eq!(
            t.blocked_until(&user(100, start, start), now),
            Some(start + Duration::hours(1))
        );
        assert_eq!(
            t.blocked_until(&user(100, start, start), start + Duration::hours(1)),
            None
        );
    }

    #[test]
    fn ip_limiter_counts_per_address() {
        let l = IpLimiter::new(2);
        assert!(l.allow("1.1.1.1") && l.allow("1.1.1.1"));
        assert!(!l.allow("1.1.1.1"));
        assert!(l.allow("2.2.2.2"));
    }
}
