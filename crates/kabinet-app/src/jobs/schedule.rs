//! When a recurring job runs next: a cron pattern with seconds, read in the
//! organization's UTC offset (Russian time zones keep no daylight saving).

use chrono::{DateTime, FixedOffset, TimeZone};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use time::{OffsetDateTime, UtcOffset};

/// A parsed cron pattern and the offset it is read in.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    offset: UtcOffset,
}

/// A pattern that does not parse, or has no next time.
#[derive(Debug, thiserror::Error)]
#[error("schedule {pattern:?}: {reason}")]
pub struct ScheduleError {
    pattern: String,
    reason: String,
}

impl Schedule {
    /// Parses `pattern` (`sec min hour day month weekday`; the seconds may be
    /// left out) to be read at `offset`.
    pub fn parse(pattern: &str, offset: UtcOffset) -> Result<Schedule, ScheduleError> {
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(pattern)
            .map_err(|e| ScheduleError {
                pattern: pattern.into(),
                reason: e.to_string(),
            })?;
        Ok(Schedule { cron, offset })
    }

    /// The first time strictly after `after`.
    pub fn next_after(&self, after: OffsetDateTime) -> Result<OffsetDateTime, ScheduleError> {
        let err = |reason: String| ScheduleError {
            pattern: self.cron.as_str().into(),
            reason,
        };
        let tz = FixedOffset::east_opt(self.offset.whole_seconds()).ok_or_else(|| err("offset".into()))?;
        // Whole seconds: the pattern has no finer unit.
        let start: DateTime<FixedOffset> = tz
            .timestamp_opt(after.unix_timestamp(), 0)
            .single()
            .ok_or_else(|| err("time out of range".into()))?;
        let next = self
            .cron
            .find_next_occurrence(&start, false)
            .map_err(|e| err(e.to_string()))?;
        OffsetDateTime::from_unix_timestamp(next.timestamp()).map_err(|e| err(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn a_daily_time_is_read_in_the_organizations_offset() {
        let s = Schedule::parse("0 1 0 * * *", offset!(+3)).unwrap();
        // 2026-12-06 10:00 UTC is 13:00 in Moscow: next 00:01 Moscow is 21:01 UTC.
        assert_eq!(
            s.next_after(datetime!(2026-12-06 10:00 UTC)).unwrap(),
            datetime!(2026-12-06 21:01 UTC)
        );
    }

    #[test]
    fn an_interval_in_seconds_counts_from_the_whole_second() {
        let s = Schedule::parse("*/30 * * * * *", offset!(+3)).unwrap();
        assert_eq!(
            s.next_after(datetime!(2026-12-06 10:00:12.5 UTC)).unwrap(),
            datetime!(2026-12-06 10:00:30 UTC)
        );
        assert_eq!(
            s.next_after(datetime!(2026-12-06 10:00:30 UTC)).unwrap(),
            datetime!(2026-12-06 10:01:00 UTC)
        );
    }

    #[test]
    fn a_bad_pattern_is_refused() {
        assert!(Schedule::parse("every day", offset!(+3)).is_err());
        assert!(Schedule::parse("0 0 25 * * *", offset!(+3)).is_err());
    }
}
