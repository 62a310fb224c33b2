//! Meters and their readings.

use crate::entities::{meter, meter_reading};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// Meters and readings (see [`crate::Repos::meters`]).
pub struct Meters<'a, C>(pub(crate) &'a C);

impl<C: Conn> Meters<'_, C> {
    /// Meters of an account: active first, then by id.
    pub async fn of_account(&self, account: d::AccountId) -> Result<Vec<d::Meter>, DbError> {
        let mut meters = meter::Entity::find()
            .filter(meter::Column::AccountId.eq(account.0))
            .order_by_asc(meter::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<d::Meter>, DbError>>()?;
        meters.sort_by_key(|m| (m.status != d::MeterStatus::Active, m.id));
        Ok(meters)
    }

    /// Readings of one meter of an account, newest first. The account is part of
    /// the query so a meter id from another account returns nothing.
    pub async fn readings(
        &self,
        account: d::AccountId,
        meter: d::MeterId,
    ) -> Result<Vec<d::Reading>, DbError> {
        let owned = meter::Entity::find_by_id(meter.0)
            .filter(meter::Column::AccountId.eq(account.0))
            .one(self.0.conn())
            .await?
            .is_some();
        if !owned {
            return Ok(Vec::new());
        }
        meter_reading::Entity::find()
            .filter(meter_reading::Column::MeterId.eq(meter.0))
            .order_by_desc(meter_reading::Column::TakenOn)
            .order_by_asc(meter_reading::Column::Zone)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }
}
