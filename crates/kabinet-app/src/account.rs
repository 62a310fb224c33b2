//! What a signed-in resident sees about their accounts (R3, R4, R5): the
//! overview, invoices, charges by service for a range of months and the
//! payment history. Every read starts from [`Accounts::scope`]: the account
//! asked for must be one of the resident's linked accounts, or the answer is
//! [`Error::NotFound`] — the same whether it exists or not.

use crate::Error;
use crate::auth::Resident;
use crate::forms::FieldErrors;
pub use kabinet_db::billing::ChargeLine;
pub use kabinet_db::links::LinkedAccount;
pub use kabinet_db::overview::AccountOverview;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;

/// How many recent invoices the overview lists (a year of receipts).
pub const RECENT_INVOICES: u64 = 12;
/// The longest range of months the charges page shows at once.
pub const MAX_MONTHS: i32 = 60;
/// The months the charges page shows when none are chosen.
pub const DEFAULT_MONTHS: i32 = 12;
/// More invoices than any account has (a hundred years of months).
const ALL_INVOICES: u64 = 1200;
/// Payments on one page of the history.
pub const PAYMENTS_PER_PAGE: u64 = 20;

/// Form field names of the charges range.
pub mod fields {
    /// First month.
    pub const FROM: &str = "from";
    /// Last month.
    pub const TO: &str = "to";
    /// Page of a list.
    pub const PAGE: &str = "page";
}

/// The resident's linked accounts and the one a page is about.
#[derive(Debug, Clone)]
pub struct AccountScope {
    /// Every linked account, the sign-in one first.
    pub linked: Vec<LinkedAccount>,
    current: usize,
}

impl AccountScope {
    /// The account the page is about.
    pub fn current(&self) -> &LinkedAccount {
        &self.linked[self.current]
    }

    /// Whether the current account is the sign-in one (links then need no
    /// `?account=`).
    pub fn is_primary(&self) -> bool {
        self.current().primary
    }
}

/// An invoice with what was paid towards it and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    /// The invoice.
    pub invoice: d::Invoice,
    /// Paid since its period ended (in the following period, or since, for
    /// the newest invoice).
    pub paid_towards: d::Kopecks,
    /// Its status on the organization's local day.
    pub status: d::InvoiceStatus,
}

/// The overview page's facts (R3).
#[derive(Debug, Clone)]
pub struct Overview {
    /// The accounts.
    pub scope: AccountScope,
    /// Balance, invoices and last payment.
    pub account: AccountOverview,
    /// The current invoice with its status.
    pub current: Option<InvoiceRow>,
    /// The readings window today.
    pub window: d::WindowState,
    /// The organization's local day.
    pub today: time::Date,
    /// Card payments for the account still in progress.
    pub in_progress: Vec<d::payments::CardPayment>,
    /// While autopay of the account is on: its latest debit, if any.
    pub autopay: Option<Option<d::autopay::Debit>>,
}

/// One invoice with its lines and payments (R4).
#[derive(Debug, Clone)]
pub struct InvoiceDetail {
    /// The accounts.
    pub scope: AccountScope,
    /// The invoice.
    pub row: InvoiceRow,
    /// Its charge lines in receipt order.
    pub lines: Vec<ChargeLine>,
    /// The payments counted towards it.
    pub payments: Vec<d::Payment>,
}

/// A month's charges by service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthCharges {
    /// The month.
    pub period: d::Period,
    /// Its lines in receipt order.
    pub lines: Vec<ChargeLine>,
    /// Their total.
    pub total: d::Kopecks,
}

/// A service's total over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTotal {
    /// Service code.
    pub code: String,
    /// Service name.
    pub name: String,
    /// Sum of its line totals.
    pub total: d::Kopecks,
}

/// Charges by service for a range of months (R5).
#[derive(Debug, Clone)]
pub struct ChargesReport {
    /// The accounts.
    pub scope: AccountScope,
    /// First month.
    pub from: d::Period,
    /// Last month.
    pub to: d::Period,
    /// Months that have charges, oldest first.
    pub months: Vec<MonthCharges>,
    /// Services in receipt order with their totals.
    pub services: Vec<ServiceTotal>,
    /// The range's total.
    pub total: d::Kopecks,
}

/// One page of the payment history.
#[derive(Debug, Clone)]
pub struct PaymentsPage {
    /// The accounts.
    pub scope: AccountScope,
    /// The payments, newest first.
    pub payments: Vec<d::Payment>,
    /// This page, from 1.
    pub page: u64,
    /// How many pages there are (at least 1).
    pub pages: u64,
    /// How many payments there are.
    pub total: u64,
    /// Card payments for the account still in progress (not counted above).
    pub in_progress: Vec<d::payments::CardPayment>,
}

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    db: Db,
    clock: d::OrgClock,
    readings: crate::org_settings::LiveReadings,
    /// The newest billing period, the charges' default range end: it
    /// changes only when a package is imported, so it is read at most once
    /// per [`crate::site::REFRESH`] per process.
    latest_period: std::sync::Arc<crate::cache::Cached<Option<d::Period>>>,
}

/// What a charges range was asked as (`2026-01`, or empty for the default).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RangeInput {
    /// First month.
    #[serde(default)]
    pub from: Option<String>,
    /// Last month.
    #[serde(default)]
    pub to: Option<String>,
}

impl Accounts {
    /// Over `db`, judging days by `clock`, with the organization's readings
    /// windows.
    pub fn new(db: Db, clock: d::OrgClock, readings: crate::org_settings::LiveReadings) -> Accounts {
        Accounts {
            db,
            clock,
            readings,
            latest_period: std::sync::Arc::new(crate::cache::Cached::new(crate::site::REFRESH)),
        }
    }

    /// The organization's clock.
    pub fn clock(&self) -> d::OrgClock {
        self.clock
    }

    /// The resident's linked accounts with `number` chosen (the sign-in
    /// account when `None`). A number that is not theirs — unknown, another
    /// resident's, malformed — is [`Error::NotFound`].
    pub async fn scope(&self, r: &Resident, number: Option<&str>) -> Result<AccountScope, Error> {
        scope(&self.db, r, number).await
    }

    /// An account's card payments in progress; read only while one may be
    /// (the account's `card_payments_until`, read with the scope), so an
    /// account nobody paid by card lately costs no statement.
    async fn in_progress(&self, l: &LinkedAccount) -> Result<Vec<d::payments::CardPayment>, Error> {
        if l.card_payments_until.is_none_or(|t| t <= self.clock.now()) {
            return Ok(Vec::new());
        }
        Ok(self.db.card_payments().in_progress(l.account.id).await?)
    }

    /// The overview of one of the resident's accounts: balance, current
    /// invoice and its status, last payment, readings window.
    pub async fn overview(&self, r: &Resident, number: Option<&str>) -> Result<Overview, Error> {
        let scope = self.scope(r, number).await?;
        // The scope has read the account and its premises already.
        let current = scope.current();
        let latest = self.latest_period().await?;
        let account = self
            .db
            .overview()
            .with_account(
                current.account.clone(),
                current.premises.clone(),
                RECENT_INVOICES,
                self.clock,
                latest,
            )
            .await?;
        let today = self.clock.today(self.clock.now());
        let current = account.current_invoice().map(|i| InvoiceRow {
            status: d::InvoiceStatus::of(i.total_due, account.paid_since_invoice, i.due_date, today),
            paid_towards: account.paid_since_invoice,
            invoice: i.clone(),
        });
        let window = self
            .readings
            .current()
            .await?
            .rule(&scope.current().premises.address)
            .window
            .state(today);
        let in_progress = self.in_progress(scope.current()).await?;
        // Read only for an account whose autopay is on (the scope says).
        let autopay = if scope.current().autopay {
            Some(
                self.db
                    .autopay()
                    .debits_of(scope.current().account.id, 1)
                    .await?
                    .pop(),
            )
        } else {
            None
        };
        Ok(Overview {
            scope,
            current,
            window,
            today,
            account,
            in_progress,
            autopay,
        })
    }

    /// Every invoice of one of the resident's accounts, newest first, with
    /// statuses.
    pub async fn invoices(
        &self,
        r: &Resident,
        number: Option<&str>,
    ) -> Result<(AccountScope, Vec<InvoiceRow>), Error> {
        let scope = self.scope(r, number).await?;
        let id = scope.current().account.id;
        let invoices = self.db.billing().invoices(id, ALL_INVOICES).await?;
        let newest_paid = match invoices.first() {
            Some(i) => {
                self.db
                    .payments()
                    .paid_since(id, i.period.next().first_day(), self.clock)
                    .await?
            }
            None => d::Kopecks::ZERO,
        };
        Ok((scope, self.rows(invoices, newest_paid)))
    }

    /// Statuses of invoices given newest first: what was paid towards an
    /// invoice is what the next one records as paid in its period.
    fn rows(&self, invoices: Vec<d::Invoice>, newest_paid: d::Kopecks) -> Vec<InvoiceRow> {
        let today = self.clock.today(self.clock.now());
        let mut next_paid = newest_paid;
        let mut rows = Vec::with_capacity(invoices.len());
        for i in invoices {
            let paid = next_paid;
            next_paid = i.paid;
            rows.push(InvoiceRow {
                status: d::InvoiceStatus::of(i.total_due, paid, i.due_date, today),
                paid_towards: paid,
                invoice: i,
            });
        }
        rows
    }

    /// One invoice of one of the resident's accounts with its lines and the
    /// payments towards it; an unknown period or account is not found.
    pub async fn invoice(&self, r: &Resident, number: &str, period: &str) -> Result<InvoiceDetail, Error> {
        if number.trim().is_empty() {
            return Err(Error::NotFound);
        }
        let scope = self.scope(r, Some(number)).await?;
        let period = d::Period::parse(period).map_err(|_| Error::NotFound)?;
        let id = scope.current().account.id;
        let billing = self.db.billing();
        let invoice = billing.invoice(id, period).await?.ok_or(Error::NotFound)?;
        let paid = match billing.invoice(id, period.next()).await? {
            Some(next) => next.paid,
            None => {
                self.db
                    .payments()
                    .paid_since(id, period.next().first_day(), self.clock)
                    .await?
            }
        };
        let row = self.rows(vec![invoice], paid).remove(0);
        let lines = billing.charges(id, period, period).await?;
        let next = period.next();
        let payments = self
            .db
            .payments()
            .between(id, next.first_day(), next.last_day(), self.clock)
            .await?;
        Ok(InvoiceDetail {
            scope,
            row,
            lines,
            payments,
        })
    }

    /// The months `from..=to` as asked: both empty is the last
    /// [`DEFAULT_MONTHS`] up to the newest billing period; a malformed month,
    /// an end before the start or more than [`MAX_MONTHS`] are form errors.
    pub async fn range(&self, input: &RangeInput) -> Result<(d::Period, d::Period), Error> {
        let (from, to) = parse_months(input.from.as_deref(), input.to.as_deref())?;
        let to = match to {
            Some(t) => t,
            None => match self.latest_period().await? {
                Some(p) => p,
                None => d::Period::containing(self.clock.today(self.clock.now())),
            },
        };
        bounded_months(from, to)
    }

    /// The newest billing period (see `latest_period`'s field).
    async fn latest_period(&self) -> Result<Option<d::Period>, Error> {
        if let Some(p) = self.latest_period.fresh() {
            return Ok(p);
        }
        let p = self.db.organization().latest_period().await?.map(|p| p.period);
        self.latest_period.store(p);
        Ok(p)
    }

    /// Charges by service of one of the resident's accounts for a range.
    pub async fn charges(
        &self,
        r: &Resident,
        number: Option<&str>,
        input: &RangeInput,
    ) -> Result<ChargesReport, Error> {
        let scope = self.scope(r, number).await?;
        let (from, to) = self.range(input).await?;
        let lines = self
            .db
            .billing()
            .charges(scope.current().account.id, from, to)
            .await?;
        let mut months: Vec<MonthCharges> = Vec::new();
        let mut services: Vec<(i32, ServiceTotal)> = Vec::new();
        for line in lines {
            match services.iter_mut().find(|(_, s)| s.code == line.service_code) {
                Some((_, s)) => s.total += line.charge.total,
                None => services.push((
                    line.sort_order,
                    ServiceTotal {
                        code: line.service_code.clone(),
                        name: line.service_name.clone(),
                        total: line.charge.total,
                    },
                )),
            }
            match months.last_mut() {
                Some(m) if m.period == line.charge.period => {
                    m.total += line.charge.total;
                    m.lines.push(line);
                }
                _ => months.push(MonthCharges {
                    period: line.charge.period,
                    total: line.charge.total,
                    lines: vec![line],
                }),
            }
        }
        services.sort_by(|a, b| (a.0, &a.1.code).cmp(&(b.0, &b.1.code)));
        let total = months.iter().map(|m| m.total).sum();
        Ok(ChargesReport {
            scope,
            from,
            to,
            months,
            services: services.into_iter().map(|(_, s)| s).collect(),
            total,
        })
    }

    /// One page (from 1) of the payments of one of the resident's accounts;
    /// a page past the end is not found.
    pub async fn payments(
        &self,
        r: &Resident,
        number: Option<&str>,
        page: u64,
    ) -> Result<PaymentsPage, Error> {
        let scope = self.scope(r, number).await?;
        let page = page.max(1);
        // A page past any real history is simply not found (and no offset
        // beyond what the databases take is ever asked for).
        let offset = (page - 1)
            .checked_mul(PAYMENTS_PER_PAGE)
            .filter(|o| i64::try_from(*o).is_ok())
            .ok_or(Error::NotFound)?;
        let (payments, total) = self
            .db
            .payments()
            .page(scope.current().account.id, offset, PAYMENTS_PER_PAGE)
            .await?;
        let pages = total.div_ceil(PAYMENTS_PER_PAGE).max(1);
        if page > pages {
            return Err(Error::NotFound);
        }
        let in_progress = if page == 1 {
            self.in_progress(scope.current()).await?
        } else {
            Vec::new()
        };
        Ok(PaymentsPage {
            scope,
            payments,
            page,
            pages,
            total,
            in_progress,
        })
    }
}

/// The months of a range as typed (`2026-01`; empty for none); a malformed
/// one is a form error on its field.
pub(crate) fn parse_months(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<d::Period>, Option<d::Period>), Error> {
    let mut errors = FieldErrors::default();
    let mut month = |field: &'static str, v: Option<&str>| match v.map(str::trim) {
        None | Some("") => None,
        Some(t) => d::Period::parse(t).map_err(|e| errors.add(field, e)).ok(),
    };
    let from = month(fields::FROM, from);
    let to = month(fields::TO, to);
    errors.check()?;
    Ok((from, to))
}

/// `from..=to`, the start defaulting to [`DEFAULT_MONTHS`] back; an end
/// before the start or more than [`MAX_MONTHS`] are form errors.
pub(crate) fn bounded_months(
    from: Option<d::Period>,
    to: d::Period,
) -> Result<(d::Period, d::Period), Error> {
    let from = from.unwrap_or_else(|| to.add_months(1 - DEFAULT_MONTHS));
    let span = (to.year() - from.year()) * 12 + i32::from(to.month()) - i32::from(from.month()) + 1;
    if span < 1 {
        return Err(Error::Invalid(FieldErrors::single(
            fields::TO,
            d::Text::new("error-months-reversed"),
        )));
    }
    if span > MAX_MONTHS {
        return Err(Error::Invalid(FieldErrors::single(
            fields::FROM,
            d::Text::new("error-months-too-many").with("n", i64::from(MAX_MONTHS)),
        )));
    }
    Ok((from, to))
}

/// See [`Accounts::scope`].
pub(crate) async fn scope(db: &Db, r: &Resident, number: Option<&str>) -> Result<AccountScope, Error> {
    let linked = db.links().of_user(r.user.id).await?;
    let current = match number.map(str::trim).filter(|n| !n.is_empty()) {
        None => linked.iter().position(|l| l.primary),
        Some(n) => {
            let n = d::AccountNumber::parse(n).map_err(|_| Error::NotFound)?;
            linked.iter().position(|l| l.account.number == n)
        }
    }
    .ok_or(Error::NotFound)?;
    Ok(AccountScope { linked, current })
}
