//! What the resident portal derives from billing records: an invoice's status
//! (R3, R4), the readings window (R7) and the organization's calendar — the
//! days everything is judged by are the organization's, not the server's.

use crate::{Kopecks, Period};
use time::{Date, OffsetDateTime, UtcOffset};

/// The organization's clock: a fixed UTC offset (Russia has had no daylight
/// saving since 2014, so an offset such as `+03:00` describes a region fully)
/// and, for tests of date edges, a stopped "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgClock {
    /// The offset of the organization's local time.
    pub offset: UtcOffset,
    /// When set, the clock shows this moment instead of the system time.
    pub stopped_at: Option<OffsetDateTime>,
}

impl OrgClock {
    /// Moscow time, the default.
    pub const MOSCOW: OrgClock = OrgClock {
        offset: match UtcOffset::from_hms(3, 0, 0) {
            Ok(o) => o,
            Err(_) => UtcOffset::UTC,
        },
        stopped_at: None,
    };

    /// A running clock at `offset`.
    pub fn at_offset(offset: UtcOffset) -> OrgClock {
        OrgClock {
            offset,
            stopped_at: None,
        }
    }

    /// Now: the system time, or the stopped moment.
    pub fn now(self) -> OffsetDateTime {
        self.stopped_at.unwrap_or_else(OffsetDateTime::now_utc)
    }

    /// The local day at `now`.
    pub fn today(self, now: OffsetDateTime) -> Date {
        now.to_offset(self.offset).date()
    }

    /// `now` in local time.
    pub fn local(self, now: OffsetDateTime) -> OffsetDateTime {
        now.to_offset(self.offset)
    }

    /// The moment local `day` begins: where payments are split into days
    /// and months (a payment at 00:30 on the 1st in Vladivostok is the
    /// 1st's, though it is still the 31st in UTC).
    pub fn start_of(self, day: Date) -> OffsetDateTime {
        // In UTC: SQLite compares stored timestamps as text.
        time::PrimitiveDateTime::new(day, time::Time::MIDNIGHT)
            .assume_offset(self.offset)
            .to_offset(UtcOffset::UTC)
    }
}

impl Default for OrgClock {
    fn default() -> Self {
        OrgClock::MOSCOW
    }
}

/// Where an invoice stands for the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Nothing paid yet, not yet due.
    Unpaid,
    /// Some paid, the rest not yet due.
    PartlyPaid,
    /// Paid in full, or nothing was to pay.
    Paid,
    /// Not paid in full after the due date.
    Overdue,
}

impl InvoiceStatus {
    /// The status of an invoice of `total_due`, towards which `paid` has been
    /// paid since its period ended, on the organization's local day `today`.
    /// The due date is the last day to pay: the invoice is overdue from the
    /// next local day on. A partly paid invoice past its due date is overdue.
    pub fn of(total_due: Kopecks, paid: Kopecks, due_date: Date, today: Date) -> InvoiceStatus {
        if total_due <= Kopecks::ZERO || paid >= total_due {
            InvoiceStatus::Paid
        } else if today > due_date {
            InvoiceStatus::Overdue
        } else if paid > Kopecks::ZERO {
            InvoiceStatus::PartlyPaid
        } else {
            InvoiceStatus::Unpaid
        }
    }

    /// Stable code for the API and the translations.
    pub fn code(self) -> &'static str {
        match self {
            InvoiceStatus::Unpaid => "unpaid",
            InvoiceStatus::PartlyPaid => "partly_paid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Overdue => "overdue",
        }
    }
}

/// The days of the month meter readings are taken (R7), inclusive; a window
/// whose first day is after its last spans the month boundary (23rd–3rd).
/// Days past a month's end mean its last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadingsWindow {
    /// First day readings are accepted (1–31).
    pub first_day: u8,
    /// Last day readings are accepted (1–31).
    pub last_day: u8,
}

/// The readings window as seen on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Open now, until the end of that local day.
    Open {
        /// The last day.
        until: Date,
    },
    /// Closed; opens on that day.
    Closed {
        /// The next first day.
        opens: Date,
    },
}

impl Default for ReadingsWindow {
    fn default() -> Self {
        ReadingsWindow {
            first_day: 15,
            last_day: 25,
        }
    }
}

impl ReadingsWindow {
    /// Both days within 1–31.
    pub fn is_valid(self) -> bool {
        (1..=31).contains(&self.first_day) && (1..=31).contains(&self.last_day)
    }

    /// The window's days that start in `month`: (first, last).
    fn in_month(self, month: Period) -> (Date, Date) {
        let first = month.day(self.first_day);
        let last_month = if self.first_day > self.last_day {
            month.next()
        } else {
            month
        };
        (first, last_month.day(self.last_day))
    }

    /// The first and last day of the window open on local day `today`, if
    /// one is.
    pub fn open_span(self, today: Date) -> Option<(Date, Date)> {
        let this = Period::containing(today);
        // A spanning window open on the 2nd began in the previous month.
        [this.prev(), this]
            .into_iter()
            .map(|start| self.in_month(start))
            .find(|(first, last)| *first <= today && today <= *last)
    }

    /// The next first day after `today`.
    pub fn next_opening(self, today: Date) -> Date {
        let this = Period::containing(today);
        let (first, _) = self.in_month(this);
        if first > today {
            first
        } else {
            self.in_month(this.next()).0
        }
    }

    /// Whether the window is open on local day `today`, and until when or
    /// from when.
    pub fn state(self, today: Date) -> WindowState {
        match self.open_span(today) {
            Some((_, until)) => WindowState::Open { until },
            None => WindowState::Closed {
                opens: self.next_opening(today),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn overdue_from_the_next_local_day() {
        let due = date!(2026 - 11 - 15);
        let clock = OrgClock::MOSCOW;
        // 23:59:59 Moscow time on the due date is 20:59:59 UTC.
        let last_second = clock.today(datetime!(2026-11-15 20:59:59 UTC));
        let next_day = clock.today(datetime!(2026-11-15 21:00:00 UTC));
        let k = Kopecks(10_000);
        assert_eq!(
            InvoiceStatus::of(k, Kopecks::ZERO, due, last_second),
            InvoiceStatus::Unpaid
        );
        assert_eq!(
            InvoiceStatus::of(k, Kopecks::ZERO, due, next_day),
            InvoiceStatus::Overdue
        );
        assert_eq!(
            InvoiceStatus::of(k, Kopecks(1), due, last_second),
            InvoiceStatus::PartlyPaid
        );
        assert_eq!(
            InvoiceStatus::of(k, Kopecks(1), due, next_day),
            InvoiceStatus::Overdue
        );
        assert_eq!(InvoiceStatus::of(k, k, due, next_day), InvoiceStatus::Paid);
        assert_eq!(
            InvoiceStatus::of(Kopecks(-5), Kopecks::ZERO, due, next_day),
            InvoiceStatus::Paid
        );
    }

    #[test]
    fn window_inside_a_month() {
        let w = ReadingsWindow {
            first_day: 15,
            last_day: 25,
        };
        assert_eq!(
            w.state(date!(2026 - 11 - 14)),
            WindowState::Closed {
                opens: date!(2026 - 11 - 15)
            }
        );
        assert_eq!(
            w.state(date!(2026 - 11 - 15)),
            WindowState::Open {
                until: date!(2026 - 11 - 25)
            }
        );
        assert_eq!(
            w.state(date!(2026 - 11 - 25)),
            WindowState::Open {
                until: date!(2026 - 11 - 25)
            }
        );
        assert_eq!(
            w.state(date!(2026 - 12 - 26)),
            WindowState::Closed {
                opens: date!(2027 - 01 - 15)
            }
        );
    }

    #[test]
    fn window_across_new_year_and_short_months() {
        let w = ReadingsWindow {
            first_day: 23,
            last_day: 3,
        };
        assert_eq!(
            w.state(date!(2027 - 01 - 02)),
            WindowState::Open {
                until: date!(2027 - 01 - 03)
            }
        );
        assert_eq!(
            w.state(date!(2026 - 12 - 31)),
            WindowState::Open {
                until: date!(2027 - 01 - 03)
            }
        );
        assert_eq!(
            w.state(date!(2027 - 01 - 04)),
            WindowState::Closed {
                opens: date!(2027 - 01 - 23)
            }
        );
        let end = ReadingsWindow {
            first_day: 30,
            last_day: 31,
        };
        assert_eq!(
            end.state(date!(2027 - 02 - 28)),
            WindowState::Open {
                until: date!(2027 - 02 - 28)
            }
        );
    }
}
