//! The Organization, its payees, services and billing periods.

use crate::entities::{billing_period, organization, payee, service};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};
use time::OffsetDateTime;

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

    /// Stores the Organization's details: the first row when there is one,
    /// else a new row (not a demo).
    pub async fn save(&self, o: &d::Organization, now: OffsetDateTime) -> Result<(), DbError> {
        let existing = organization::Entity::find()
            .order_by_asc(organization::Column::Id)
            .one(self.0.conn())
            .await?;
        let mut row: organization::ActiveModel = match existing {
            Some(m) => m.into(),
            None => organization::ActiveModel {
                is_demo: Set(false),
                created_at: Set(now),
                ..Default::default()
            },
        };
        row.name = Set(o.name.clone());
        row.short_name = Set(o.short_name.clone());
        row.inn = Set(o.inn.clone());
        row.kpp = Set(o.kpp.clone());
        row.ogrn = Set(o.ogrn.clone());
        row.address = Set(o.address.clone());
        row.phone = Set(o.phone.clone());
        row.dispatch_phone = Set(o.dispatch_phone.clone());
        row.email = Set(o.email.clone());
        row.website = Set(o.website.clone());
        row.save(self.0.conn()).await?;
        Ok(())
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
