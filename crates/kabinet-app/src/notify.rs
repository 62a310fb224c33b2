//! Notifications (R13) on the job runner. Events are produced from the
//! billing data by [`Notifications::produce`] — a new period's invoices and
//! the payments that came with a billing package — each once (a repeated
//! import adds nothing), together with one e-mail delivery per event and
//! resident who wants it. [`Notifications::send_email`] then sends them at
//! the configured pace, outside the quiet hours, each written in the
//! resident's language when it goes, with a one-click unsubscribe link.
//!
//! Production runs in chunks of accounts or payment rows, each its own
//! transaction, never inside the import's; the marks of how far it got move
//! only when a whole period is done, so a run cut off is run again and adds
//! only what is missing.
//!
//! A delivery is claimed before it is sent and marked sent right after:
//! a sender killed mid-batch leaves the rest to the next run, and only the
//! one message in flight at that moment may go twice — with the same
//! Message-ID, which mailboxes take for the same message.

pub mod texts;

use crate::Error;
use crate::auth::{Client, ServerKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kabinet_db::notify::{Buildings, Delivery, INVOICE_PERIOD, PAYMENT_ID, READINGS_DAY, VERIFICATION_DAY};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::notify::{
    Channel, EventKind, QuietHours, READINGS_CLOSING_DAYS, VERIFICATION_NOTICE_DAYS, meter_subject,
};
use kabinet_domain::notify_texts::{CustomText, TextKey, fill};
use std::collections::HashMap;
use std::time::Instant;
use time::{Duration, OffsetDateTime};

/// How notifications are sent (configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// When nothing but emergencies is sent; `None`: any time.
    pub quiet_hours: Option<QuietHours>,
    /// E-mails sent a second at most (all servers together: one sender
    /// runs at a time).
    pub email_per_second: u32,
    /// The SMS provider.
    pub sms: kabinet_sms::SmsConfig,
    /// SMS sent a second at most (the provider's limit).
    pub sms_per_second: u32,
    /// The bot in MAX; `None`: MAX is not offered.
    pub max: Option<kabinet_max::MaxConfig>,
    /// MAX messages sent a second at most (the API takes 30 requests a
    /// second from a bot).
    pub max_per_second: u32,
    /// MAX posts the bot's updates to the portal's webhook (subscribed at
    /// start); otherwise a job takes them by long polling.
    pub max_webhook: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            quiet_hours: Some(QuietHours::DEFAULT),
            email_per_second: 10,
            sms: kabinet_sms::SmsConfig::Log { dir: None },
            sms_per_second: 5,
            max: None,
            max_per_second: 20,
            max_webhook: false,
        }
    }
}

/// Accounts (or payment rows) one statement produces events for.
pub const CHUNK: i64 = 50_000;
/// How old an imported payment may be and still be told of: a package's
/// history of earlier months is not news.
pub const PAYMENT_NEWS: Duration = Duration::days(45);
/// Deliveries claimed at once.
pub const CLAIM: u64 = 50;
/// How long a claim holds.
pub const LEASE: Duration = Duration::minutes(5);
/// Attempts at one delivery before it is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// What one production run added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Produced {
    /// Events.
    pub events: u64,
    /// Deliveries.
    pub deliveries: u64,
}

/// What the one-click unsubscribe link found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribe {
    /// The link is good and unused: it turns off this kind of message.
    Offered(d::NotificationKind),
    /// It was used: this kind is off.
    Done(d::NotificationKind),
    /// It was used before (it works once).
    Used(d::NotificationKind),
}

/// How long the provider is asked what became of an SMS.
pub const SMS_FOLLOWED: Duration = Duration::hours(24);

/// What a delivery tells of, read when it is sent (one reading for every
/// channel's text).
enum About {
    /// An announcement or an emergency.
    Announcement(d::announcements::Announcement),
    /// A new invoice of an account.
    Invoice {
        number: String,
        period: d::Period,
        due: d::Kopecks,
        due_date: time::Date,
    },
    /// A meter's verification due or run out.
    Verification {
        number: String,
        meter: d::Meter,
        expired: bool,
    },
    /// The readings window open, or closing with readings missing.
    Readings {
        number: String,
        until: time::Date,
        closing: bool,
    },
    /// A card payment made in the portal: the total and each account's
    /// share.
    CardPayment {
        total: d::Kopecks,
        shares: Vec<(String, d::Kopecks)>,
    },
    /// News of a request: to its author with staff's words, to a
    /// neighbour who joined without them.
    Request {
        request: Box<d::requests::Request>,
        news: kabinet_notify::messages::RequestNews,
        text: String,
    },
    /// A new version of the Rules or of the consent, to accept.
    Document { doc: d::Document, title: String },
    /// A payment that came with billing's data.
    Payment {
        number: String,
        amount: d::Kopecks,
        paid_on: time::Date,
    },
    /// Autopay's news about a debit.
    Autopay {
        number: String,
        stage: d::autopay::Stage,
        amount: d::Kopecks,
        date: time::Date,
    },
}

/// The residents an organization-wide event concerns.
#[derive(Clone, Copy)]
enum Whom<'a> {
    /// Those who see an account in one of these buildings (none: any).
    Buildings(&'a [String]),
    /// Those who have not accepted this version of the document.
    NotAccepted(d::Document, i32),
}

/// What a sending run reads once for all its messages: the
/// organization's name that signs them, and its own texts.
struct Run<'a> {
    org: &'a str,
    texts: &'a HashMap<TextKey, CustomText>,
}

/// A channel's transport, and what the run read once.
enum Sender<'a> {
    /// E-mail: the mailer and its sender address.
    Email {
        mailer: &'a kabinet_notify::Mailer,
        sender: Option<&'a str>,
        run: Run<'a>,
    },
    /// SMS (the provider is the use case's own).
    Sms(Run<'a>),
    /// MAX (the bot is the use case's own).
    Max(Run<'a>),
}

/// The notifications use cases.
#[derive(Clone)]
pub struct Notifications {
    pub(crate) db: Db,
    pub(crate) clock: d::OrgClock,
    settings: NotifySettings,
    public_url: String,
    pub(crate) key: ServerKey,
    pub(crate) sms: kabinet_sms::Sms,
    max: Option<kabinet_max::Max>,
    readings: Option<crate::org_settings::LiveReadings>,
}

impl Notifications {
    /// Over `db`, with links to `public_url`, unsubscribe links signed with
    /// `key`.
    pub fn new(
        db: Db,
        clock: d::OrgClock,
        settings: NotifySettings,
        public_url: &str,
        key: ServerKey,
    ) -> Self {
        Notifications {
            db,
            clock,
            sms: kabinet_sms::Sms::new(settings.sms.clone()),
            max: settings.max.clone().map(kabinet_max::Max::new),
            settings,
            public_url: public_url.trim_end_matches('/').to_string(),
            key,
            readings: None,
        }
    }

    /// With the readings windows in force (the organization's and the
    /// buildings'), to remind of them; without, no reminder is made.
    pub fn with_readings(mut self, readings: crate::org_settings::LiveReadings) -> Self {
        self.readings = Some(readings);
        self
    }

    /// Produces the events the billing data holds that were not produced
    /// yet — the invoices of a period newer than the last announced one,
    /// the payments that came with packages since the last run — and their
    /// deliveries.
    pub async fn produce(&self, now: OffsetDateTime) -> Result<Produced, Error> {
        let mut out = Produced::default();
        let notify = self.db.notify();
        if let Some(period) = notify.newest_invoice_period().await?
            && i64::from(period) > notify.mark(INVOICE_PERIOD).await?
        {
            if let Some((low, high)) = notify.invoice_accounts(period).await? {
                let mut from = low;
                while from <= high {
                    let to = from.saturating_add(CHUNK - 1).min(high);
                    let tx = self.db.begin().await?;
                    let (e, n) = tx.notify().new_invoices(period, from, to, now).await?;
                    tx.commit().await?;
                    out.events += e;
                    out.deliveries += n;
                    from = to.saturating_add(1);
                }
            }
            notify.set_mark(INVOICE_PERIOD, i64::from(period)).await?;
        }
        let newest = notify.newest_payment().await?;
        let mut after = notify.mark(PAYMENT_ID).await?;
        while after < newest {
            let upto = after.saturating_add(CHUNK).min(newest);
            let tx = self.db.begin().await?;
            let (e, n) = tx
                .notify()
                .imported_payments(after, upto, now - PAYMENT_NEWS, now)
                .await?;
            tx.notify().set_mark(PAYMENT_ID, upto).await?;
            tx.commit().await?;
            out.events += e;
            out.deliveries += n;
            after = upto;
        }
        for day in [self.verifications(now).await?, self.readings_windows(now).await?] {
            out.events += day.events;
            out.deliveries += day.deliveries;
        }
        if out.events > 0 {
            tracing::info!(
                events = out.events,
                deliveries = out.deliveries,
                "notifications produced"
            );
        }
        Ok(out)
    }

    /// Once a day (the organization's): the meters whose verification is
    /// due within [`VERIFICATION_NOTICE_DAYS`], and those whose
    /// verification ran out within as many days, each told of once per due
    /// day.
    async fn verifications(&self, now: OffsetDateTime) -> Result<Produced, Error> {
        let today = self.clock.today(now);
        let notify = self.db.notify();
        if i64::from(today.to_julian_day()) <= notify.mark(VERIFICATION_DAY).await? {
            return Ok(Produced::default());
        }
        let mut out = Produced::default();
        let window = Duration::days(VERIFICATION_NOTICE_DAYS);
        let spans = [
            (EventKind::VerificationSoon, today, today + window),
            (
                EventKind::VerificationExpired,
                today - window,
                today - Duration::days(1),
            ),
        ];
        for (kind, from, to) in spans {
            let mut after = 0;
            loop {
                let due = notify.meters_due(from, to, after, CHUNK as u64).await?;
                let Some(&(last, _, _)) = due.last() else { break };
                let events: Vec<(i64, i64)> = due
                    .iter()
                    .map(|(meter, account, day)| (*account, meter_subject(*meter, *day)))
                    .collect();
                let tx = self.db.begin().await?;
                let (e, n) = tx.notify().add_events(kind, &events, now).await?;
                tx.commit().await?;
                out.events += e;
                out.deliveries += n;
                after = last;
            }
        }
        notify
            .set_mark(VERIFICATION_DAY, i64::from(today.to_julian_day()))
            .await?;
        Ok(out)
    }

    /// Once a day (the organization's): for each readings window in force
    /// — the organization's, for every building without one of its own, and
    /// each building's — that is open today, "the window is open" to the
    /// accounts with an active meter, or in its last
    /// [`READINGS_CLOSING_DAYS`] days "it closes soon" to those with a
    /// meter still without a reading for it; each once per window.
    async fn readings_windows(&self, now: OffsetDateTime) -> Result<Produced, Error> {
        let Some(live) = &self.readings else {
            return Ok(Produced::default());
        };
        let today = self.clock.today(now);
        let notify = self.db.notify();
        if i64::from(today.to_julian_day()) <= notify.mark(READINGS_DAY).await? {
            return Ok(Produced::default());
        }
        let settings = live.current().await?;
        let named: Vec<String> = settings
            .buildings
            .iter()
            .map(|(a, _)| a.trim().to_string())
            .collect();
        let mut windows = vec![(settings.window, Buildings::AllBut(&named))];
        windows.extend(settings.buildings.iter().map(|(a, w)| (*w, Buildings::Named(a))));
        let mut out = Produced::default();
        if let Some((low, high)) = notify.account_span().await? {
            for (window, buildings) in windows {
                let Some((first, last)) = window.open_span(today) else {
                    continue;
                };
                let closing = (last - today).whole_days() <= READINGS_CLOSING_DAYS;
                let (kind, missing) = if closing {
                    let period = d::Period::containing(first).yyyymm();
                    (EventKind::ReadingsClosing, Some(period))
                } else {
                    (EventKind::ReadingsOpen, None)
                };
                let subject = d::notify::readings_subject(last, d::Period::containing(first));
                let mut from = low;
                while from <= high {
                    let to = from.saturating_add(CHUNK - 1).min(high);
                    let tx = self.db.begin().await?;
                    let (e, n) = tx
                        .notify()
                        .readings_window(kind, subject, missing, buildings, (from, to), now)
                        .await?;
                    tx.commit().await?;
                    out.events += e;
                    out.deliveries += n;
                    from = to.saturating_add(1);
                }
            }
        }
        notify
            .set_mark(READINGS_DAY, i64::from(today.to_julian_day()))
            .await?;
        Ok(out)
    }

    /// Whether every active meter of `account` has a reading for `period`
    /// (a reminder to hand them in is moot then).
    async fn all_readings_in(&self, account: d::AccountId, period: d::Period) -> Result<bool, Error> {
        let meters: Vec<d::Meter> = self
            .db
            .meters()
            .of_account(account)
            .await?
            .into_iter()
            .filter(|m| m.status == d::MeterStatus::Active)
            .collect();
        let ids: Vec<d::MeterId> = meters.iter().map(|m| m.id).collect();
        let recorded = self.db.meters().recorded(&ids).await?;
        Ok(meters.iter().all(|m| {
            recorded
                .iter()
                .any(|r| r.reading.meter_id == m.id && r.period == Some(period))
        }))
    }

    /// Sends waiting e-mail deliveries until none is due or `until`,
    /// at most [`NotifySettings::email_per_second`]; returns how many went.
    pub async fn send_email(
        &self,
        mailer: &kabinet_notify::Mailer,
        sender: Option<&str>,
        until: Instant,
    ) -> Result<u64, Error> {
        self.send_email_as_of(mailer, sender, until, OffsetDateTime::now_utc())
            .await
    }

    /// [`Notifications::send_email`] on a clock that read `at` when it
    /// began (tests move it past quiet hours, leases and retries).
    pub async fn send_email_as_of(
        &self,
        mailer: &kabinet_notify::Mailer,
        sender: Option<&str>,
        until: Instant,
        at: OffsetDateTime,
    ) -> Result<u64, Error> {
        // The organization's name signs every e-mail of the run: read once.
        let (org, texts) = self.run_reads().await?;
        let by = Sender::Email {
            mailer,
            sender,
            run: Run {
                org: &org,
                texts: &texts,
            },
        };
        self.drain(Channel::Email, self.settings.email_per_second, until, at, &by)
            .await
    }

    /// Sends waiting SMS deliveries until none is due or `until`, at most
    /// [`NotifySettings::sms_per_second`]; returns how many went.
    pub async fn send_sms(&self, until: Instant) -> Result<u64, Error> {
        self.send_sms_as_of(until, OffsetDateTime::now_utc()).await
    }

    /// [`Notifications::send_sms`] on a clock that read `at` when it began.
    pub async fn send_sms_as_of(&self, until: Instant, at: OffsetDateTime) -> Result<u64, Error> {
        let (org, texts) = self.run_reads().await?;
        let by = Sender::Sms(Run {
            org: &org,
            texts: &texts,
        });
        self.drain(Channel::Sms, self.settings.sms_per_second, until, at, &by)
            .await
    }

    /// Whether MAX posts the bot's updates to the webhook (no long polling).
    pub fn max_webhook(&self) -> bool {
        self.settings.max_webhook
    }

    /// Sends the MAX messages of notifications waiting, until `until`;
    /// nothing when MAX is not offered.
    pub async fn send_max(&self, until: Instant) -> Result<u64, Error> {
        self.send_max_as_of(until, OffsetDateTime::now_utc()).await
    }

    /// [`Notifications::send_max`] on a clock that read `at` when it began.
    pub async fn send_max_as_of(&self, until: Instant, at: OffsetDateTime) -> Result<u64, Error> {
        if self.max.is_none() {
            return Ok(0);
        }
        let (org, texts) = self.run_reads().await?;
        let by = Sender::Max(Run {
            org: &org,
            texts: &texts,
        });
        self.drain(Channel::Max, self.settings.max_per_second, until, at, &by)
            .await
    }

    /// Claims the deliveries due on `channel` in batches and sends each
    /// `by` the channel's transport at `per_second` at most, until none is
    /// left or `until`.
    async fn drain(
        &self,
        channel: Channel,
        per_second: u32,
        until: Instant,
        at: OffsetDateTime,
        by: &Sender<'_>,
    ) -> Result<u64, Error> {
        let pace = std::time::Duration::from_secs(1) / per_second.max(1);
        let token = crate::auth::secrets::new_token();
        let began = Instant::now();
        let clock = || at + began.elapsed();
        // During the quiet hours only emergencies are claimed: a million
        // other deliveries wait where they are instead of each being put
        // off one by one.
        let urgent_only = self
            .settings
            .quiet_hours
            .is_some_and(|q| q.next_allowed(at, self.clock) > at);
        let mut sent = 0;
        while Instant::now() < until {
            let now = clock();
            let batch = self
                .db
                .notify()
                .claim(channel, urgent_only, now, LEASE, CLAIM, &token)
                .await?;
            if batch.is_empty() {
                break;
            }
            for delivery in batch {
                let started = Instant::now();
                if Instant::now() >= until {
                    // Left for the next run: released at once.
                    self.db
                        .notify()
                        .release(delivery.id, &token, None, Some(clock()))
                        .await?;
                    continue;
                }
                let went = match *by {
                    Sender::Email {
                        mailer,
                        sender,
                        ref run,
                    } => {
                        self.deliver(mailer, sender, run, &delivery, &token, clock())
                            .await?
                    }
                    Sender::Sms(ref run) => self.deliver_sms(run, &delivery, &token, clock()).await?,
                    Sender::Max(ref run) => self.deliver_max(run, &delivery, &token, clock()).await?,
                };
                if went {
                    sent += 1;
                    if let Some(rest) = pace.checked_sub(started.elapsed()) {
                        tokio::time::sleep(rest).await;
                    }
                }
            }
        }
        Ok(sent)
    }

    /// The resident a claimed delivery is for, when they still want it on
    /// its channel; otherwise the delivery is marked skipped. `Err(true)`
    /// when it was put off for the quiet hours.
    async fn recipient(
        &self,
        delivery: &Delivery,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Option<d::ResidentUser>, Error> {
        let notify = self.db.notify();
        let user = self.db.users().by_id(delivery.user_id).await?;
        let wanted = |u: &d::ResidentUser| {
            if delivery.kind.urgent() {
                match delivery.channel {
                    Channel::Email => true,
                    Channel::Sms => u.sms_phone.is_some(),
                    Channel::Max => u.max_user.is_some(),
                }
            } else {
                u.wants(delivery.kind.preference(), delivery.channel)
            }
        };
        let Some(user) = user.filter(|u| !u.blocked && wanted(u)) else {
            notify.skipped(delivery.id, token).await?;
            return Ok(None);
        };
        if let Some(q) = self.settings.quiet_hours
            && !delivery.kind.urgent()
        {
            let allowed = q.next_allowed(now, self.clock);
            if allowed > now {
                notify.release(delivery.id, token, None, Some(allowed)).await?;
                return Ok(None);
            }
        }
        Ok(Some(user))
    }

    /// Sends one claimed SMS delivery; `true` when the provider took it.
    async fn deliver_sms(
        &self,
        run: &Run<'_>,
        delivery: &Delivery,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let notify = self.db.notify();
        let Some(user) = self.recipient(delivery, token, now).await? else {
            return Ok(false);
        };
        let Some(phone) = user.sms_phone.clone() else {
            notify.skipped(delivery.id, token).await?;
            return Ok(false);
        };
        let Some(text) = self.render_sms(run, delivery, &user).await? else {
            notify.skipped(delivery.id, token).await?;
            return Ok(false);
        };
        let went = self
            .sms
            .send(phone.as_str(), &text, delivery.id.0)
            .await
            .map(|sent| {
                log_cost(self.sms.provider(), &text, &sent);
                (sent.provider_ref, d::notify::DeliveryState::Accepted)
            })
            .map_err(|e| (e.to_string(), e.retryable()));
        self.text_went(delivery, token, &text, went, now).await
    }

    /// Sends one claimed MAX delivery (the SMS's text: a chat message is
    /// as short); `true` when the API took it.
    async fn deliver_max(
        &self,
        run: &Run<'_>,
        delivery: &Delivery,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let notify = self.db.notify();
        let Some(max) = &self.max else {
            return Ok(false);
        };
        let Some(user) = self.recipient(delivery, token, now).await? else {
            return Ok(false);
        };
        let (Some(max_user), Some(text)) = (user.max_user, self.render_sms(run, delivery, &user).await?)
        else {
            notify.skipped(delivery.id, token).await?;
            return Ok(false);
        };
        let went = max
            .send(max_user, &text, &[])
            .await
            .map(|mid| (mid, d::notify::DeliveryState::Delivered))
            .map_err(|e| (e.to_string(), e.retryable()));
        self.text_went(delivery, token, &text, went, now).await
    }

    /// Records what became of the text message (SMS, MAX) of `delivery`:
    /// taken under the provider's id with what is known of its delivery,
    /// or refused (why, and whether trying again may help). `true` when it
    /// went.
    async fn text_went(
        &self,
        delivery: &Delivery,
        token: &str,
        text: &str,
        went: Result<(String, d::notify::DeliveryState), (String, bool)>,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        match went {
            Ok((reference, state)) => {
                self.db
                    .notify()
                    .text_sent(delivery.id, Some(token), text, (&reference, state), now)
                    .await?;
                Ok(true)
            }
            Err((why, retryable)) => self.attempt_failed(delivery, token, &why, retryable, now).await,
        }
    }

    /// Records a refused attempt at `delivery`: tried again after the
    /// backoff when `retryable` and attempts remain, else given up.
    /// Returns `false` (it did not go).
    async fn attempt_failed(
        &self,
        delivery: &Delivery,
        token: &str,
        error: &str,
        retryable: bool,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let attempt = delivery.attempts + 1;
        let retry = (retryable && attempt < MAX_ATTEMPTS).then(|| now + d::jobs::backoff(attempt));
        tracing::warn!(
            delivery = delivery.id.0,
            channel = delivery.channel.as_str(),
            attempt,
            error,
            "notification not sent"
        );
        self.db
            .notify()
            .release(delivery.id, token, Some(error), retry)
            .await?;
        Ok(false)
    }

    /// What `delivery` tells of, read as it goes; `None` when that no
    /// longer exists or no longer matters (the invoice or payment was
    /// removed from billing's data, the announcement ended, every meter
    /// has its reading).
    async fn about(&self, delivery: &Delivery) -> Result<Option<About>, Error> {
        if delivery.kind == EventKind::RequestUpdate {
            return self.request_news(delivery.subject).await;
        }
        if let Some(doc) = match delivery.kind {
            EventKind::RulesChanged => Some(d::Document::Rules),
            EventKind::ConsentChanged => Some(d::Document::Consent),
            _ => None,
        } {
            return self.document_news(doc, delivery).await;
        }
        if delivery.kind == EventKind::CardPaid {
            return Ok(self
                .db
                .card_payments()
                .by_id(d::CardPaymentId(delivery.subject))
                .await?
                .filter(|p| p.status == d::payments::CardPaymentStatus::Succeeded && !p.test)
                .map(|p| About::CardPayment {
                    total: p.amount,
                    shares: p.shares.iter().map(|s| (s.account.clone(), s.amount)).collect(),
                }));
        }
        if matches!(delivery.kind, EventKind::Announcement | EventKind::Emergency) {
            return Ok(self
                .announcement(delivery.subject)
                .await?
                .map(About::Announcement));
        }
        let Some(account) = self.db.accounts().by_id(delivery.account_id).await? else {
            return Ok(None);
        };
        let number = account.number.to_string();
        Ok(match delivery.kind {
            // Read above, without an account.
            EventKind::Announcement
            | EventKind::Emergency
            | EventKind::CardPaid
            | EventKind::RequestUpdate
            | EventKind::RulesChanged
            | EventKind::ConsentChanged => None,
            EventKind::Autopay => {
                let Some((debit, stage)) = d::autopay::from_subject(delivery.subject) else {
                    return Ok(None);
                };
                // A notice of a debit that will not happen any more (autopay
                // turned off, the method forgotten) is moot.
                self.db
                    .autopay()
                    .debit(debit)
                    .await?
                    .filter(|x| {
                        stage != d::autopay::Stage::Notice || x.status != d::autopay::DebitStatus::Skipped
                    })
                    .map(|x| About::Autopay {
                        number,
                        stage,
                        amount: x.amount,
                        date: x.debit_on,
                    })
            }
            EventKind::NewInvoice => {
                let Ok(period) = d::Period::from_yyyymm(i32::try_from(delivery.subject).unwrap_or(0)) else {
                    return Ok(None);
                };
                self.db
                    .billing()
                    .invoice(account.id, period)
                    .await?
                    .map(|invoice| About::Invoice {
                        number,
                        period,
                        due: invoice.total_due,
                        due_date: invoice.due_date,
                    })
            }
            EventKind::VerificationSoon | EventKind::VerificationExpired => self
                .meter_of(account.id, delivery.subject)
                .await?
                .map(|meter| About::Verification {
                    number,
                    meter,
                    expired: delivery.kind == EventKind::VerificationExpired,
                }),
            EventKind::ReadingsOpen | EventKind::ReadingsClosing => {
                self.readings_due(delivery).await?.map(|until| About::Readings {
                    number,
                    until,
                    closing: delivery.kind == EventKind::ReadingsClosing,
                })
            }
            EventKind::PaymentImported => {
                self.db
                    .payments()
                    .by_row(delivery.subject)
                    .await?
                    .map(|p| About::Payment {
                        number,
                        amount: p.amount,
                        paid_on: self.clock.local(p.paid_at).date(),
                    })
            }
        })
    }

    /// A new version of `doc`, while the resident of `delivery` has not
    /// accepted it yet (then it is moot).
    async fn document_news(&self, doc: d::Document, delivery: &Delivery) -> Result<Option<About>, Error> {
        let Ok(version) = i32::try_from(delivery.subject) else {
            return Ok(None);
        };
        let accepted = self.db.users().by_id(delivery.user_id).await?.map(|u| match doc {
            d::Document::Rules => u.rules_version,
            d::Document::Consent => u.consent_version,
        });
        if accepted.is_none_or(|a| a >= version) {
            return Ok(None);
        }
        Ok(self
            .db
            .documents(doc)
            .version(version)
            .await?
            .map(|v| About::Document { doc, title: v.title }))
    }

    /// What history line `line` of a request tells its author: `None`
    /// when it is gone or moot (a deferral the request has left since).
    async fn request_news(&self, line: i64) -> Result<Option<About>, Error> {
        use d::requests::{EventKind as Line, RequestStatus as S};
        use kabinet_notify::messages::RequestNews as N;
        let Some((id, event)) = self.db.requests().event(line).await? else {
            return Ok(None);
        };
        let Some(request) = self.db.requests().get(id).await? else {
            return Ok(None);
        };
        let news = match (event.kind, event.to_status) {
            (Line::Reply, _) => Some(N::Answered),
            (Line::Status, Some(S::InWork)) => Some(N::Taken),
            (Line::Status, Some(S::Done)) => Some(N::Done),
            (Line::Status, Some(S::Declined)) => Some(N::Declined),
            (Line::Status, Some(S::Deferred)) if request.status == S::Deferred => {
                request.deferred_until.map(N::Deferred)
            }
            _ => None,
        };
        Ok(news.map(|news| About::Request {
            request: Box::new(request),
            news,
            text: event.body,
        }))
    }

    /// What a sending run reads once: the organization's name and its own
    /// texts.
    async fn run_reads(&self) -> Result<(String, HashMap<TextKey, CustomText>), Error> {
        Ok((
            crate::site::sender_name(&self.db).await?,
            self.custom_texts().await?,
        ))
    }

    /// The organization's own texts, read once a run.
    async fn custom_texts(&self) -> Result<HashMap<TextKey, CustomText>, Error> {
        Ok(self.db.notify_texts().all().await?.into_iter().collect())
    }

    /// What the placeholders of an organization's text stand for in the
    /// message `about` to `user` (see [`kabinet_domain::notify_texts`]).
    fn values(
        &self,
        about: &About,
        org: &str,
        tr: kabinet_i18n::Tr,
        user: &d::ResidentUser,
    ) -> Vec<(&'static str, String)> {
        let site = self.public_url.as_str();
        let mut v: Vec<(&'static str, String)> = vec![("org", org.to_string())];
        let url = match about {
            About::Announcement(a) => {
                v.push(("title", a.title.clone()));
                v.push(("text", a.body.clone()));
                format!("{site}/announcements")
            }
            About::Invoice {
                number,
                period,
                due,
                due_date,
            } => {
                v.push(("account", number.clone()));
                v.push(("period", tr.month(*period)));
                v.push(("amount", tr.money(*due)));
                v.push(("date", tr.date(*due_date)));
                format!("{site}/invoices?account={number}")
            }
            About::Verification { number, meter, .. } => {
                v.push(("account", number.clone()));
                v.push(("meter", meter.serial.clone()));
                v.push(("resource", tr.t(&format!("resource-{}", meter.resource.code()))));
                v.push(("date", tr.date(meter.verification_due)));
                format!("{site}/meters?account={number}")
            }
            About::Readings { number, until, .. } => {
                v.push(("account", number.clone()));
                v.push(("date", tr.date(*until)));
                format!("{site}/meters?account={number}")
            }
            About::CardPayment { total, shares } => {
                let accounts: Vec<&str> = shares.iter().map(|(a, _)| a.as_str()).collect();
                v.push(("amount", tr.money(*total)));
                v.push(("accounts", accounts.join(", ")));
                format!("{site}/payments")
            }
            About::Request { request, news, text } => {
                v.push(("number", request.id.to_string()));
                v.push(("news", kabinet_notify::messages::news_text(tr, *news)));
                // A neighbour who joined never reads staff's words to the
                // author.
                let own = request.user_id == user.id;
                v.push(("text", if own { text.clone() } else { String::new() }));
                v.push(("category", request.category_name.clone()));
                if own {
                    format!("{site}/requests/{}", request.id)
                } else {
                    format!("{site}/requests#joined")
                }
            }
            About::Document { doc, title } => {
                v.push(("title", title.clone()));
                document_url(site, *doc)
            }
            About::Payment {
                number,
                amount,
                paid_on,
            } => {
                v.push(("account", number.clone()));
                v.push(("amount", tr.money(*amount)));
                v.push(("date", tr.date(*paid_on)));
                format!("{site}/payments?account={number}")
            }
            About::Autopay {
                number,
                stage,
                amount,
                date,
            } => {
                v.push(("account", number.clone()));
                v.push(("amount", tr.money(*amount)));
                v.push(("date", tr.date(*date)));
                v.push((
                    "news",
                    kabinet_notify::messages::autopay_news(tr, stage.as_str(), number, *amount, *date),
                ));
                format!("{site}/autopay")
            }
        };
        v.push(("url", url));
        v
    }

    /// The SMS text of `delivery` for `user`, in their language; `None`
    /// when it no longer has anything to tell.
    async fn render_sms(
        &self,
        run: &Run<'_>,
        delivery: &Delivery,
        user: &d::ResidentUser,
    ) -> Result<Option<String>, Error> {
        use kabinet_notify::sms;
        let tr = kabinet_notify::messages::tr(user.language);
        let site = self.public_url.as_str();
        let org = run.org;
        let Some(about) = self.about(delivery).await? else {
            return Ok(None);
        };
        let key = TextKey {
            kind: delivery.kind,
            channel: delivery.channel,
            language: tr.lang,
        };
        if let Some(own) = run.texts.get(&key) {
            return Ok(Some(fill(&own.body, &self.values(&about, org, tr, user))));
        }
        Ok(Some(match about {
            About::Announcement(a) => sms::announcement(tr, org, &a.title, &format!("{site}/announcements")),
            About::Invoice {
                number,
                period,
                due,
                due_date,
            } => sms::new_invoice(tr, org, &number, &tr.month(period), due, Some(due_date), site),
            About::Verification {
                number,
                meter,
                expired,
            } => sms::meter_verification(tr, org, &number, &meter.serial, meter.verification_due, expired),
            About::Readings {
                number,
                until,
                closing,
            } => sms::readings_window(tr, org, &number, until, closing, site),
            About::Payment {
                number,
                amount,
                paid_on,
            } => sms::payment(tr, org, &number, amount, paid_on),
            About::Autopay {
                number,
                stage,
                amount,
                date,
            } => sms::autopay(
                tr,
                org,
                &kabinet_notify::messages::autopay_news(tr, stage.as_str(), &number, amount, date),
                &format!("{site}/autopay"),
            ),
            About::CardPayment { total, shares } => {
                let accounts: Vec<&str> = shares.iter().map(|(a, _)| a.as_str()).collect();
                sms::card_payment(tr, org, total, &accounts.join(", "))
            }
            About::Document { doc, title } => sms::document(tr, org, &title, &document_url(site, doc)),
            About::Request { request, news, .. } => sms::request_update(
                tr,
                org,
                &request.id.to_string(),
                news,
                &format!("{site}/requests/{}", request.id),
            ),
        }))
    }

    /// The last day of a readings-window event's window; `None` when every
    /// meter of the account has its reading by now (the reminder is moot).
    async fn readings_due(&self, delivery: &Delivery) -> Result<Option<time::Date>, Error> {
        let Some((last, period)) = d::notify::subject_readings(delivery.subject) else {
            return Ok(None);
        };
        if self.all_readings_in(delivery.account_id, period).await? {
            return Ok(None);
        }
        Ok(Some(last))
    }

    /// Announcement `id` while it is in force or yet to start; `None` once
    /// it ended or was removed (its deliveries not sent by then are moot).
    async fn announcement(&self, id: i64) -> Result<Option<d::announcements::Announcement>, Error> {
        let now = OffsetDateTime::now_utc();
        Ok(self
            .db
            .announcements()
            .get(id)
            .await?
            .filter(|a| a.ends_at.is_none_or(|e| e > now)))
    }

    /// Produces announcement `id`'s event and the deliveries to the next
    /// [`CHUNK`] residents after `after` (a user id) who see an account in
    /// its buildings; returns the last resident covered when more may
    /// follow. An emergency goes to everyone on every channel they have.
    pub async fn announce(&self, id: i64, after: i64, now: OffsetDateTime) -> Result<Option<i64>, Error> {
        let Some(a) = self.announcement(id).await? else {
            return Ok(None);
        };
        let kind = if a.kind == d::announcements::AnnouncementKind::Emergency {
            EventKind::Emergency
        } else {
            EventKind::Announcement
        };
        self.to_residents(kind, id, Whom::Buildings(&a.buildings), after, now)
            .await
    }

    /// Produces the event of version `version` of `doc` and the deliveries
    /// to the next [`CHUNK`] residents after `after`; returns the last
    /// resident covered when more may follow.
    pub async fn announce_document(
        &self,
        doc: d::Document,
        version: i32,
        after: i64,
        now: OffsetDateTime,
    ) -> Result<Option<i64>, Error> {
        let kind = EventKind::document(doc);
        self.to_residents(
            kind,
            i64::from(version),
            Whom::NotAccepted(doc, version),
            after,
            now,
        )
        .await
    }

    /// The event of `kind` about `subject` (no account) and its deliveries
    /// to the next [`CHUNK`] residents after `after` `whom` it concerns;
    /// the last resident covered when more may follow.
    async fn to_residents(
        &self,
        kind: EventKind,
        subject: i64,
        whom: Whom<'_>,
        after: i64,
        now: OffsetDateTime,
    ) -> Result<Option<i64>, Error> {
        let Some((low, high)) = self.db.notify().user_span().await? else {
            return Ok(None);
        };
        let from = low.max(after.saturating_add(1));
        if from > high {
            return Ok(None);
        }
        let to = from.saturating_add(CHUNK - 1).min(high);
        let tx = self.db.begin().await?;
        let event = tx.notify().single_event(kind, 0, subject, now).await?;
        let n = match whom {
            Whom::Buildings(buildings) => {
                tx.notify()
                    .announcement_deliveries(event, kind, buildings, (from, to), now)
                    .await?
            }
            Whom::NotAccepted(doc, version) => {
                tx.notify()
                    .document_deliveries(event, kind, (doc, version), (from, to), now)
                    .await?
            }
        };
        tx.commit().await?;
        if n > 0 {
            tracing::info!(
                kind = kind.as_str(),
                subject,
                deliveries = n,
                "deliveries to residents queued"
            );
        }
        Ok((to < high).then_some(to))
    }

    /// The meter of a verification event's subject, on `account`.
    async fn meter_of(&self, account: d::AccountId, subject: i64) -> Result<Option<d::Meter>, Error> {
        let meter = kabinet_domain::notify::subject_meter(subject);
        Ok(self
            .db
            .meters()
            .of_account(account)
            .await?
            .into_iter()
            .find(|m| m.id.0 == meter))
    }

    /// Asks the provider what became of the SMS sent within
    /// [`SMS_FOLLOWED`] whose fate is not known, and records it; returns
    /// how many became final.
    pub async fn poll_sms(&self, now: OffsetDateTime) -> Result<u64, Error> {
        let mut done = 0;
        let mut seen = 0;
        loop {
            let waiting = self
                .db
                .notify()
                .sms_awaiting(now - SMS_FOLLOWED, seen, CLAIM)
                .await?;
            let Some(&(last, _, _)) = waiting.last() else {
                break;
            };
            for (id, provider_ref, phone) in waiting {
                done += u64::from(self.follow_sms(id, &provider_ref, &phone).await?);
            }
            seen = last.0;
        }
        Ok(done)
    }

    /// A provider's delivery report named `refs`: each that is ours and
    /// still on its way is asked about at the provider (the report itself
    /// is not believed: anyone may post one); returns how many reached a
    /// final state. At most 100 a report.
    pub async fn sms_reported(&self, refs: &[String]) -> Result<u64, Error> {
        let mut done = 0;
        let mut seen = std::collections::HashSet::new();
        for r in refs.iter().filter(|r| !r.is_empty() && r.len() <= 64).take(100) {
            if !seen.insert(r.as_str()) {
                continue;
            }
            let Some((id, phone)) = self.db.notify().sms_by_ref(r).await? else {
                continue;
            };
            done += u64::from(self.follow_sms(id, r, &phone).await?);
        }
        Ok(done)
    }

    /// Asks the provider what became of SMS `id` and records a final
    /// state; `true` when it reached one (a provider that does not answer
    /// is logged and asked again later).
    async fn follow_sms(&self, id: d::OutboxId, provider_ref: &str, phone: &str) -> Result<bool, Error> {
        match self.sms.status(provider_ref, phone).await {
            Ok(d::notify::DeliveryState::Accepted) => Ok(false),
            Ok(state) => {
                self.db.notify().set_delivery(id, state).await?;
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(sms = id.0, error = %e, "SMS status not read");
                Ok(false)
            }
        }
    }

    /// Sends one claimed delivery; `true` when it went.
    async fn deliver(
        &self,
        mailer: &kabinet_notify::Mailer,
        sender: Option<&str>,
        run: &Run<'_>,
        delivery: &Delivery,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let notify = self.db.notify();
        let Some(user) = self.recipient(delivery, token, now).await? else {
            return Ok(false);
        };
        let Some(mail) = self.render(run, delivery, &user).await? else {
            // What it was about is gone (the payment or invoice was removed
            // from billing's data).
            notify.skipped(delivery.id, token).await?;
            return Ok(false);
        };
        let extra = kabinet_notify::Extra {
            message_id: Some(format!("kabinet-delivery-{}", delivery.id.0)),
            // An emergency cannot be turned off.
            unsubscribe: (!delivery.kind.urgent())
                .then(|| self.unsubscribe_url(delivery.id, delivery.user_id)),
        };
        match mailer.send_with(&mail, sender, &extra).await {
            Ok(()) => {
                notify.sent(delivery.id, token, &mail, now).await?;
                Ok(true)
            }
            Err(e) => {
                self.attempt_failed(delivery, token, &e.to_string(), true, now)
                    .await
            }
        }
    }

    /// The e-mail of `delivery` for `user`, in their language; `None` when
    /// it no longer has anything to tell.
    async fn render(
        &self,
        run: &Run<'_>,
        delivery: &Delivery,
        user: &d::ResidentUser,
    ) -> Result<Option<d::Email>, Error> {
        use kabinet_notify::messages;
        let tr = messages::tr(user.language);
        let site = self.public_url.as_str();
        let to = &user.email;
        let org = run.org;
        let unsubscribe = self.unsubscribe_url(delivery.id, delivery.user_id);
        let Some(about) = self.about(delivery).await? else {
            return Ok(None);
        };
        let key = TextKey {
            kind: delivery.kind,
            channel: Channel::Email,
            language: tr.lang,
        };
        if let Some(own) = run.texts.get(&key) {
            let values = self.values(&about, org, tr, user);
            return Ok(Some(messages::custom(
                tr,
                org,
                to,
                &fill(&own.subject, &values),
                &fill(&own.body, &values),
                (!delivery.kind.urgent()).then_some(unsubscribe.as_str()),
            )));
        }
        Ok(Some(match about {
            About::Announcement(a) => {
                messages::announcement(tr, org, to, &a.title, &a.body, &format!("{site}/announcements"))
            }
            About::Invoice {
                number,
                period,
                due,
                due_date,
            } => messages::new_invoice(
                tr,
                org,
                to,
                &number,
                &tr.month(period),
                due,
                Some(due_date),
                &format!("{site}/invoices?account={number}"),
                &unsubscribe,
            ),
            About::Verification {
                number,
                meter,
                expired,
            } => messages::meter_verification(
                tr,
                org,
                to,
                &number,
                &tr.t(&format!("resource-{}", meter.resource.code())),
                &meter.serial,
                meter.verification_due,
                expired,
                &format!("{site}/meters?account={number}"),
                &unsubscribe,
            ),
            About::Readings {
                number,
                until,
                closing,
            } => messages::readings_window(
                tr,
                org,
                to,
                &number,
                until,
                closing,
                &format!("{site}/meters?account={number}"),
                &unsubscribe,
            ),
            About::Document { doc, title } => {
                messages::document_changed(tr, org, to, doc, &title, &document_url(site, doc), &unsubscribe)
            }
            About::Request { request, news, text } if request.user_id == user.id => messages::request_update(
                tr,
                org,
                to,
                request.id,
                news,
                &text,
                &format!("{site}/requests/{}", request.id),
            ),
            About::Request { request, news, .. } => messages::joined_request_update(
                tr,
                org,
                to,
                request.id,
                &request.category_name,
                news,
                &format!("{site}/requests#joined"),
            ),
            About::CardPayment { total, shares } => messages::payment_received(
                tr,
                org,
                to,
                total,
                &shares,
                &format!("{site}/payments"),
                &unsubscribe,
            ),
            About::Payment {
                number,
                amount,
                paid_on,
            } => messages::payment_imported(
                tr,
                org,
                to,
                &number,
                amount,
                paid_on,
                &format!("{site}/payments?account={number}"),
                &unsubscribe,
            ),
            About::Autopay {
                number,
                stage,
                amount,
                date,
            } => messages::autopay(
                tr,
                org,
                to,
                stage.as_str(),
                &number,
                amount,
                date,
                &format!("{site}/autopay"),
                &unsubscribe,
            ),
        }))
    }

    fn unsubscribe_mac(&self, id: d::OutboxId, user: d::UserId) -> String {
        let mac = self
            .key
            .sign("unsubscribe", &[&id.0.to_be_bytes(), &user.0.to_be_bytes()]);
        URL_SAFE_NO_PAD.encode(&mac[..18])
    }

    /// The one-click unsubscribe link of delivery `id` to `user`.
    pub fn unsubscribe_url(&self, id: d::OutboxId, user: d::UserId) -> String {
        format!(
            "{}/unsubscribe/{}-{}",
            self.public_url,
            id.0,
            self.unsubscribe_mac(id, user)
        )
    }

    /// What an unsubscribe link stands for; [`Error::NotFound`] for a
    /// link that is not one of ours.
    async fn unsubscribe_target(
        &self,
        token: &str,
    ) -> Result<(d::OutboxId, d::UserId, EventKind, bool), Error> {
        let (id, mac) = token.split_once('-').ok_or(Error::NotFound)?;
        let id = d::OutboxId(id.parse().map_err(|_| Error::NotFound)?);
        let (user, kind, used) = self
            .db
            .notify()
            .unsubscribe_target(id)
            .await?
            .ok_or(Error::NotFound)?;
        let expected = self.unsubscribe_mac(id, user);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), mac.as_bytes())) {
            return Err(Error::NotFound);
        }
        Ok((id, user, kind, used))
    }

    /// What the link `token` would do, for its page.
    pub async fn check_unsubscribe(&self, token: &str) -> Result<Unsubscribe, Error> {
        let (_, _, kind, used) = self.unsubscribe_target(token).await?;
        Ok(if used {
            Unsubscribe::Used(kind.preference())
        } else {
            Unsubscribe::Offered(kind.preference())
        })
    }

    /// Turns the link's kind of message off for its resident (by e-mail),
    /// once; audited.
    pub async fn unsubscribe(&self, token: &str, client: &Client) -> Result<Unsubscribe, Error> {
        let (id, user, kind, _) = self.unsubscribe_target(token).await?;
        let pref = kind.preference();
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if !tx.notify().use_unsubscribe(id, now).await? {
            return Ok(Unsubscribe::Used(pref));
        }
        let mut p = tx.users().preferences(user).await?.ok_or(Error::NotFound)?;
        p.email_notifications.remove(&pref);
        tx.users().set_preferences(user, &p).await?;
        tx.audit()
            .record(
                &client.entry(d::AuditEvent::Unsubscribed, Some(user), None, pref.code()),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(Unsubscribe::Done(pref))
    }

    /// Deliveries waiting to be sent on `channel`.
    pub async fn waiting(&self, channel: Channel) -> Result<u64, Error> {
        Ok(self.db.notify().waiting(channel).await?)
    }
}

/// Logs what an SMS cost, as the provider said, with its parts: the
/// estimate the organization's bill is checked against.
/// Where a resident reads (and accepts) the version of `doc` in force.
fn document_url(site: &str, doc: d::Document) -> String {
    match doc {
        d::Document::Rules => format!("{site}/rules"),
        d::Document::Consent => format!("{site}/consent"),
    }
}

fn log_cost(provider: &str, text: &str, sent: &kabinet_sms::Sent) {
    tracing::info!(
        provider,
        parts = d::notify::sms_parts(text),
        cost = sent.cost,
        balance = sent.balance,
        "SMS sent"
    );
}
