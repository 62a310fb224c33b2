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
    /// SMS through the configured provider, to a verified phone.
    Sms,
    /// A message from the organization's bot in the MAX messenger, to a
    /// resident who linked their MAX account.
    Max,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Max];

    /// The stored name (the outbox's `channel`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Max => "max",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whether messages of `kind` are offered on `channel`: every kind by
/// e-mail; by SMS and MAX those whose events the subsystem produces, and
/// in MAX the news of one's requests too (a chat is where one asks).
pub fn offered(kind: NotificationKind, channel: Channel) -> bool {
    match channel {
        Channel::Email => true,
        Channel::Max if kind == NotificationKind::RequestUpdates => true,
        Channel::Sms | Channel::Max => matches!(
            kind,
            NotificationKind::NewInvoice
                | NotificationKind::PaymentReceived
                | NotificationKind::MeterVerification
                | NotificationKind::ReadingsReminder
                | NotificationKind::Announcements
        ),
    }
}

/// What became of an SMS after the provider took it (the outbox's
/// `delivery`): told by the provider's status, polled until final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// The provider took it; not yet delivered.
    Accepted,
    /// The phone received it.
    Delivered,
    /// It will not arrive (expired, rejected, the phone unreachable).
    Undelivered,
}

impl DeliveryState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Accepted => "accepted",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Undelivered => "undelivered",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Accepted,
            DeliveryState::Delivered,
            DeliveryState::Undelivered,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// How long a code linking a MAX account works.
pub const MAX_LINK_TTL: Duration = Duration::minutes(10);

/// How long a question the MAX bot asked (confirm these readings?) waits
/// for its answer.
pub const MAX_QUESTION_TTL: Duration = Duration::minutes(15);

/// How long a phone verification code works.
pub const PHONE_CODE_TTL: Duration = Duration::minutes(10);
/// Codes sent a day (24 hours) to one phone, and as many to one resident.
pub const PHONE_CODES_PER_DAY: u64 = 5;
/// Wrong guesses one code takes before it stops working.
pub const PHONE_CODE_TRIES: i32 = 5;

/// How many SMS parts `text` takes: 160 characters in one part (153 a part
/// when split) in the GSM 7-bit alphabet, 70 (67) when any character is
/// outside it, as Cyrillic is. For the cost estimate.
pub fn sms_parts(text: &str) -> u32 {
    const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENDED: &str = "^{}\\[~]|€";
    let mut units = 0u32;
    let mut gsm = true;
    for c in text.chars() {
        if EXTENDED.contains(c) {
            units += 2;
        } else if GSM.contains(c) {
            units += 1;
        } else {
            gsm = false;
            break;
        }
    }
    let (single, part, len) = if gsm {
        (160, 153, units)
    } else {
        let n = u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
        (70, 67, n)
    };
    if len <= single { 1 } else { len.div_ceil(part) }
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
    /// The readings window of the account's building opened (the subject
    /// is [`readings_subject`]).
    ReadingsOpen,
    /// The window closes within [`READINGS_CLOSING_DAYS`] and not every
    /// meter of the account has a reading for it (the subject is
    /// [`readings_subject`]).
    ReadingsClosing,
    /// An announcement or a planned outage for the resident's building
    /// (the subject is the announcement; the event has no account).
    Announcement,
    /// An emergency for the resident's building: sent on every channel
    /// the resident has, whatever they chose, in quiet hours too (the
    /// subject is the announcement; the event has no account).
    Emergency,
    /// A card payment made in the portal succeeded: told to the resident
    /// who paid (the subject is the card payment; the account is its first
    /// share's).
    CardPaid,
    /// Staff moved a request or answered it: told to its author, and a
    /// status change to the neighbours who joined it (the subject is the
    /// request's history line).
    RequestUpdate,
    /// A new version of the Rules was published (the subject is the
    /// version; the event has no account).
    RulesChanged,
    /// A new version of the personal-data consent was published (the
    /// subject is the version; the event has no account).
    ConsentChanged,
    /// Autopay news: a debit coming, failed, an invoice over the maximum,
    /// autopay turned off (the subject is [`crate::autopay::subject`]).
    Autopay,
}

/// How many days before the readings window's last day those who have not
/// handed in every meter's reading are reminded.
pub const READINGS_CLOSING_DAYS: i64 = 2;

/// How many days ahead a meter's verification is announced; an expired one
/// is told of within as many days after.
pub const VERIFICATION_NOTICE_DAYS: i64 = 30;

/// The subject of a meter's verification event: the meter and the day it
/// is due, so the next verification, years on, is told of again.
pub fn meter_subject(meter: i64, due: time::Date) -> i64 {
    i64::from(due.to_julian_day()) * 100_000_000 + meter
}

/// The subject of a readings-window event: the window's last day and the
/// period its readings count for.
pub fn readings_subject(last: time::Date, period: crate::Period) -> i64 {
    i64::from(last.to_julian_day()) * 1_000_000 + i64::from(period.yyyymm())
}

/// The last day and period of a [`readings_subject`].
pub fn subject_readings(subject: i64) -> Option<(time::Date, crate::Period)> {
    let day = i32::try_from(subject / 1_000_000).ok()?;
    let period = i32::try_from(subject % 1_000_000).ok()?;
    Some((
        time::Date::from_julian_day(day).ok()?,
        crate::Period::from_yyyymm(period).ok()?,
    ))
}

/// The meter of a [`meter_subject`].
pub fn subject_meter(subject: i64) -> i64 {
    subject % 100_000_000
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 13] = [
        EventKind::NewInvoice,
        EventKind::PaymentImported,
        EventKind::VerificationSoon,
        EventKind::VerificationExpired,
        EventKind::ReadingsOpen,
        EventKind::ReadingsClosing,
        EventKind::Announcement,
        EventKind::Emergency,
        EventKind::CardPaid,
        EventKind::RequestUpdate,
        EventKind::RulesChanged,
        EventKind::ConsentChanged,
        EventKind::Autopay,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::NewInvoice => "new_invoice",
            EventKind::PaymentImported => "payment_imported",
            EventKind::VerificationSoon => "verification_soon",
            EventKind::VerificationExpired => "verification_expired",
            EventKind::ReadingsOpen => "readings_open",
            EventKind::ReadingsClosing => "readings_closing",
            EventKind::Announcement => "announcement",
            EventKind::Emergency => "emergency",
            EventKind::CardPaid => "card_paid",
            EventKind::RequestUpdate => "request_update",
            EventKind::RulesChanged => "rules_changed",
            EventKind::ConsentChanged => "consent_changed",
            EventKind::Autopay => "autopay",
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
            // Autopay's news is about money taken: sent where payments are.
            EventKind::PaymentImported | EventKind::CardPaid | EventKind::Autopay => {
                NotificationKind::PaymentReceived
            }
            EventKind::VerificationSoon | EventKind::VerificationExpired => {
                NotificationKind::MeterVerification
            }
            EventKind::ReadingsOpen | EventKind::ReadingsClosing => NotificationKind::ReadingsReminder,
            // The organization's word to everyone, like its announcements
            // (the new version is asked for at the next sign-in anyway).
            EventKind::Announcement
            | EventKind::Emergency
            | EventKind::RulesChanged
            | EventKind::ConsentChanged => NotificationKind::Announcements,
            EventKind::RequestUpdate => NotificationKind::RequestUpdates,
        }
    }

    /// An emergency: sent on every channel the resident has whether they
    /// chose such messages or not, during quiet hours too, and without an
    /// unsubscribe link.
    pub const fn urgent(self) -> bool {
        matches!(self, EventKind::Emergency)
    }

    /// The event of a new version of `doc`.
    pub const fn document(doc: crate::Document) -> EventKind {
        match doc {
            crate::Document::Rules => EventKind::RulesChanged,
            crate::Document::Consent => EventKind::ConsentChanged,
        }
    }

    /// The kinds that are [`EventKind::urgent`].
    pub fn all_urgent() -> impl Iterator<Item = EventKind> {
        EventKind::ALL.into_iter().filter(|k| k.urgent())
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
    fn sms_parts_count_by_alphabet() {
        assert_eq!(sms_parts("Code 123456"), 1);
        assert_eq!(sms_parts(&"a".repeat(160)), 1);
        assert_eq!(sms_parts(&"a".repeat(161)), 2);
        assert_eq!(sms_parts(&"[".repeat(80)), 1, "extended characters count twice");
        assert_eq!(sms_parts(&"[".repeat(81)), 2);
        assert_eq!(sms_parts(&"я".repeat(70)), 1);
        assert_eq!(sms_parts(&"я".repeat(71)), 2);
        assert_eq!(sms_parts(&"я".repeat(135)), 3);
        for c in Channel::ALL {
            assert_eq!(Channel::from_stored(c.as_str()), Some(c));
        }
        assert_eq!(
            DeliveryState::from_stored("delivered"),
            Some(DeliveryState::Delivered)
        );
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
        let last = time::macros::date!(2027 - 01 - 03);
        let period = crate::Period::containing(time::macros::date!(2026 - 12 - 23));
        assert_eq!(
            subject_readings(readings_subject(last, period)),
            Some((last, period))
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
