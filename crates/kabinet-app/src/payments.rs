//! Card payments: the resident pays one or several of their accounts on the
//! gateway's page; Kabinet records the outcome exactly once however the news
//! arrives — the gateway's notification, the resident's return, or the
//! reconciliation job that asks about payments nobody settled.
//!
//! How each step survives a crash:
//! - The payment row (`created`) and its audit line commit before the gateway
//!   is called, with a first reconciliation time 5 minutes ahead.
//! - The gateway is called with the payment's public id as idempotence key,
//!   so a retry (ours, or reconciliation's after a crash) finds the payment
//!   the first call made instead of making a second one.
//! - Every way of learning the outcome re-reads the payment at the gateway
//!   (nothing in a notification body is trusted) and applies it with one
//!   conditional update: the one caller that moves the row credits the
//!   accounts and queues the e-mail in the same transaction.
//! - A payment still unsettled after the last reconciliation is `expired`;
//!   should the gateway later report it paid, the success is still recorded.
//!
//! The resident chooses the method (СБП or card, each with the fee the
//! organization set) after seeing what each costs; refunds are in
//! [`refunds`](self::refunds).

mod disabled;
mod refunds;
mod sandbox;

pub use refunds::RefundInput;

pub use disabled::Disabled;
pub use sandbox::{Sandbox, SandboxAction, page_path as sandbox_page_path};

use crate::auth::{Client, Resident};
use crate::{Error, FieldErrors};
use kabinet_db::card_payments::{NewCardPayment, Settlement};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::payment_methods::{Fee, PayMethod, Quote};
use kabinet_domain::payments::{CardPayment, CardPaymentStatus};
use kabinet_gateway::{Gateway, GatewayError, GatewayPayment, NewPayment, Receipt, ReceiptItem};
use std::net::IpAddr;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// How card payments are taken.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// The largest payment accepted at once.
    pub max_amount: d::Kopecks,
    /// The VAT code on fiscal receipt lines (1: no VAT).
    pub vat_code: u8,
    /// What is sold, for the receipt (`service`).
    pub payment_subject: String,
    /// How it is paid, for the receipt (`full_payment`).
    pub payment_mode: String,
    /// Addresses notifications may come from (empty: any; the payment is
    /// read back from the gateway either way).
    pub notification_sources: Vec<ipnet::IpNet>,
    /// Daily checks of an unsettled payment before it is marked expired.
    pub give_up_after_days: u32,
    /// Payments one resident may start in an hour: enough for any household,
    /// few enough that nobody can use the portal to flood the gateway.
    pub starts_per_hour: u64,
    /// Whether the gateway issues the fiscal receipt (54-ФЗ); off for a shop
    /// with its own register or one exempt from it.
    pub receipts: bool,
    /// The organization's tax system code for the receipt (1–6), if its
    /// register needs one.
    pub tax_system_code: Option<u8>,
    /// The unit of the receipt lines (ФФД 1.2 `measure`).
    pub measure: String,
    /// The methods offered, in the order shown, each with its fee.
    pub methods: Vec<MethodFee>,
    /// Days before an autopay debit its notice goes.
    pub autopay_notice_days: u8,
}

/// A method offered and the fee it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodFee {
    /// The method.
    pub method: PayMethod,
    /// Its fee (free: the organization pays it).
    pub fee: Fee,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            max_amount: d::Kopecks::from_rubles(500_000, 0),
            vat_code: 1,
            payment_subject: "service".into(),
            payment_mode: "full_payment".into(),
            notification_sources: Vec::new(),
            give_up_after_days: 3,
            starts_per_hour: 20,
            receipts: true,
            tax_system_code: None,
            measure: "piece".into(),
            methods: vec![MethodFee {
                method: PayMethod::BankCard,
                fee: Fee::NONE,
            }],
            autopay_notice_days: 2,
        }
    }
}

/// Which gateway takes the payments.
#[derive(Debug, Clone, Default)]
pub enum GatewayChoice {
    /// No card payments: the pay page points to the receipt's QR code (the
    /// default, so that nothing is ever "paid" on an install nobody set up).
    #[default]
    Disabled,
    /// Test payments on a page Kabinet serves: never credited, never
    /// exported; for demos and trials only.
    Sandbox,
    /// YooKassa.
    YooKassa(kabinet_gateway::yookassa::YooKassaConfig),
}

/// Form and API field names.
pub mod fields {
    /// The amounts per account.
    pub const AMOUNTS: &str = "amounts";
    /// The method.
    pub const METHOD: &str = "method";
    /// A refund's amount.
    pub const REFUND_AMOUNT: &str = "amount";
    /// A refund's reason.
    pub const REFUND_REASON: &str = "reason";
}

/// What a resident asks to pay for one account.
#[derive(Debug, Clone)]
pub struct ShareInput {
    /// The account number.
    pub account: String,
    /// The amount as typed (empty: this account is not paid for).
    pub amount: String,
}

/// What the payment form shows.
#[derive(Debug, Clone)]
pub struct PayForm {
    /// The resident's accounts, the chosen one current.
    pub scope: crate::account::AccountScope,
    /// What the chosen account owes now, if anything.
    pub suggested: Option<d::Kopecks>,
}

/// What the resident would pay by each method, before choosing.
#[derive(Debug, Clone)]
pub struct Review {
    /// The accounts and amounts, as checked.
    pub shares: Vec<d::payments::CheckedShare>,
    /// Each method offered, in order, with its fee and total.
    pub quotes: Vec<Quote>,
}

/// A payment on its way to the gateway's page.
#[derive(Debug, Clone)]
pub struct Started {
    /// The payment.
    pub payment: CardPayment,
    /// Where to send the payer.
    pub confirmation_url: String,
}

/// What a notification came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// The payment was read back and its state applied.
    Applied,
    /// Not about a payment of ours (answered all the same, so the gateway
    /// stops sending it).
    Unknown,
}

/// What one reconciliation pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Payments looked at.
    pub checked: u32,
    /// Settled by what the gateway said.
    pub settled: u32,
    /// Given up on.
    pub expired: u32,
}

/// The card payment use cases.
#[derive(Clone)]
pub struct Payments {
    db: Db,
    clock: d::OrgClock,
    gateway: Arc<dyn Gateway>,
    settings: Arc<PaymentSettings>,
    public_url: String,
}

/// How long reconciliation holds a payment it is asking about.
const LEASE: Duration = Duration::minutes(2);
/// The gateway keeps idempotence keys this long (YooKassa: 24 h); a
/// `created` payment older than this is not sent again.
pub(crate) const KEY_LIFETIME: Duration = Duration::hours(24);

impl Payments {
    /// The use cases over `gateway`.
    pub fn new(
        db: Db,
        clock: d::OrgClock,
        gateway: Arc<dyn Gateway>,
        settings: PaymentSettings,
        public_url: &str,
    ) -> Payments {
        Payments {
            db,
            clock,
            gateway,
            settings: Arc::new(settings),
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The provider's name.
    pub fn gateway_name(&self) -> &'static str {
        self.gateway.name()
    }

    /// The origins of the gateway's payment pages (none for the sandbox,
    /// which is served here).
    pub fn page_origins(&self) -> &'static [&'static str] {
        self.gateway.page_origins()
    }

    /// Whether card payments are taken at all.
    pub fn enabled(&self) -> bool {
        self.gateway.name() != disabled::NAME
    }

    /// Whether payments are tests (the sandbox): every page says so.
    pub fn is_test(&self) -> bool {
        self.gateway.name() == sandbox::NAME
    }

    /// The largest payment accepted.
    pub fn max_amount(&self) -> d::Kopecks {
        self.settings.max_amount
    }

    /// The methods offered, in order, with their fees.
    pub fn methods(&self) -> &[MethodFee] {
        &self.settings.methods
    }

    /// What each method costs for `amount`.
    pub fn quotes(&self, amount: d::Kopecks) -> Vec<Quote> {
        self.settings
            .methods
            .iter()
            .map(|m| d::payment_methods::quote(m.method, m.fee, amount))
            .collect()
    }

    /// Checks what the resident filled in and says what each method would
    /// cost, without starting anything.
    pub async fn review(&self, r: &Resident, input: &[ShareInput]) -> Result<Review, Error> {
        if !self.enabled() {
            return Err(Error::CardPaymentsOff);
        }
        let shares = self.check(r, input).await?;
        let amount = d::Kopecks::sum(shares.iter().map(|s| s.amount));
        Ok(Review {
            quotes: self.quotes(amount),
            shares,
        })
    }

    /// The shares of a filled-in form, or every problem with it.
    async fn check(
        &self,
        r: &Resident,
        input: &[ShareInput],
    ) -> Result<Vec<d::payments::CheckedShare>, Error> {
        let linked: Vec<_> = (self.db.links().of_user(r.user.id).await?)
            .into_iter()
            .map(|l| (l.account.id, l.account.number))
            .collect();
        let typed: Vec<_> = input
            .iter()
            .map(|s| d::payments::TypedShare {
                account: &s.account,
                amount: &s.amount,
            })
            .collect();
        d::payments::check_shares(&linked, &typed, self.settings.max_amount).map_err(|p| self.shares_error(p))
    }

    /// The method asked for, if it is offered (none: the first offered).
    fn method(&self, asked: Option<PayMethod>) -> Result<MethodFee, Error> {
        let offered = &self.settings.methods;
        let found = match asked {
            None => offered.first(),
            Some(m) => offered.iter().find(|x| x.method == m),
        };
        found.copied().ok_or_else(|| {
            Error::Invalid(FieldErrors::single(
                fields::METHOD,
                d::Text::new("error-pay-method"),
            ))
        })
    }

    /// The payment form for one of the resident's accounts (the others can
    /// be paid in the same payment).
    pub async fn form(&self, r: &Resident, number: Option<&str>) -> Result<PayForm, Error> {
        if !self.enabled() {
            return Err(Error::CardPaymentsOff);
        }
        let scope = crate::account::scope(&self.db, r, number).await?;
        let c = scope.current();
        let o = self
            .db
            .overview()
            .with_account(c.account.clone(), c.premises.clone(), 1, self.clock, None)
            .await?;
        Ok(PayForm {
            suggested: (o.balance > d::Kopecks::ZERO).then_some(o.balance),
            scope,
        })
    }

    /// Starts a payment for the accounts the resident filled in: checks the
    /// amounts, writes the payment, creates it at the gateway and returns
    /// where to send the payer.
    /// `method`: the one the resident chose (none: the first offered);
    /// `save`: ask the gateway to keep it for autopay.
    pub async fn start(
        &self,
        r: &Resident,
        input: &[ShareInput],
        method: Option<PayMethod>,
        save: bool,
        client: &Client,
    ) -> Result<Started, Error> {
        if !self.enabled() {
            return Err(Error::CardPaymentsOff);
        }
        let method = self.method(method)?;
        let shares = self.check(r, input).await?;
        let payment = self.record(r, shares, method, save, client).await?;
        self.create(payment).await
    }

    /// An autopay debit: pays `amount` for `account` with `user`'s kept
    /// `method`, as payment `public_id` (one per invoice, so a second call
    /// finds the first payment instead of making another). Returns the
    /// payment as it stands after the gateway's answer; a refusal leaves
    /// it failed, a gateway that does not answer leaves it to
    /// reconciliation.
    pub async fn charge(
        &self,
        user: d::UserId,
        account: d::AccountId,
        amount: d::Kopecks,
        method: &d::autopay::SavedMethod,
        public_id: &str,
    ) -> Result<CardPayment, Error> {
        if let Some(p) = self.db.card_payments().by_public_id(public_id).await? {
            return Ok(p);
        }
        let number = self
            .db
            .accounts()
            .by_id(account)
            .await?
            .ok_or(Error::NotFound)?
            .number;
        let email = self
            .db
            .users()
            .by_id(user)
            .await?
            .map(|u| u.email.as_str().to_string());
        let fee = method
            .kind
            .and_then(|k| self.settings.methods.iter().find(|m| m.method == k))
            .map_or(Fee::NONE, |m| m.fee);
        let quote = d::payment_methods::quote(method.kind.unwrap_or(PayMethod::BankCard), fee, amount);
        let now = self.clock.now();
        let new = NewCardPayment {
            public_id: public_id.to_string(),
            user_id: user,
            gateway: self.gateway.name().into(),
            amount: quote.total,
            description: d::payments::gateway_description(std::slice::from_ref(&number)),
            email,
            ip: String::new(),
            now,
            first_check: now + Duration::minutes(5),
            open_until: now + Duration::days(i64::from(self.settings.give_up_after_days) + 2),
            shares: vec![(account, amount)],
            test: self.is_test(),
            method: method.kind,
            fee: quote.fee,
            save_method: false,
            saved_method_id: Some(method.id),
        };
        let tx = self.db.begin().await?;
        let payment = tx.card_payments().insert(&new).await?;
        let entry = d::AuditEntry::system(
            d::AuditEvent::PaymentStarted,
            Some(account),
            format!(
                "{public_id}: autopay {} by {}",
                quote.total.to_decimal_string(),
                method.title
            ),
        );
        tx.audit()
            .record(
                &d::AuditEntry {
                    user_id: Some(user),
                    ip: String::new(),
                    ..entry
                },
                now,
            )
            .await?;
        tx.commit().await?;
        match self.create(payment.clone()).await {
            Ok(s) => Ok(s.payment),
            Err(Error::PaymentRefused) => Ok(self
                .db
                .card_payments()
                .by_public_id(public_id)
                .await?
                .unwrap_or(payment)),
            Err(Error::GatewayUnavailable) => Ok(payment),
            Err(e) => Err(e),
        }
    }

    /// The form error for what [`d::payments::check_shares`] found.
    fn shares_error(&self, problem: d::payments::SharesProblem) -> Error {
        use d::payments::{ShareProblem as P, SharesProblem};
        let max = self.settings.max_amount;
        let SharesProblem::Amounts(problems) = problem else {
            return Error::NotFound;
        };
        let mut errors = FieldErrors::default();
        for p in problems {
            let text = match p {
                P::Twice(n) => d::Text::new("error-pay-account-twice").with("account", n.to_string()),
                P::Amount(n, a) => share_message(&n.to_string(), a, max),
                P::Nothing => d::Text::new("error-pay-no-amount"),
                P::TotalTooLarge => d::Text::new("error-pay-total-too-large").with("max", max),
            };
            errors.add(fields::AMOUNTS, text);
        }
        Error::Invalid(errors)
    }

    /// Writes a checked payment (`created`) with its audit entry. The hourly
    /// limit is counted under the resident's row lock, in the transaction
    /// that writes the payment: parallel starts (two tabs, several servers)
    /// queue on the lock and see each other's rows.
    async fn record(
        &self,
        r: &Resident,
        shares: Vec<d::payments::CheckedShare>,
        method: MethodFee,
        save: bool,
        client: &Client,
    ) -> Result<CardPayment, Error> {
        let now = self.clock.now();
        let quote = d::payments::quote_shares(&shares, method.method, method.fee);
        let total = quote.total;
        let numbers = shares
            .iter()
            .map(|s| s.number.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let public_id = crate::auth::secrets::new_public_id();
        let accounts: Vec<d::AccountNumber> = shares.iter().map(|s| s.number.clone()).collect();
        let new = NewCardPayment {
            public_id: public_id.clone(),
            user_id: r.user.id,
            gateway: self.gateway.name().into(),
            amount: total,
            description: d::payments::gateway_description(&accounts),
            email: Some(r.user.email.as_str().to_string()),
            ip: client.ip.clone(),
            now,
            first_check: now + Duration::minutes(5),
            // 5 min + 1 h + the daily checks, and a day to spare.
            open_until: now + Duration::days(i64::from(self.settings.give_up_after_days) + 2),
            shares: shares.iter().map(|s| (s.account, s.amount)).collect(),
            test: self.is_test(),
            method: Some(method.method),
            fee: quote.fee,
            save_method: save,
            saved_method_id: None,
        };
        let tx = self.db.begin().await?;
        tx.users().lock(r.user.id).await?;
        let started = tx
            .card_payments()
            .started_since(r.user.id, now - Duration::hours(1))
            .await?;
        if started >= self.settings.starts_per_hour {
            return Err(Error::TooManyPayments);
        }
        let payment = tx.card_payments().insert(&new).await?;
        let details = format!(
            "{public_id}: {} for {numbers} by {} (fee {})",
            total.to_decimal_string(),
            method.method.as_str(),
            quote.fee.to_decimal_string()
        );
        let entry = client.entry(
            d::AuditEvent::PaymentStarted,
            Some(r.user.id),
            Some(r.account_id()),
            details,
        );
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(payment)
    }

    /// Creates a written payment at the gateway: where to send the payer,
    /// or why not.
    async fn create(&self, payment: CardPayment) -> Result<Started, Error> {
        match self.gateway.create(&self.request(&payment).await?).await {
            Ok(gp) => {
                let payment = self.learn(&payment, &gp).await?;
                let url = match (&gp.confirmation_url, payment.status) {
                    (Some(u), CardPaymentStatus::Pending | CardPaymentStatus::Created) => u.clone(),
                    _ => self.return_path(&payment.public_id),
                };
                Ok(Started {
                    payment,
                    confirmation_url: url,
                })
            }
            Err(GatewayError::Refused { message, .. }) => {
                self.fail(&payment, &message).await?;
                Err(Error::PaymentRefused)
            }
            Err(e) => {
                // The outcome is unknown; reconciliation asks again with the
                // same key. The resident has not been sent anywhere.
                tracing::warn!(payment = %payment.public_id, error = %e, "payment not created at the gateway yet");
                Err(Error::GatewayUnavailable)
            }
        }
    }

    /// The gateway request for a payment (the same every time it is sent).
    async fn request(&self, p: &CardPayment) -> Result<NewPayment, Error> {
        // An autopay debit pays with the kept method, however often sent.
        let kept = match p.saved_method_id {
            Some(id) => Some(
                self.db
                    .autopay()
                    .method(id)
                    .await?
                    .ok_or(Error::NotFound)?
                    .method_id,
            ),
            None => None,
        };
        let lines: Vec<(String, d::Kopecks)> = p
            .shares
            .iter()
            .map(|s| (d::payments::receipt_item_name(&s.account), s.amount))
            .chain((p.fee > d::Kopecks::ZERO).then(|| (d::payments::RECEIPT_FEE_NAME.to_string(), p.fee)))
            .collect();
        Ok(NewPayment {
            amount: p.amount,
            description: p.description.clone(),
            return_url: format!("{}{}", self.public_url, self.return_path(&p.public_id)),
            idempotence_key: p.public_id.clone(),
            reference: p.public_id.clone(),
            method: p.method,
            save_method: p.save_method,
            payment_method_id: kept,
            receipt: self.receipt(p.email.clone(), lines),
        })
    }

    /// The fiscal receipt of `lines` for `email`, if the gateway issues them.
    fn receipt(&self, email: Option<String>, lines: Vec<(String, d::Kopecks)>) -> Option<Receipt> {
        self.settings.receipts.then(|| Receipt {
            email,
            phone: None,
            tax_system_code: self.settings.tax_system_code,
            items: lines
                .into_iter()
                .map(|(description, amount)| ReceiptItem {
                    description,
                    amount,
                    vat_code: self.settings.vat_code,
                    payment_subject: self.settings.payment_subject.clone(),
                    payment_mode: self.settings.payment_mode.clone(),
                    measure: self.settings.measure.clone(),
                })
                .collect(),
        })
    }

    /// The return page's path.
    fn return_path(&self, public_id: &str) -> String {
        return_path(public_id)
    }

    /// Marks a payment the gateway refused to create as failed.
    async fn fail(&self, p: &CardPayment, why: &str) -> Result<(), Error> {
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        let s = Settlement {
            failure: Some(why.chars().take(500).collect()),
            ..Settlement::default()
        };
        if tx
            .card_payments()
            .transition(p.id, CardPaymentStatus::Failed, &s, now)
            .await?
        {
            tx.audit()
                .record(&system_entry(p, &format!("failed: {why}")), now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies what the gateway says of payment `p`: records its id and page,
    /// and settles it if the gateway has. Returns the payment as it is now.
    async fn learn(&self, p: &CardPayment, gp: &GatewayPayment) -> Result<CardPayment, Error> {
        if gp.amount != p.amount || gp.reference.as_deref().is_some_and(|r| r != p.public_id) {
            tracing::error!(
                payment = %p.public_id, gateway_id = %gp.id, amount = %gp.amount.to_decimal_string(),
                "the gateway's payment does not match ours; left as it is"
            );
            return Err(Error::Internal("the gateway's payment does not match".into()));
        }
        let now = self.clock.now();
        let to = gp.state.status();
        if to == CardPaymentStatus::Pending {
            if !self
                .db
                .card_payments()
                .attach(p.id, &gp.id, gp.confirmation_url.as_deref(), now)
                .await?
            {
                tracing::error!(payment = %p.public_id, gateway_id = %gp.id, "a second gateway id for one payment");
            }
        } else {
            self.settle(p, gp, to, now).await?;
        }
        self.db
            .card_payments()
            .by_public_id(&p.public_id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Moves `p` to a final state; the one call that makes the move also
    /// credits the accounts, queues the e-mail and writes the audit line.
    async fn settle(
        &self,
        p: &CardPayment,
        gp: &GatewayPayment,
        to: CardPaymentStatus,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        // A test payment (the sandbox's, or the gateway's test mode) moved
        // no money: it is recorded but neither credited nor announced.
        let test = p.test || gp.test;
        let s = Settlement {
            gateway_id: Some(gp.id.clone()),
            card: gp.card.clone(),
            failure: gp.cancellation.clone(),
            test,
        };
        let tx = self.db.begin().await?;
        if !tx.card_payments().transition(p.id, to, &s, now).await? {
            // Someone else settled it first (or it was settled already).
            return Ok(());
        }
        if to == CardPaymentStatus::Succeeded && !test {
            // The day the money was taken, not the day Kabinet heard of it.
            tx.card_payments()
                .credit(p, gp.captured_at.unwrap_or(now), &gp.id)
                .await?;
            // "Payment received" goes through the notifications, on each
            // channel the resident chose.
            let account = p.shares.first().map_or(0, |s| s.account_id.0);
            let kind = d::notify::EventKind::CardPaid;
            let event = tx.notify().single_event(kind, account, p.id.0, now).await?;
            tx.notify()
                .user_deliveries(event, kind, &[p.user_id], now)
                .await?;
        }
        tx.audit()
            .record(&system_entry(p, &format!("{}: {}", to.as_str(), gp.id)), now)
            .await?;
        if let (CardPaymentStatus::Succeeded, true, Some(kept)) = (to, p.save_method, &gp.saved_method) {
            let (m, new) = tx
                .autopay()
                .save_method(
                    p.user_id,
                    self.gateway.name(),
                    &kept.id,
                    gp.method.as_deref().or(p.method.map(PayMethod::as_str)),
                    &kept.title,
                    now,
                )
                .await?;
            if new {
                let entry = d::AuditEntry::system(
                    d::AuditEvent::MethodSaved,
                    p.shares.first().map(|s| s.account_id),
                    format!("{}: {} ({})", p.public_id, m.title, m.id),
                );
                tx.audit()
                    .record(
                        &d::AuditEntry {
                            user_id: Some(p.user_id),
                            ip: String::new(),
                            ..entry
                        },
                        now,
                    )
                    .await?;
            }
        }
        tx.commit().await?;
        crate::ops::card_payment_settled(to.as_str(), test);
        tracing::info!(payment = %p.public_id, status = to.as_str(), "card payment settled");
        Ok(())
    }

    /// Reads payment `p` at the gateway and applies what it says; a gateway
    /// that does not answer leaves it as it is.
    async fn refresh(&self, p: CardPayment) -> Result<CardPayment, Error> {
        if p.status.is_final() && p.status != CardPaymentStatus::Expired {
            return Ok(p);
        }
        let Some(gid) = p.gateway_id.clone() else {
            return Ok(p);
        };
        match self.gateway.get(&gid).await {
            Ok(gp) => self.learn(&p, &gp).await,
            Err(e) => {
                tracing::warn!(payment = %p.public_id, error = %e, "could not read the payment at the gateway");
                Ok(p)
            }
        }
    }

    /// The gateway's notification: which payment it is about is read from
    /// the body, and the payment itself from the gateway. `source` is the
    /// sender's address, checked against the allow-list if one is set.
    pub async fn notify(&self, body: &[u8], source: Option<IpAddr>) -> Result<Notified, Error> {
        if !self.enabled() {
            return Err(Error::NotFound);
        }
        if !self.settings.notification_sources.is_empty()
            && !source.is_some_and(|ip| self.settings.notification_sources.iter().any(|n| n.contains(&ip)))
        {
            return Err(Error::Forbidden);
        }
        self.notify_from_gateway(body).await
    }

    /// A notification that passed the address check.
    async fn notify_from_gateway(&self, body: &[u8]) -> Result<Notified, Error> {
        let n = kabinet_gateway::parse_notification(body).map_err(|e| {
            Error::Invalid(FieldErrors::single(
                "body",
                d::Text::new("error-notification-invalid").with("reason", e.to_string()),
            ))
        })?;
        if let Some(refund) = &n.refund_id {
            return self.notified_refund(refund).await;
        }
        let gp = match self.gateway.get(&n.payment_id).await {
            Ok(gp) => gp,
            Err(GatewayError::NotFound) => {
                tracing::warn!(gateway_id = %n.payment_id, "a notification about a payment the gateway does not know");
                return Ok(Notified::Unknown);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read back a notified payment");
                return Err(Error::GatewayUnavailable);
            }
        };
        let cards = self.db.card_payments();
        let ours = match cards.by_gateway_id(&gp.id).await? {
            Some(p) => Some(p),
            // The notification can arrive before our create call returned.
            None => match &gp.reference {
                Some(r) => cards.by_public_id(r).await?,
                None => None,
            },
        };
        let Some(p) = ours.filter(|p| p.gateway == self.gateway.name()) else {
            tracing::warn!(gateway_id = %gp.id, "a notification about a payment that is not ours");
            return Ok(Notified::Unknown);
        };
        self.learn(&p, &gp).await?;
        Ok(Notified::Applied)
    }

    /// A resident's payment by public id, read again at the gateway while it
    /// is unsettled (the return page).
    pub async fn status(&self, r: &Resident, public_id: &str) -> Result<CardPayment, Error> {
        let p = self.own(r, public_id).await?;
        self.refresh(p).await
    }

    async fn own(&self, r: &Resident, public_id: &str) -> Result<CardPayment, Error> {
        if public_id.is_empty() || public_id.len() > 32 {
            return Err(Error::NotFound);
        }
        self.db
            .card_payments()
            .by_public_id(public_id)
            .await?
            .filter(|p| p.user_id == r.user.id)
            .ok_or(Error::NotFound)
    }

    /// One page (1-based, 20 a page) of the resident's card payments, newest
    /// first, and how many there are.
    pub async fn list(&self, r: &Resident, page: u64) -> Result<(Vec<CardPayment>, u64), Error> {
        let page = page.max(1);
        // No offset beyond what the databases take is ever asked for.
        let offset = (page - 1)
            .checked_mul(20)
            .filter(|o| i64::try_from(*o).is_ok())
            .ok_or(Error::NotFound)?;
        Ok(self.db.card_payments().of_user(r.user.id, offset, 20).await?)
    }

    /// One reconciliation pass at `now`: asks the gateway about up to 100
    /// unsettled payments whose time has come, settles what it can, and
    /// schedules the rest (5 min, 1 h, then daily) or marks them expired.
    /// Safe to run on several servers at once.
    pub async fn reconcile(&self, now: OffsetDateTime) -> Result<Reconciled, Error> {
        if !self.enabled() {
            return Ok(Reconciled::default());
        }
        let mut done = Reconciled::default();
        self.reconcile_refunds(now, &mut done).await?;
        let due = self.db.card_payments().claim_due(now, LEASE, 100).await?;
        for p in due {
            done.checked += 1;
            let after = self.reconcile_one(p.clone(), now).await;
            let after = match after {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(payment = %p.public_id, error = %e, "reconciliation could not settle a payment");
                    p
                }
            };
            if after.status.is_final() {
                done.settled += 1;
                continue;
            }
            match d::payments::next_check(after.checks, now, self.settings.give_up_after_days) {
                Some(next) => {
                    self.db
                        .card_payments()
                        .reschedule(after.id, after.checks + 1, next)
                        .await?
                }
                None => {
                    let tx = self.db.begin().await?;
                    if tx
                        .card_payments()
                        .transition(after.id, CardPaymentStatus::Expired, &Settlement::default(), now)
                        .await?
                    {
                        tx.audit().record(&system_entry(&after, "expired"), now).await?;
                        done.expired += 1;
                    }
                    tx.commit().await?;
                }
            }
        }
        Ok(done)
    }

    async fn reconcile_one(&self, p: CardPayment, now: OffsetDateTime) -> Result<CardPayment, Error> {
        if p.gateway_id.is_some() {
            return self.refresh(p).await;
        }
        if now - p.created_at > KEY_LIFETIME {
            // The payer never got the gateway's page: nothing can have been paid.
            return Ok(p);
        }
        // Our create call never came back: the same key finds what it made.
        match self.gateway.create(&self.request(&p).await?).await {
            Ok(gp) => self.learn(&p, &gp).await,
            Err(GatewayError::Refused { message, .. }) => {
                self.fail(&p, &message).await?;
                Ok(self
                    .db
                    .card_payments()
                    .by_public_id(&p.public_id)
                    .await?
                    .unwrap_or(p))
            }
            Err(e) => Err(Error::Internal(e.to_string())),
        }
    }
}

/// The path of a card payment's return page.
pub fn return_path(public_id: &str) -> String {
    format!("/payments/card/{public_id}")
}

/// An audit line written by Kabinet itself about a payment.
fn system_entry(p: &CardPayment, details: &str) -> d::AuditEntry {
    d::AuditEntry {
        actor: d::Actor::System,
        user_id: Some(p.user_id),
        account_id: p.shares.first().map(|s| s.account_id),
        event: d::AuditEvent::PaymentSettled,
        ip: String::new(),
        user_agent: String::new(),
        details: format!("{}: {details}", p.public_id),
    }
}

fn share_message(account: &str, p: d::payments::AmountProblem, max: d::Kopecks) -> d::Text {
    use d::payments::AmountProblem as P;
    let text = match p {
        P::Malformed => d::Text::new("error-pay-share-malformed"),
        P::TooSmall => d::Text::new("error-pay-share-too-small"),
        P::TooLarge => d::Text::new("error-pay-share-too-large").with("max", max),
    };
    text.with("account", account)
}
