//! Counters per personal account that must hold across servers (failed
//! registration checks, e-mails sent on someone else's request). A use case
//! reads a counter with [`Counters::lock`] inside its transaction, decides,
//! and stores the new count with what it writes; two servers answering at
//! once queue for the row instead of both slipping under a limit.

use crate::entities::account_counter;
use crate::{Backend, Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

/// What an account counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterKind {
    /// Failed registration checks (the amount or the passport did not match).
    Registration,
    /// E-mails to the account's resident that someone else caused (reset
    /// links, "already registered" notices).
    Mail,
    /// Failed attempts of the user who signs in with this account to link
    /// other accounts (any account: the limit is per user).
    LinkAttempts,
    /// Readings submissions of the user who signs in with this account.
    Readings,
    /// Comments on requests by the user who signs in with this account.
    Comments,
}

impl CounterKind {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CounterKind::Registration => "registration",
            CounterKind::Mail => "mail",
            CounterKind::LinkAttempts => "link_attempts",
            CounterKind::Readings => "readings",
            CounterKind::Comments => "comments",
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

/// Account counters (see [`crate::Repos::counters`]).
pub struct Counters<'a, C>(pub(crate) &'a C);

impl<C: Conn> Counters<'_, C> {
    /// The counter of `kind` on `account` (zero when nothing was counted).
    pub async fn get(&self, account: d::AccountId, kind: CounterKind) -> Result<d::Counter, DbError> {
        Ok(to_counter(
            account_counter::Entity::find_by_id((account.0, kind.as_str().to_string()))
                .one(self.0.conn())
                .await?,
        ))
    }

    /// The counter, with its row held until the transaction ends (`SELECT …
    /// FOR UPDATE` on PostgreSQL; a SQLite write transaction holds the whole
    /// database). Use it inside a transaction.
    pub async fn lock(&self, account: d::AccountId, kind: CounterKind) -> Result<d::Counter, DbError> {
        // The row must exist to be locked; a new one starts at zero.
        account_counter::Entity::insert(account_counter::ActiveModel {
            account_id: Set(account.0),
            kind: Set(kind.as_str().to_string()),
            count: Set(0),
            window_start: Set(None),
            last_at: Set(None),
        })
        .on_conflict_do_nothing_on([account_counter::Column::AccountId, account_counter::Column::Kind])
        .exec(self.0.conn())
        .await?;
        let mut q = account_counter::Entity::find_by_id((account.0, kind.as_str().to_string()));
        if self.0.backend() == Backend::Postgres {
            q = q.lock_exclusive();
        }
        Ok(to_counter(q.one(self.0.conn()).await?))
    }

    /// Stores a counter's new value.
    pub async fn store(
        &self,
        account: d::AccountId,
        kind: CounterKind,
        c: d::Counter,
    ) -> Result<(), DbError> {
        account_counter::Entity::update_many()
            .col_expr(account_counter::Column::Count, Expr::value(c.count))
            .col_expr(account_counter::Column::WindowStart, Expr::value(c.window_start))
            .col_expr(account_counter::Column::LastAt, Expr::value(c.last_at))
            .filter(account_counter::Column::AccountId.eq(account.0))
            .filter(account_counter::Column::Kind.eq(kind.as_str()))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Clears the counter of `kind` on `account`.
    pub async fn clear(&self, account: d::AccountId, kind: CounterKind) -> Result<(), DbError> {
        account_counter::Entity::delete_many()
            .filter(account_counter::Column::AccountId.eq(account.0))
            .filter(account_counter::Column::Kind.eq(kind.as_str()))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }
}
