//! Autopay (B1): the resident keeps a payment method with a paid payment,
//! then sets autopay per account — each new invoice paid in full up to a
//! maximum, on the day it arrives or on a chosen day (never after it is
//! due). The `autopay` job plans a debit per new invoice (one per account
//! and period, UNIQUE), tells the resident `notice_days` before, and pays on
//! the day with the kept method and no confirmation. A failure is told; after
//! three in a row autopay turns off and says so. The resident can turn it off
//! or forget the method at any time; every change is audited.
//!
//! Never two debits for one invoice: the debit row is unique per account ×
//! period, it is claimed by a conditional update (`scheduled` → `charging`)
//! before anything is paid, and its card payment's id — also the gateway's
//! idempotence key — is made of the debit's id.

use crate::auth::{Client, Resident};
use crate::payments::Payments;
use crate::{Error, FieldErrors};
use kabinet_db::autopay::NewDebit;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::autopay::{Autopay, Debit, DebitStatus, SavedMethod, Stage};
use kabinet_domain::payments::CardPaymentStatus;
use time::OffsetDateTime;

/// Form and API field names.
pub mod fields {
    /// The kept method.
    pub const METHOD: &str = "method";
    /// The largest invoice paid.
    pub const MAX: &str = "max";
    /// The day of the month.
    pub const DAY: &str = "day";
}

/// What the resident asks autopay to be for an account.
#[derive(Debug, Clone, Default)]
pub struct AutopayInput {
    /// The kept method's row id, as typed.
    pub method: String,
    /// The largest invoice paid (`5000`).
    pub max: String,
    /// The day of the month (empty: the day the invoice arrives).
    pub day: String,
}

/// One account on the autopay page.
#[derive(Debug, Clone)]
pub struct AccountAutopay {
    /// The account.
    pub account: kabinet_db::links::LinkedAccount,
    /// Its autopay, on or off (another resident's shows as theirs).
    pub autopay: Option<Autopay>,
    /// Whether another resident's autopay of it is on.
    pub someone_else: bool,
    /// Its latest debits, newest first.
    pub debits: Vec<Debit>,
}

/// The autopay page.
#[derive(Debug, Clone)]
pub struct AutopayView {
    /// The resident's kept methods.
    pub methods: Vec<SavedMethod>,
    /// Each linked account.
    pub accounts: Vec<AccountAutopay>,
}

/// What one run of the job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AutopayRun {
    /// Debits planned for new invoices.
    pub planned: u32,
    /// Notices produced.
    pub noticed: u32,
    /// Debits paid.
    pub paid: u32,
    /// Debits the gateway or the bank refused.
    pub failed: u32,
    /// Debits not made (over the maximum, nothing left to pay).
    pub skipped: u32,
    /// Autopays turned off after failures.
    pub turned_off: u32,
}

/// The autopay use cases.
#[derive(Clone)]
pub struct AutopayCases {
    db: Db,
    clock: d::OrgClock,
    payments: Payments,
    notice_days: u8,
}

impl AutopayCases {
    /// The use cases; notices go `notice_days` before each debit.
    pub fn new(db: Db, clock: d::OrgClock, payments: Payments, notice_days: u8) -> AutopayCases {
        AutopayCases {
            db,
            clock,
            payments,
            notice_days,
        }
    }

    /// The page: kept methods and each account's autopay.
    pub async fn view(&self, r: &Resident) -> Result<AutopayView, Error> {
        let scope = crate::account::scope(&self.db, r, None).await?;
        let repo = self.db.autopay();
        let mut accounts = Vec::new();
        for l in scope.linked {
            let autopay = repo.of_account(l.account.id).await?;
            let someone_else = autopay
                .as_ref()
                .is_some_and(|a| a.enabled && a.user_id != r.user.id);
            let debits = repo.debits_of(l.account.id, 3).await?;
            accounts.push(AccountAutopay {
                account: l,
                autopay: autopay.filter(|a| a.user_id == r.user.id),
                someone_else,
                debits,
            });
        }
        Ok(AutopayView {
            methods: repo.methods_of(r.user.id).await?,
            accounts,
        })
    }

    /// The linked account `number` of the resident.
    async fn account(&self, r: &Resident, number: &str) -> Result<kabinet_db::links::LinkedAccount, Error> {
        let scope = crate::account::scope(&self.db, r, Some(number)).await?;
        Ok(scope.current().clone())
    }

    /// Sets (or changes) autopay of account `number`.
    pub async fn enable(
        &self,
        r: &Resident,
        number: &str,
        input: &AutopayInput,
        client: &Client,
    ) -> Result<Autopay, Error> {
        if !self.payments.enabled() {
            return Err(Error::CardPaymentsOff);
        }
        let l = self.account(r, number).await?;
        let mut errors = FieldErrors::default();
        let method = match input.method.trim().parse::<i64>() {
            Ok(id) => self
                .db
                .autopay()
                .method(id)
                .await?
                .filter(|m| m.user_id == r.user.id),
            Err(_) => None,
        };
        if method.is_none() {
            errors.add(fields::METHOD, d::Text::new("error-autopay-method"));
        }
        let max = d::payments::parse_share(&input.max, self.payments.max_amount()).ok();
        if max.is_none() {
            errors.add(
                fields::MAX,
                d::Text::new("error-autopay-max").with("max", self.payments.max_amount()),
            );
        }
        let day = match input.day.trim() {
            "" | "0" => Some(None),
            t => t
                .parse::<u8>()
                .ok()
                .filter(|d| (1..=d::autopay::LAST_DAY).contains(d))
                .map(Some),
        };
        if day.is_none() {
            errors.add(fields::DAY, d::Text::new("error-autopay-day"));
        }
        let (Some(method), Some(max), Some(day)) = (method, max, day) else {
            return Err(Error::Invalid(errors));
        };
        let latest = self
            .db
            .billing()
            .latest_invoice(l.account.id)
            .await?
            .map_or(0, |i| i.period.yyyymm());
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        tx.users().lock(r.user.id).await?;
        if !tx
            .autopay()
            .set(l.account.id, r.user.id, method.id, max, day, latest, now)
            .await?
        {
            return Err(Error::Conflict(d::Text::new("error-autopay-someone-else")));
        }
        let details = format!(
            "{}: up to {} by {}, {}",
            l.account.number,
            max.to_decimal_string(),
            method.title,
            day.map_or_else(|| "on arrival".to_string(), |d| format!("on day {d}"))
        );
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::AutopayOn,
                    Some(r.user.id),
                    Some(l.account.id),
                    details,
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        self.db
            .autopay()
            .of_account(l.account.id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Turns autopay of account `number` off.
    pub async fn disable(&self, r: &Resident, number: &str, client: &Client) -> Result<(), Error> {
        let l = self.account(r, number).await?;
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        if tx.autopay().disable(l.account.id, Some(r.user.id), now).await? {
            tx.audit()
                .record(
                    &client.entry(
                        d::AuditEvent::AutopayOff,
                        Some(r.user.id),
                        Some(l.account.id),
                        format!("{}: by the resident", l.account.number),
                    ),
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets a kept method (the autopays it paid turn off).
    pub async fn forget(&self, r: &Resident, method: i64, client: &Client) -> Result<(), Error> {
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        if !tx.autopay().forget_method(r.user.id, method, now).await? {
            return Err(Error::NotFound);
        }
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::MethodForgotten,
                    Some(r.user.id),
                    Some(r.account_id()),
                    format!("method {method}"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One run at `now`: plans debits of new invoices, produces the
    /// notices due, pays the debits due, and follows up on debits whose
    /// payment settled later. Safe to run on several servers at once.
    pub async fn run(&self, now: OffsetDateTime) -> Result<AutopayRun, Error> {
        let mut done = AutopayRun::default();
        if !self.payments.enabled() {
            return Ok(done);
        }
        let today = self.clock.today(now);
        self.plan(today, now, &mut done).await?;
        for debit in self.db.autopay().to_notice(today, 500).await? {
            if self.tell(&debit, Stage::Notice, now).await? {
                done.noticed += 1;
            }
        }
        for debit in self.db.autopay().due(today, 100).await? {
            self.pay(&debit, now, &mut done).await?;
        }
        for debit in self.db.autopay().charging(100).await? {
            self.follow(&debit, now, &mut done).await?;
        }
        Ok(done)
    }

    /// A debit for each autopay's newest invoice that has none yet.
    async fn plan(&self, today: time::Date, now: OffsetDateTime, done: &mut AutopayRun) -> Result<(), Error> {
        for a in self.db.autopay().enabled().await? {
            let Some(invoice) = self.db.billing().latest_invoice(a.account_id).await? else {
                continue;
            };
            if invoice.period.yyyymm() <= a.after_period || invoice.total_due <= d::Kopecks::ZERO {
                continue;
            }
            let debit_on = d::autopay::debit_date(today, invoice.due_date, a.day, self.notice_days);
            let over = invoice.total_due > a.max_amount;
            let planned = self
                .db
                .autopay()
                .plan(
                    &NewDebit {
                        autopay_id: a.id,
                        account_id: a.account_id,
                        period: invoice.period,
                        amount: invoice.total_due,
                        debit_on,
                        notice_on: d::autopay::notice_date(today, debit_on, self.notice_days),
                        status: if over {
                            DebitStatus::Skipped
                        } else {
                            DebitStatus::Scheduled
                        },
                    },
                    now,
                )
                .await?;
            let Some(debit) = planned else {
                continue;
            };
            done.planned += 1;
            if over {
                done.skipped += 1;
                self.tell(&debit, Stage::OverLimit, now).await?;
            }
        }
        Ok(())
    }

    /// Stores an autopay event about `debit` for its resident; for a
    /// notice, only once (the debit remembers it). True if this call did.
    async fn tell(&self, debit: &Debit, stage: Stage, now: OffsetDateTime) -> Result<bool, Error> {
        let Some(a) = self.db.autopay().autopay(debit.autopay_id).await? else {
            return Ok(false);
        };
        let tx = self.db.begin().await?;
        if stage == Stage::Notice && !tx.autopay().noticed(debit.id).await? {
            return Ok(false);
        }
        let kind = d::notify::EventKind::Autopay;
        let subject = d::autopay::subject(debit.id, stage);
        let event = tx
            .notify()
            .single_event(kind, debit.account_id.0, subject, now)
            .await?;
        tx.notify()
            .user_deliveries(event, kind, &[a.user_id], now)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Pays a debit that is due, once: claimed first, then charged with
    /// the kept method for what is still owed of the invoice.
    async fn pay(&self, debit: &Debit, now: OffsetDateTime, done: &mut AutopayRun) -> Result<(), Error> {
        let repo = self.db.autopay();
        if !repo
            .transition(debit.id, DebitStatus::Scheduled, DebitStatus::Charging, None, now)
            .await?
        {
            return Ok(());
        }
        let a = repo.autopay(debit.autopay_id).await?;
        let method = match &a {
            Some(a) if a.enabled => repo.method(a.method_id).await?,
            _ => None,
        };
        let (Some(a), Some(method)) = (a, method) else {
            // Turned off (or the method forgotten) since it was planned.
            repo.transition(debit.id, DebitStatus::Charging, DebitStatus::Skipped, None, now)
                .await?;
            done.skipped += 1;
            return Ok(());
        };
        // What the resident paid themselves since is not paid again.
        let owed = self
            .db
            .overview()
            .of_account(debit.account_id, 1, self.clock)
            .await?
            .map_or(d::Kopecks::ZERO, |o| o.balance);
        let amount = debit.amount.min(owed);
        if amount < d::payments::MIN_SHARE {
            repo.transition(debit.id, DebitStatus::Charging, DebitStatus::Skipped, None, now)
                .await?;
            done.skipped += 1;
            return Ok(());
        }
        let public_id = d::autopay::payment_id(debit.id);
        let charged = self
            .payments
            .charge(a.user_id, debit.account_id, amount, &method, &public_id)
            .await;
        // The payment row exists once written, whatever the gateway said:
        // the debit follows it from now on.
        if let Some(p) = self.db.card_payments().by_public_id(&public_id).await? {
            repo.attach(debit.id, p.id, now).await?;
        }
        charged?;
        let debit = repo.debit(debit.id).await?.ok_or(Error::NotFound)?;
        self.follow(&debit, now, done).await
    }

    /// Ends a debit whose payment settled: paid, or failed (told; the third
    /// failure in a row turns autopay off, told too).
    async fn follow(&self, debit: &Debit, now: OffsetDateTime, done: &mut AutopayRun) -> Result<(), Error> {
        let repo = self.db.autopay();
        let p = match debit.card_payment_id {
            Some(pid) => self.db.card_payments().by_id(pid).await?,
            None => {
                let found = self
                    .db
                    .card_payments()
                    .by_public_id(&d::autopay::payment_id(debit.id))
                    .await?;
                match &found {
                    Some(p) => {
                        repo.attach(debit.id, p.id, now).await?;
                    }
                    // Claimed by a server that stopped before writing the
                    // payment: nothing was paid, so it is planned again.
                    None if now - debit.updated_at > d::autopay::CLAIM_TIMEOUT => {
                        repo.transition(debit.id, DebitStatus::Charging, DebitStatus::Scheduled, None, now)
                            .await?;
                    }
                    None => {}
                }
                found
            }
        };
        let Some(p) = p else {
            return Ok(());
        };
        match p.status {
            CardPaymentStatus::Succeeded => {
                if repo
                    .transition(debit.id, DebitStatus::Charging, DebitStatus::Paid, None, now)
                    .await?
                {
                    repo.succeeded(debit.autopay_id).await?;
                    done.paid += 1;
                }
            }
            CardPaymentStatus::Canceled | CardPaymentStatus::Failed | CardPaymentStatus::Expired => {
                if !repo
                    .transition(debit.id, DebitStatus::Charging, DebitStatus::Failed, None, now)
                    .await?
                {
                    return Ok(());
                }
                done.failed += 1;
                self.tell(debit, Stage::Failed, now).await?;
                let failures = repo.failed(debit.autopay_id, now).await?;
                if failures >= d::autopay::MAX_FAILURES && repo.disable(debit.account_id, None, now).await? {
                    done.turned_off += 1;
                    let entry = d::AuditEntry {
                        ip: String::new(),
                        ..d::AuditEntry::system(
                            d::AuditEvent::AutopayOff,
                            Some(debit.account_id),
                            format!("after {failures} failed debits"),
                        )
                    };
                    self.db.audit().record(&entry, now).await?;
                    self.tell(debit, Stage::TurnedOff, now).await?;
                }
            }
            CardPaymentStatus::Created | CardPaymentStatus::Pending => {}
        }
        Ok(())
    }
}
