//! The Russian production calendar: which days are working days. An ordinary
//! request is answered within so many *working* days (ПП 416), counted by
//! this calendar. The government sets each year's days off and transfers by
//! decree; the calendar ships the years known when this version was made
//! ([`BUILT_IN`]) and the organization's administrator adds a new year when
//! its decree is published. A year the calendar does not list falls back to
//! the Labour Code's holidays (ст. 112 ТК РФ) with a holiday on a weekend
//! moved to the next working day (the January ones excepted), which misses
//! only the decree's other transfers.
//!
//! The text, one day a line: `2026-01-09` is a day off (a holiday or a
//! transferred one), `2026-11-01 +` a working day on a weekend; `#` starts a
//! comment. Saturdays and Sundays are days off unless listed as working.

use crate::organization::DetailProblem;
use crate::text::Text;
use std::collections::BTreeSet;
use time::{Date, Duration, Month, Weekday};

/// The days off of 2026 by the government's decree (Jan 1–8 holidays, Jan 3
/// and 4 moved to Jan 9 and Dec 31; Mar 8 → Mar 9; May 9 → May 11).
pub const BUILT_IN: &str = "\
# 2026: 247 working days
2026-01-01
2026-01-02
2026-01-05
2026-01-06
2026-01-07
2026-01-08
2026-01-09
2026-02-23
2026-03-09
2026-05-01
2026-05-11
2026-06-12
2026-11-04
2026-12-31
";

/// The most lines a calendar holds.
pub const MAX_LINES: usize = 2_000;

/// A production calendar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkCalendar {
    off: BTreeSet<Date>,
    on: BTreeSet<Date>,
    years: BTreeSet<i32>,
}

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// The statutory holidays (ст. 112 ТК РФ) as (month, day).
const HOLIDAYS: [(Month, u8); 12] = [
    (Month::January, 1),
    (Month::January, 2),
    (Month::January, 3),
    (Month::January, 4),
    (Month::January, 5),
    (Month::January, 6),
    (Month::January, 7),
    (Month::January, 8),
    (Month::February, 23),
    (Month::March, 8),
    (Month::May, 1),
    (Month::May, 9),
];
/// The rest of the statutory holidays.
const MORE_HOLIDAYS: [(Month, u8); 2] = [(Month::June, 12), (Month::November, 4)];

fn weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn holiday(d: Date) -> bool {
    HOLIDAYS
        .iter()
        .chain(MORE_HOLIDAYS.iter())
        .any(|(m, day)| d.month() == *m && d.day() == *day)
}

impl WorkCalendar {
    /// The calendar shipped with this version.
    pub fn built_in() -> WorkCalendar {
        WorkCalendar::parse(BUILT_IN).unwrap_or_default()
    }

    /// Reads a calendar's text; every line that does not read is a problem
    /// naming its number.
    pub fn parse(text: &str) -> Result<WorkCalendar, Vec<DetailProblem>> {
        let mut c = WorkCalendar::default();
        let mut problems = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() > MAX_LINES {
            problems.push(DetailProblem {
                field: "calendar",
                text: Text::new("error-calendar-long").with("max", MAX_LINES),
            });
            return Err(problems);
        }
        for (i, raw) in lines.iter().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (day, working) = match line.strip_suffix('+') {
                Some(d) => (d.trim(), true),
                None => (line, false),
            };
            match Date::parse(day, DAY) {
                Ok(d) if (2000..=2100).contains(&d.year()) => {
                    c.years.insert(d.year());
                    if working {
                        c.on.insert(d);
                    } else {
                        c.off.insert(d);
                    }
                }
                _ => problems.push(DetailProblem {
                    field: "calendar",
                    text: Text::new("error-calendar-line").with("n", i + 1),
                }),
            }
        }
        if problems.is_empty() { Ok(c) } else { Err(problems) }
    }

    /// The text of the calendar, a day a line, by date.
    pub fn text(&self) -> String {
        let mut days: Vec<(Date, bool)> = self
            .off
            .iter()
            .map(|d| (*d, false))
            .chain(self.on.iter().map(|d| (*d, true)))
            .collect();
        days.sort();
        days.iter()
            .map(|(d, working)| {
                let day = d.format(DAY).unwrap_or_default();
                if *working {
                    format!("{day} +\n")
                } else {
                    format!("{day}\n")
                }
            })
            .collect()
    }

    /// The years the calendar lists.
    pub fn years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// Whether `d` is a working day.
    pub fn is_working(&self, d: Date) -> bool {
        if self.on.contains(&d) {
            return true;
        }
        if self.off.contains(&d) {
            return false;
        }
        if self.years.contains(&d.year()) {
            return !weekend(d);
        }
        // The Labour Code alone: holidays, and the day off of a holiday on a
        // weekend (not January's) on the next working day.
        if weekend(d) || holiday(d) {
            return false;
        }
        let mut back = d;
        let mut moved = 0;
        // The weekday after a run of days off takes one day off for each
        // holiday on a weekend in that run.
        while let Some(prev) = back.previous_day() {
            if !(weekend(prev) || holiday(prev)) {
                break;
            }
            if weekend(prev) && holiday(prev) && prev.month() != Month::January {
                moved += 1;
            }
            back = prev;
        }
        moved == 0
    }

    /// The `n`-th working day after `from` (`from` itself not counted).
    pub fn add_working_days(&self, from: Date, n: u32) -> Date {
        let mut d = from;
        let mut left = n;
        // A year has more than 240 working days: 3n + 30 days always hold n.
        for _ in 0..(u64::from(n) * 3 + 30) {
            if left == 0 {
                break;
            }
            d += Duration::days(1);
            if self.is_working(d) {
                left -= 1;
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_built_in_year_has_its_decree_s_working_days() {
        let c = WorkCalendar::built_in();
        let mut d = date!(2026 - 01 - 01);
        let mut working = 0;
        while d.year() == 2026 {
            working += u32::from(c.is_working(d));
            d += Duration::days(1);
        }
        assert_eq!(working, 247);
        assert!(!c.is_working(date!(2026 - 01 - 09)) && c.is_working(date!(2026 - 01 - 12)));
        assert_eq!(c.years(), [2026]);
    }

    #[test]
    fn working_days_are_counted_over_weekends_and_holidays() {
        let c = WorkCalendar::built_in();
        // Filed on Friday 2026-12-04: ten working days end on Friday 12-18.
        assert_eq!(
            c.add_working_days(date!(2026 - 12 - 04), 10),
            date!(2026 - 12 - 18)
        );
        // Over the New Year: Dec 30 is the last working day of 2026.
        assert_eq!(
            c.add_working_days(date!(2026 - 12 - 29), 1),
            date!(2026 - 12 - 30)
        );
        // 2027 is not listed: Jan 1–8 are holidays by the Labour Code.
        assert_eq!(
            c.add_working_days(date!(2026 - 12 - 30), 1),
            date!(2027 - 01 - 11)
        );
        // A Saturday declared working counts; a listed day off does not.
        let mine = WorkCalendar::parse("2026-12-05 +\n2026-12-07\n# comment\n").unwrap();
        assert!(mine.is_working(date!(2026 - 12 - 05)) && !mine.is_working(date!(2026 - 12 - 07)));
        assert_eq!(
            mine.add_working_days(date!(2026 - 12 - 04), 2),
            date!(2026 - 12 - 08)
        );
    }

    #[test]
    fn a_year_without_a_decree_follows_the_labour_code() {
        let c = WorkCalendar::default();
        // 2028-03-08 is a Wednesday; 2027-05-09 a Sunday, so Monday 05-10 is off.
        assert!(!c.is_working(date!(2028 - 03 - 08)));
        assert!(!c.is_working(date!(2027 - 05 - 10)) && c.is_working(date!(2027 - 05 - 11)));
        // January's holidays on a weekend move nothing.
        assert!(c.is_working(date!(2027 - 01 - 11)));
    }

    #[test]
    fn a_calendar_that_does_not_read_names_its_lines() {
        let e = WorkCalendar::parse("2026-01-01\n2026-13-01\nвторник\n").unwrap_err();
        let lines: Vec<String> = e.iter().map(|p| format!("{:?}", p.text.args())).collect();
        assert_eq!(e.len(), 2, "{lines:?}");
        let c = WorkCalendar::parse("2026-11-01 +\n2026-01-01\n").unwrap();
        assert_eq!(c.text(), "2026-01-01\n2026-11-01 +\n");
        assert_eq!(WorkCalendar::parse(&c.text()).unwrap(), c);
    }
}
