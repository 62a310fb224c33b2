//! Autopay: the methods the gateway keeps, each account's autopay, and the
//! debits of invoices. A debit is one row per account and invoice period
//! (UNIQUE), and it moves `scheduled` → `charging` → `paid` | `failed` by
//! conditional updates, so of any number of job runs (on any number of
//! servers) exactly one charges an invoice.

use crate::convert::corrupt;
use crate::entities::{autopay, autopay_debit, saved_method};
use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::autopay::{Autopay, Debit, DebitStatus, SavedMethod};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::{Date, OffsetDateTime};

impl From<saved_method::Model> for SavedMethod {
    fn from(m: saved_method::Model) -> SavedMethod {
        SavedMethod {
            id: m.id,
            user_id: d::UserId(m.user_id),
            gateway: m.gateway,
            method_id: m.method_id,
            kind: m.kind.as_deref().and_then(d::payment_methods::PayMethod::parse),
            title: m.title,
            created_at: m.created_at,
        }
    }
}

impl From<autopay::Model> for Autopay {
    fn from(m: autopay::Model) -> Autopay {
        Autopay {
            id: m.id,
            account_id: d::AccountId(m.account_id),
            user_id: d::UserId(m.user_id),
            method_id: m.method_id,
            max_amount: d::Kopecks(m.max_amount),
            day: m.day.and_then(|x| u8::try_from(x).ok()),
            after_period: m.after_period,
            failures: m.failures,
            enabled: m.enabled,
        }
    }
}

impl TryFrom<autopay_debit::Model> for Debit {
    type Error = DbError;
    fn try_from(m: autopay_debit::Model) -> Result<Debit, DbError> {
        Ok(Debit {
            status: DebitStatus::from_stored(&m.status)
                .ok_or_else(|| corrupt("autopay_debits", "status", &m.status))?,
            period: crate::convert::period("autopay_debits", m.period)?,
            id: m.id,
            autopay_id: m.autopay_id,
            account_id: d::AccountId(m.account_id),
            amount: d::Kopecks(m.amount),
            debit_on: m.debit_on,
            notice_on: m.notice_on,
            noticed: m.noticed,
            card_payment_id: m.card_payment_id.map(d::CardPaymentId),
            updated_at: m.updated_at,
        })
    }
}

/// A debit to plan.
#[derive(Debug, Clone)]
pub struct NewDebit {
    /// The autopay.
    pub autopay_id: i64,
    /// The account.
    pub account_id: d::AccountId,
    /// The invoice's period.
    pub period: d::Period,
    /// The invoice's total.
    pub amount: d::Kopecks,
    /// When it is paid.
    pub debit_on: Date,
    /// When the notice goes.
    pub notice_on: Date,
    /// `scheduled`, or `skipped` (over the maximum).
    pub status: DebitStatus,
}

/// Autopay (see [`crate::Repos::autopay`]).
pub struct AutopayRepo<'a, C>(pub(crate) &'a C);

impl<C: Conn> AutopayRepo<'_, C> {
    /// Keeps a method the gateway saved for `user` (the same gateway id
    /// again is the same method, kept again if it was forgotten).
    pub async fn save_method(
        &self,
        user: d::UserId,
        gateway: &str,
        method_id: &str,
        kind: Option<&str>,
        title: &str,
        now: OffsetDateTime,
    ) -> Result<(SavedMethod, bool), DbError> {
        let row = saved_method::ActiveModel {
            user_id: Set(user.0),
            gateway: Set(gateway.into()),
            method_id: Set(method_id.chars().take(64).collect()),
            kind: Set(kind.map(str::to_string)),
            title: Set(title.chars().take(64).collect()),
            created_at: Set(now),
            forgotten_at: Set(None),
            ..Default::default()
        };
        let inserted = saved_method::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([saved_method::Column::Gateway, saved_method::Column::MethodId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.0.conn())
            .await?
            > 0;
        let none: Option<OffsetDateTime> = None;
        saved_method::Entity::update_many()
            .col_expr(saved_method::Column::ForgottenAt, Expr::value(none))
            .col_expr(saved_method::Column::UserId, Expr::value(user.0))
            .filter(saved_method::Column::Gateway.eq(gateway))
            .filter(saved_method::Column::MethodId.eq(method_id))
            .exec(self.0.conn())
            .await?;
        let m = saved_method::Entity::find()
            .filter(saved_method::Column::Gateway.eq(gateway))
            .filter(saved_method::Column::MethodId.eq(method_id))
            .one(self.0.conn())
            .await?
            .ok_or_else(|| corrupt("saved_methods", "method_id", method_id))?;
        Ok((m.into(), inserted))
    }

    /// A resident's kept methods, oldest first.
    pub async fn methods_of(&self, user: d::UserId) -> Result<Vec<SavedMethod>, DbError> {
        Ok(saved_method::Entity::find()
            .filter(saved_method::Column::UserId.eq(user.0))
            .filter(saved_method::Column::ForgottenAt.is_null())
            .order_by_asc(saved_method::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A kept method by row id, while it is kept.
    pub async fn method(&self, id: i64) -> Result<Option<SavedMethod>, DbError> {
        Ok(saved_method::Entity::find_by_id(id)
            .filter(saved_method::Column::ForgottenAt.is_null())
            .one(self.0.conn())
            .await?
            .map(Into::into))
    }

    /// Forgets `user`'s method `id` and turns off the autopays it paid;
    /// false if it was not theirs or forgotten already.
    pub async fn forget_method(
        &self,
        user: d::UserId,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let n = saved_method::Entity::update_many()
            .col_expr(saved_method::Column::ForgottenAt, Expr::value(now))
            .filter(saved_method::Column::Id.eq(id))
            .filter(saved_method::Column::UserId.eq(user.0))
            .filter(saved_method::Column::ForgottenAt.is_null())
            .exec(self.0.conn())
            .await?
            .rows_affected;
        if n == 1 {
            autopay::Entity::update_many()
                .col_expr(autopay::Column::Enabled, Expr::value(false))
                .col_expr(autopay::Column::UpdatedAt, Expr::value(now))
                .filter(autopay::Column::MethodId.eq(id))
                .exec(self.0.conn())
                .await?;
        }
        Ok(n == 1)
    }

    /// The autopay of an account, on or off.
    pub async fn of_account(&self, account: d::AccountId) -> Result<Option<Autopay>, DbError> {
        Ok(autopay::Entity::find()
            .filter(autopay::Column::AccountId.eq(account.0))
            .one(self.0.conn())
            .await?
            .map(Into::into))
    }

    /// Sets an account's autopay (on). False when another resident's
    /// autopay of the account is on: an invoice is paid by one only.
    #[allow(clippy::too_many_arguments)]
    pub async fn set(
        &self,
        account: d::AccountId,
        user: d::UserId,
        method: i64,
        max: d::Kopecks,
        day: Option<u8>,
        after_period: i32,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let existing = self.of_account(account).await?;
        if existing.as_ref().is_some_and(|a| a.enabled && a.user_id != user) {
            return Ok(false);
        }
        let day = day.map(i16::from);
        match existing {
            Some(a) => {
                // Turning it on again keeps what was there before as old;
                // changing an autopay that is on keeps its starting point.
                let after = if a.enabled { a.after_period } else { after_period };
                autopay::Entity::update_many()
                    .col_expr(autopay::Column::UserId, Expr::value(user.0))
                    .col_expr(autopay::Column::MethodId, Expr::value(method))
                    .col_expr(autopay::Column::MaxAmount, Expr::value(max.0))
                    .col_expr(autopay::Column::Day, Expr::value(day))
                    .col_expr(autopay::Column::AfterPeriod, Expr::value(after))
                    .col_expr(
                        autopay::Column::Failures,
                        Expr::value(if a.enabled { a.failures } else { 0 }),
                    )
                    .col_expr(autopay::Column::Enabled, Expr::value(true))
                    .col_expr(autopay::Column::UpdatedAt, Expr::value(now))
                    .filter(autopay::Column::Id.eq(a.id))
                    .exec(self.0.conn())
                    .await?;
            }
            None => {
                let row = autopay::ActiveModel {
                    account_id: Set(account.0),
                    user_id: Set(user.0),
                    method_id: Set(method),
                    max_amount: Set(max.0),
                    day: Set(day),
                    after_period: Set(after_period),
                    failures: Set(0),
                    enabled: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                autopay::Entity::insert(row)
                    .exec_without_returning(self.0.conn())
                    .await?;
            }
        }
        Ok(true)
    }

    /// Turns an account's autopay off (only `user`'s, when given); true if
    /// it was on.
    pub async fn disable(
        &self,
        account: d::AccountId,
        user: Option<d::UserId>,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let mut q = autopay::Entity::update_many()
            .col_expr(autopay::Column::Enabled, Expr::value(false))
            .col_expr(autopay::Column::UpdatedAt, Expr::value(now))
            .filter(autopay::Column::AccountId.eq(account.0))
            .filter(autopay::Column::Enabled.eq(true));
        if let Some(u) = user {
            q = q.filter(autopay::Column::UserId.eq(u.0));
        }
        Ok(q.exec(self.0.conn()).await?.rows_affected == 1)
    }

    /// Every autopay that is on.
    pub async fn enabled(&self) -> Result<Vec<Autopay>, DbError> {
        Ok(autopay::Entity::find()
            .filter(autopay::Column::Enabled.eq(true))
            .order_by_asc(autopay::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// An autopay by row id.
    pub async fn autopay(&self, id: i64) -> Result<Option<Autopay>, DbError> {
        Ok(autopay::Entity::find_by_id(id)
            .one(self.0.conn())
            .await?
            .map(Into::into))
    }

    /// Counts a failed debit; the failures in a row after it.
    pub async fn failed(&self, autopay_id: i64, now: OffsetDateTime) -> Result<i32, DbError> {
        autopay::Entity::update_many()
            .col_expr(
                autopay::Column::Failures,
                Expr::col(autopay::Column::Failures).add(1),
            )
            .col_expr(autopay::Column::UpdatedAt, Expr::value(now))
            .filter(autopay::Column::Id.eq(autopay_id))
            .exec(self.0.conn())
            .await?;
        Ok(self.autopay(autopay_id).await?.map_or(0, |a| a.failures))
    }

    /// A debit went through: the failures in a row start again.
    pub async fn succeeded(&self, autopay_id: i64) -> Result<(), DbError> {
        autopay::Entity::update_many()
            .col_expr(autopay::Column::Failures, Expr::value(0))
            .filter(autopay::Column::Id.eq(autopay_id))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Plans a debit; `None` when the invoice has one already.
    pub async fn plan(&self, n: &NewDebit, now: OffsetDateTime) -> Result<Option<Debit>, DbError> {
        let row = autopay_debit::ActiveModel {
            autopay_id: Set(n.autopay_id),
            account_id: Set(n.account_id.0),
            period: Set(n.period.yyyymm()),
            amount: Set(n.amount.0),
            debit_on: Set(n.debit_on),
            notice_on: Set(n.notice_on),
            status: Set(n.status.as_str().into()),
            noticed: Set(false),
            card_payment_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let added = autopay_debit::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([autopay_debit::Column::AccountId, autopay_debit::Column::Period])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.0.conn())
            .await?;
        if added == 0 {
            return Ok(None);
        }
        self.debit_of(n.account_id, n.period).await
    }

    /// The debit of an account's invoice.
    pub async fn debit_of(&self, account: d::AccountId, period: d::Period) -> Result<Option<Debit>, DbError> {
        autopay_debit::Entity::find()
            .filter(autopay_debit::Column::AccountId.eq(account.0))
            .filter(autopay_debit::Column::Period.eq(period.yyyymm()))
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// A debit by row id.
    pub async fn debit(&self, id: i64) -> Result<Option<Debit>, DbError> {
        autopay_debit::Entity::find_by_id(id)
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn debits(&self, condition: Condition, limit: u64) -> Result<Vec<Debit>, DbError> {
        autopay_debit::Entity::find()
            .filter(condition)
            .order_by_asc(autopay_debit::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Planned debits whose notice is due by `today` and not produced yet.
    pub async fn to_notice(&self, today: Date, limit: u64) -> Result<Vec<Debit>, DbError> {
        use autopay_debit::Column as C;
        self.debits(
            Condition::all()
                .add(C::Status.eq(DebitStatus::Scheduled.as_str()))
                .add(C::Noticed.eq(false))
                .add(C::NoticeOn.lte(today)),
            limit,
        )
        .await
    }

    /// Marks a debit's notice produced; true for the one caller that did.
    pub async fn noticed(&self, id: i64) -> Result<bool, DbError> {
        use autopay_debit::Column as C;
        Ok(autopay_debit::Entity::update_many()
            .col_expr(C::Noticed, Expr::value(true))
            .filter(C::Id.eq(id))
            .filter(C::Noticed.eq(false))
            .exec(self.0.conn())
            .await?
            .rows_affected
            == 1)
    }

    /// Planned, noticed debits due by `today`.
    pub async fn due(&self, today: Date, limit: u64) -> Result<Vec<Debit>, DbError> {
        use autopay_debit::Column as C;
        self.debits(
            Condition::all()
                .add(C::Status.eq(DebitStatus::Scheduled.as_str()))
                .add(C::Noticed.eq(true))
                .add(C::DebitOn.lte(today)),
            limit,
        )
        .await
    }

    /// Debits being paid: their payment may have settled since, or the
    /// server that claimed one stopped before it wrote the payment.
    pub async fn charging(&self, limit: u64) -> Result<Vec<Debit>, DbError> {
        use autopay_debit::Column as C;
        self.debits(
            Condition::all().add(C::Status.eq(DebitStatus::Charging.as_str())),
            limit,
        )
        .await
    }

    /// An account's debits, newest first.
    pub async fn debits_of(&self, account: d::AccountId, limit: u64) -> Result<Vec<Debit>, DbError> {
        use autopay_debit::Column as C;
        autopay_debit::Entity::find()
            .filter(C::AccountId.eq(account.0))
            .order_by_desc(C::Period)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Records the card payment a debit being paid made.
    pub async fn attach(
        &self,
        id: i64,
        payment: d::CardPaymentId,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        self.transition(
            id,
            DebitStatus::Charging,
            DebitStatus::Charging,
            Some(payment),
            now,
        )
        .await
    }

    /// Moves a debit from `from` to `to` (and records its payment); true
    /// for the one caller that made the move.
    pub async fn transition(
        &self,
        id: i64,
        from: DebitStatus,
        to: DebitStatus,
        payment: Option<d::CardPaymentId>,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        use autopay_debit::Column as C;
        let mut q = autopay_debit::Entity::update_many()
            .col_expr(C::Status, Expr::value(to.as_str()))
            .col_expr(C::UpdatedAt, Expr::value(now))
            .filter(C::Id.eq(id))
            .filter(C::Status.eq(from.as_str()));
        if let Some(p) = payment {
            q = q.col_expr(C::CardPaymentId, Expr::value(p.0));
        }
        Ok(q.exec(self.0.conn()).await?.rows_affected == 1)
    }
}
