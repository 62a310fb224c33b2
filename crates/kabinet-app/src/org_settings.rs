//! Settings the office changes at run time (S4), stored in the database and
//! laid over the configuration: every server reads them again within
//! [`crate::site::REFRESH`], no restart. A value the configuration file or
//! the environment gives stays fixed; the office page shows it read-only.
//! So far: the readings window, whether readings outside it are refused,
//! buildings' own windows, the unusual-consumption floors, the receipt and
//! due days of the billing periods imports create, the
//! registration mode and the sender's name on e-mails. (The help guide is
//! stored here too, by [`crate::office::Office::save_guides`].)

use crate::Error;
use crate::auth::RegistrationMode;
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
/// The key of buildings' own windows (lines `20-25 <address>`).
pub const READINGS_BUILDINGS: &str = "readings.buildings";
/// The prefix of the unusual-consumption floors' keys
/// (`readings.floor.cold_water`; empty: the built-in floor).
pub const READINGS_FLOOR: &str = "readings.floor.";

/// The key of the receipt day (of the month after a period).
pub const RECEIPT_DAY: &str = "billing.receipt_day";
/// The key of the due day (of the month after a period).
pub const DUE_DAY: &str = "billing.due_day";
/// The key of the registration mode (`amount`, `passport`).
pub const REGISTRATION_MODE: &str = "registration.mode";
/// The key of the sender's name on e-mails (empty: the configured From's).
pub const SENDER_NAME: &str = "mail.sender_name";
/// The production calendar's text ([`d::workdays::WorkCalendar`]).
pub const CALENDAR: &str = "calendar.days";

/// The longest sender name, in characters.
pub const MAX_SENDER_NAME: usize = 100;

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
            READINGS_BUILDINGS if !base.fixed_buildings => match d::readings::parse_building_windows(value) {
                Ok(b) => s.buildings = b,
                Err(_) => {
                    tracing::warn!(%key, %value, "a stored setting does not read; the configured one holds")
                }
            },
            k if k.starts_with(READINGS_FLOOR) && !base.fixed_floors => {
                let resource = d::Resource::ALL
                    .into_iter()
                    .find(|r| k[READINGS_FLOOR.len()..] == *r.code());
                let floor = value
                    .parse::<u32>()
                    .ok()
                    .filter(|f| (1..=d::readings::MAX_FLOOR).contains(f));
                match (resource, floor) {
                    (Some(r), _) if value.is_empty() => s.floors.retain(|(x, _)| *x != r),
                    (Some(r), Some(f)) => {
                        s.floors.retain(|(x, _)| *x != r);
                        s.floors.push((r, f));
                    }
                    _ => {
                        tracing::warn!(%key, %value, "a stored setting does not read; the configured one holds")
                    }
                }
            }
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

/// A setting of the office laid over the configuration's value: the
/// configuration's, with the office's stored change over it unless the
/// configuration fixes it; read again within [`crate::site::REFRESH`].
#[derive(Clone)]
pub struct Live<T> {
    db: Db,
    base: T,
    fixed: bool,
    read: fn(T, &[(String, String)]) -> T,
    cache: Arc<Cached<T>>,
}

impl<T: Clone> Live<T> {
    /// Over `db`, with the configuration's value as `base` (`fixed` when the
    /// configuration file or the environment gives it); `read` lays the
    /// stored settings over a value.
    fn over(db: Db, base: T, fixed: bool, read: fn(T, &[(String, String)]) -> T) -> Live<T> {
        Live {
            db,
            base,
            fixed,
            read,
            cache: Arc::new(Cached::new(crate::site::REFRESH)),
        }
    }

    /// Whether the configuration fixes the value.
    pub fn fixed(&self) -> bool {
        self.fixed
    }

    /// The value in force now.
    pub async fn current(&self) -> Result<T, Error> {
        if let Some(s) = self.cache.fresh() {
            return Ok(s);
        }
        let value = if self.fixed {
            self.base.clone()
        } else {
            (self.read)(self.base.clone(), &self.db.org_settings().all().await?)
        };
        self.cache.store(value.clone());
        Ok(value)
    }
}

/// The receipt and due days in force for the billing periods an import
/// creates.
pub type LiveBilling = Live<PeriodDays>;

fn billing_overlay(base: PeriodDays, stored: &[(String, String)]) -> PeriodDays {
    let mut days = base;
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
        Live::over(db, base, fixed, billing_overlay)
    }
}

/// What residents prove at registration and when linking an account, in
/// force (the organization may switch it once passport data is loaded).
pub type LiveRegistration = Live<RegistrationMode>;

fn registration_overlay(base: RegistrationMode, stored: &[(String, String)]) -> RegistrationMode {
    stored
        .iter()
        .find(|(key, _)| key == REGISTRATION_MODE)
        .and_then(|(key, value)| {
            let mode = RegistrationMode::from_stored(value);
            if mode.is_none() {
                tracing::warn!(%key, %value, "a stored setting does not read; the configured one holds");
            }
            mode
        })
        .unwrap_or(base)
}

impl LiveRegistration {
    /// Over `db`, with the configuration's mode as `base`.
    pub fn new(db: Db, base: RegistrationMode, fixed: bool) -> LiveRegistration {
        Live::over(db, base, fixed, registration_overlay)
    }
}

/// The production calendar in force: the one the office saved, or the one
/// shipped with this version.
pub type LiveCalendar = Live<d::workdays::WorkCalendar>;

fn calendar_overlay(
    base: d::workdays::WorkCalendar,
    stored: &[(String, String)],
) -> d::workdays::WorkCalendar {
    match stored.iter().find(|(key, _)| key == CALENDAR) {
        Some((_, text)) => d::workdays::WorkCalendar::parse(text).unwrap_or_else(|_| {
            tracing::warn!("the stored production calendar does not read; the built-in one holds");
            base
        }),
        None => base,
    }
}

impl LiveCalendar {
    /// Over `db`, starting from the calendar shipped with this version.
    pub fn new(db: Db) -> LiveCalendar {
        Live::over(db, d::workdays::WorkCalendar::built_in(), false, calendar_overlay)
    }

    /// Checks and stores the calendar's text (every line that does not read
    /// is named), audited with the years it lists before and after; every
    /// server counts by it within [`crate::site::REFRESH`].
    pub async fn save(&self, by: By<'_>, text: &str) -> Result<d::workdays::WorkCalendar, Error> {
        by.require(Permission::Settings)?;
        let calendar = d::workdays::WorkCalendar::parse(text).map_err(|problems| {
            let mut errors = crate::FieldErrors::default();
            for p in problems {
                errors.add(p.field, p.text);
            }
            Error::Invalid(errors)
        })?;
        let before = self.current().await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.org_settings().put(CALENDAR, &calendar.text(), now).await?;
        let years = |c: &d::workdays::WorkCalendar| {
            c.years()
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        tx.audit()
            .record(
                &by.entry(
                    d::AuditEvent::OrgSettingsChanged,
                    format!(
                        "production calendar: years [{}] → [{}], {} → {} lines",
                        years(&before),
                        years(&calendar),
                        before.text().lines().count(),
                        calendar.text().lines().count()
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        self.cache.clear();
        Ok(calendar)
    }
}

/// The name e-mails are sent under (`None`: the configured From address's
/// own), the organization's choice.
pub type LiveSender = Live<Option<String>>;

fn sender_overlay(base: Option<String>, stored: &[(String, String)]) -> Option<String> {
    match stored.iter().find(|(key, _)| key == SENDER_NAME) {
        Some((_, name)) if name.is_empty() => base,
        Some((_, name)) => Some(name.clone()),
        None => base,
    }
}

impl LiveSender {
    /// Over `db`, with the configuration's name as `base` (fixed when given).
    pub fn new(db: Db, base: Option<String>) -> LiveSender {
        let fixed = base.is_some();
        Live::over(db, base, fixed, sender_overlay)
    }
}

/// Whether `name` may be a sender's name: at most [`MAX_SENDER_NAME`]
/// characters, no control characters (a line break would start a header).
pub fn sender_name_valid(name: &str) -> bool {
    name.chars().count() <= MAX_SENDER_NAME && !name.chars().any(char::is_control)
}

/// What the office's settings page sends.
#[derive(Debug, Clone)]
pub struct SettingsChange {
    /// The organization's readings window.
    pub window: d::ReadingsWindow,
    /// Whether readings outside it are refused.
    pub strict: bool,
    /// Receipt and due days of the periods later imports create.
    pub days: PeriodDays,
    /// What residents prove at registration.
    pub registration: RegistrationMode,
    /// The sender's name on e-mails; empty: the configured one.
    pub sender_name: String,
    /// Buildings' own windows as typed (see
    /// [`d::readings::parse_building_windows`]); `None`: unchanged.
    pub buildings: Option<String>,
    /// Unusual-consumption floors by resource (`None`: the built-in one);
    /// a resource not named is unchanged.
    pub floors: Vec<(d::Resource, Option<u32>)>,
}

/// The settings the office changes, together.
#[derive(Clone)]
pub struct OfficeSettings {
    /// The readings rules.
    pub readings: LiveReadings,
    /// The receipt and due days.
    pub billing: LiveBilling,
    /// The registration mode (shared with [`crate::auth::Auth`]).
    pub registration: LiveRegistration,
    /// The sender's name on e-mails.
    pub sender: LiveSender,
    /// The production calendar (shared with [`crate::requests::Requests`]).
    pub calendar: LiveCalendar,
}

impl OfficeSettings {
    /// How many accounts have passport data loaded (`kabinet passports`),
    /// which registration in `passport` mode needs.
    pub async fn passport_count(&self, by: By<'_>) -> Result<u64, Error> {
        by.require(Permission::Settings)?;
        Ok(self.readings.db.accounts().passport_count().await?)
    }

    /// The buildings' windows `c` asks for when they differ from `before`
    /// and the configuration does not fix them; a line that does not read,
    /// too many buildings or a newly listed address no premises has is a
    /// problem.
    async fn check_buildings(
        &self,
        c: &SettingsChange,
        before: &ReadingsSettings,
        problems: &mut crate::FieldErrors,
    ) -> Result<Option<Vec<(String, d::ReadingsWindow)>>, Error> {
        let Some(text) = c
            .buildings
            .as_deref()
            .filter(|_| !self.readings.base.fixed_buildings)
        else {
            return Ok(None);
        };
        let windows = match d::readings::parse_building_windows(text) {
            Ok(w) => w,
            Err(line) => {
                problems.add(
                    "buildings",
                    d::Text::new("error-building-window-line").with("n", line as i64),
                );
                return Ok(None);
            }
        };
        if windows.len() > d::readings::MAX_BUILDING_WINDOWS {
            problems.add(
                "buildings",
                d::Text::new("error-building-windows-many")
                    .with("max", d::readings::MAX_BUILDING_WINDOWS as i64),
            );
            return Ok(None);
        }
        // Only addresses new to the list are looked up: one that billing no
        // longer sends does not block saving the other settings.
        let addresses: Vec<String> = windows
            .iter()
            .map(|(a, _)| a.clone())
            .filter(|a| !before.buildings.iter().any(|(b, _)| b == a))
            .collect();
        let known = self.readings.db.accounts().known_buildings(&addresses).await?;
        if let Some(unknown) = addresses.iter().find(|a| !known.contains(a)) {
            problems.add(
                "buildings",
                d::Text::new("error-building-unknown").with("name", unknown.as_str()),
            );
            return Ok(None);
        }
        Ok((windows != before.buildings).then_some(windows))
    }

    /// The floors `c` changes from `before` (resource, before, after) when
    /// the configuration does not fix them; one out of range is a problem.
    fn check_floors(
        &self,
        c: &SettingsChange,
        before: &ReadingsSettings,
        problems: &mut crate::FieldErrors,
    ) -> Vec<(d::Resource, Option<u32>, Option<u32>)> {
        if self.readings.base.fixed_floors {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (r, new) in &c.floors {
            if new.is_some_and(|f| !(1..=d::readings::MAX_FLOOR).contains(&f)) {
                problems.add(
                    "floors",
                    d::Text::new("error-readings-floor").with("max", i64::from(d::readings::MAX_FLOOR)),
                );
                return Vec::new();
            }
            let old = before.floors.iter().find(|(x, _)| x == r).map(|(_, f)| *f);
            if old != *new {
                out.push((*r, old, *new));
            }
        }
        out
    }

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
        self.readings.cache.clear();
        self.billing.cache.clear();
        self.registration.cache.clear();
        self.sender.cache.clear();
        let sender_name = c.sender_name.trim();
        if !self.sender.fixed && !sender_name_valid(sender_name) {
            problems.add(
                "sender",
                d::Text::new("error-sender-name").with("max", MAX_SENDER_NAME as i64),
            );
        }
        let sender_before = self.sender.current().await?;
        let new_sender = !self.sender.fixed && sender_before.as_deref().unwrap_or("") != sender_name;
        let mode_before = self.registration.current().await?;
        let new_mode = !self.registration.fixed && c.registration != mode_before;
        // Passport mode compares with the keyed hashes `kabinet passports`
        // loads: without any, nobody could register.
        if new_mode
            && c.registration == RegistrationMode::Passport
            && self.readings.db.accounts().passport_count().await? == 0
        {
            problems.add("registration", d::Text::new("error-registration-no-passports"));
        }
        let before = self.readings.current().await?;
        let buildings = self.check_buildings(c, &before, &mut problems).await?;
        let floors = self.check_floors(c, &before, &mut problems);
        problems.check()?;
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
        if let Some(b) = &buildings {
            let text = d::readings::building_windows_text(b);
            tx.org_settings().put(READINGS_BUILDINGS, &text, now).await?;
            changed.push(format!(
                "building windows [{}] → [{}]",
                d::readings::building_windows_text(&before.buildings).replace('\n', "; "),
                text.replace('\n', "; ")
            ));
        }
        for (r, old, new) in &floors {
            let shown = |f: &Option<u32>| f.map_or_else(|| "built-in".to_string(), |f| f.to_string());
            let key = format!("{READINGS_FLOOR}{}", r.code());
            let value = new.map(|f| f.to_string()).unwrap_or_default();
            tx.org_settings().put(&key, &value, now).await?;
            changed.push(format!("floor {} {} → {}", r.code(), shown(old), shown(new)));
        }
        if new_mode {
            tx.org_settings()
                .put(REGISTRATION_MODE, c.registration.as_str(), now)
                .await?;
            changed.push(format!(
                "registration mode {} → {}",
                mode_before.as_str(),
                c.registration.as_str()
            ));
        }
        if new_sender {
            tx.org_settings().put(SENDER_NAME, sender_name, now).await?;
            changed.push(format!(
                "sender name \"{}\" → \"{sender_name}\"",
                sender_before.as_deref().unwrap_or("")
            ));
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
        self.registration.cache.clear();
        self.sender.cache.clear();
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
        let stored = vec![
            (READINGS_BUILDINGS.to_string(), "1-5 ул. Ленина, 5".to_string()),
            (format!("{READINGS_FLOOR}gas"), "90".to_string()),
            (format!("{READINGS_FLOOR}heat"), "0".to_string()),
            (format!("{READINGS_FLOOR}steam"), "7".to_string()),
        ];
        let s = overlay(&base, &stored);
        assert_eq!(s.rule("ул. Ленина, 5").window.first_day, 1);
        assert_eq!(
            (s.floor(d::Resource::Gas), s.floor(d::Resource::Heat)),
            (90, 3),
            "0 does not read"
        );
        let fixed = ReadingsSettings {
            fixed_buildings: true,
            fixed_floors: true,
            ..ReadingsSettings::default()
        };
        let s = overlay(&fixed, &stored);
        assert!(s.buildings.is_empty() && s.floor(d::Resource::Gas) == 150);
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
        let d = billing_overlay(base, &stored);
        assert_eq!(
            (d.receipt_day, d.due_day),
            (3, 15),
            "a day past the 28th does not read"
        );
    }

    #[test]
    fn a_stored_registration_mode_lies_over_the_configuration() {
        let stored = |v: &str| vec![(REGISTRATION_MODE.to_string(), v.to_string())];
        let amount = RegistrationMode::Amount;
        assert_eq!(
            registration_overlay(amount, &stored("passport")),
            RegistrationMode::Passport
        );
        assert_eq!(
            registration_overlay(amount, &stored("Passport ")),
            amount,
            "only the stored form reads"
        );
        assert_eq!(registration_overlay(amount, &[]), amount);
    }
}
