//! Counters per personal account that must hold across servers (failed
//! registration checks, e-mails sent on someone else's request). A use case
//! reads a counter and decides what happens in one transaction that holds the
//! counter's row, so two servers answering at once cannot both slip under a
//! limit; what it decides — the new count, the audit line, an e-mail, a reset
//! link — is written in that same transaction.

use crate::audit::insert_audit;
use crate::entities::{account_counter, password_reset};
use crate::outbox::insert_email;
use crate::{Backend, Db, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use time::OffsetDateTime;

/// What an account counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterKind {
    /// Failed registration checks (the amount or the passport did not match).
    Registration,
    /// E-mails to the account's resident that someone else caused (reset
    /// links, "already registered" notices).
    Mail,
}

impl CounterKind {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CounterKind::Registration => "registration",
            CounterKind::Mail => "mail",
        }
    }
}

/// A password-reset link to store: its token's hash, whose, until when.
#[derive(Debug, Clone)]
pub struct NewPasswordReset {
    /// The user whose password the link sets.
    pub user_id: d::UserId,
    /// SHA-256 of the link's token, hex.
    pub token_hash: String,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

/// What to write after looking at a counter; everything in it is written in
/// the transaction that read the counter.
#[derive(Debug, Clone)]
pub struct CounterStep<T> {
    /// The counter's new value; `None` leaves it as it is.
    pub store: Option<d::Counter>,
    /// An audit line.
    pub audit: Option<d::AuditEntry>,
    /// An e-mail to queue.
    pub email: Option<d::Email>,
    /// A password-reset link to store (earlier unused links of the user stop
    /// working).
    pub reset: Option<NewPasswordReset>,
    /// What the caller learns.
    pub result: T,
}

impl<T> CounterStep<T> {
    /// Changes nothing and returns `result`.
    pub fn nothing(result: T) -> CounterStep<T> {
        CounterStep {
            store: None,
            audit: None,
            email: None,
            reset: None,
            result,
        }
    }
}

fn to_counter(m: Option<account_counter::Model>) -> d::Counter {
    m.map_or_else(d::Counter::default, |m| d::Counter {
        count: m.count,
        window_start: m.window_start,
        last_at: m.last_at,
    })
}

impl Db {
    /// The counter of `kind` on `account` (zero when nothing was counted).
    pub async fn counter(&self, account: d::AccountId, kind: CounterKind) -> Result<d::Counter, DbError> {
        Ok(to_counter(
            account_counter::Entity::find_by_id((account.0, kind.as_str().to_string()))
                .one(self.conn())
                .await?,
        ))
    }

    /// Reads the counter of `kind` on `account`, lets `decide` say what to
    /// write, and writes it, all in one transaction holding the counter's row
    /// (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's write lock). `decide`
    /// gets the time read once the row is held, so requests that queued for it
    /// see the clock move forward in the order they are counted.
    pub async fn with_counter<T>(
        &self,
        account: d::AccountId,
        kind: CounterKind,
        decide: impl FnOnce(d::Counter, OffsetDateTime) -> CounterStep<T>,
    ) -> Result<T, DbError> {
        let tx = self.write_tx().await?;
        let key = (account.0, kind.as_str().to_string());
        // The row must exist to be locked; a new one starts at zero.
        account_counter::Entity::insert(account_counter::ActiveModel {
            account_id: Set(account.0),
            kind: Set(key.1.clone()),
            count: Set(0),
            window_start: Set(None),
            last_at: Set(None),
        })
        .on_conflict_do_nothing_on([account_counter::Column::AccountId, account_counter::Column::Kind])
        .exec(&tx)
        .await?;
        let mut q = account_counter::Entity::find_by_id(key.clone());
        if self.backend() == Backend::Postgres {
            q = q.lock_exclusive();
        }
        let current = to_counter(q.one(&tx).await?);
        let now = OffsetDateTime::now_utc();
        let step = decide(current, now);
        if let Some(c) = step.store {
            account_counter::Entity::update_many()
                .col_expr(account_counter::Column::Count, Expr::value(c.count))
                .col_expr(account_counter::Column::WindowStart, Expr::value(c.window_start))
                .col_expr(account_counter::Column::LastAt, Expr::value(c.last_at))
                .filter(account_counter::Column::AccountId.eq(account.0))
                .filter(account_counter::Column::Kind.eq(key.1.as_str()))
                .exec(&tx)
                .await?;
        }
        if let Some(r) = &step.reset {
            password_reset::Entity::update_many()
                .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now)))
                .filter(password_reset::Column::UserId.eq(r.user_id.0))
                .filter(password_reset::Column::UsedAt.is_null())
                .exec(&tx)
                .await?;
            password_reset::ActiveModel {
                token_hash: Set(r.token_hash.clone()),
                user_id: Set(r.user_id.0),
                created_at: Set(now),
                expires_at: Set(r.expires_at),
                used_at: Set(None),
                ..Default::default()
            }
            .insert(&tx)
            .await?;
        }
        if let Some(mail) = &step.email {
            insert_email(&tx, mail, now).await?;
        }
        if let Some(a) = &step.audit {
            insert_audit(&tx, a, now).await?;
        }
        tx.commit().await?;
        Ok(step.result)
    }

    /// Clears the counter of `kind` on `account` (staff unlocking a
    /// registration) with its audit line.
    pub async fn clear_counter(
        &self,
        account: d::AccountId,
        kind: CounterKind,
        audit: &d::AuditEntry,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        account_counter::Entity::delete_many()
            .filter(account_counter::Column::AccountId.eq(account.0))
            .filter(account_counter::Column::Kind.eq(kind.as_str()))
            .exec(&tx)
            .await?;
        insert_audit(&tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
