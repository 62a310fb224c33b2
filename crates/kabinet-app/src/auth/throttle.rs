//! Limits on guessing: per account (the rules are
//! [`kabinet_domain::AccountThrottle`]; failures are counted in the database)
//! and per client address (in memory, per server).

pub use kabinet_domain::{AccountThrottle, MailLimit};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

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

    #[test]
    fn ip_limiter_counts_per_address() {
        let l = IpLimiter::new(2);
        assert!(l.allow("1.1.1.1") && l.allow("1.1.1.1"));
        assert!(!l.allow("1.1.1.1"));
        assert!(l.allow("2.2.2.2"));
    }
}
