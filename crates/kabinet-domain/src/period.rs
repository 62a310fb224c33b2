//! Billing periods: calendar months.

use std::fmt;
use time::{Date, Month};

/// A billing period: one calendar month. Stored as the integer `YYYYMM`
/// (e.g. `202610`), which sorts and compares like the month itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u8,
}

/// Why a text or number is not a billing period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not one of the accepted spellings.
    #[error("период должен быть указан как ГГГГ-ММ или ММ.ГГГГ, например 2026-10")]
    Invalid,
    /// Month outside 1..=12 or a year outside 2000..=2199.
    #[error("такого месяца нет")]
    OutOfRange,
}

const MONTHS_RU: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

impl Period {
    /// A period from a year and a month number (1–12).
    pub fn new(year: i32, month: u8) -> Result<Period, PeriodError> {
        if !(1..=12).contains(&month) || !(2000..=2199).contains(&year) {
            return Err(PeriodError::OutOfRange);
        }
        Ok(Period { year, month })
    }

    /// Parses `2026-10`, `2026-1`, `10.2026`, `10/2026` or the QR form `102026`.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let s = text.trim();
        let num = |p: &str| -> Result<i64, PeriodError> {
            if p.is_empty() || p.len() > 4 || !p.chars().all(|c| c.is_ascii_digit()) {
                return Err(PeriodError::Invalid);
            }
            p.parse().map_err(|_| PeriodError::Invalid)
        };
        let (year, month) = if let Some((y, m)) = s.split_once('-') {
            if y.len() != 4 {
                return Err(PeriodError::Invalid);
            }
            (num(y)?, num(m)?)
        } else if let Some((m, y)) = s.split_once(['.', '/']) {
            if y.len() != 4 {
                return Err(PeriodError::Invalid);
            }
            (num(y)?, num(m)?)
        } else if s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()) {
            (num(&s[2..])?, num(&s[..2])?)
        } else {
            return Err(PeriodError::Invalid);
        };
        let month = u8::try_from(month).map_err(|_| PeriodError::OutOfRange)?;
        Period::new(year as i32, month)
    }

    /// The period from its stored integer form `YYYYMM`.
    pub fn from_yyyymm(value: i32) -> Result<Period, PeriodError> {
        let month = u8::try_from(value % 100).map_err(|_| PeriodError::OutOfRange)?;
        Period::new(value / 100, month)
    }

    /// The stored integer form `YYYYMM`.
    pub fn yyyymm(self) -> i32 {
        self.year * 100 + i32::from(self.month)
    }

    /// The period holding a date.
    pub fn containing(date: Date) -> Period {
        Period {
            year: date.year(),
            month: date.month() as u8,
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month number, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    fn time_month(self) -> Month {
        Month::try_from(self.month).unwrap_or(Month::January)
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.time_month(), 1).unwrap_or(Date::MIN)
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        self.next().first_day().previous_day().unwrap_or(Date::MIN)
    }

    /// A day of this month, clamped to its length (day 31 of February is the 28th/29th).
    pub fn day(self, day: u8) -> Date {
        let last = self.last_day().day();
        Date::from_calendar_date(self.year, self.time_month(), day.clamp(1, last)).unwrap_or(Date::MIN)
    }

    /// The following month.
    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The previous month.
    pub fn prev(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// This period moved by `n` months (negative goes back).
    pub fn add_months(self, n: i32) -> Period {
        let index = self.year * 12 + i32::from(self.month) - 1 + n;
        Period {
            year: index.div_euclid(12),
            month: (index.rem_euclid(12) + 1) as u8,
        }
    }

    /// Form used in the ГОСТ Р 56042 `PaymPeriod` field: `MMYYYY`.
    pub fn to_qr(self) -> String {
        format!("{:02}{:04}", self.month, self.year)
    }

    /// Russian name for people: `октябрь 2026`.
    pub fn to_russian(self) -> String {
        format!("{} {}", MONTHS_RU[usize::from(self.month - 1)], self.year)
    }
}

/// Formats as `2026-10`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl crate::Describe for PeriodError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            PeriodError::Invalid => Text::new("error-period-invalid"),
            PeriodError::OutOfRange => Text::new("error-period-out-of-range"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn parses_spellings() {
        let oct = Period::new(2026, 10).unwrap();
        for s in ["2026-10", " 10.2026 ", "10/2026", "102026"] {
            assert_eq!(Period::parse(s), Ok(oct), "{s}");
        }
        assert_eq!(Period::parse("1.2027"), Period::new(2027, 1));
        assert_eq!(Period::parse("2026-13"), Err(PeriodError::OutOfRange));
        assert_eq!(Period::parse("2026-00"), Err(PeriodError::OutOfRange));
        assert_eq!(Period::parse("26-10"), Err(PeriodError::Invalid));
        assert_eq!(Period::parse("октябрь"), Err(PeriodError::Invalid));
        assert_eq!(Period::parse(""), Err(PeriodError::Invalid));
        assert_eq!(Period::parse("2026-1x"), Err(PeriodError::Invalid));
    }

    #[test]
    fn calendar_arithmetic() {
        let dec = Period::new(2026, 12).unwrap();
        assert_eq!(dec.next(), Period::new(2027, 1).unwrap());
        assert_eq!(dec.next().prev(), dec);
        assert_eq!(dec.add_months(-12), Period::new(2025, 12).unwrap());
        assert_eq!(dec.add_months(13), Period::new(2028, 1).unwrap());
        assert_eq!(Period::new(2028, 2).unwrap().last_day(), date!(2028 - 02 - 29));
        assert_eq!(Period::new(2026, 2).unwrap().day(31), date!(2026 - 02 - 28));
        assert_eq!(dec.first_day(), date!(2026 - 12 - 01));
        assert_eq!(Period::containing(date!(2026 - 10 - 31)).yyyymm(), 202610);
        assert_eq!(dec.to_qr(), "122026");
        assert_eq!(Period::new(2026, 10).unwrap().to_russian(), "октябрь 2026");
    }

    proptest! {
        #[test]
        fn stored_and_displayed_forms_round_trip(y in 2000i32..2199, m in 1u8..=12) {
            let p = Period::new(y, m).unwrap();
            prop_assert_eq!(Period::from_yyyymm(p.yyyymm()), Ok(p));
            prop_assert_eq!(Period::parse(&p.to_string()), Ok(p));
            prop_assert_eq!(Period::parse(&p.to_qr()), Ok(p));
            prop_assert_eq!(p.add_months(7).add_months(-7), p);
        }
    }
}
