//! Meters and their readings.

use crate::entities::{meter, meter_reading};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Statement,
};

/// Meters and readings (see [`crate::Repos::meters`]).
pub struct Meters<'a, C>(pub(crate) &'a C);

impl<C: Conn> Meters<'_, C> {
    /// The newest `limit` readings `user` handed in, on any account.
    pub async fn given_by(&self, user: d::UserId, limit: u64) -> Result<Vec<GivenReading>, DbError> {
        use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
        #[derive(FromQueryResult)]
        struct Row {
            number: String,
            address: String,
            flat: Option<String>,
            serial: String,
            resource: String,
            zone: i16,
            value: i64,
            scale: i32,
            taken_on: time::Date,
            submitted_at: time::OffsetDateTime,
            ip: Option<String>,
        }
        let c = self.0.conn();
        let rows = Row::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT a.number, p.address, p.flat, m.serial, m.resource, r.zone, r.value, m.scale, r.taken_on, \
             r.submitted_at, r.ip FROM meter_readings r JOIN meters m ON m.id = r.meter_id \
             JOIN accounts a ON a.id = m.account_id JOIN premises p ON p.id = a.premises_id \
             WHERE r.user_id = $1 ORDER BY r.id DESC LIMIT $2",
            [user.0.into(), i64::try_from(limit).unwrap_or(i64::MAX).into()],
        ))
        .all(c)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| GivenReading {
                account: r.number,
                address: d::full_address(&r.address, r.flat.as_deref()),
                serial: r.serial,
                resource: r.resource,
                zone: r.zone,
                value: r.value,
                scale: r.scale,
                taken_on: r.taken_on,
                submitted_at: r.submitted_at,
                ip: r.ip.unwrap_or_default(),
            })
            .collect())
    }

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

pub use kabinet_domain::readings::Recorded as RecordedReading;

/// A reading a resident handed in, with where and when ("my data").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenReading {
    /// The account's number.
    pub account: String,
    /// The premises' address with the flat.
    pub address: String,
    /// The meter's serial number.
    pub serial: String,
    /// Its resource code (`cold_water`, …).
    pub resource: String,
    /// Tariff zone.
    pub zone: i16,
    /// The value as stored (in the meter's smallest unit).
    pub value: i64,
    /// Digits after the decimal point.
    pub scale: i32,
    /// The day it was read.
    pub taken_on: time::Date,
    /// When it was handed in.
    pub submitted_at: time::OffsetDateTime,
    /// From which address.
    pub ip: String,
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
    /// The meters of `account` among `ids`, by id, and every reading of
    /// them, newest first — in one query.
    pub async fn with_readings(
        &self,
        account: d::AccountId,
        ids: &[d::MeterId],
    ) -> Result<(Vec<d::Meter>, Vec<RecordedReading>), DbError> {
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let marks: Vec<String> = (0..ids.len()).map(|k| format!("${}", k + 2)).collect();
        let sql = format!(
            "SELECT m.id, m.account_id, m.serial, m.resource, m.location, m.tariffs, m.integer_digits, \
             m.fraction_digits, m.scale, m.installed_on, m.verification_due, m.status, \
             r.id AS r_id, r.zone AS r_zone, r.value AS r_value, r.taken_on AS r_taken_on, r.source AS r_source, \
             r.submitted_at AS r_submitted_at, r.export_run_id AS r_export_run_id, r.period AS r_period, \
             r.user_id AS r_user_id, r.ip AS r_ip \
             FROM meters m LEFT JOIN meter_readings r ON r.meter_id = m.id \
             WHERE m.account_id = $1 AND m.id IN ({}) ORDER BY r.taken_on DESC, r.id DESC",
            marks.join(", ")
        );
        let mut values: Vec<sea_orm::Value> = vec![account.0.into()];
        values.extend(ids.iter().map(|m| sea_orm::Value::from(m.0)));
        let c = self.0.conn();
        let rows = c
            .query_all_raw(Statement::from_sql_and_values(
                c.get_database_backend(),
                sql,
                values,
            ))
            .await?;
        let mut meters: Vec<d::Meter> = Vec::new();
        let mut readings = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            if !meters.iter().any(|m| m.id.0 == id) {
                meters.push(meter::Model::from_query_result(&row, "")?.try_into()?);
            }
            let reading: Option<i64> = row.try_get("", "r_id")?;
            if let Some(rid) = reading {
                readings.push(recorded(meter_reading::Model {
                    id: rid,
                    meter_id: id,
                    zone: row.try_get("", "r_zone")?,
                    value: row.try_get("", "r_value")?,
                    taken_on: row.try_get("", "r_taken_on")?,
                    source: row.try_get("", "r_source")?,
                    submitted_at: row.try_get("", "r_submitted_at")?,
                    export_run_id: row.try_get("", "r_export_run_id")?,
                    period: row.try_get("", "r_period")?,
                    user_id: row.try_get("", "r_user_id")?,
                    ip: row.try_get("", "r_ip")?,
                })?);
            }
        }
        meters.sort_by_key(|m| m.id.0);
        Ok((meters, readings))
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
            .map(recorded)
            .collect()
    }

    /// Stores a resident's readings, each replacing the one of the same
    /// meter, zone and period unless that was exported already; `false` when
    /// any was (the caller rolls back). Two submissions at once queue on the
    /// rows (one row per meter, zone and period is a unique key); give the
    /// rows in meter and zone order so they queue, not deadlock. One
    /// statement for all of them.
    pub async fn store(&self, rows: &[PortalReading]) -> Result<bool, DbError> {
        if rows.is_empty() {
            return Ok(true);
        }
        let mut sql = String::from(
            "INSERT INTO meter_readings (meter_id, zone, value, taken_on, source, submitted_at, period, user_id, ip) VALUES ",
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 9);
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let marks: Vec<String> = (1..=9).map(|k| format!("${}", i * 9 + k)).collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            values.extend([
                r.meter.0.into(),
                i16::from(r.zone).into(),
                r.value.into(),
                r.taken_on.into(),
                d::reading_source::PORTAL.into(),
                r.submitted_at.into(),
                r.period.yyyymm().into(),
                r.user.0.into(),
                r.ip.chars().take(64).collect::<String>().into(),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (meter_id, zone, period) DO UPDATE SET value = excluded.value, taken_on = excluded.taken_on, \
             submitted_at = excluded.submitted_at, user_id = excluded.user_id, ip = excluded.ip \
             WHERE meter_readings.export_run_id IS NULL",
        );
        let c = self.0.conn();
        let res = c
            .execute_raw(Statement::from_sql_and_values(
                c.get_database_backend(),
                sql,
                values,
            ))
            .await?;
        Ok(res.rows_affected() == rows.len() as u64)
    }
}

fn recorded(m: meter_reading::Model) -> Result<RecordedReading, DbError> {
    let period = m
        .period
        .map(|p| {
            d::Period::from_yyyymm(p).map_err(|_| crate::convert::corrupt("meter_readings", "period", p))
        })
        .transpose()?;
    let exported = m.export_run_id.is_some();
    Ok(RecordedReading {
        reading: m.try_into()?,
        period,
        exported,
    })
}
