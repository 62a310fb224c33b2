//! Payments credited to accounts.

use crate::entities::payment;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use time::Date;

/// Payments (see [`crate::Repos::payments`]).
pub struct Payments<'a, C>(pub(crate) &'a C);

impl<C: Conn> Payments<'_, C> {
    /// The payment of row `id`.
    pub async fn by_row(&self, id: i64) -> Result<Option<d::Payment>, DbError> {
        payment::Entity::find_by_id(id)
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// The newest `limit` payments of an account, newest first.
    pub async fn newest(&self, account: d::AccountId, limit: u64) -> Result<Vec<d::Payment>, DbError> {
        payment::Entity::find()
            .filter(payment::Column::AccountId.eq(account.0))
            .order_by_desc(payment::Column::PaidAt)
            .order_by_desc(payment::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// One page of an account's payments, newest first, and how many there
    /// are in all.
    pub async fn page(
        &self,
        account: d::AccountId,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<d::Payment>, u64), DbError> {
        let q = payment::Entity::find().filter(payment::Column::AccountId.eq(account.0));
        let total = q.clone().count(self.0.conn()).await?;
        let rows = q
            .order_by_desc(payment::Column::PaidAt)
            .order_by_desc(payment::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, DbError>>()?;
        Ok((rows, total))
    }

    /// An account's payments on the organization's local days `from..=to`,
    /// oldest first.
    pub async fn between(
        &self,
        account: d::AccountId,
        from: Date,
        to: Date,
        clock: d::OrgClock,
    ) -> Result<Vec<d::Payment>, DbError> {
        let from = clock.start_of(from);
        let to = clock.start_of(to.next_day().unwrap_or(to));
        payment::Entity::find()
            .filter(payment::Column::AccountId.eq(account.0))
            .filter(payment::Column::PaidAt.gte(from))
            .filter(payment::Column::PaidAt.lt(to))
            .order_by_asc(payment::Column::PaidAt)
            .order_by_asc(payment::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Sum of an account's payments made on or after a local day.
    pub async fn paid_since(
        &self,
        account: d::AccountId,
        since: Date,
        clock: d::OrgClock,
    ) -> Result<d::Kopecks, DbError> {
        let since = clock.start_of(since);
        let amounts: Vec<i64> = payment::Entity::find()
            .select_only()
            .column(payment::Column::Amount)
            .filter(payment::Column::AccountId.eq(account.0))
            .filter(payment::Column::PaidAt.gte(since))
            .into_tuple()
            .all(self.0.conn())
            .await?;
        Ok(d::Kopecks(amounts.into_iter().sum()))
    }
}
