//! The Organization, its payees, services and billing periods.

use crate::entities::{billing_period, organization, payee, service};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};

/// The Organization and its reference data (see [`crate::Repos::organization`]).
pub struct Organizations<'a, C>(pub(crate) &'a C);

impl<C: Conn> Organizations<'_, C> {
    /// The Organization running this installation, if one was set up.
    pub async fn current(&self) -> Result<Option<d::Organization>, DbError> {
        Ok(organization::Entity::find()
            .order_by_asc(organization::Column::Id)
            .one(self.0.conn())
            .await?
            .map(Into::into))
    }

    /// Whether the stored Organization is a generated demo.
    pub async fn is_demo(&self) -> Result<bool, DbError> {
        Ok(organization::Entity::find()
            .order_by_asc(organization::Column::Id)
            .one(self.0.conn())
            .await?
            .is_some_and(|o| o.is_demo))
    }

    /// Every payee.
    pub async fn payees(&self) -> Result<Vec<d::Payee>, DbError> {
        Ok(payee::Entity::find()
            .order_by_asc(payee::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every service, in receipt order.
    pub async fn services(&self) -> Result<Vec<d::Service>, DbError> {
        service::Entity::find()
            .order_by_asc(service::Column::SortOrder)
            .order_by_asc(service::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Every billing period, oldest first.
    pub async fn billing_periods(&self) -> Result<Vec<d::BillingPeriod>, DbError> {
        billing_period::Entity::find()
            .order_by_asc(billing_period::Column::Period)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The newest billing period, if any.
    pub async fn latest_period(&self) -> Result<Option<d::BillingPeriod>, DbError> {
        billing_period::Entity::find()
            .order_by_desc(billing_period::Column::Period)
            .limit(1)
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// Number of billing periods stored.
    pub async fn count_periods(&self) -> Result<u64, DbError> {
        Ok(billing_period::Entity::find().count(self.0.conn()).await?)
    }
}
