//! Notifications: events produced once from the billing data, deliveries
//! fanned out from them into the outbox, and the sender's claims.
//!
//! Producing is set-based — one `INSERT … SELECT … ON CONFLICT DO NOTHING`
//! for a range of accounts or payment rows — so a million invoices become
//! events in a few statements, and a repeated import adds nothing: an event
//! is unique by kind, account and subject, a delivery by event, resident
//! and channel.

use crate::entities::{notify_mark, outbox};
use crate::{Backend, Conn, Db, DbError};
use kabinet_domain as d;
use kabinet_domain::notify::{Channel, DeliveryState, EventKind};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};
use time::{Duration, OffsetDateTime};

/// The mark of the newest period whose invoices were announced.
pub const INVOICE_PERIOD: &str = "invoice_period";
/// The mark of the newest payment row considered.
pub const PAYMENT_ID: &str = "payment_id";
/// The mark of the last day meters' verifications were looked at (its
/// Julian day).
pub const VERIFICATION_DAY: &str = "verification_day";

/// The mark of the last day readings windows were looked at (its Julian
/// day).
pub const READINGS_DAY: &str = "readings_day";

/// The buildings a readings window is for, by address as billing writes it.
#[derive(Debug, Clone, Copy)]
pub enum Buildings<'a> {
    /// This building only (it has a window of its own).
    Named(&'a str),
    /// Every building but these (the organization's window).
    AllBut(&'a [String]),
}

/// Events written by one `INSERT` of [`Notify::add_events`].
pub const EVENTS_PER_INSERT: usize = 1000;

/// A delivery claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its outbox row.
    pub id: d::OutboxId,
    /// For whom.
    pub user_id: d::UserId,
    /// The channel.
    pub channel: Channel,
    /// Where it goes as queued (an e-mail address, a phone); the sender
    /// goes by the resident's current contact.
    pub recipient: String,
    /// The event's kind.
    pub kind: EventKind,
    /// The event's account.
    pub account_id: d::AccountId,
    /// The event's subject (a period, a payment row).
    pub subject: i64,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// A fan-out statement's recipient column and its test of who wants the
/// event on `channel` (over `u`, the user, with `$6` the kind's pattern):
/// the chosen kinds, or for an urgent kind every channel the resident has
/// (SMS: a verified phone).
fn fan_out_terms(channel: Channel, kind: EventKind) -> (&'static str, &'static str) {
    match (channel, kind.urgent()) {
        (Channel::Email, true) => ("u.email", "$6 = $6"),
        (Channel::Email, false) => ("u.email", "(',' || u.notifications || ',') LIKE $6"),
        (Channel::Sms, true) => ("u.phone", "u.phone_verified = u.phone AND $6 = $6"),
        (Channel::Sms, false) => (
            "u.phone",
            "u.phone_verified = u.phone AND (',' || u.sms_notifications || ',') LIKE $6",
        ),
        (Channel::Max, true) => ("CAST(u.max_user AS TEXT)", "u.max_user IS NOT NULL AND $6 = $6"),
        (Channel::Max, false) => (
            "CAST(u.max_user AS TEXT)",
            "u.max_user IS NOT NULL AND (',' || u.max_notifications || ',') LIKE $6",
        ),
    }
}

/// A fan-out statement's first six parameters: channel, time, status,
/// kind, `blocked = false` and the kind's pattern in the stored choices.
fn fan_out_values(channel: Channel, kind: EventKind, now: OffsetDateTime) -> Vec<Value> {
    vec![
        channel.as_str().into(),
        now.into(),
        d::OutboxStatus::Pending.as_str().into(),
        kind.as_str().into(),
        false.into(),
        format!("%,{},%", kind.preference().code()).into(),
    ]
}

/// Events and deliveries (see [`crate::Repos::notify`]).
pub struct Notify<'a, C>(pub(crate) &'a C);

impl<C: Conn> Notify<'_, C> {
    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        crate::raw::execute(self.0, sql, values).await
    }

    async fn scalar(&self, sql: &str, values: Vec<Value>) -> Result<Option<i64>, DbError> {
        #[derive(FromQueryResult)]
        struct One {
            v: Option<i64>,
        }
        let c = self.0.conn();
        Ok(One::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            sql,
            values,
        ))
        .one(c)
        .await?
        .and_then(|o| o.v))
    }

    /// The channels a fan-out writes to: MAX only once someone linked it
    /// (one look at its index spares a statement over every resident).
    async fn channels(&self) -> Result<Vec<Channel>, DbError> {
        let max = self
            .scalar(
                "SELECT MIN(max_user) AS v FROM users WHERE max_user IS NOT NULL",
                Vec::new(),
            )
            .await?
            .is_some();
        Ok(Channel::ALL
            .into_iter()
            .filter(|c| *c != Channel::Max || max)
            .collect())
    }

    /// How far events of `name` were produced (0: from the start).
    pub async fn mark(&self, name: &str) -> Result<i64, DbError> {
        Ok(notify_mark::Entity::find_by_id(name.to_string())
            .one(self.0.conn())
            .await?
            .map_or(0, |m| m.value))
    }

    /// Moves mark `name` to `value`.
    pub async fn set_mark(&self, name: &str, value: i64) -> Result<(), DbError> {
        notify_mark::Entity::insert(notify_mark::ActiveModel {
            name: Set(name.into()),
            value: Set(value),
        })
        .on_conflict(
            OnConflict::column(notify_mark::Column::Name)
                .update_column(notify_mark::Column::Value)
                .to_owned(),
        )
        .exec_without_returning(self.0.conn())
        .await?;
        Ok(())
    }

    /// The newest period with invoices.
    pub async fn newest_invoice_period(&self) -> Result<Option<i32>, DbError> {
        Ok(self
            .scalar(
                "SELECT CAST(MAX(period) AS BIGINT) AS v FROM invoices",
                Vec::new(),
            )
            .await?
            .and_then(|p| i32::try_from(p).ok()))
    }

    /// The first and last account with an invoice of `period`.
    pub async fn invoice_accounts(&self, period: i32) -> Result<Option<(i64, i64)>, DbError> {
        let low = self
            .scalar(
                "SELECT MIN(account_id) AS v FROM invoices WHERE period = $1",
                vec![period.into()],
            )
            .await?;
        let high = self
            .scalar(
                "SELECT MAX(account_id) AS v FROM invoices WHERE period = $1",
                vec![period.into()],
            )
            .await?;
        Ok(low.zip(high))
    }

    /// The first and last account.
    pub async fn account_span(&self) -> Result<Option<(i64, i64)>, DbError> {
        let low = self
            .scalar("SELECT MIN(id) AS v FROM accounts", Vec::new())
            .await?;
        let high = self
            .scalar("SELECT MAX(id) AS v FROM accounts", Vec::new())
            .await?;
        Ok(low.zip(high))
    }

    /// The readings-window events of `kind` with `subject` for the open
    /// accounts `from..=to` in `buildings` that have an active meter and a
    /// resident — with `missing` (a period), only those with an active
    /// meter without a reading for it — and their deliveries; returns how
    /// many of each were added (none the second time).
    #[allow(clippy::too_many_arguments)]
    pub async fn readings_window(
        &self,
        kind: EventKind,
        subject: i64,
        missing: Option<i32>,
        buildings: Buildings<'_>,
        (from, to): (i64, i64),
        now: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        let before = self
            .scalar("SELECT MAX(id) AS v FROM notify_events", Vec::new())
            .await?
            .unwrap_or(0);
        let mut values: Vec<Value> = vec![
            kind.as_str().into(),
            subject.into(),
            now.into(),
            d::MeterStatus::Active.code().into(),
            from.into(),
            to.into(),
        ];
        let mut conditions = String::new();
        if let Some(period) = missing {
            values.push(period.into());
            conditions.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM meter_readings r WHERE r.meter_id = m.id AND r.period = ${})",
                values.len()
            ));
        }
        match buildings {
            Buildings::Named(address) => {
                values.push(address.trim().to_string().into());
                conditions.push_str(&format!(" AND TRIM(p.address) = ${}", values.len()));
            }
            Buildings::AllBut(others) if !others.is_empty() => {
                let mut marks = Vec::new();
                for a in others {
                    values.push(a.trim().to_string().into());
                    marks.push(format!("${}", values.len()));
                }
                conditions.push_str(&format!(" AND TRIM(p.address) NOT IN ({})", marks.join(", ")));
            }
            Buildings::AllBut(_) => {}
        }
        let events = self
            .exec(
                &format!(
                    "INSERT INTO notify_events (kind, account_id, subject, created_at) \
                     SELECT DISTINCT $1, m.account_id, $2, $3 FROM meters m \
                     JOIN accounts a ON a.id = m.account_id JOIN premises p ON p.id = a.premises_id \
                     WHERE m.status = $4 AND a.closed_on IS NULL AND m.account_id BETWEEN $5 AND $6 \
                     AND EXISTS (SELECT 1 FROM user_accounts ua WHERE ua.account_id = m.account_id){conditions} \
                     ON CONFLICT (kind, account_id, subject) DO NOTHING"
                ),
                values,
            )
            .await?;
        if events == 0 {
            return Ok((0, 0));
        }
        let deliveries = self
            .deliveries(kind, "e.id > $7", vec![before.into()], now)
            .await?;
        Ok((events, deliveries))
    }

    /// The first and last resident.
    pub async fn user_span(&self) -> Result<Option<(i64, i64)>, DbError> {
        let low = self.scalar("SELECT MIN(id) AS v FROM users", Vec::new()).await?;
        let high = self.scalar("SELECT MAX(id) AS v FROM users", Vec::new()).await?;
        Ok(low.zip(high))
    }

    /// The event of `kind` about `subject` of account `account` (0: none),
    /// made once; its id.
    pub async fn single_event(
        &self,
        kind: EventKind,
        account: i64,
        subject: i64,
        now: OffsetDateTime,
    ) -> Result<i64, DbError> {
        self.exec(
            "INSERT INTO notify_events (kind, account_id, subject, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, account_id, subject) DO NOTHING",
            vec![kind.as_str().into(), account.into(), subject.into(), now.into()],
        )
        .await?;
        self.scalar(
            "SELECT id AS v FROM notify_events WHERE kind = $1 AND account_id = $2 AND subject = $3",
            vec![kind.as_str().into(), account.into(), subject.into()],
        )
        .await?
        .ok_or(DbError::NotFound)
    }

    /// The deliveries of event `event` (of `kind`) to the residents `users`
    /// alone, on each channel each wants it on; each once. Returns how
    /// many were added.
    pub async fn user_deliveries(
        &self,
        event: i64,
        kind: EventKind,
        users: &[d::UserId],
        now: OffsetDateTime,
    ) -> Result<u64, DbError> {
        if users.is_empty() {
            return Ok(0);
        }
        let marks: Vec<String> = (0..users.len()).map(|i| format!("${}", i + 8)).collect();
        let who = format!("u.id IN ({})", marks.join(", "));
        let params = users.iter().map(|u| u.0.into()).collect();
        self.deliveries_to(event, kind, &who, params, now).await
    }

    /// One delivery of event `event` (of `kind`) on each channel to each
    /// resident `who` selects (a condition on `u` over `params`, numbered
    /// from `$8`) who is not blocked and wants it there.
    async fn deliveries_to(
        &self,
        event: i64,
        kind: EventKind,
        who: &str,
        params: Vec<Value>,
        now: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let mut added = 0;
        for channel in self.channels().await? {
            let (recipient, wants) = fan_out_terms(channel, kind);
            let mut values = fan_out_values(channel, kind, now);
            values.push(event.into());
            values.extend(params.iter().cloned());
            let sql = format!(
                "INSERT INTO outbox (channel, recipient, subject, body_text, body_html, created_at, status, attempts, \
                 next_attempt_at, last_error, user_id, event_id) \
                 SELECT $1, {recipient}, $4, '', '', $2, $3, 0, $2, '', u.id, $7 FROM users u \
                 WHERE u.blocked = $5 AND {wants} AND {who} \
                 ON CONFLICT (event_id, user_id, channel) DO NOTHING"
            );
            added += self.exec(&sql, values).await?;
        }
        Ok(added)
    }

    /// The deliveries of announcement event `event` (of `kind`) to the
    /// residents `from..=to` who see an account in one of `buildings`
    /// (empty: any), on every channel: to those who chose announcements
    /// there, or — an emergency — to everyone on every channel they have
    /// (SMS: a verified phone). Each once; returns how many were added.
    #[allow(clippy::too_many_arguments)]
    pub async fn announcement_deliveries(
        &self,
        event: i64,
        kind: EventKind,
        buildings: &[String],
        (from, to): (i64, i64),
        now: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let mut params: Vec<Value> = vec![from.into(), to.into()];
        let mut places = String::new();
        if !buildings.is_empty() {
            let mut marks = Vec::new();
            for b in buildings {
                params.push(b.clone().into());
                marks.push(format!("${}", params.len() + 7));
            }
            places = format!(" AND p.address IN ({})", marks.join(", "));
        }
        let who = format!(
            "u.id BETWEEN $8 AND $9 AND EXISTS (SELECT 1 FROM user_accounts ua \
             JOIN accounts a ON a.id = ua.account_id JOIN premises p ON p.id = a.premises_id \
             WHERE ua.user_id = u.id{places})"
        );
        self.deliveries_to(event, kind, &who, params, now).await
    }

    /// The deliveries of event `event` (a new `version` of `doc`, of
    /// `kind`) to the residents `from..=to` who have not accepted it, on
    /// every channel they chose announcements on; each once.
    pub async fn document_deliveries(
        &self,
        event: i64,
        kind: EventKind,
        (doc, version): (d::Document, i32),
        (from, to): (i64, i64),
        now: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let column = match doc {
            d::Document::Rules => "rules_version",
            d::Document::Consent => "consent_version",
        };
        let who = format!("u.id BETWEEN $8 AND $9 AND u.{column} < $10");
        self.deliveries_to(
            event,
            kind,
            &who,
            vec![from.into(), to.into(), version.into()],
            now,
        )
        .await
    }

    /// The newest payment row.
    pub async fn newest_payment(&self) -> Result<i64, DbError> {
        Ok(self
            .scalar("SELECT MAX(id) AS v FROM payments", Vec::new())
            .await?
            .unwrap_or(0))
    }

    /// The "new invoice" events of `period` for the accounts `from..=to`
    /// with an invoice of it, and their e-mail deliveries to the residents
    /// who see those accounts and want such messages; returns how many of
    /// each were added (none the second time).
    pub async fn new_invoices(
        &self,
        period: i32,
        from: i64,
        to: i64,
        now: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        let kind = EventKind::NewInvoice;
        let events = self
            .exec(
                "INSERT INTO notify_events (kind, account_id, subject, created_at) \
                 SELECT $1, i.account_id, i.period, $2 FROM invoices i \
                 WHERE i.period = $3 AND i.account_id BETWEEN $4 AND $5 \
                 ON CONFLICT (kind, account_id, subject) DO NOTHING",
                vec![
                    kind.as_str().into(),
                    now.into(),
                    period.into(),
                    from.into(),
                    to.into(),
                ],
            )
            .await?;
        let deliveries = self
            .fan_out(kind, (from, to), (i64::from(period), i64::from(period)), now)
            .await?;
        Ok((events, deliveries))
    }

    /// The "payment received" events of the payment rows `after+1..=upto`
    /// paid since `since` that came with a billing package (card payments
    /// made in the portal are told of when they are paid; a package's old
    /// history is not news), and their e-mail deliveries.
    pub async fn imported_payments(
        &self,
        after: i64,
        upto: i64,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        let kind = EventKind::PaymentImported;
        let events = self
            .exec(
                "INSERT INTO notify_events (kind, account_id, subject, created_at) \
                 SELECT $1, p.account_id, p.id, $2 FROM payments p \
                 WHERE p.id > $3 AND p.id <= $4 AND p.source <> $5 AND p.paid_at >= $6 \
                 ON CONFLICT (kind, account_id, subject) DO NOTHING",
                vec![
                    kind.as_str().into(),
                    now.into(),
                    after.into(),
                    upto.into(),
                    d::payment_source::PORTAL.into(),
                    since.into(),
                ],
            )
            .await?;
        let deliveries = self
            .fan_out(kind, (i64::MIN, i64::MAX), (after + 1, upto), now)
            .await?;
        Ok((events, deliveries))
    }

    /// Active meters whose verification is due from `from` to `to`
    /// (inclusive), after meter `after`, by id, at most `limit`: (meter,
    /// account, due day).
    pub async fn meters_due(
        &self,
        from: time::Date,
        to: time::Date,
        after: i64,
        limit: u64,
    ) -> Result<Vec<(i64, i64, time::Date)>, DbError> {
        use crate::entities::meter;
        Ok(meter::Entity::find()
            .filter(meter::Column::Status.eq(d::MeterStatus::Active.code()))
            .filter(meter::Column::VerificationDue.between(from, to))
            .filter(meter::Column::Id.gt(after))
            .order_by_asc(meter::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|m| (m.id, m.account_id, m.verification_due))
            .collect())
    }

    /// Events of `kind` for (account, subject) pairs, each once, and their
    /// e-mail deliveries; returns how many of each were added.
    pub async fn add_events(
        &self,
        kind: EventKind,
        events: &[(i64, i64)],
        now: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        use crate::entities::notify_event;
        if events.is_empty() {
            return Ok((0, 0));
        }
        let before = self
            .scalar("SELECT MAX(id) AS v FROM notify_events", Vec::new())
            .await?
            .unwrap_or(0);
        let mut added = 0;
        // Four values a row, well within SQLite's 32 766 a statement.
        for part in events.chunks(EVENTS_PER_INSERT) {
            let rows = part.iter().map(|(account, subject)| notify_event::ActiveModel {
                kind: Set(kind.as_str().into()),
                account_id: Set(*account),
                subject: Set(*subject),
                created_at: Set(now),
                ..Default::default()
            });
            added += notify_event::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        notify_event::Column::Kind,
                        notify_event::Column::AccountId,
                        notify_event::Column::Subject,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(self.0.conn())
                .await?;
        }
        let deliveries = self
            .deliveries(kind, "e.id > $7", vec![before.into()], now)
            .await?;
        Ok((added, deliveries))
    }

    /// The e-mail deliveries of the events of `kind` for `accounts` and
    /// `subjects` (both inclusive).
    async fn fan_out(
        &self,
        kind: EventKind,
        accounts: (i64, i64),
        subjects: (i64, i64),
        now: OffsetDateTime,
    ) -> Result<u64, DbError> {
        self.deliveries(
            kind,
            "e.account_id BETWEEN $7 AND $8 AND e.subject BETWEEN $9 AND $10",
            vec![
                accounts.0.into(),
                accounts.1.into(),
                subjects.0.into(),
                subjects.1.into(),
            ],
            now,
        )
        .await
    }

    /// The deliveries of the events of `kind` that also meet `filter` (on
    /// `e`, the event, with parameters from `$7` on) on every channel to
    /// every resident who sees the event's account, is not blocked and
    /// keeps the event's messages on there (SMS: to a verified phone);
    /// each once. One statement a channel.
    async fn deliveries(
        &self,
        kind: EventKind,
        filter: &str,
        values: Vec<Value>,
        now: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let mut added = 0;
        for channel in self.channels().await? {
            let (recipient, wants) = fan_out_terms(channel, kind);
            let sql = format!(
                "INSERT INTO outbox (channel, recipient, subject, body_text, body_html, created_at, status, attempts, \
                 next_attempt_at, last_error, user_id, event_id) \
                 SELECT $1, {recipient}, e.kind, '', '', $2, $3, 0, $2, '', u.id, e.id \
                 FROM notify_events e JOIN user_accounts ua ON ua.account_id = e.account_id JOIN users u ON u.id = ua.user_id \
                 WHERE e.kind = $4 AND u.blocked = $5 AND {wants} AND {filter} \
                 ON CONFLICT (event_id, user_id, channel) DO NOTHING"
            );
            let mut all = fan_out_values(channel, kind, now);
            all.extend(values.iter().cloned());
            added += self.exec(&sql, all).await?;
        }
        Ok(added)
    }

    /// Records text message `id` (an SMS or a MAX message, claimed with
    /// `token`) as taken by the provider under `provider_ref`, with its
    /// text and what is known of its delivery; `false` when the claim was
    /// lost.
    pub async fn text_sent(
        &self,
        id: d::OutboxId,
        token: Option<&str>,
        text: &str,
        (provider_ref, delivery): (&str, DeliveryState),
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let mut q = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(d::OutboxStatus::Sent.as_str()),
            )
            .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
            .col_expr(outbox::Column::BodyText, Expr::value(text))
            .col_expr(
                outbox::Column::ProviderRef,
                Expr::value(Some(provider_ref.to_string())),
            )
            .col_expr(outbox::Column::Delivery, Expr::value(delivery.as_str()))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .filter(outbox::Column::Id.eq(id.0));
        if let Some(token) = token {
            q = q.filter(outbox::Column::LockToken.eq(token));
        }
        Ok(q.exec(self.0.conn()).await?.rows_affected == 1)
    }

    /// SMS the provider took since `since` whose fate is not known yet,
    /// after row `after`: (row, provider's id, phone), by row, at most
    /// `limit`.
    pub async fn sms_awaiting(
        &self,
        since: OffsetDateTime,
        after: i64,
        limit: u64,
    ) -> Result<Vec<(d::OutboxId, String, String)>, DbError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Channel.eq(Channel::Sms.as_str()))
            .filter(outbox::Column::Id.gt(after))
            .filter(outbox::Column::Delivery.eq(DeliveryState::Accepted.as_str()))
            .filter(outbox::Column::SentAt.gte(since))
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .filter_map(|r| Some((d::OutboxId(r.id), r.provider_ref?, r.recipient)))
            .collect())
    }

    /// The SMS the provider took under `provider_ref` whose fate is not
    /// known yet: its row and phone.
    pub async fn sms_by_ref(&self, provider_ref: &str) -> Result<Option<(d::OutboxId, String)>, DbError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Channel.eq(Channel::Sms.as_str()))
            .filter(outbox::Column::ProviderRef.eq(provider_ref))
            .filter(outbox::Column::Delivery.eq(DeliveryState::Accepted.as_str()))
            .one(self.0.conn())
            .await?
            .map(|r| (d::OutboxId(r.id), r.recipient)))
    }

    /// Records what the provider says became of SMS `id`.
    pub async fn set_delivery(&self, id: d::OutboxId, state: DeliveryState) -> Result<(), DbError> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Delivery, Expr::value(state.as_str()))
            .filter(outbox::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Records delivery `id` (claimed with `token`) as sent, with the text
    /// it went with; `false` when the claim was lost.
    pub async fn sent(
        &self,
        id: d::OutboxId,
        token: &str,
        mail: &d::Email,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let n = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(d::OutboxStatus::Sent.as_str()),
            )
            .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
            .col_expr(outbox::Column::Recipient, Expr::value(mail.to.as_str()))
            .col_expr(outbox::Column::Subject, Expr::value(mail.subject.clone()))
            .col_expr(outbox::Column::BodyText, Expr::value(mail.text.clone()))
            .col_expr(outbox::Column::BodyHtml, Expr::value(mail.html.clone()))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .filter(outbox::Column::Id.eq(id.0))
            .filter(outbox::Column::LockToken.eq(token))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
    }

    /// Releases delivery `id` to be tried again at `at` (`None`: given up,
    /// failed), after an attempt that failed with `error` (`None`: not
    /// attempted — quiet hours).
    pub async fn release(
        &self,
        id: d::OutboxId,
        token: &str,
        error: Option<&str>,
        at: Option<OffsetDateTime>,
    ) -> Result<(), DbError> {
        let mut q = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .filter(outbox::Column::Id.eq(id.0))
            .filter(outbox::Column::LockToken.eq(token));
        match at {
            Some(at) => q = q.col_expr(outbox::Column::NextAttemptAt, Expr::value(at)),
            None => {
                q = q.col_expr(
                    outbox::Column::Status,
                    Expr::value(d::OutboxStatus::Failed.as_str()),
                )
            }
        }
        if let Some(e) = error {
            q = q
                .col_expr(
                    outbox::Column::LastError,
                    Expr::value(e.chars().take(500).collect::<String>()),
                )
                .col_expr(
                    outbox::Column::Attempts,
                    Expr::col(outbox::Column::Attempts).add(1),
                );
        }
        q.exec(self.0.conn()).await?;
        Ok(())
    }

    /// Marks delivery `id` skipped: the resident no longer wants it.
    pub async fn skipped(&self, id: d::OutboxId, token: &str) -> Result<(), DbError> {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(d::OutboxStatus::Skipped.as_str()),
            )
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .filter(outbox::Column::Id.eq(id.0))
            .filter(outbox::Column::LockToken.eq(token))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// A delivery's resident, event kind and whether its unsubscribe link
    /// was used already.
    pub async fn unsubscribe_target(
        &self,
        id: d::OutboxId,
    ) -> Result<Option<(d::UserId, EventKind, bool)>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: Option<i64>,
            kind: String,
            used: i32,
        }
        let c = self.0.conn();
        let row = Row::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT o.user_id, e.kind, CASE WHEN o.unsubscribed_at IS NULL THEN 0 ELSE 1 END AS used \
             FROM outbox o JOIN notify_events e ON e.id = o.event_id WHERE o.id = $1",
            [id.0.into()],
        ))
        .one(c)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (Some(user), Some(kind)) = (row.user_id, EventKind::from_stored(&row.kind)) else {
            return Ok(None);
        };
        Ok(Some((d::UserId(user), kind, row.used != 0)))
    }

    /// Records that delivery `id`'s unsubscribe link was used; `false` when
    /// it had been already.
    pub async fn use_unsubscribe(&self, id: d::OutboxId, now: OffsetDateTime) -> Result<bool, DbError> {
        let n = outbox::Entity::update_many()
            .col_expr(outbox::Column::UnsubscribedAt, Expr::value(Some(now)))
            .filter(outbox::Column::Id.eq(id.0))
            .filter(outbox::Column::UnsubscribedAt.is_null())
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
    }

    /// Deliveries waiting on `channel` (for the bench and the command line).
    pub async fn waiting(&self, channel: Channel) -> Result<u64, DbError> {
        Ok(self
            .scalar(
                "SELECT COUNT(*) AS v FROM outbox WHERE event_id IS NOT NULL AND channel = $1 AND status = $2",
                vec![
                    channel.as_str().into(),
                    d::OutboxStatus::Pending.as_str().into(),
                ],
            )
            .await?
            .map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }
}

impl Notify<'_, Db> {
    /// Takes up to `limit` deliveries on `channel` due at `now` — with
    /// `urgent_only`, only of [`EventKind::urgent`] kinds (a delivery not
    /// sent yet holds its kind as its subject) — and leases them to `token`
    /// until `now + lease`, in a transaction of its own.
    pub async fn claim(
        &self,
        channel: Channel,
        urgent_only: bool,
        now: OffsetDateTime,
        lease: Duration,
        limit: u64,
        token: &str,
    ) -> Result<Vec<Delivery>, DbError> {
        let tx = self.0.begin().await?;
        let mut q = outbox::Entity::find()
            .filter(outbox::Column::EventId.is_not_null())
            .filter(outbox::Column::Channel.eq(channel.as_str()))
            .filter(outbox::Column::Status.eq(d::OutboxStatus::Pending.as_str()))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(outbox::Column::LockedUntil.is_null())
                    .add(outbox::Column::LockedUntil.lt(now)),
            )
            .order_by_asc(outbox::Column::NextAttemptAt)
            .order_by_asc(outbox::Column::Id)
            .limit(limit);
        if urgent_only {
            q = q.filter(outbox::Column::Subject.is_in(EventKind::all_urgent().map(EventKind::as_str)));
        }
        if tx.backend() == Backend::Postgres {
            q = q.lock_with_behavior(
                sea_orm::sea_query::LockType::Update,
                sea_orm::sea_query::LockBehavior::SkipLocked,
            );
        }
        let rows = q.all(tx.conn()).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LockedUntil, Expr::value(Some(now + lease)))
            .col_expr(outbox::Column::LockToken, Expr::value(Some(token.to_string())))
            .filter(outbox::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(tx.conn())
            .await?;
        let events: std::collections::HashMap<i64, crate::entities::notify_event::Model> =
            crate::entities::notify_event::Entity::find()
                .filter(
                    crate::entities::notify_event::Column::Id.is_in(rows.iter().filter_map(|r| r.event_id)),
                )
                .all(tx.conn())
                .await?
                .into_iter()
                .map(|e| (e.id, e))
                .collect();
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let e = events.get(&r.event_id?)?;
                Some(Delivery {
                    id: d::OutboxId(r.id),
                    user_id: d::UserId(r.user_id?),
                    channel: Channel::from_stored(&r.channel)?,
                    recipient: r.recipient,
                    kind: EventKind::from_stored(&e.kind)?,
                    account_id: d::AccountId(e.account_id),
                    subject: e.subject,
                    attempts: r.attempts,
                })
            })
            .collect())
    }
}
