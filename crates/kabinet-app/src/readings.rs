//! Meters and readings of a resident's account (R7, B3): the meters with
//! their last readings, a meter's history with the consumption between
//! readings, and handing in new readings under the rules of
//! [`kabinet_domain::readings`].
//!
//! A submission is all or nothing: when any value is refused or asks for a
//! confirmation, nothing is stored and every issue comes back at once, so
//! the form can show them all next to their fields.

use crate::Error;
use crate::account::{AccountScope, scope};
use crate::auth::{Client, Resident};
use kabinet_db::meters::{PortalReading, RecordedReading};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::readings::{Admission, Closed, Verification, WindowRule};
use time::{Date, OffsetDateTime};

/// How readings are taken at this organization.
#[derive(Debug, Clone)]
pub struct ReadingsSettings {
    /// The organization's window.
    pub window: d::ReadingsWindow,
    /// Refuse readings outside the window (otherwise they count for the
    /// next period).
    pub strict: bool,
    /// Submissions one resident may make in a minute.
    pub per_minute: i32,
    /// Buildings with a window of their own, by the building's address as
    /// the billing system writes it.
    pub buildings: Vec<(String, d::ReadingsWindow)>,
    /// The unusual-consumption floor per month by resource, whole units;
    /// resources not named use [`d::readings::default_floor`].
    pub floors: Vec<(d::Resource, u32)>,
    /// The window is given by the configuration: the office cannot change it.
    pub fixed_window: bool,
    /// Strictness is given by the configuration: the office cannot change it.
    pub fixed_strict: bool,
    /// Buildings' windows are given by the configuration.
    pub fixed_buildings: bool,
    /// The floors are given by the configuration.
    pub fixed_floors: bool,
}

impl Default for ReadingsSettings {
    fn default() -> Self {
        ReadingsSettings {
            window: d::ReadingsWindow::default(),
            strict: false,
            per_minute: 10,
            buildings: Vec::new(),
            floors: Vec::new(),
            fixed_window: false,
            fixed_strict: false,
            fixed_buildings: false,
            fixed_floors: false,
        }
    }
}

impl ReadingsSettings {
    /// The window rule for a building.
    pub fn rule(&self, address: &str) -> WindowRule {
        let window = self
            .buildings
            .iter()
            .find(|(a, _)| a.trim() == address.trim())
            .map_or(self.window, |(_, w)| *w);
        WindowRule {
            window,
            strict: self.strict,
        }
    }

    /// The floor per month in whole units of `resource`.
    pub fn floor(&self, resource: d::Resource) -> u32 {
        self.floors
            .iter()
            .find(|(r, _)| *r == resource)
            .map_or_else(|| d::readings::default_floor(resource), |(_, f)| *f)
    }
}

/// A zone's last reading and this period's submission.
#[derive(Debug, Clone)]
pub struct ZoneState {
    /// Zone, from 1.
    pub zone: u8,
    /// The newest reading on record.
    pub last: Option<Shown>,
    /// What the resident handed in for the current period, if anything.
    pub submitted: Option<Shown>,
}

/// A reading as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    /// Value.
    pub value: d::ReadingValue,
    /// The day it was taken.
    pub taken_on: Date,
    /// Where it came from ([`d::reading_source`]).
    pub source: Source,
    /// When it was received.
    pub submitted_at: OffsetDateTime,
    /// Sent to billing already.
    pub exported: bool,
}

/// Where a reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Handed in through the portal or the app.
    Portal,
    /// Came from the billing system.
    Billing,
    /// Anything else (an inspection).
    Other,
}

impl Source {
    fn of(code: &str) -> Source {
        match code {
            d::reading_source::PORTAL => Source::Portal,
            d::reading_source::BILLING => Source::Billing,
            _ => Source::Other,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Source::Portal => "portal",
            Source::Billing => "billing",
            Source::Other => "other",
        }
    }
}

/// A meter as the meters page shows it.
#[derive(Debug, Clone)]
pub struct MeterState {
    /// The meter.
    pub meter: d::Meter,
    /// Its verification on the local day.
    pub verification: Verification,
    /// Why it takes no readings, if it does not.
    pub closed: Option<Closed>,
    /// Its zones.
    pub zones: Vec<ZoneState>,
}

/// The meters of an account and whether readings are taken today.
#[derive(Debug, Clone)]
pub struct MetersView {
    /// The accounts.
    pub scope: AccountScope,
    /// Active meters first.
    pub meters: Vec<MeterState>,
    /// What the window says today.
    pub admission: Admission,
    /// The organization's local day.
    pub today: Date,
}

/// One day of a meter's history: the value of each zone and the
/// consumption since the previous reading of that zone.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// The day.
    pub taken_on: Date,
    /// Per zone (index = zone − 1): value and consumption, if taken that day.
    pub zones: Vec<Option<(d::ReadingValue, Option<i64>)>>,
    /// Where it came from.
    pub source: Source,
}

/// Consumption in one month, per zone (scaled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthUse {
    /// The month.
    pub period: d::Period,
    /// Per zone.
    pub zones: Vec<i64>,
}

/// A meter's history over a range of months.
#[derive(Debug, Clone)]
pub struct History {
    /// The accounts.
    pub scope: AccountScope,
    /// The meter.
    pub meter: MeterState,
    /// First month.
    pub from: d::Period,
    /// Last month.
    pub to: d::Period,
    /// Readings in the range, newest first.
    pub rows: Vec<HistoryRow>,
    /// Consumption by month in the range, oldest first (months with
    /// readings only).
    pub months: Vec<MonthUse>,
}

/// What the resident typed for one meter.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MeterInput {
    /// The meter.
    pub meter: d::MeterId,
    /// One text per zone, zone 1 first.
    #[serde(default)]
    pub values: Vec<String>,
    /// The resident confirms an unusual value (rollover, high consumption).
    #[serde(default)]
    pub confirmed: bool,
}

pub use d::readings::{Issue, Stored};

/// A submission that went through.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The account.
    pub account: d::AccountNumber,
    /// The period the readings count for.
    pub period: d::Period,
    /// Whether the window was open (otherwise they count for the next period).
    pub admission: Admission,
    /// What was stored.
    pub stored: Vec<Stored>,
}

/// The readings use cases.
#[derive(Clone)]
pub struct Readings {
    db: Db,
    clock: d::OrgClock,
    settings: crate::org_settings::LiveReadings,
    public_url: std::sync::Arc<str>,
}

impl Readings {
    /// Over `db` with the organization's clock and readings settings;
    /// e-mails link to `public_url`.
    pub fn new(
        db: Db,
        clock: d::OrgClock,
        settings: crate::org_settings::LiveReadings,
        public_url: &str,
    ) -> Readings {
        Readings {
            db,
            clock,
            settings,
            public_url: public_url.trim_end_matches('/').into(),
        }
    }

    /// The rules in force: the configuration's with the office's changes.
    pub fn settings(&self) -> &crate::org_settings::LiveReadings {
        &self.settings
    }

    fn today(&self) -> Date {
        self.clock.today(self.clock.now())
    }

    /// The meters of one of the resident's accounts with their last
    /// readings, and the window today.
    pub async fn meters(&self, r: &Resident, number: Option<&str>) -> Result<MetersView, Error> {
        Ok(self.read_view(r, number, self.today()).await?.0)
    }

    /// The meters view of `today` and every reading of its meters (what a
    /// submission is checked against): two queries after the scope.
    async fn read_view(
        &self,
        r: &Resident,
        number: Option<&str>,
        today: Date,
    ) -> Result<(MetersView, Vec<RecordedReading>), Error> {
        let scope = scope(&self.db, r, number).await?;
        let admission = self
            .settings
            .current()
            .await?
            .rule(&scope.current().premises.address)
            .admit(today);
        let meters = self.db.meters().of_account(scope.current().account.id).await?;
        let ids: Vec<d::MeterId> = meters.iter().map(|m| m.id).collect();
        let recorded = self.db.meters().recorded(&ids).await?;
        let meters = meters
            .into_iter()
            .map(|m| state(m, &recorded, admission.period(), today))
            .collect();
        let view = MetersView {
            scope,
            meters,
            admission,
            today,
        };
        Ok((view, recorded))
    }

    /// One meter's readings with consumption, for the months `from..=to`
    /// (`YYYY-MM`; empty for the last [`crate::account::DEFAULT_MONTHS`]).
    /// A meter of another account is not found.
    pub async fn history(
        &self,
        r: &Resident,
        number: Option<&str>,
        meter: d::MeterId,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<History, Error> {
        let scope = scope(&self.db, r, number).await?;
        let (from, to) = self.range(from, to)?;
        let account = scope.current().account.id;
        let (meters, recorded) = self.db.meters().with_readings(account, &[meter]).await?;
        let m = meters.into_iter().next().ok_or(Error::NotFound)?;
        let today = self.today();
        let period = self
            .settings
            .current()
            .await?
            .rule(&scope.current().premises.address)
            .admit(today)
            .period();
        let meter = state(m, &recorded, period, today);
        let (rows, months) = history_rows(&meter.meter, &recorded, from, to);
        Ok(History {
            scope,
            meter,
            from,
            to,
            rows,
            months,
        })
    }

    /// The months of a history: as [`Accounts::range`](crate::account::Accounts::range),
    /// but ending this month by default.
    fn range(&self, from: Option<&str>, to: Option<&str>) -> Result<(d::Period, d::Period), Error> {
        let (from, to) = crate::account::parse_months(from, to)?;
        crate::account::bounded_months(from, to.unwrap_or_else(|| d::Period::containing(self.today())))
    }

    /// Hands in readings for meters of one of the resident's accounts: every
    /// rule is checked for every value first; only when nothing is refused
    /// or left to confirm are they stored, with an audit line and, if the
    /// resident asked for it, an e-mail receipt, in one transaction. A meter
    /// of another account is not found. A refusal ([`Error::Readings`])
    /// carries the meters view it was checked against, for the form to be
    /// shown again without reading it twice.
    pub async fn submit(
        &self,
        r: &Resident,
        number: Option<&str>,
        input: &[MeterInput],
        client: &Client,
    ) -> Result<Submitted, Error> {
        let now = self.clock.now();
        let today = self.clock.today(now);
        // Everything is checked before the write transaction opens, so a
        // submission holds the write lock only for its few writes. What the
        // checks read changes only by a billing import; the export mark is
        // checked again by the write itself.
        let (view, recorded) = self.read_view(r, number, today).await?;
        let (period, stored) = match self.check(r, &view, &recorded, input, today).await? {
            Ok(checked) => checked,
            Err(issues) => return Err(refused(view, issues)),
        };
        let account = view.scope.current().account.clone();
        let mail = self.receipt_mail(r, &account, period, &stored).await?;
        let mut rows: Vec<PortalReading> = stored
            .iter()
            .map(|s| PortalReading {
                meter: s.meter.id,
                zone: s.zone,
                value: s.value.scaled(),
                taken_on: today,
                period,
                submitted_at: now,
                user: r.user.id,
                ip: client.ip.clone(),
            })
            .collect();
        rows.sort_by_key(|row| (row.meter, row.zone));
        let entry = client.entry(
            d::AuditEvent::ReadingsSubmitted,
            Some(r.user.id),
            Some(account.id),
            audit_details(period, &stored),
        );
        if !self.write_retrying(&rows, &entry, mail.as_ref(), now).await? {
            let meter = rows.first().map_or(d::MeterId(0), |r| r.meter);
            return Err(refused(view, vec![Issue::Exported { meter, period }]));
        }
        Ok(Submitted {
            account: account.number,
            period,
            admission: view.admission,
            stored,
        })
    }

    /// The decision on a submission against what was read: the period and
    /// the values to store, or every issue. Spends one of the resident's
    /// submissions per minute once something was entered.
    async fn check(
        &self,
        r: &Resident,
        view: &MetersView,
        recorded: &[RecordedReading],
        input: &[MeterInput],
        today: Date,
    ) -> Result<Result<(d::Period, Vec<Stored>), Vec<Issue>>, Error> {
        let filled: Vec<&MeterInput> = input
            .iter()
            .filter(|m| m.values.iter().any(|v| !v.trim().is_empty()))
            .collect();
        if filled.is_empty() {
            return Ok(Err(vec![Issue::NothingEntered]));
        }
        crate::rates::take(
            &self.db,
            r.user.account_id,
            crate::rates::readings(self.settings.base().per_minute),
        )
        .await?;
        let mut ids: Vec<d::MeterId> = filled.iter().map(|m| m.meter).collect();
        ids.sort_by_key(|m| m.0);
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Invalid(crate::FieldErrors::single(
                fields::METERS,
                d::Text::new("error-meter-twice"),
            )));
        }
        if !ids.iter().all(|id| view.meters.iter().any(|m| m.meter.id == *id)) {
            return Err(Error::NotFound);
        }
        let period = match view.admission {
            Admission::Closed { opens } => return Ok(Err(vec![Issue::WindowClosed { opens }])),
            Admission::Open { period, .. } | Admission::NextPeriod { period, .. } => period,
        };
        let meters: Vec<d::Meter> = view.meters.iter().map(|m| m.meter.clone()).collect();
        let typed: Vec<d::readings::Typed<'_>> = filled
            .iter()
            .map(|i| d::readings::Typed {
                meter: i.meter,
                values: &i.values,
                confirmed: i.confirmed,
            })
            .collect();
        let rules = self.settings.current().await?;
        let floor = |m: &d::Meter| floor_scaled(rules.floor(m.resource), m);
        Ok(
            d::readings::check_submission(&meters, &typed, recorded, period, today, floor)
                .map(|s| (period, s)),
        )
    }
}

/// A refused submission with the view it was checked against.
fn refused(view: MetersView, issues: Vec<Issue>) -> Error {
    Error::Readings(Box::new(Refused { issues, view }))
}

/// Why readings were not taken, and the meters view to show them on.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Every value refused or to confirm.
    pub issues: Vec<Issue>,
    /// The meters as they were checked.
    pub view: MetersView,
}

/// The audit line of a submission: each meter zone and its value.
fn audit_details(period: d::Period, stored: &[Stored]) -> String {
    let lines: Vec<String> = stored
        .iter()
        .map(|s| {
            format!(
                "meter {} zone {} = {}",
                s.meter.serial,
                s.zone,
                s.value.to_decimal_string()
            )
        })
        .collect();
    format!("period {period}: {}", lines.join("; "))
}

impl Readings {
    /// [`Readings::write`], tried again when a concurrent submission for the
    /// same meter made PostgreSQL refuse the upsert on the day key (the next
    /// try sees its row and replaces it); `false` when a reading was
    /// exported meanwhile, which refuses the whole submission.
    async fn write_retrying(
        &self,
        rows: &[PortalReading],
        entry: &d::AuditEntry,
        mail: Option<&d::Email>,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.write(rows, entry, mail, now).await {
                Ok(written) => return Ok(written),
                Err(e) if e.is_unique_violation() && attempt < 3 => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Stores a submission's readings with its audit line and e-mail in one
    /// transaction; `false` (and nothing written) when one was exported.
    async fn write(
        &self,
        rows: &[PortalReading],
        entry: &d::AuditEntry,
        mail: Option<&d::Email>,
        now: OffsetDateTime,
    ) -> Result<bool, kabinet_db::DbError> {
        let tx = self.db.begin().await?;
        if !tx.meters().store(rows).await? {
            return Ok(false);
        }
        tx.audit().record(entry, now).await?;
        if let Some(mail) = mail {
            tx.outbox().queue(mail, entry.user_id, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The e-mail receipt for stored readings, if the resident asked for one.
    async fn receipt_mail(
        &self,
        r: &Resident,
        account: &d::Account,
        period: d::Period,
        stored: &[Stored],
    ) -> Result<Option<d::Email>, Error> {
        // The session read the resident's choice with the user.
        if !r
            .user
            .email_notifications
            .contains(&d::NotificationKind::ReadingsAccepted)
        {
            return Ok(None);
        }
        let org = crate::site::sender_name(&self.db).await?;
        let lines: Vec<kabinet_notify::messages::ReadingLine> = stored
            .iter()
            .map(|s| kabinet_notify::messages::ReadingLine {
                resource: s.meter.resource.code(),
                serial: s.meter.serial.clone(),
                zone: (s.meter.tariffs > 1).then_some(i16::from(s.zone)),
                value: s.value.to_string(),
            })
            .collect();
        Ok(Some(kabinet_notify::messages::readings_accepted(
            kabinet_notify::messages::tr(r.user.language),
            &org,
            &r.user.email,
            &account.number,
            period,
            &lines,
            &format!("{}/meters", self.public_url),
        )))
    }
}

/// Form and API field names.
pub mod fields {
    /// The list of meters.
    pub const METERS: &str = "meters";
}

/// The floor per month in the meter's scaled counter units.
fn floor_scaled(floor: u32, m: &d::Meter) -> i64 {
    let per_unit = 10i64.pow(u32::from(m.capacity.fraction_digits()));
    (i64::from(floor) * per_unit / i64::from(m.scale.max(1))).max(1)
}

fn shown(m: &d::Meter, x: &RecordedReading) -> Option<Shown> {
    Some(Shown {
        value: m.capacity.reading(x.reading.value)?,
        taken_on: x.reading.taken_on,
        source: Source::of(&x.reading.source),
        submitted_at: x.reading.submitted_at,
        exported: x.exported,
    })
}

/// A meter's state from its readings (newest first).
fn state(m: d::Meter, recorded: &[RecordedReading], period: Option<d::Period>, today: Date) -> MeterState {
    let zones = (1..=m.tariffs)
        .map(|zone| {
            let mut of_zone = recorded
                .iter()
                .filter(|x| x.reading.meter_id == m.id && x.reading.zone == zone);
            ZoneState {
                zone,
                last: of_zone.clone().next().and_then(|x| shown(&m, x)),
                submitted: of_zone
                    .find(|x| period.is_some() && x.period == period)
                    .and_then(|x| shown(&m, x)),
            }
        })
        .collect();
    MeterState {
        verification: Verification::of(m.verification_due, today),
        closed: d::readings::closed(m.status, m.verification_due, today),
        zones,
        meter: m,
    }
}

/// History rows (newest first) and monthly consumption (oldest first) of
/// readings taken in `from..=to`; consumption counts from the reading before
/// each, which may be older than the range.
fn history_rows(
    m: &d::Meter,
    recorded: &[RecordedReading],
    from: d::Period,
    to: d::Period,
) -> (Vec<HistoryRow>, Vec<MonthUse>) {
    let zones = usize::from(m.tariffs);
    let mut oldest_first: Vec<&RecordedReading> =
        recorded.iter().filter(|x| x.reading.meter_id == m.id).collect();
    oldest_first.reverse();
    let mut previous: Vec<Option<i64>> = vec![None; zones];
    let mut rows: Vec<HistoryRow> = Vec::new();
    let mut months: Vec<MonthUse> = Vec::new();
    for x in oldest_first {
        let z = usize::from(x.reading.zone).saturating_sub(1);
        if z >= zones {
            continue;
        }
        let Some(value) = m.capacity.reading(x.reading.value) else {
            continue;
        };
        let consumption =
            previous[z]
                .and_then(|p| m.capacity.reading(p))
                .map(|p| match value.consumption_since(p) {
                    d::Consumption::Normal(c) | d::Consumption::Rollover(c) => c,
                });
        previous[z] = Some(value.scaled());
        let month = d::Period::containing(x.reading.taken_on);
        if month < from || month > to {
            continue;
        }
        match rows.last_mut() {
            Some(row) if row.taken_on == x.reading.taken_on => row.zones[z] = Some((value, consumption)),
            _ => {
                let mut row = HistoryRow {
                    taken_on: x.reading.taken_on,
                    zones: vec![None; zones],
                    source: Source::of(&x.reading.source),
                };
                row.zones[z] = Some((value, consumption));
                rows.push(row);
            }
        }
        if let Some(c) = consumption {
            match months.last_mut() {
                Some(u) if u.period == month => u.zones[z] += c,
                _ => {
                    let mut u = MonthUse {
                        period: month,
                        zones: vec![0; zones],
                    };
                    u.zones[z] = c;
                    months.push(u);
                }
            }
        }
    }
    rows.reverse();
    (rows, months)
}
