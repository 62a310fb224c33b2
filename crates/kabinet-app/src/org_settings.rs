//! Settings the office changes at run time (S4), stored in the database and
//! laid over the configuration: every server reads them again within
//! [`crate::site::REFRESH`], no restart. A value the configuration file or
//! the environment gives stays fixed; the office page shows it read-only.
//! So far: the readings window, whether readings outside it are refused,
//! and the receipt and due days of the billing periods imports create.

use crate::Error;
use crate::cache::Cached;
use crate::readings::ReadingsSettings;
use crate::staff::By;
use kabinet_db::exchange::PeriodDays;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::staff::Permission;
use std::sync::Arc;
use time::OffsetDateTime;

/// The key of the readings window (`15-25`).
pub const READINGS_WINDOW: &str = "readings.window";
/// The key of the strict window (`true`/`false`).
pub const READINGS_STRICT: &str = "readings.strict";
/// The key of the receipt day (of the month after a period).
pub const RECEIPT_DAY: &str = "billing.receipt_day";
/// The key of the due day (of the month after a period).
pub const DUE_DAY: &str = "billing.due_day";

/// The latest day of the month a receipt or due day may be (every month has it).
pub const MAX_BILLING_DAY: u8 = 28;

/// The readings rules in force: the configuration's, with the office's
/// changes over them.
#[derive(Clone)]
pub struct LiveReadings {
    db: Db,
    base: Arc<ReadingsSettings>,
    cache: Arc<Cached<Arc<ReadingsSettings>>>,
}

fn window_text(w: d::ReadingsWindow) -> String {
    format!("{}-{}", w.first_day, w.last_day)
}

fn parse_window(s: &str) -> Option<d::ReadingsWindow> {
    let (a, b) = s.split_once('-')?;
    let w = d::ReadingsWindow {
        first_day: a.trim().parse().ok()?,
        last_day: b.trim().parse().ok()?,
    };
    w.is_valid().then_some(w)
}

/// `base` with the stored values over it, except the fixed ones; a stored
/// value that does not read is passed over (and logged).
fn overlay(base: &ReadingsSettings, stored: &[(String, String)]) -> ReadingsSettings {
    let mut s = base.clone();
    for (key, value) in stored {
        match key.as_str() {
            READINGS_WINDOW if !base.fixed_window => match parse_window(value) {
                Some(w) => s.window = w,
                None => {
                    tracing::warn!(%key, %value, "a stored setting does not read; the configured one holds")
                }
            },
            READINGS_STRICT if !base.fixed_strict => match value.as_str() {
                "true" => s.strict = true,
                "false" => s.strict = false,
                _ => tracing::warn!(%key, %value, "a stored setting does not read; the configured one holds"),
            },
            _ => {}
        }
    }
    s
}

impl LiveReadings {
    /// Over `db`, with the configuration's rules as `base`.
    pub fn new(db: Db, base: ReadingsSettings) -> LiveReadings {
        LiveReadings {
            db,
            base: Arc::new(base),
            cache: Arc::new(Cached::new(crate::site::REFRESH)),
        }
    }

    /// The configuration's rules (what is not changed at run time: limits,
    /// floors, buildings).
    pub fn base(&self) -> &ReadingsSettings {
        &self.base
    }

    /// The rules in force now.
    pub async fn current(&self) -> Result<Arc<ReadingsSettings>, Error> {
        if let Some(s) = self.cache.fresh() {
            return Ok(s);
        }
        let stored = self.db.org_settings().all().await?;
        let s = Arc::new(overlay(&self.base, &stored));
        self.cache.store(s.clone());
        Ok(s)
    }

    /// Stores `window` and `strict` in `tx` where they differ from `before`
    /// and the configuration does not fix them; says what changed.
    async fn write(
        &self,
        tx: &kabinet_db::Tx,
        before: &ReadingsSettings,
        window: d::ReadingsWindow,
        strict: bool,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, Error> {
        let mut changed = Vec::new();
        if !self.base.fixed_window && before.window != window {
            tx.org_settings()
                .put(READINGS_WINDOW, &window_text(window), now)
                .await?;
            changed.push(format!(
                "readings window {} → {}",
                window_text(before.window),
                window_text(window)
            ));
        }
        if !self.base.fixed_strict && before.strict != strict {
            tx.org_settings()
                .put(READINGS_STRICT, &strict.to_string(), now)
                .await?;
            changed.push(format!("readings strict {} → {strict}", before.strict));
        }
        Ok(changed)
    }
}

/// The receipt and due days in force for the billing periods an import
/// creates: the configuration's, with the office's change over them unless
/// the configuration fixes them.
#[derive(Clone)]
pub struct LiveBilling {
    db: Db,
    base: PeriodDays,
    fixed: bool,
    cache: Arc<Cached<PeriodDays>>,
}

fn billing_overlay(base: PeriodDays, fixed: bool, stored: &[(String, String)]) -> PeriodDays {
    let mut days = base;
    if fixed {
        return days;
    }
    for (key, value) in stored {
        let day = value
            .parse::<u8>()
            .ok()
            .filter(|d| (1..=MAX_BILLING_DAY).contains(d));
        match (key.as_str(), day) {
            (RECEIPT_DAY, Some(d)) => days.receipt_day = d,
            (DUE_DAY, Some(d)) => days.due_day = d,
            (RECEIPT_DAY | DUE_DAY, None) => {
                tracing::warn!(%key, %value, "a stored setting does not read; the configured one holds")
            }
            _ => {}
        }
    }
    days
}

impl LiveBilling {
    /// Over `db`, with the configuration's days as `base` (`fixed` when the
    /// configuration file or the environment gives them).
    pub fn new(db: Db, base: PeriodDays, fixed: bool) -> LiveBilling {
        LiveBilling {
            db,
            base,
            fixed,
            cache: Arc::new(Cached::new(crate::site::REFRESH)),
        }
    }

    /// Whether the configuration fixes the days.
    pub fn fixed(&self) -> bool {
        self.fixed
    }

    /// The days in force now.
    pub async fn current(&self) -> Result<PeriodDays, Error> {
        if let Some(s) = self.cache.fresh() {
            return Ok(s);
        }
        let stored = self.db.org_settings().all().await?;
        let days = billing_overlay(self.base, self.fixed, &stored);
        self.cache.store(days);
        Ok(days)
    }
}

/// What the office's settings page sends.
#[derive(Debug, Clone, Copy)]
pub struct SettingsChange {
    /// The organization's readings window.
    pub window: d::ReadingsWindow,
    /// Whether readings outside it are refused.
    pub strict: bool,
    /// Receipt and due days of the periods later imports create.
    pub days: PeriodDays,
}

/// The settings the office changes, together.
#[derive(Clone)]
pub struct OfficeSettings {
    /// The readings rules.
    pub readings: LiveReadings,
    /// The receipt and due days.
    pub billing: LiveBilling,
}

impl OfficeSettings {
    /// Checks every value of `c` (all problems at once), then stores those
    /// that changed and are not fixed by the configuration, in one
    /// transaction, audited with the values before and after. Every server
    /// applies them within [`crate::site::REFRESH`].
    pub async fn save(&self, by: By<'_>, c: &SettingsChange) -> Result<(), Error> {
        by.require(Permission::Settings)?;
        let mut problems = crate::FieldErrors::default();
        if !c.window.is_valid() {
            problems.add("window", d::Text::new("error-readings-window-days"));
        }
        let day_ok = |d: u8| (1..=MAX_BILLING_DAY).contains(&d);
        if !self.billing.fixed
            && (!day_ok(c.days.receipt_day) || !day_ok(c.days.due_day) || c.days.due_day < c.days.receipt_day)
        {
            problems.add(
                "days",
                d::Text::new("error-billing-days").with("max", i64::from(MAX_BILLING_DAY)),
            );
        }
        problems.check()?;
        self.readings.cache.clear();
        self.billing.cache.clear();
        let before = self.readings.current().await?;
        let days_before = self.billing.current().await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.readings.db.begin().await?;
        let mut changed = self.readings.write(&tx, &before, c.window, c.strict, now).await?;
        if !self.billing.fixed {
            for (key, name, old, new) in [
                (
                    RECEIPT_DAY,
                    "receipt day",
                    days_before.receipt_day,
                    c.days.receipt_day,
                ),
                (DUE_DAY, "due day", days_before.due_day, c.days.due_day),
            ] {
                if old != new {
                    tx.org_settings().put(key, &new.to_string(), now).await?;
                    changed.push(format!("{name} {old} → {new}"));
                }
            }
        }
        if !changed.is_empty() {
            tx.audit()
                .record(
                    &by.entry(d::AuditEvent::OrgSettingsChanged, changed.join("; ")),
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        self.readings.cache.clear();
        self.billing.cache.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_lie_over_the_configuration_unless_fixed() {
        let base = ReadingsSettings::default();
        let stored = vec![
            (READINGS_WINDOW.to_string(), "20-26".to_string()),
            (READINGS_STRICT.to_string(), "true".to_string()),
        ];
        let s = overlay(&base, &stored);
        assert_eq!((s.window.first_day, s.window.last_day, s.strict), (20, 26, true));
        let fixed = ReadingsSettings {
            fixed_window: true,
            ..ReadingsSettings::default()
        };
        let s = overlay(&fixed, &stored);
        assert_eq!(s.window, fixed.window);
        assert!(s.strict);
        let bad = vec![(READINGS_WINDOW.to_string(), "40-2".to_string())];
        assert_eq!(overlay(&base, &bad).window, base.window);
    }

    #[test]
    fn billing_days_lie_over_the_configuration_unless_fixed() {
        let base = PeriodDays {
            receipt_day: 5,
            due_day: 15,
        };
        let stored = vec![
            (RECEIPT_DAY.to_string(), "3".to_string()),
            (DUE_DAY.to_string(), "31".to_string()),
        ];
        let d = billing_overlay(base, false, &stored);
        assert_eq!(
            (d.receipt_day, d.due_day),
            (3, 15),
            "a day past the 28th does not read"
        );
        let d = billing_overlay(base, true, &stored);
        assert_eq!((d.receipt_day, d.due_day), (5, 15));
    }
}
