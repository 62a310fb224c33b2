//! The rules a reading handed in by a resident must pass (R7, B3), each a pure
//! function: the window and the period a reading counts for, whether a meter
//! takes readings at all, and what a typed value means against the meter's
//! previous readings (lower, rollover, unusually high).

use crate::meters::{Capacity, Consumption, MeterStatus, ReadingError, ReadingValue, Resource};
use crate::{Meter, MeterId, Period, ReadingsWindow};
use time::Date;

/// Days before the verification date from which the meter page warns.
pub const VERIFICATION_WARNING_DAYS: i64 = 30;
/// How far back the average consumption looks.
pub const AVERAGE_DAYS: i64 = 183;
/// Less history than this gives no average.
pub const MIN_AVERAGE_DAYS: i64 = 28;
/// Consumption above this many times the average is unusually high.
pub const HIGH_FACTOR: f64 = 3.0;
/// Days in an average month.
const MONTH_DAYS: f64 = 30.4375;

/// When readings are taken: the organization's window (or a building's
/// own) and whether a reading outside it is refused (`strict`) or accepted
/// for the next period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRule {
    /// The days of the month.
    pub window: ReadingsWindow,
    /// Refuse outside the window (otherwise accept for the next period).
    pub strict: bool,
}

/// What the window says about a reading handed in on a local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Inside the window: counts for `period`; open until the end of `until`.
    Open {
        /// The period: the month the window opened in.
        period: Period,
        /// The window's last day.
        until: Date,
    },
    /// Outside a lenient window: accepted, counts for the next window's period.
    NextPeriod {
        /// The period of the next window.
        period: Period,
        /// When the next window opens.
        opens: Date,
    },
    /// Outside a strict window: refused until it opens.
    Closed {
        /// When the window opens.
        opens: Date,
    },
}

impl Admission {
    /// The period a reading counts for, when one is accepted at all.
    pub fn period(self) -> Option<Period> {
        match self {
            Admission::Open { period, .. } | Admission::NextPeriod { period, .. } => Some(period),
            Admission::Closed { .. } => None,
        }
    }
}

impl WindowRule {
    /// What the window says on local day `today`.
    pub fn admit(self, today: Date) -> Admission {
        match self.window.open_span(today) {
            Some((first, last)) => Admission::Open {
                period: Period::containing(first),
                until: last,
            },
            None => {
                let opens = self.window.next_opening(today);
                if self.strict {
                    Admission::Closed { opens }
                } else {
                    Admission::NextPeriod {
                        period: Period::containing(opens),
                        opens,
                    }
                }
            }
        }
    }
}

/// Where a meter stands with its verification (поверка).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Valid for more than [`VERIFICATION_WARNING_DAYS`].
    Valid,
    /// Due within [`VERIFICATION_WARNING_DAYS`] days (the last valid day).
    DueSoon(Date),
    /// Past its date: the meter counts as faulty.
    Expired(Date),
}

impl Verification {
    /// The state of a meter due for verification on `due`, seen on `today`.
    /// The due date itself is the last valid day.
    pub fn of(due: Date, today: Date) -> Verification {
        if today > due {
            Verification::Expired(due)
        } else if (due - today).whole_days() <= VERIFICATION_WARNING_DAYS {
            Verification::DueSoon(due)
        } else {
            Verification::Valid
        }
    }
}

/// Why a meter takes no readings from residents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Replaced or removed.
    Archived,
    /// Read remotely by the organization.
    Remote,
    /// Verification expired on that day.
    VerificationExpired(Date),
}

impl Closed {
    /// Stable code for the API and the translations.
    pub fn code(self) -> &'static str {
        match self {
            Closed::Archived => "meter_archived",
            Closed::Remote => "meter_remote",
            Closed::VerificationExpired(_) => "verification_expired",
        }
    }
}

/// Whether a meter with `status`, due for verification on `due`, takes a
/// reading on `today`.
pub fn closed(status: MeterStatus, due: Date, today: Date) -> Option<Closed> {
    match status {
        MeterStatus::Archived => Some(Closed::Archived),
        MeterStatus::Remote => Some(Closed::Remote),
        MeterStatus::Active => match Verification::of(due, today) {
            Verification::Expired(d) => Some(Closed::VerificationExpired(d)),
            _ => None,
        },
    }
}

/// A reading already on record (of one zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastReading {
    /// The day it was taken.
    pub taken_on: Date,
    /// Its scaled value.
    pub value: i64,
}

/// Why a typed value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    /// Not a number, too many digits or decimals.
    Malformed(ReadingError),
    /// Lower than the previous reading by more than a counter could roll
    /// over in a period.
    Lower {
        /// The previous value.
        previous: ReadingValue,
    },
}

impl ValueProblem {
    /// Stable code for the API and the translations.
    pub fn code(self) -> &'static str {
        match self {
            ValueProblem::Malformed(ReadingError::Invalid) => "invalid_number",
            ValueProblem::Malformed(ReadingError::TooManyDigits(_)) => "too_many_digits",
            ValueProblem::Malformed(ReadingError::TooManyDecimals(_)) => "too_many_decimals",
            ValueProblem::Lower { .. } => "lower_than_previous",
        }
    }
}

/// What the resident must confirm before a value is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caution {
    /// Lower than the previous reading: the counter went past its capacity.
    Rollover,
    /// Far above the meter's usual consumption.
    High {
        /// The average consumption per month over the last months, scaled.
        monthly_average: Option<i64>,
    },
}

impl Caution {
    /// Stable code for the API and the translations.
    pub fn code(self) -> &'static str {
        match self {
            Caution::Rollover => "rollover",
            Caution::High { .. } => "high_consumption",
        }
    }
}

/// A value that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The value.
    pub value: ReadingValue,
    /// Consumption since the previous reading (scaled), when there is one.
    pub consumption: Option<i64>,
    /// What the resident must confirm, if anything.
    pub caution: Option<Caution>,
}

/// What is known about one zone of a meter when a value is typed for it.
#[derive(Debug, Clone, Copy)]
pub struct ZoneContext<'a> {
    /// The meter's counter.
    pub capacity: Capacity,
    /// The latest reading before this period's, if any.
    pub previous: Option<PastReading>,
    /// Readings of the zone, oldest first, for the average (at least those
    /// taken in the [`AVERAGE_DAYS`] up to `previous`).
    pub history: &'a [PastReading],
    /// The unusual-consumption floor in scaled units for one month.
    pub monthly_floor: i64,
    /// The local day of the reading.
    pub today: Date,
}

/// Checks a value as typed for one zone: it must parse against the
/// capacity; lower than the previous is a rollover to confirm when the
/// counter could have gone round (consumption under a tenth of its range),
/// refused otherwise; consumption above both [`HIGH_FACTOR`]× the average
/// and the floor (each per elapsed month) is to be confirmed.
pub fn check_value(text: &str, ctx: ZoneContext<'_>) -> Result<Checked, ValueProblem> {
    let value = ctx
        .capacity
        .parse_reading(text)
        .map_err(ValueProblem::Malformed)?;
    let Some(prev) = ctx.previous else {
        return Ok(Checked {
            value,
            consumption: None,
            caution: None,
        });
    };
    let previous = ctx
        .capacity
        .reading(prev.value)
        .unwrap_or(ReadingValue::zero(ctx.capacity));
    let (consumption, rollover) = match value.consumption_since(previous) {
        Consumption::Normal(c) => (c, false),
        Consumption::Rollover(c) if c <= ctx.capacity.modulus() / 10 => (c, true),
        Consumption::Rollover(_) => return Err(ValueProblem::Lower { previous }),
    };
    let days = (ctx.today - prev.taken_on).whole_days().max(1);
    let months = (days as f64 / MONTH_DAYS).max(1.0);
    let average = monthly_average(ctx.capacity, ctx.history, prev.taken_on);
    let floor = ctx.monthly_floor as f64 * months;
    let high = consumption as f64 > floor
        && average.is_none_or(|avg| consumption as f64 > HIGH_FACTOR * avg as f64 * months);
    let caution = if rollover {
        Some(Caution::Rollover)
    } else if high {
        Some(Caution::High {
            monthly_average: average,
        })
    } else {
        None
    };
    Ok(Checked {
        value,
        consumption: Some(consumption),
        caution,
    })
}

/// The average consumption per month (scaled) of readings `history`
/// (oldest first) taken in the [`AVERAGE_DAYS`] up to `until`; `None` with
/// less than [`MIN_AVERAGE_DAYS`] of history. A drop between two readings is
/// counted as a rollover.
pub fn monthly_average(capacity: Capacity, history: &[PastReading], until: Date) -> Option<i64> {
    let from = until - time::Duration::days(AVERAGE_DAYS);
    let used: Vec<&PastReading> = history
        .iter()
        .filter(|r| r.taken_on >= from && r.taken_on <= until)
        .collect();
    let (first, last) = (used.first()?, used.last()?);
    let days = (last.taken_on - first.taken_on).whole_days();
    if days < MIN_AVERAGE_DAYS {
        return None;
    }
    let total: i64 = used
        .windows(2)
        .map(|w| {
            let d = w[1].value - w[0].value;
            if d >= 0 { d } else { d + capacity.modulus() }
        })
        .sum();
    Some((total as f64 / days as f64 * MONTH_DAYS).round() as i64)
}

/// The default unusual-consumption floor per month, in whole units of the
/// resource: a flat's month rarely comes near these.
pub fn default_floor(resource: Resource) -> u32 {
    match resource {
        Resource::ColdWater => 15,
        Resource::HotWater => 10,
        Resource::Electricity => 600,
        Resource::Heat => 3,
        Resource::Gas => 150,
    }
}

/// The most unusual-consumption floor the office may set, in whole units.
pub const MAX_FLOOR: u32 = 100_000;

/// The most buildings with a window of their own.
pub const MAX_BUILDING_WINDOWS: usize = 500;

/// The longest building address in a window line, in characters.
pub const MAX_BUILDING_ADDRESS: usize = 300;

/// Reads buildings' own windows as the office types them, one building a
/// line: the days, then the address as the billing system writes it
/// (`20-25 г. Тверь, ул. Советская, д. 12`); blank lines are skipped.
/// `Err` gives the number (from 1) of the first line that does not read:
/// no valid window, no address, an address too long or given twice.
pub fn parse_building_windows(text: &str) -> Result<Vec<(String, ReadingsWindow)>, usize> {
    let mut out: Vec<(String, ReadingsWindow)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let read = || {
            let (days, address) = line.split_once(char::is_whitespace)?;
            let (a, b) = days.split_once(['-', '–'])?;
            let window = ReadingsWindow {
                first_day: a.parse().ok()?,
                last_day: b.parse().ok()?,
            };
            let address = address.trim();
            (window.is_valid()
                && !address.is_empty()
                && address.chars().count() <= MAX_BUILDING_ADDRESS
                && !out.iter().any(|(x, _)| x == address))
            .then(|| (address.to_string(), window))
        };
        out.push(read().ok_or(i + 1)?);
    }
    Ok(out)
}

/// Buildings' windows in the form [`parse_building_windows`] reads.
pub fn building_windows_text(windows: &[(String, ReadingsWindow)]) -> String {
    windows
        .iter()
        .map(|(address, w)| format!("{}-{} {address}", w.first_day, w.last_day))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reading already known for a meter: billing's, or one a resident handed
/// in (then with the period it counts for), and whether it was exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The reading.
    pub reading: crate::Reading,
    /// The period a portal reading counts for (`None` for billing's rows).
    pub period: Option<Period>,
    /// Already sent to the billing system.
    pub exported: bool,
}

/// What a resident typed for one meter.
#[derive(Debug, Clone, Copy)]
pub struct Typed<'a> {
    /// The meter.
    pub meter: MeterId,
    /// One text per zone, zone 1 first.
    pub values: &'a [String],
    /// Whether an unusual value is confirmed.
    pub confirmed: bool,
}

/// One thing that stops a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    /// Outside a strict window.
    WindowClosed {
        /// When it opens.
        opens: Date,
    },
    /// Every field was empty.
    NothingEntered,
    /// The meter takes no readings.
    MeterClosed {
        /// The meter.
        meter: MeterId,
        /// Why.
        why: Closed,
    },
    /// A zone of a multi-zone meter was left empty while others were filled.
    ZoneMissing {
        /// The meter.
        meter: MeterId,
        /// The zone.
        zone: u8,
    },
    /// A value was refused.
    Value {
        /// The meter.
        meter: MeterId,
        /// The zone.
        zone: u8,
        /// Why.
        problem: ValueProblem,
    },
    /// A value for a zone the meter does not have.
    NoSuchZone {
        /// The meter.
        meter: MeterId,
        /// The zone.
        zone: u8,
    },
    /// This period's reading was sent to billing already.
    Exported {
        /// The meter.
        meter: MeterId,
        /// The period.
        period: Period,
    },
    /// Billing has a reading of that day already.
    Recorded {
        /// The meter.
        meter: MeterId,
        /// The zone.
        zone: u8,
    },
    /// To confirm before saving.
    Confirm {
        /// The meter.
        meter: MeterId,
        /// The zone.
        zone: u8,
        /// What is unusual.
        caution: Caution,
        /// The consumption since the previous reading.
        consumption: ReadingValue,
    },
}

impl Issue {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Issue::WindowClosed { .. } => "window_closed",
            Issue::NothingEntered => "nothing_entered",
            Issue::MeterClosed { why, .. } => why.code(),
            Issue::ZoneMissing { .. } => "zone_missing",
            Issue::NoSuchZone { .. } => "no_such_zone",
            Issue::Value { problem, .. } => problem.code(),
            Issue::Exported { .. } => "already_exported",
            Issue::Recorded { .. } => "already_recorded",
            Issue::Confirm { caution, .. } => caution.code(),
        }
    }

    /// The meter it is about, if one.
    pub fn meter(&self) -> Option<MeterId> {
        match self {
            Issue::WindowClosed { .. } | Issue::NothingEntered => None,
            Issue::MeterClosed { meter, .. }
            | Issue::ZoneMissing { meter, .. }
            | Issue::NoSuchZone { meter, .. }
            | Issue::Value { meter, .. }
            | Issue::Exported { meter, .. }
            | Issue::Recorded { meter, .. }
            | Issue::Confirm { meter, .. } => Some(*meter),
        }
    }

    /// The zone it is about, if one.
    pub fn zone(&self) -> Option<u8> {
        match self {
            Issue::ZoneMissing { zone, .. }
            | Issue::NoSuchZone { zone, .. }
            | Issue::Value { zone, .. }
            | Issue::Recorded { zone, .. }
            | Issue::Confirm { zone, .. } => Some(*zone),
            _ => None,
        }
    }

    /// Whether confirming would let it through.
    pub fn needs_confirmation(&self) -> bool {
        matches!(self, Issue::Confirm { .. })
    }
}

/// A stored reading of a submission.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The meter.
    pub meter: Meter,
    /// Zone.
    pub zone: u8,
    /// Value.
    pub value: ReadingValue,
    /// Consumption since the previous reading, if there is one.
    pub consumption: Option<i64>,
}

/// Decides a submission for `period` on `today`: each typed meter (all of
/// them among `meters`, with what is `recorded` for them) is checked zone by
/// zone — closed or exported meters, zones missing or extra, a reading of
/// that day in billing, the value itself and whether an unusual one was
/// confirmed. Everything is accepted, or nothing and every issue found.
/// `monthly_floor` gives a meter's unusual-consumption floor in its scaled
/// units.
pub fn check_submission(
    meters: &[Meter],
    typed: &[Typed<'_>],
    recorded: &[Recorded],
    period: Period,
    today: Date,
    monthly_floor: impl Fn(&Meter) -> i64,
) -> Result<Vec<Stored>, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut stored = Vec::new();
    for m in meters {
        let Some(typed) = typed.iter().find(|i| i.meter == m.id) else {
            continue;
        };
        if let Some(why) = closed(m.status, m.verification_due, today) {
            issues.push(Issue::MeterClosed { meter: m.id, why });
            continue;
        }
        if recorded
            .iter()
            .any(|x| x.reading.meter_id == m.id && x.period == Some(period) && x.exported)
        {
            issues.push(Issue::Exported { meter: m.id, period });
            continue;
        }
        // A value for a zone the meter lacks would be lost: refused.
        if let Some(extra) = typed
            .values
            .iter()
            .skip(usize::from(m.tariffs))
            .position(|v| !v.trim().is_empty())
        {
            let zone = u8::try_from(usize::from(m.tariffs) + extra + 1).unwrap_or(u8::MAX);
            issues.push(Issue::NoSuchZone { meter: m.id, zone });
            continue;
        }
        for zone in 1..=m.tariffs {
            let text = typed.values.get(usize::from(zone) - 1).map_or("", |t| t.trim());
            if text.is_empty() {
                issues.push(Issue::ZoneMissing { meter: m.id, zone });
                continue;
            }
            let mine = |x: &&Recorded| x.reading.meter_id == m.id && x.reading.zone == zone;
            if recorded
                .iter()
                .filter(mine)
                .any(|x| x.reading.taken_on == today && x.period != Some(period))
            {
                issues.push(Issue::Recorded { meter: m.id, zone });
                continue;
            }
            // Earlier readings: not this period's own (it is being replaced).
            let mut past: Vec<PastReading> = recorded
                .iter()
                .filter(mine)
                .filter(|x| x.period != Some(period) && x.reading.taken_on <= today)
                .map(|x| PastReading {
                    taken_on: x.reading.taken_on,
                    value: x.reading.value,
                })
                .collect();
            past.reverse();
            let ctx = ZoneContext {
                capacity: m.capacity,
                previous: past.last().copied(),
                history: &past,
                monthly_floor: monthly_floor(m),
                today,
            };
            match check_value(text, ctx) {
                Err(problem) => issues.push(Issue::Value {
                    meter: m.id,
                    zone,
                    problem,
                }),
                Ok(checked) => match checked.caution {
                    Some(caution) if !typed.confirmed => issues.push(Issue::Confirm {
                        meter: m.id,
                        zone,
                        caution,
                        consumption: m
                            .capacity
                            .reading(checked.consumption.unwrap_or(0))
                            .unwrap_or(ReadingValue::zero(m.capacity)),
                    }),
                    _ => stored.push(Stored {
                        meter: m.clone(),
                        zone,
                        value: checked.value,
                        consumption: checked.consumption,
                    }),
                },
            }
        }
    }
    if issues.is_empty() {
        Ok(stored)
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn water() -> Capacity {
        Capacity::new(5, 3).unwrap()
    }

    fn a_meter(id: i64, tariffs: u8) -> Meter {
        Meter {
            id: MeterId(id),
            account_id: crate::AccountId(1),
            serial: format!("S{id}"),
            resource: Resource::ColdWater,
            location: String::new(),
            tariffs,
            capacity: water(),
            scale: 1,
            installed_on: date!(2020 - 01 - 01),
            verification_due: date!(2030 - 01 - 01),
            status: MeterStatus::Active,
        }
    }

    fn known(
        meter: i64,
        zone: u8,
        value: i64,
        taken_on: Date,
        period: Option<Period>,
        exported: bool,
    ) -> Recorded {
        Recorded {
            reading: crate::Reading {
                meter_id: MeterId(meter),
                zone,
                value,
                taken_on,
                source: "billing".into(),
                submitted_at: time::macros::datetime!(2026-11-01 10:00 UTC),
            },
            period,
            exported,
        }
    }

    #[test]
    fn a_submission_is_taken_whole_or_refused_with_every_issue() {
        let today = date!(2026 - 12 - 20);
        let period = Period::new(2026, 12).unwrap();
        let meters = [a_meter(1, 1), a_meter(2, 2), a_meter(3, 1)];
        let recorded = [
            known(1, 1, 100_000, date!(2026 - 11 - 20), None, false),
            known(3, 1, 50_000, date!(2026 - 11 - 20), Some(period), true),
        ];
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (one, two, three) = (v(&["101"]), v(&["5", ""]), v(&["60"]));
        let typed = |confirmed| {
            vec![
                Typed {
                    meter: MeterId(1),
                    values: &one,
                    confirmed,
                },
                Typed {
                    meter: MeterId(2),
                    values: &two,
                    confirmed,
                },
                Typed {
                    meter: MeterId(3),
                    values: &three,
                    confirmed,
                },
            ]
        };
        let issues =
            check_submission(&meters, &typed(false), &recorded, period, today, |_| 15_000).unwrap_err();
        assert_eq!(
            issues,
            vec![
                Issue::ZoneMissing {
                    meter: MeterId(2),
                    zone: 2
                },
                Issue::Exported {
                    meter: MeterId(3),
                    period
                },
            ],
            "every issue, not the first"
        );
        // Only good values: all stored, with the consumption since billing's.
        let good = [Typed {
            meter: MeterId(1),
            values: &one,
            confirmed: false,
        }];
        let stored = check_submission(&meters, &good, &recorded, period, today, |_| 15_000).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            (stored[0].meter.id, stored[0].zone, stored[0].consumption),
            (MeterId(1), 1, Some(1_000))
        );
        // Lower than billing's: refused; a zone the meter lacks: refused.
        let lower = v(&["99"]);
        let extra = v(&["101", "7"]);
        let issues = check_submission(
            &meters,
            &[Typed {
                meter: MeterId(1),
                values: &lower,
                confirmed: false,
            }],
            &recorded,
            period,
            today,
            |_| 15_000,
        )
        .unwrap_err();
        assert!(
            matches!(
                issues[0],
                Issue::Value {
                    problem: ValueProblem::Lower { .. },
                    ..
                }
            ),
            "{issues:?}"
        );
        let issues = check_submission(
            &meters,
            &[Typed {
                meter: MeterId(1),
                values: &extra,
                confirmed: false,
            }],
            &recorded,
            period,
            today,
            |_| 15_000,
        )
        .unwrap_err();
        assert_eq!(
            issues,
            vec![Issue::NoSuchZone {
                meter: MeterId(1),
                zone: 2
            }]
        );
    }

    #[test]
    fn an_unusual_value_passes_only_when_confirmed_and_a_billing_day_is_kept() {
        let today = date!(2026 - 12 - 20);
        let period = Period::new(2026, 12).unwrap();
        let meters = [a_meter(1, 1)];
        let recorded = [known(1, 1, 100_000, date!(2026 - 11 - 20), None, false)];
        let huge = vec!["900".to_string()];
        let ask = |confirmed| {
            check_submission(
                &meters,
                &[Typed {
                    meter: MeterId(1),
                    values: &huge,
                    confirmed,
                }],
                &recorded,
                period,
                today,
                |_| 15_000,
            )
        };
        assert!(matches!(ask(false).unwrap_err()[0], Issue::Confirm { .. }));
        assert_eq!(ask(true).unwrap().len(), 1);
        // Billing has today's reading: the resident's is not taken.
        let billing_today = [known(1, 1, 100_000, today, None, false)];
        let r = check_submission(
            &meters,
            &[Typed {
                meter: MeterId(1),
                values: &huge,
                confirmed: true,
            }],
            &billing_today,
            period,
            today,
            |_| 15_000,
        );
        assert_eq!(
            r.unwrap_err(),
            vec![Issue::Recorded {
                meter: MeterId(1),
                zone: 1
            }]
        );
    }

    fn ctx(previous: Option<PastReading>, history: &[PastReading], today: Date) -> ZoneContext<'_> {
        ZoneContext {
            capacity: water(),
            previous,
            history,
            monthly_floor: 15_000,
            today,
        }
    }

    fn monthly(values: &[i64]) -> Vec<PastReading> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| PastReading {
                taken_on: Period::new(2026, 4).unwrap().add_months(i as i32).day(20),
                value: *v,
            })
            .collect()
    }

    #[test]
    fn strict_and_lenient_windows() {
        let w = ReadingsWindow {
            first_day: 15,
            last_day: 25,
        };
        let strict = WindowRule {
            window: w,
            strict: true,
        };
        let lenient = WindowRule {
            window: w,
            strict: false,
        };
        let nov = Period::new(2026, 11).unwrap();
        let dec = Period::new(2026, 12).unwrap();
        assert_eq!(
            strict.admit(date!(2026 - 11 - 25)),
            Admission::Open {
                period: nov,
                until: date!(2026 - 11 - 25)
            }
        );
        assert_eq!(
            strict.admit(date!(2026 - 11 - 26)),
            Admission::Closed {
                opens: date!(2026 - 12 - 15)
            }
        );
        assert_eq!(
            lenient.admit(date!(2026 - 11 - 26)),
            Admission::NextPeriod {
                period: dec,
                opens: date!(2026 - 12 - 15)
            }
        );
        assert_eq!(lenient.admit(date!(2026 - 11 - 14)).period(), Some(nov));
        assert_eq!(strict.admit(date!(2026 - 11 - 14)).period(), None);
    }

    #[test]
    fn a_window_across_new_year_counts_for_december() {
        let rule = WindowRule {
            window: ReadingsWindow {
                first_day: 23,
                last_day: 3,
            },
            strict: true,
        };
        let dec = Period::new(2026, 12).unwrap();
        for day in [
            date!(2026 - 12 - 23),
            date!(2026 - 12 - 31),
            date!(2027 - 01 - 01),
            date!(2027 - 01 - 03),
        ] {
            assert_eq!(rule.admit(day).period(), Some(dec), "{day}");
        }
        assert_eq!(
            rule.admit(date!(2027 - 01 - 04)),
            Admission::Closed {
                opens: date!(2027 - 01 - 23)
            }
        );
    }

    #[test]
    fn verification_warns_thirty_days_ahead_and_expires_after_the_day() {
        let due = date!(2026 - 12 - 31);
        assert_eq!(Verification::of(due, date!(2026 - 11 - 30)), Verification::Valid);
        assert_eq!(
            Verification::of(due, date!(2026 - 12 - 01)),
            Verification::DueSoon(due)
        );
        assert_eq!(Verification::of(due, due), Verification::DueSoon(due));
        assert_eq!(
            Verification::of(due, date!(2027 - 01 - 01)),
            Verification::Expired(due)
        );
        assert_eq!(closed(MeterStatus::Active, due, due), None);
        assert_eq!(
            closed(MeterStatus::Active, due, date!(2027 - 01 - 01)),
            Some(Closed::VerificationExpired(due))
        );
        assert_eq!(closed(MeterStatus::Archived, due, due), Some(Closed::Archived));
        assert_eq!(closed(MeterStatus::Remote, due, due), Some(Closed::Remote));
    }

    #[test]
    fn values_against_the_previous_reading() {
        let today = date!(2026 - 11 - 20);
        let prev = PastReading {
            taken_on: date!(2026 - 10 - 20),
            value: 120_000,
        };
        let history = monthly(&[100_000, 104_000, 108_000, 112_000, 116_000, 120_000]);
        let c = ctx(Some(prev), &history, today);
        let ok = check_value("124,5", c).unwrap();
        assert_eq!((ok.consumption, ok.caution), (Some(4_500), None));
        let equal = check_value("120", c).unwrap();
        assert_eq!((equal.consumption, equal.caution), (Some(0), None));
        assert_eq!(
            check_value("119,999", c).unwrap_err().code(),
            "lower_than_previous"
        );
        assert_eq!(check_value("12,34,5", c).unwrap_err().code(), "invalid_number");
        assert_eq!(check_value("1 234 567", c).unwrap_err().code(), "too_many_digits");
        assert_eq!(check_value("1,2345", c).unwrap_err().code(), "too_many_decimals");
        // 4 m³ a month on average: 30 m³ is above 3× and above the 15 m³ floor.
        let high = check_value("150", c).unwrap();
        // (The months are 30 or 31 days: about 3.98 m³ per average month.)
        let Some(Caution::High {
            monthly_average: Some(avg),
        }) = high.caution
        else {
            panic!("high consumption expected, got {:?}", high.caution)
        };
        assert!((3_900..=4_100).contains(&avg), "{avg}");
        // 14 m³ is above 3× the average but under the floor: no question.
        assert_eq!(check_value("134", c).unwrap().caution, None);
    }

    #[test]
    fn a_counter_near_its_end_rolls_over() {
        let today = date!(2026 - 11 - 20);
        let prev = PastReading {
            taken_on: date!(2026 - 10 - 20),
            value: 99_998_000,
        };
        let c = ctx(Some(prev), &[], today);
        let r = check_value("00001,5", c).unwrap();
        assert_eq!(r.consumption, Some(3_500));
        assert_eq!(r.caution, Some(Caution::Rollover));
    }

    #[test]
    fn without_history_only_the_floor_asks() {
        let today = date!(2026 - 11 - 20);
        let prev = PastReading {
            taken_on: date!(2026 - 08 - 20),
            value: 0,
        };
        let history = [prev];
        let c = ctx(Some(prev), &history, today);
        // Three months: the floor is 45 m³.
        assert_eq!(check_value("44", c).unwrap().caution, None);
        assert_eq!(
            check_value("46", c).unwrap().caution,
            Some(Caution::High {
                monthly_average: None
            })
        );
        assert_eq!(
            check_value("46", ctx(None, &[], today)).unwrap().consumption,
            None
        );
    }

    fn capacity() -> impl Strategy<Value = Capacity> {
        (4u8..=9, 0u8..=3).prop_map(|(i, f)| Capacity::new(i, f).unwrap())
    }

    proptest! {
        #[test]
        fn consumption_is_never_negative_unless_refused(
            c in capacity(), a in 0i64..i64::MAX, b in 0i64..i64::MAX, confirm_days in 1i64..400
        ) {
            let prev = a % c.modulus();
            let new = c.reading(b % c.modulus()).unwrap();
            let today = date!(2026 - 11 - 20);
            let p = PastReading { taken_on: today - time::Duration::days(confirm_days), value: prev };
            let ctx = ZoneContext { capacity: c, previous: Some(p), history: &[p], monthly_floor: 1, today };
            match check_value(&new.to_string(), ctx) {
                Ok(checked) => {
                    let consumption = checked.consumption.unwrap();
                    prop_assert!(consumption >= 0);
                    prop_assert!(consumption < c.modulus());
                    if new.scaled() < prev {
                        prop_assert_eq!(checked.caution, Some(Caution::Rollover));
                        prop_assert_eq!(consumption, c.modulus() - prev + new.scaled());
                    } else {
                        prop_assert_eq!(consumption, new.scaled() - prev);
                    }
                }
                Err(e) => {
                    prop_assert!(new.scaled() < prev);
                    prop_assert_eq!(e.code(), "lower_than_previous");
                }
            }
        }

        #[test]
        fn rollover_arithmetic_at_every_capacity(c in capacity(), before_end in 1i64..1000, after_zero in 0i64..1000) {
            let prev = c.modulus() - before_end;
            let new = c.reading(after_zero).unwrap();
            let previous = c.reading(prev).unwrap();
            prop_assert_eq!(new.consumption_since(previous), Consumption::Rollover(before_end + after_zero));
            let digits = u32::from(c.integer_digits() + c.fraction_digits());
            prop_assert_eq!(c.modulus(), 10i64.pow(digits));
        }

        #[test]
        fn what_residents_type_parses(c in capacity(), raw in 0i64..i64::MAX, comma in any::<bool>(), spaces in any::<bool>()) {
            let v = c.reading(raw % c.modulus()).unwrap();
            let mut text = v.to_decimal_string();
            if comma {
                text = text.replace('.', ",");
            }
            if spaces {
                // Thousands separated as people write them, and around.
                let (whole, frac) = text.split_at(text.find([',', '.']).unwrap_or(text.len()));
                let grouped: Vec<String> = whole
                    .as_bytes()
                    .rchunks(3)
                    .rev()
                    .map(|g| String::from_utf8_lossy(g).into_owned())
                    .collect();
                text = format!("  {}{frac}\u{a0}", grouped.join(" "));
            }
            prop_assert_eq!(c.parse_reading(&text), Ok(v));
        }

        #[test]
        fn window_membership_across_months_and_years(first in 1u8..=31, last in 1u8..=31, offset in 0i64..800) {
            let rule = WindowRule { window: ReadingsWindow { first_day: first, last_day: last }, strict: true };
            let today = date!(2026 - 01 - 01) + time::Duration::days(offset);
            match rule.admit(today) {
                Admission::Open { period, until } => {
                    prop_assert!(today <= until);
                    // The period is the month the window opened in: this one or the one before.
                    let this = Period::containing(today);
                    prop_assert!(period == this || period == this.prev());
                    prop_assert!((until - today).whole_days() <= 31);
                }
                Admission::Closed { opens } => {
                    prop_assert!(opens > today);
                    prop_assert!((opens - today).whole_days() <= 62);
                    // The day it opens, it is open.
                    let is_open = matches!(rule.admit(opens), Admission::Open { .. });
                    prop_assert!(is_open);
                }
                Admission::NextPeriod { .. } => prop_assert!(false, "a strict window"),
            }
        }
    }

    #[test]
    fn building_windows_are_read_as_typed() {
        let w = |a, b| ReadingsWindow {
            first_day: a,
            last_day: b,
        };
        let text = "\r\n20-25 г. Тверь, ул. Советская, д. 12\r\n\n 28–3   ул. Ленина, 5 \n";
        let read = parse_building_windows(text).unwrap();
        assert_eq!(
            read,
            vec![
                ("г. Тверь, ул. Советская, д. 12".to_string(), w(20, 25)),
                ("ул. Ленина, 5".to_string(), w(28, 3))
            ]
        );
        assert_eq!(
            parse_building_windows(&building_windows_text(&read)).unwrap(),
            read
        );
        assert_eq!(parse_building_windows("").unwrap(), vec![]);
        for (bad, line) in [
            ("20-25", 1),
            ("20 ул. Ленина, 5", 1),
            ("\n0-25 ул. Ленина, 5", 2),
            ("20-32 ул. Ленина, 5", 1),
            ("20-25 ул. Ленина, 5\n1-5 ул. Ленина, 5", 2),
        ] {
            assert_eq!(parse_building_windows(bad), Err(line), "{bad:?}");
        }
        let long = format!("1-5 {}", "д".repeat(MAX_BUILDING_ADDRESS + 1));
        assert_eq!(parse_building_windows(&long), Err(1));
    }
}
