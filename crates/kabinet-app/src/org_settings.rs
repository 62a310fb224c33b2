//! Settings the office changes at run time (S4), stored in the database and
//! laid over the configuration: every server reads them again within
//! [`crate::site::REFRESH`], no restart. A value the configuration file or
//! the environment gives stays fixed; the office page shows it read-only.
//! So far: the readings window and whether readings outside it are refused.

use crate::Error;
use crate::cache::Cached;
use crate::readings::ReadingsSettings;
use crate::staff::By;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::staff::Permission;
use std::sync::Arc;
use time::OffsetDateTime;

/// The key of the readings window (`15-25`).
pub const READINGS_WINDOW: &str = "readings.window";
/// The key of the strict window (`true`/`false`).
pub const READINGS_STRICT: &str = "readings.strict";

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

    /// Sets the organization's readings window and whether readings
    /// outside it are refused; a value the configuration fixes is left as
    /// it is. Audited with the values before and after.
    pub async fn set(&self, by: By<'_>, window: d::ReadingsWindow, strict: bool) -> Result<(), Error> {
        by.require(Permission::Settings)?;
        if !window.is_valid() {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "window",
                d::Text::new("error-readings-window-days"),
            )));
        }
        self.cache.clear();
        let before = self.current().await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
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
        if !changed.is_empty() {
            tx.audit()
                .record(
                    &by.entry(d::AuditEvent::OrgSettingsChanged, changed.join("; ")),
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        self.cache.clear();
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
}
