//! The organization's office (S4, S5): its details, the audit log and the
//! figures of the office's home page. Staff management is in
//! [`crate::staff`], the Rules in [`crate::rules`], the closing in
//! [`crate::site`]; each takes [`By`], so the command line and the console
//! share them.

use crate::Error;
use crate::site::Site;
use crate::staff::{By, StaffUser};
use kabinet_db::audit::AuditFilter;
use kabinet_db::exchange::ExchangeRun;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::requests::Desk;
use kabinet_domain::staff::Permission;
pub use kabinet_exchange::export::ExportKind;
pub use kabinet_exchange::source::TextEncoding;
use time::OffsetDateTime;

/// Exports listed on the exchange page.
pub const EXPORTS_SHOWN: u64 = 50;

/// Lines of the audit log on one page.
pub const AUDIT_PAGE: u64 = 50;
/// The most lines one CSV download holds (the newest).
pub const AUDIT_CSV_MAX: u64 = 100_000;

/// A line of the audit log with the number of its account.
#[derive(Debug, Clone)]
pub struct AuditLine {
    /// The line.
    pub record: d::AuditRecord,
    /// The account's number, when the line names an account.
    pub account: Option<String>,
}

/// A page of the audit log.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The lines, newest first.
    pub lines: Vec<AuditLine>,
    /// How many match in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// How many pages.
    pub pages: u64,
    /// The filter named an account that does not exist.
    pub unknown_account: bool,
}

/// What the office asks of the audit log; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Who acted.
    pub actor: Option<d::Actor>,
    /// One event.
    pub event: Option<d::AuditEvent>,
    /// One account, by its number.
    pub account: Option<String>,
    /// From this local day.
    pub from: Option<time::Date>,
    /// To this local day, inclusive.
    pub to: Option<time::Date>,
}

/// Requests of one desk on the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskFigures {
    /// The desk.
    pub desk: Desk,
    /// Not yet closed, declined or cancelled.
    pub open: u64,
    /// Of those, past their deadline.
    pub overdue: u64,
}

/// The office's home page: the day at a glance, only what the member may see.
#[derive(Debug, Clone, Default)]
pub struct HomeFigures {
    /// Residents registered in all and this month (support and billing).
    pub residents: Option<(u64, u64)>,
    /// Card payments credited today: how many and their sum (payments).
    pub payments_today: Option<(u64, d::Kopecks)>,
    /// Requests by the desks the member works.
    pub desks: Vec<DeskFigures>,
    /// The last import and the last export (billing).
    pub exchange: Option<(
        Option<kabinet_db::exchange::ExchangeRun>,
        Option<kabinet_db::exchange::ExchangeRun>,
    )>,
    /// What residents are still missing from the organization's details
    /// (settings).
    pub missing_details: Option<Vec<&'static str>>,
    /// The newest billing package uploaded in the office (billing).
    pub package: Option<kabinet_db::imports::Import>,
    /// Readings of the period taken now (billing).
    pub readings: Option<ReadingsFigure>,
}

/// How far the period's readings are: accounts with a reading handed in
/// through the portal for it, of the accounts with an active meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadingsFigure {
    /// The period readings handed in today count for.
    pub period: d::Period,
    /// Accounts with a reading for it.
    pub accounts_read: u64,
    /// Accounts with an active meter.
    pub accounts_with_meters: u64,
}

/// The office's use cases.
#[derive(Clone)]
pub struct Office {
    db: Db,
    site: Site,
    clock: d::calendar::OrgClock,
    readings: crate::org_settings::LiveReadings,
    /// The readings figure, counted at most once a minute per server: it
    /// reads every meter.
    readings_figure: std::sync::Arc<crate::cache::Cached<ReadingsFigure>>,
    /// A count of the figure is running in the background.
    counting: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How long the home page's readings figure is kept.
pub const READINGS_FIGURE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl Office {
    /// Over `db`; `site` caches the organization for the pages; `readings`
    /// gives the window the home page's figure counts by.
    pub fn new(
        db: Db,
        site: Site,
        clock: d::calendar::OrgClock,
        readings: crate::org_settings::LiveReadings,
    ) -> Office {
        Office {
            db,
            site,
            clock,
            readings,
            readings_figure: std::sync::Arc::new(crate::cache::Cached::new(READINGS_FIGURE_TTL)),
            counting: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// The period readings handed in today count for (the organization's
    /// window; when it is closed and strict, the window that opens next),
    /// with its counts. Counting reads every active meter (about a second at
    /// a million accounts), so a count is kept [`READINGS_FIGURE_TTL`] and an
    /// older one of the same period is shown while a new count runs in the
    /// background; only a server's first view of a period waits for it.
    async fn readings_figure(&self, now: OffsetDateTime) -> Result<ReadingsFigure, Error> {
        use std::sync::atomic::Ordering;
        let period = self.readings_period(now).await?;
        match self.readings_figure.any() {
            Some((f, fresh)) if f.period == period => {
                if !fresh && !self.counting.swap(true, Ordering::AcqRel) {
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.count_readings(period).await {
                            tracing::warn!(error = %e, "the home page's readings figure was not counted");
                        }
                        this.counting.store(false, Ordering::Release);
                    });
                }
                Ok(f)
            }
            _ => self.count_readings(period).await,
        }
    }

    /// Counts the readings figure of `period` and keeps it.
    async fn count_readings(&self, period: d::Period) -> Result<ReadingsFigure, Error> {
        let (accounts_read, accounts_with_meters) = self.db.office().readings(period).await?;
        let f = ReadingsFigure {
            period,
            accounts_read,
            accounts_with_meters,
        };
        self.readings_figure.store(f);
        Ok(f)
    }

    /// The period readings handed in on the local day of `now` count for.
    async fn readings_period(&self, now: OffsetDateTime) -> Result<d::Period, Error> {
        let rules = self.readings.current().await?;
        let rule = d::readings::WindowRule {
            window: rules.window,
            strict: rules.strict,
        };
        Ok(match rule.admit(self.clock.today(now)) {
            d::readings::Admission::Open { period, .. }
            | d::readings::Admission::NextPeriod { period, .. } => period,
            d::readings::Admission::Closed { opens } => d::Period::containing(opens),
        })
    }

    /// Every language's user guide as the office edits it (settings).
    pub async fn guides(&self, by: By<'_>) -> Result<Vec<crate::site::GuideText>, Error> {
        by.require(Permission::Settings)?;
        self.site.guide_texts().await
    }

    /// Stores the office's own guide texts (settings), each checked first:
    /// at most [`crate::site::MAX_GUIDE_BYTES`], starting with a `## `
    /// heading; an empty text brings back the built-in guide. A language a
    /// file in the help folder gives is left alone. Audited by language with
    /// the size, not the text; every server shows it within
    /// [`crate::site::REFRESH`].
    pub async fn save_guides(&self, by: By<'_>, texts: &[(d::Language, String)]) -> Result<(), Error> {
        by.require(Permission::Settings)?;
        let current = self.site.guide_texts().await?;
        let mut problems = crate::FieldErrors::default();
        let mut changes = Vec::new();
        for (lang, text) in texts {
            let text = text.replace("\r\n", "\n").trim().to_string();
            let Some(now) = current.iter().find(|g| g.lang == *lang) else {
                continue;
            };
            if now.fixed {
                continue;
            }
            let field = match lang {
                d::Language::Ru => "guide-ru",
                d::Language::En => "guide-en",
            };
            if text.len() > crate::site::MAX_GUIDE_BYTES {
                problems.add(
                    field,
                    d::Text::new("error-guide-too-long")
                        .with("max", (crate::site::MAX_GUIDE_BYTES / 1000) as i64),
                );
            } else if !text.is_empty() && !text.starts_with("## ") {
                problems.add(field, d::Text::new("error-guide-heading"));
            } else if (text.is_empty() && now.own) || (!text.is_empty() && text != now.text.trim()) {
                changes.push((*lang, text));
            }
        }
        problems.check()?;
        if changes.is_empty() {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let mut said = Vec::new();
        for (lang, text) in &changes {
            tx.org_settings()
                .put(&crate::site::guide_key(*lang), text, now)
                .await?;
            said.push(if text.is_empty() {
                format!("help guide {}: the built-in text again", lang.code())
            } else {
                format!("help guide {}: own text, {} bytes", lang.code(), text.len())
            });
        }
        tx.audit()
            .record(&by.entry(d::AuditEvent::OrgSettingsChanged, said.join("; ")), now)
            .await?;
        tx.commit().await?;
        self.site.forget_guides();
        Ok(())
    }

    /// The payees receipts name (they come with the billing package), each
    /// with the fields whose bank details do not check
    /// ([`d::organization::payee_problems`]).
    pub async fn payees(&self, by: By<'_>) -> Result<Vec<(d::Payee, Vec<&'static str>)>, Error> {
        by.require(Permission::Settings)?;
        Ok(self
            .db
            .organization()
            .payees()
            .await?
            .into_iter()
            .map(|p| {
                let problems = d::organization::payee_problems(&p);
                (p, problems)
            })
            .collect())
    }

    /// The organization's details as stored (the settings form).
    pub async fn organization(&self, by: By<'_>) -> Result<Option<d::Organization>, Error> {
        by.require(Permission::Settings)?;
        Ok(self.db.organization().current().await?)
    }

    /// Sets the organization's details after checking them all (every
    /// problem is reported at once); audited with the values before and
    /// after; every server's pages show them within [`crate::site::REFRESH`].
    pub async fn save_organization(&self, by: By<'_>, o: &d::Organization) -> Result<(), Error> {
        by.require(Permission::Settings)?;
        let o = trimmed(o);
        let mut problems = crate::FieldErrors::default();
        for p in d::organization::check_details(&o) {
            problems.add(p.field, p.text);
        }
        problems.check()?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let before = tx.organization().current().await?;
        tx.organization().save(&o, now).await?;
        let details = format!(
            "before: {}; after: {}",
            before.as_ref().map_or_else(|| "none".to_string(), describe),
            describe(&o)
        );
        tx.audit()
            .record(&by.entry(d::AuditEvent::OrganizationChanged, details), now)
            .await?;
        tx.commit().await?;
        self.site.forget_organization();
        Ok(())
    }

    /// The database filter of `q`; `None` when it names an account that
    /// does not exist (nothing can match).
    async fn audit_filter(&self, q: &AuditQuery) -> Result<Option<AuditFilter>, Error> {
        let account = match q.account.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => {
                let found = match d::AccountNumber::parse(n) {
                    Ok(n) => self.db.accounts().by_number(&n).await?,
                    Err(_) => None,
                };
                match found {
                    Some(a) => Some(a.id),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(AuditFilter {
            actor: q.actor,
            event: q.event,
            account,
            from: q.from.map(|day| self.clock.start_of(day)),
            until: q
                .to
                .and_then(|day| day.next_day())
                .map(|day| self.clock.start_of(day)),
        }))
    }

    /// One page of the audit log (from 1) matching `q`.
    pub async fn audit(&self, by: By<'_>, q: &AuditQuery, page: u64) -> Result<AuditPage, Error> {
        by.require(Permission::Audit)?;
        let page = page.max(1);
        let Some(f) = self.audit_filter(q).await? else {
            return Ok(AuditPage {
                lines: Vec::new(),
                total: 0,
                page: 1,
                pages: 1,
                unknown_account: true,
            });
        };
        let (lines, total) = self
            .db
            .audit()
            .search(&f, AUDIT_PAGE, (page - 1).saturating_mul(AUDIT_PAGE))
            .await?;
        Ok(AuditPage {
            lines: self.with_numbers(lines).await?,
            total,
            page,
            pages: total.div_ceil(AUDIT_PAGE).max(1),
            unknown_account: false,
        })
    }

    /// `lines` with the numbers of the accounts they name.
    async fn with_numbers(&self, lines: Vec<d::AuditRecord>) -> Result<Vec<AuditLine>, Error> {
        let mut ids: Vec<d::AccountId> = lines.iter().filter_map(|l| l.account_id).collect();
        ids.sort_by_key(|a| a.0);
        ids.dedup();
        let numbers = self.db.accounts().numbers(&ids).await?;
        Ok(lines
            .into_iter()
            .map(|record| AuditLine {
                account: record.account_id.and_then(|a| numbers.get(&a).cloned()),
                record,
            })
            .collect())
    }

    /// The lines matching `q` for a download (the newest
    /// [`AUDIT_CSV_MAX`]); the download itself is audited.
    pub async fn audit_export(&self, by: By<'_>, q: &AuditQuery) -> Result<Vec<AuditLine>, Error> {
        by.require(Permission::Audit)?;
        let (lines, total) = match self.audit_filter(q).await? {
            Some(f) => self.db.audit().search(&f, AUDIT_CSV_MAX, 0).await?,
            None => (Vec::new(), 0),
        };
        self.db
            .audit()
            .record(
                &by.entry(
                    d::AuditEvent::AuditExported,
                    format!("{} of {total} lines: {q:?}", lines.len()),
                ),
                OffsetDateTime::now_utc(),
            )
            .await?;
        self.with_numbers(lines).await
    }

    /// Exports `kind` in `encoding` since the last export and marks what it
    /// carried; the file is kept with its run (in the same transaction), so
    /// a download that fails loses nothing: it is in the history. Audited.
    pub async fn export(
        &self,
        by: By<'_>,
        kind: ExportKind,
        encoding: TextEncoding,
    ) -> Result<(d::ExchangeRunId, u64), Error> {
        by.require(Permission::Billing)?;
        let actor = by.member().map_or_else(|| "cli".to_string(), |m| m.login.clone());
        let (run, n) = kabinet_exchange::export::export_kept(&self.db, kind, encoding, &actor)
            .await
            .map_err(|e| Error::Internal(format!("export: {e}")))?;
        self.db
            .audit()
            .record(
                &by.entry(
                    d::AuditEvent::BillingExported,
                    format!("{}: {n} rows, run {run}, {}", kind.name(), encoding.name()),
                ),
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok((run, n))
    }

    /// The newest exports, newest first.
    pub async fn exports(&self, by: By<'_>) -> Result<Vec<ExchangeRun>, Error> {
        by.require(Permission::Billing)?;
        Ok(self.db.exchange().runs_of("export", EXPORTS_SHOWN).await?)
    }

    /// The file of export `run`: its name and bytes ([`Error::NotFound`]
    /// for a run that kept none, such as one from the command line).
    pub async fn export_file(&self, by: By<'_>, run: d::ExchangeRunId) -> Result<(String, Vec<u8>), Error> {
        by.require(Permission::Billing)?;
        let r = self.db.exchange().run(run).await?.ok_or(Error::NotFound)?;
        let (_, data) = self.db.exports().file(run).await?.ok_or(Error::NotFound)?;
        Ok((r.file_name, data))
    }

    /// The home page's figures, each only when the member may see it.
    pub async fn home(&self, s: &StaffUser) -> Result<HomeFigures, Error> {
        let now = OffsetDateTime::now_utc();
        let mut h = HomeFigures::default();
        if s.require(Permission::Support).is_ok() {
            let today = self.clock.today(now);
            let month_start = today.replace_day(1).map_err(|e| Error::Internal(e.to_string()))?;
            let since = self.clock.start_of(month_start);
            h.residents = Some(self.db.office().residents(since).await?);
        }
        if s.require(Permission::Payments).is_ok() {
            let since = self.clock.start_of(self.clock.today(now));
            h.payments_today = Some(self.db.office().card_payments_since(since).await?);
        }
        for desk in s.desks() {
            let (open, overdue) = self.db.office().requests(desk, s.buildings(), now).await?;
            h.desks.push(DeskFigures { desk, open, overdue });
        }
        if s.require(Permission::Billing).is_ok() {
            h.exchange = Some(self.db.office().last_exchange().await?);
            h.package = self.db.imports().list(1).await?.pop();
            h.readings = Some(self.readings_figure(now).await?);
        }
        if s.require(Permission::Settings).is_ok() {
            h.missing_details = Some(d::organization::missing_details(
                self.db.organization().current().await?.as_ref(),
            ));
        }
        Ok(h)
    }
}

fn trimmed(o: &d::Organization) -> d::Organization {
    let t = |s: &str| s.trim().to_string();
    d::Organization {
        name: t(&o.name),
        short_name: t(&o.short_name),
        inn: o.inn.chars().filter(|c| !c.is_whitespace()).collect(),
        kpp: o
            .kpp
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase(),
        ogrn: o.ogrn.chars().filter(|c| !c.is_whitespace()).collect(),
        address: t(&o.address),
        phone: t(&o.phone),
        dispatch_phone: t(&o.dispatch_phone),
        email: t(&o.email),
        website: t(&o.website),
    }
}

fn describe(o: &d::Organization) -> String {
    format!(
        "name={:?} short_name={:?} inn={:?} kpp={:?} ogrn={:?} address={:?} phone={:?} dispatch_phone={:?} email={:?} website={:?}",
        o.name, o.short_name, o.inn, o.kpp, o.ogrn, o.address, o.phone, o.dispatch_phone, o.email, o.website
    )
}
