//! Autopay (B1): a resident who kept a payment method has each new invoice
//! of an account paid with it, in full up to a maximum they set, on the day
//! the invoice arrives or on a day of the month they chose (never after the
//! invoice's due date). A notice goes before each debit; three failed
//! debits in a row turn autopay off.

use crate::{Kopecks, Period};
use time::{Date, Duration};

/// Failed debits in a row after which autopay turns itself off.
pub const MAX_FAILURES: i32 = 3;

/// The latest day of the month one may choose (every month has it).
pub const LAST_DAY: u8 = 28;

/// A payment method the gateway keeps for the resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMethod {
    /// Row id.
    pub id: i64,
    /// Whose.
    pub user_id: crate::UserId,
    /// The gateway that keeps it.
    pub gateway: String,
    /// The gateway's id of it.
    pub method_id: String,
    /// `sbp` or `bank_card`.
    pub kind: Option<crate::payment_methods::PayMethod>,
    /// How it shows (`MasterCard *4444`).
    pub title: String,
    /// When it was kept.
    pub created_at: time::OffsetDateTime,
}

/// An account's autopay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autopay {
    /// Row id.
    pub id: i64,
    /// The account paid for.
    pub account_id: crate::AccountId,
    /// The resident who set it (and whose method pays).
    pub user_id: crate::UserId,
    /// The kept method.
    pub method_id: i64,
    /// The largest invoice paid without asking.
    pub max_amount: Kopecks,
    /// The day of the month to pay on (none: the day the invoice arrives).
    pub day: Option<u8>,
    /// Invoices of this period and earlier were there before it was set:
    /// only newer ones are paid.
    pub after_period: i32,
    /// Failed debits in a row.
    pub failures: i32,
    /// Whether it is on.
    pub enabled: bool,
}

/// Where one invoice's debit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DebitStatus {
    /// Planned; the notice goes first.
    Scheduled,
    /// Being paid (a payment exists or is being made).
    Charging,
    /// Paid.
    Paid,
    /// The gateway or the bank refused.
    Failed,
    /// Not paid on purpose: over the maximum, nothing left to pay, or
    /// autopay was turned off before the day.
    Skipped,
}

impl DebitStatus {
    /// Every status.
    pub const ALL: [DebitStatus; 5] = [
        DebitStatus::Scheduled,
        DebitStatus::Charging,
        DebitStatus::Paid,
        DebitStatus::Failed,
        DebitStatus::Skipped,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DebitStatus::Scheduled => "scheduled",
            DebitStatus::Charging => "charging",
            DebitStatus::Paid => "paid",
            DebitStatus::Failed => "failed",
            DebitStatus::Skipped => "skipped",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<DebitStatus> {
        DebitStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One invoice's debit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debit {
    /// Row id.
    pub id: i64,
    /// The autopay.
    pub autopay_id: i64,
    /// The account.
    pub account_id: crate::AccountId,
    /// The invoice's period.
    pub period: Period,
    /// The invoice's total when it was planned.
    pub amount: Kopecks,
    /// The day it is paid.
    pub debit_on: Date,
    /// The day the notice goes.
    pub notice_on: Date,
    /// Where it stands.
    pub status: DebitStatus,
    /// Whether the notice was produced.
    pub noticed: bool,
    /// The card payment made for it.
    pub card_payment_id: Option<crate::CardPaymentId>,
    /// When it last changed (a claim that never made its payment is
    /// taken back after a while).
    pub updated_at: time::OffsetDateTime,
}

/// How long a claimed debit may wait for its payment to be written before
/// another run takes the claim back (the claiming server stopped).
pub const CLAIM_TIMEOUT: Duration = Duration::minutes(10);

/// The card payment id of an invoice's debit: one per debit, and the
/// gateway's idempotence key.
pub fn payment_id(debit: i64) -> String {
    format!("autopay-{debit}")
}

/// What a message about autopay tells (kept in the event's subject with
/// the debit: [`subject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A debit is coming.
    Notice,
    /// A debit failed.
    Failed,
    /// Autopay turned itself off after [`MAX_FAILURES`].
    TurnedOff,
    /// An invoice over the maximum was not paid.
    OverLimit,
}

impl Stage {
    const ALL: [Stage; 4] = [Stage::Notice, Stage::Failed, Stage::TurnedOff, Stage::OverLimit];

    fn code(self) -> i64 {
        match self {
            Stage::Notice => 1,
            Stage::Failed => 2,
            Stage::TurnedOff => 3,
            Stage::OverLimit => 4,
        }
    }

    /// Its name in message ids (`notice`, `failed`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Notice => "notice",
            Stage::Failed => "failed",
            Stage::TurnedOff => "off",
            Stage::OverLimit => "over",
        }
    }
}

/// The event subject of a message about debit `debit` at `stage`.
pub fn subject(debit: i64, stage: Stage) -> i64 {
    debit * 10 + stage.code()
}

/// The debit and stage of a [`subject`].
pub fn from_subject(subject: i64) -> Option<(i64, Stage)> {
    let stage = Stage::ALL.into_iter().find(|s| s.code() == subject % 10)?;
    Some((subject / 10, stage))
}

/// The day an invoice that arrived on `seen` and is due on `due` is paid,
/// leaving `notice` days for the notice first: without a chosen day, as
/// soon as the notice allows; otherwise the first `day` of a month from
/// then on. Never after `due` (the notice is then shorter), nor before
/// `seen`.
pub fn debit_date(seen: Date, due: Date, day: Option<u8>, notice: u8) -> Date {
    let earliest = seen + Duration::days(i64::from(notice));
    let candidate = match day {
        None => earliest,
        Some(day) => {
            let day = day.clamp(1, LAST_DAY);
            let this = earliest.replace_day(day).unwrap_or(earliest);
            if this >= earliest {
                this
            } else {
                let next = earliest.replace_day(1).unwrap_or(earliest) + Duration::days(32);
                next.replace_day(day).unwrap_or(next)
            }
        }
    };
    candidate.min(due).max(seen)
}

/// The day the notice of a debit on `debit_on` goes: `days` before, but not
/// before the invoice arrived.
pub fn notice_date(seen: Date, debit_on: Date, days: u8) -> Date {
    (debit_on - Duration::days(i64::from(days))).max(seen)
}

/// Why autopay cannot be set as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupProblem {
    /// The maximum is not an amount of at least 1 ₽ (or is over the
    /// largest payment).
    MaxAmount,
    /// The day is not 1–28.
    Day,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_debit_day_is_never_after_the_due_date() {
        let seen = date!(2026 - 12 - 03);
        let due = date!(2026 - 12 - 15);
        assert_eq!(debit_date(seen, due, None, 0), seen);
        assert_eq!(
            debit_date(seen, due, None, 2),
            date!(2026 - 12 - 05),
            "after the notice"
        );
        assert_eq!(debit_date(seen, due, Some(10), 2), date!(2026 - 12 - 10));
        assert_eq!(
            debit_date(seen, due, Some(4), 2),
            due,
            "the 4th is before the notice ends: next month's is past due"
        );
        assert_eq!(
            debit_date(seen, due, Some(20), 2),
            due,
            "after the due date: on it"
        );
        let late = date!(2026 - 12 - 20);
        assert_eq!(
            debit_date(late, date!(2027 - 01 - 15), Some(5), 2),
            date!(2027 - 01 - 05)
        );
        assert_eq!(
            debit_date(late, due, Some(5), 2),
            late,
            "an invoice seen after its due date: at once"
        );
        assert_eq!(notice_date(seen, date!(2026 - 12 - 10), 2), date!(2026 - 12 - 08));
        assert_eq!(notice_date(seen, seen, 2), seen);
    }

    #[test]
    fn subjects_round_trip() {
        for stage in [Stage::Notice, Stage::Failed, Stage::TurnedOff, Stage::OverLimit] {
            assert_eq!(from_subject(subject(1234, stage)), Some((1234, stage)));
        }
        assert_eq!(from_subject(1230), None);
        assert_eq!(DebitStatus::from_stored("paid"), Some(DebitStatus::Paid));
    }
}
