//! The outbox: e-mails written in the same transaction as the change that
//! causes them, each with a job (kind [`kabinet_domain::jobs::EMAIL`]) that
//! delivers it later; the job runner leases, retries and gives up. The row
//! keeps what a person asks about a message: sent, pending or failed, with
//! its attempts and last error (`kabinet outbox`).

use crate::convert::corrupt;
use crate::entities::outbox;
use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::notify::{Channel, DeliveryState};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use time::OffsetDateTime;

fn to_message(m: outbox::Model) -> Result<d::OutboxMessage, DbError> {
    Ok(d::OutboxMessage {
        id: d::OutboxId(m.id),
        email: d::Email {
            to: d::EmailAddress::parse(&m.recipient)
                .map_err(|_| corrupt("outbox", "recipient", &m.recipient))?,
            subject: m.subject,
            text: m.body_text,
            html: m.body_html,
        },
        status: d::OutboxStatus::from_stored(&m.status)
            .ok_or_else(|| corrupt("outbox", "status", &m.status))?,
        attempts: m.attempts,
        created_at: m.created_at,
        next_attempt_at: m.next_attempt_at,
        last_error: m.last_error,
    })
}

/// Attempts at delivering one e-mail before it is given up.
pub const MAX_ATTEMPTS: i32 = 10;
/// Attempts at sending a verification code: it is of no use after its
/// ten minutes.
pub const SMS_ATTEMPTS: i32 = 3;

/// The outbox's `channel` of e-mails.
const EMAIL: &str = "email";

fn to_sms(m: outbox::Model) -> Result<d::SmsMessage, DbError> {
    Ok(d::SmsMessage {
        id: d::OutboxId(m.id),
        phone: m.recipient,
        text: m.body_text,
        kind: m.event_id.map(|_| m.subject),
        status: d::OutboxStatus::from_stored(&m.status)
            .ok_or_else(|| corrupt("outbox", "status", &m.status))?,
        delivery: DeliveryState::from_stored(&m.delivery),
        attempts: m.attempts,
        created_at: m.created_at,
        sent_at: m.sent_at,
        last_error: m.last_error,
    })
}

/// A message to write into the outbox.
struct Queued<'a> {
    channel: &'a str,
    recipient: &'a str,
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    user: Option<d::UserId>,
}

/// The outbox of e-mails and SMS (see [`crate::Repos::outbox`]).
pub struct Outbox<'a, C>(pub(crate) &'a C);

impl<C: Conn> Outbox<'_, C> {
    /// Queues one e-mail, kept by the resident it is written for (`user`;
    /// `None` for staff and other mail); inside a transaction it goes out
    /// only if the change that caused it commits.
    pub async fn queue(
        &self,
        e: &d::Email,
        user: Option<d::UserId>,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let message = Queued {
            channel: EMAIL,
            recipient: e.to.as_str(),
            subject: &e.subject,
            text: &e.text,
            html: &e.html,
            user,
        };
        self.put(&message, d::jobs::EMAIL, MAX_ATTEMPTS, now).await?;
        Ok(())
    }

    /// Writes `message` and the job (of `kind`, `attempts` at most) that
    /// sends it at once.
    async fn put(
        &self,
        message: &Queued<'_>,
        kind: &str,
        attempts: i32,
        now: OffsetDateTime,
    ) -> Result<d::OutboxId, DbError> {
        let row = outbox::ActiveModel {
            user_id: Set(message.user.map(|u| u.0)),
            channel: Set(message.channel.into()),
            recipient: Set(message.recipient.into()),
            subject: Set(message.subject.into()),
            body_text: Set(message.text.into()),
            body_html: Set(message.html.into()),
            created_at: Set(now),
            status: Set(d::OutboxStatus::Pending.as_str().into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            last_error: Set(String::new()),
            sent_at: Set(None),
            provider_ref: Set(None),
            delivery: Set(String::new()),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        crate::jobs::Jobs(self.0)
            .enqueue(
                &d::jobs::NewJob {
                    kind: kind.into(),
                    payload: format!("{{\"outbox\":{}}}", row.id),
                    run_at: now,
                    max_attempts: attempts,
                    unique_key: None,
                },
                now,
            )
            .await?;
        Ok(d::OutboxId(row.id))
    }

    /// One e-mail.
    pub async fn get(&self, id: d::OutboxId) -> Result<Option<d::OutboxMessage>, DbError> {
        outbox::Entity::find_by_id(id.0)
            .filter(outbox::Column::Channel.eq(EMAIL))
            .one(self.0.conn())
            .await?
            .map(to_message)
            .transpose()
    }

    /// Queues one SMS to `phone` for `user` outside the notifications (a
    /// verification code), sent by a job of kind
    /// [`kabinet_domain::jobs::SMS`] at once, quiet hours or not.
    pub async fn queue_sms(
        &self,
        phone: &d::Phone,
        text: &str,
        user: d::UserId,
        now: OffsetDateTime,
    ) -> Result<d::OutboxId, DbError> {
        let message = Queued {
            channel: Channel::Sms.as_str(),
            recipient: phone.as_str(),
            subject: "",
            text,
            html: "",
            user: Some(user),
        };
        self.put(&message, d::jobs::SMS, SMS_ATTEMPTS, now).await
    }

    /// One SMS.
    pub async fn sms(&self, id: d::OutboxId) -> Result<Option<d::SmsMessage>, DbError> {
        outbox::Entity::find_by_id(id.0)
            .filter(outbox::Column::Channel.eq(Channel::Sms.as_str()))
            .one(self.0.conn())
            .await?
            .map(to_sms)
            .transpose()
    }

    /// The newest `limit` text messages (SMS or MAX, by `channel`) written
    /// for one resident, newest first.
    pub async fn texts_of_user(
        &self,
        user: d::UserId,
        channel: Channel,
        limit: u64,
    ) -> Result<Vec<d::SmsMessage>, DbError> {
        outbox::Entity::find()
            .filter(outbox::Column::UserId.eq(user.0))
            .filter(outbox::Column::Channel.eq(channel.as_str()))
            .order_by_desc(outbox::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_sms)
            .collect()
    }

    /// Marks a message delivered.
    pub async fn sent(&self, id: d::OutboxId, now: OffsetDateTime) -> Result<(), DbError> {
        end_attempt(id)
            .col_expr(
                outbox::Column::Status,
                Expr::value(d::OutboxStatus::Sent.as_str()),
            )
            .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Records a failed attempt: the message stays pending for the next
    /// attempt its job makes at `retry_at`, or is given up (status `failed`)
    /// when that is `None`.
    pub async fn attempt_failed(
        &self,
        id: d::OutboxId,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), DbError> {
        let mut u = end_attempt(id).col_expr(
            outbox::Column::LastError,
            Expr::value(error.chars().take(2000).collect::<String>()),
        );
        u = match retry_at {
            Some(at) => u
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
                .col_expr(
                    outbox::Column::Status,
                    Expr::value(d::OutboxStatus::Pending.as_str()),
                ),
            None => u.col_expr(
                outbox::Column::Status,
                Expr::value(d::OutboxStatus::Failed.as_str()),
            ),
        };
        u.exec(self.0.conn()).await?;
        Ok(())
    }

    /// Messages in the outbox, newest first, optionally only those in `status`.
    pub async fn messages(
        &self,
        status: Option<d::OutboxStatus>,
        limit: u64,
    ) -> Result<Vec<d::OutboxMessage>, DbError> {
        let mut q = outbox::Entity::find()
            .filter(outbox::Column::Channel.eq(EMAIL))
            .order_by_desc(outbox::Column::Id)
            .limit(limit);
        if let Some(s) = status {
            q = q.filter(outbox::Column::Status.eq(s.as_str()));
        }
        q.all(self.0.conn()).await?.into_iter().map(to_message).collect()
    }

    /// The newest `limit` messages to one address, newest first.
    pub async fn to_recipient(
        &self,
        to: &d::EmailAddress,
        limit: u64,
    ) -> Result<Vec<d::OutboxMessage>, DbError> {
        self.newest(outbox::Column::Recipient.eq(to.as_str()), limit)
            .await
    }

    /// The newest `limit` messages written for one resident, newest first
    /// (whatever address each went to).
    pub async fn of_user(&self, user: d::UserId, limit: u64) -> Result<Vec<d::OutboxMessage>, DbError> {
        self.newest(outbox::Column::UserId.eq(user.0), limit).await
    }

    async fn newest(
        &self,
        which: sea_orm::sea_query::SimpleExpr,
        limit: u64,
    ) -> Result<Vec<d::OutboxMessage>, DbError> {
        outbox::Entity::find()
            .filter(which)
            .filter(outbox::Column::Channel.eq(EMAIL))
            .order_by_desc(outbox::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_message)
            .collect()
    }
}

/// The update that ends a delivery attempt on message `id`, whatever its
/// outcome: one more attempt counted and the lease released.
fn end_attempt(id: d::OutboxId) -> sea_orm::UpdateMany<outbox::Entity> {
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .filter(outbox::Column::Id.eq(id.0))
}
