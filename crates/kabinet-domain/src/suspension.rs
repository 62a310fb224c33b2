//! Closing the portal for maintenance (R14): announced ahead with a banner,
//! then resident pages and the API answer 503 until the given end.

use time::OffsetDateTime;

/// A planned or current closing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Suspension {
    /// When the portal closes.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// When it is expected back; `None`: until lifted.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub ends_at: Option<OffsetDateTime>,
    /// What residents are told.
    pub message: String,
}

/// What a suspension means at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspensionPhase {
    /// Nothing planned, or it is over.
    Open,
    /// Announced: show a banner.
    Announced,
    /// Closed now.
    Closed,
}

/// How far ahead a closing is announced on every page.
pub const ANNOUNCE_AHEAD: time::Duration = time::Duration::days(14);

impl Suspension {
    /// The longest message shown.
    pub const MAX_MESSAGE: usize = 500;

    /// The phase at `now`.
    pub fn phase(&self, now: OffsetDateTime) -> SuspensionPhase {
        if self.ends_at.is_some_and(|e| now >= e) {
            SuspensionPhase::Open
        } else if now >= self.starts_at {
            SuspensionPhase::Closed
        } else if self.starts_at - now <= ANNOUNCE_AHEAD {
            SuspensionPhase::Announced
        } else {
            SuspensionPhase::Open
        }
    }

    /// Seconds until the expected end (`Retry-After`); an hour when no end is
    /// known, at least one.
    pub fn retry_after(&self, now: OffsetDateTime) -> i64 {
        self.ends_at.map_or(3600, |e| (e - now).whole_seconds()).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn phases_and_retry_after() {
        let s = Suspension {
            starts_at: datetime!(2026-12-01 22:00 +3),
            ends_at: Some(datetime!(2026-12-02 06:00 +3)),
            message: "работы".into(),
        };
        assert_eq!(s.phase(datetime!(2026-11-01 00:00 +3)), SuspensionPhase::Open);
        assert_eq!(
            s.phase(datetime!(2026-11-30 00:00 +3)),
            SuspensionPhase::Announced
        );
        assert_eq!(s.phase(datetime!(2026-12-01 22:00 +3)), SuspensionPhase::Closed);
        assert_eq!(s.retry_after(datetime!(2026-12-02 05:00 +3)), 3600);
        assert_eq!(s.phase(datetime!(2026-12-02 06:00 +3)), SuspensionPhase::Open);
        let open_ended = Suspension { ends_at: None, ..s };
        assert_eq!(
            open_ended.phase(datetime!(2027-01-01 00:00 +3)),
            SuspensionPhase::Closed
        );
        assert_eq!(open_ended.retry_after(datetime!(2027-01-01 00:00 +3)), 3600);
    }
}
