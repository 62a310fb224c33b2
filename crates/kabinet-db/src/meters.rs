//! Meters and their readings.

use crate::entities::{meter, meter_reading};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};

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

/// A reading on record with what the portal needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedReading {
    /// The reading.
    pub reading: d::Reading,
    /// The period a portal reading counts for (`None` for billing's rows).
    pub period: Option<d::Period>,
    /// Already sent to the billing system.
    pub exported: bool,
}

/// A reading a resident handed in, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalReading {
    /// The meter.
    pub meter: d::MeterId,
    /// Tariff zone.
    pub zone: u8,
    /// Scaled value.
    pub value: i64,
    /// The local day it was handed in.
    pub taken_on: time::Date,
    /// The period it counts for.
    pub period: d::Period,
    /// When.
    pub submitted_at: time::OffsetDateTime,
    /// Who.
    pub user: d::UserId,
    /// From where.
    pub ip: String,
}

impl<C: Conn> Meters<'_, C> {
    /// The meters of `account` among `ids`, by id.
    pub async fn among(&self, account: d::AccountId, ids: &[d::MeterId]) -> Result<Vec<d::Meter>, DbError> {
        meter::Entity::find()
            .filter(meter::Column::AccountId.eq(account.0))
            .filter(meter::Column::Id.is_in(ids.iter().map(|m| m.0)))
            .order_by_asc(meter::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Every reading of `meters` (which the caller has scoped to an account),
    /// newest first, zones in order.
    pub async fn recorded(&self, meters: &[d::MeterId]) -> Result<Vec<RecordedReading>, DbError> {
        if meters.is_empty() {
            return Ok(Vec::new());
        }
        meter_reading::Entity::find()
            .filter(meter_reading::Column::MeterId.is_in(meters.iter().map(|m| m.0)))
            .order_by_desc(meter_reading::Column::TakenOn)
            .order_by_desc(meter_reading::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|m| {
                let period = m
                    .period
                    .map(|p| {
                        d::Period::from_yyyymm(p)
                            .map_err(|_| crate::convert::corrupt("meter_readings", "period", p))
                    })
                    .transpose()?;
                let exported = m.export_run_id.is_some();
                Ok(RecordedReading {
                    reading: m.try_into()?,
                    period,
                    exported,
                })
            })
            .collect()
    }

    /// Stores a resident's reading, replacing the one of the same meter,
    /// zone and period unless that was exported already; `false` then, and
    /// nothing is written. Two submissions at once queue on the row (one
    /// row per meter, zone and period is a unique key); store a
    /// submission's rows in meter and zone order so they queue, not deadlock.
    pub async fn store(&self, r: &PortalReading) -> Result<bool, DbError> {
        let sql = "INSERT INTO meter_readings (meter_id, zone, value, taken_on, source, submitted_at, period, user_id, ip) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                   ON CONFLICT (meter_id, zone, period) DO UPDATE SET value = excluded.value, taken_on = excluded.taken_on, \
                   submitted_at = excluded.submitted_at, user_id = excluded.user_id, ip = excluded.ip \
                   WHERE meter_readings.export_run_id IS NULL";
        let values: Vec<sea_orm::Value> = vec![
            r.meter.0.into(),
            i16::from(r.zone).into(),
            r.value.into(),
            r.taken_on.into(),
            d::reading_source::PORTAL.into(),
            r.submitted_at.into(),
            r.period.yyyymm().into(),
            r.user.0.into(),
            r.ip.chars().take(64).collect::<String>().into(),
        ];
        let res = self
            .0
            .conn()
            .execute_raw(Statement::from_sql_and_values(
                self.0.conn().get_database_backend(),
                sql,
                values,
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }
}
