//! A value read from the database at most once per interval per process:
//! the organization and the portal's closing are shown on every page, and
//! change rarely.

use std::sync::RwLock;
use std::time::{Duration, Instant};

/// One cached value with its age.
pub(crate) struct Cached<T> {
    ttl: Duration,
    slot: RwLock<Option<(Instant, T)>>,
}

impl<T: Clone> Cached<T> {
    /// Empty, keeping values for `ttl`.
    pub fn new(ttl: Duration) -> Cached<T> {
        Cached {
            ttl,
            slot: RwLock::new(None),
        }
    }

    /// The value if it is fresh.
    pub fn fresh(&self) -> Option<T> {
        let slot = self.slot.read().ok()?;
        slot.as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// The value however old, and whether it is fresh.
    pub fn any(&self) -> Option<(T, bool)> {
        let slot = self.slot.read().ok()?;
        slot.as_ref().map(|(at, v)| (v.clone(), at.elapsed() < self.ttl))
    }

    /// Keeps `value` from now.
    pub fn store(&self, value: T) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = Some((Instant::now(), value));
        }
    }

    /// Forgets the value (after a change made by this process).
    pub fn clear(&self) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = None;
        }
    }
}
