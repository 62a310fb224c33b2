//! Payments credited to accounts.

use crate::entities::payment;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::{Date, OffsetDateTime, Time};

/// Payments (see [`crate::Repos::payments`]).
pub struct Payments<'a, C>(pub(crate) &'a C);

impl<C: Conn> Payments<'_, C> {
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

    /// Sum of an account's payments made on or after a day (UTC midnight).
    pub async fn paid_since(&self, account: d::AccountId, since: Date) -> Result<d::Kopecks, DbError> {
        let since = OffsetDateTime::new_utc(since, Time::MIDNIGHT);
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
