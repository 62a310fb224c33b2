//! Notifications as a subsystem (R13): events that happen once (a new
//! invoice of a period, a payment that came with the billing package…),
//! stored, then fanned out to each resident who wants them on each channel,
//! one delivery per event × resident × channel, and sent by a job at the
//! channel's pace outside the organization's quiet hours.

use crate::{NotificationKind, OrgClock};
use time::{Duration, OffsetDateTime, Time};

/// Where a delivery goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// E-mail through the configured transport.
    Email,
}

impl Channel {
    /// The stored name (the outbox's `channel`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
        }
    }
}

/// What happened: the kinds of event the subsystem produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A new period's invoice of an account (the event's subject is the
    /// period as stored, `YYYYMM`).
    NewInvoice,
    /// A payment that came with a billing package — a bank, the cash desk
    /// or the post (the subject is the payment's row id).
    PaymentImported,
    /// A meter's verification is due within [`VERIFICATION_NOTICE_DAYS`]
    /// (the subject is [`meter_subject`]).
    VerificationSoon,
    /// A meter's verification has run out: its readings are no longer
    /// taken (the subject is [`meter_subject`]).
    VerificationExpired,
}

/// How many days ahead a meter's verification is announced; an expired one
/// is told of within as many days after.
pub const VERIFICATION_NOTICE_DAYS: i64 = 30;

/// The subject of a meter's verification event: the meter and the day it
/// is due, so the next verification, years on, is told of again.
pub fn meter_subject(meter: i64, due: time::Date) -> i64 {
    i64::from(due.to_julian_day()) * 100_000_000 + meter
}

/// The meter of a [`meter_subject`].
pub fn subject_meter(subject: i64) -> i64 {
    subject % 100_000_000
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 4] = [
        EventKind::NewInvoice,
        EventKind::PaymentImported,
        EventKind::VerificationSoon,
        EventKind::VerificationExpired,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::NewInvoice => "new_invoice",
            EventKind::PaymentImported => "payment_imported",
            EventKind::VerificationSoon => "verification_soon",
            EventKind::VerificationExpired => "verification_expired",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The resident's setting that turns it on or off.
    pub const fn preference(self) -> NotificationKind {
        match self {
            EventKind::NewInvoice => NotificationKind::NewInvoice,
            EventKind::PaymentImported => NotificationKind::PaymentReceived,
            EventKind::VerificationSoon | EventKind::VerificationExpired => {
                NotificationKind::MeterVerification
            }
        }
    }

    /// Sent during quiet hours too (an emergency); none of these is.
    pub const fn urgent(self) -> bool {
        false
    }
}

/// The hours nothing but emergencies is sent, in the organization's time:
/// from `from` to `to`, across midnight when `from` is later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// When they begin.
    pub from: Time,
    /// When they end.
    pub to: Time,
}

/// A quiet-hours setting that does not read as `HH:MM-HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("quiet hours {0:?}: write them as 21:00-09:00")]
pub struct QuietHoursError(pub String);

impl QuietHours {
    /// 21:00 to 09:00, the default.
    pub const DEFAULT: QuietHours = QuietHours {
        from: time::macros::time!(21:00),
        to: time::macros::time!(09:00),
    };

    /// Reads `21:00-09:00` (an en dash too); equal ends mean no quiet hours
    /// and are refused, as is anything else.
    pub fn parse(text: &str) -> Result<QuietHours, QuietHoursError> {
        let bad = || QuietHoursError(text.to_string());
        let (a, b) = text.split_once(['-', '–']).ok_or_else(bad)?;
        let read = |s: &str| -> Result<Time, QuietHoursError> {
            let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
            let h: u8 = h.parse().map_err(|_| bad())?;
            let m: u8 = m.parse().map_err(|_| bad())?;
            Time::from_hms(h, m, 0).map_err(|_| bad())
        };
        let q = QuietHours {
            from: read(a)?,
            to: read(b)?,
        };
        if q.from == q.to {
            return Err(bad());
        }
        Ok(q)
    }

    /// Whether local time `t` is quiet.
    pub fn covers(self, t: Time) -> bool {
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }

    /// `now` itself when it is not quiet, else the moment the quiet hours
    /// end, in UTC (SQLite compares stored times as text).
    pub fn next_allowed(self, now: OffsetDateTime, clock: OrgClock) -> OffsetDateTime {
        let local = clock.local(now);
        if !self.covers(local.time()) {
            return now;
        }
        let mut end = local.replace_time(self.to);
        if end <= local {
            end += Duration::days(1);
        }
        end.to_offset(time::UtcOffset::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset, time};

    #[test]
    fn quiet_hours_span_midnight_and_end_in_the_organizations_time() {
        let q = QuietHours::parse("21:00-09:00").unwrap();
        assert_eq!(q, QuietHours::DEFAULT);
        assert!(q.covers(time!(23:30)) && q.covers(time!(03:00)) && q.covers(time!(21:00)));
        assert!(!q.covers(time!(09:00)) && !q.covers(time!(12:00)) && !q.covers(time!(20:59)));
        let clock = OrgClock {
            offset: offset!(+3),
            stopped_at: None,
        };
        // 20:00 UTC is 23:00 in Moscow: quiet until 09:00 Moscow, 06:00 UTC.
        assert_eq!(
            q.next_allowed(datetime!(2026-12-07 20:00 UTC), clock),
            datetime!(2026-12-08 06:00 UTC)
        );
        // 03:00 UTC is 06:00 in Moscow: the same morning.
        assert_eq!(
            q.next_allowed(datetime!(2026-12-08 03:00 UTC), clock),
            datetime!(2026-12-08 06:00 UTC)
        );
        assert_eq!(
            q.next_allowed(datetime!(2026-12-08 03:00 UTC), clock).offset(),
            time::UtcOffset::UTC
        );
        let noon = datetime!(2026-12-08 09:00 UTC);
        assert_eq!(q.next_allowed(noon, clock), noon);
        let day = QuietHours::parse("13:00 – 14:00").unwrap();
        assert!(day.covers(time!(13:30)) && !day.covers(time!(14:00)) && !day.covers(time!(12:59)));
        for bad in ["", "21:00", "9-10", "25:00-09:00", "09:00-09:00", "21:00-09:60"] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_read_back_and_name_their_setting() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_stored(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::NewInvoice.preference(), NotificationKind::NewInvoice);
        assert_eq!(
            EventKind::PaymentImported.preference(),
            NotificationKind::PaymentReceived
        );
        let due = time::macros::date!(2027 - 01 - 15);
        let s = meter_subject(7_999_999, due);
        assert_eq!(subject_meter(s), 7_999_999);
        assert!(
            meter_subject(1, due + time::Duration::days(1)) > s,
            "a later day, another subject"
        );
    }
}
