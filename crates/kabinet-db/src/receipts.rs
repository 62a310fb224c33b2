//! The records of many receipts at once: a bulk receipt run reads a batch of
//! accounts in six queries instead of a score of queries per receipt.

use crate::entities::{account, charge, invoice, meter, meter_reading, premises};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// The billing records of a batch of accounts for one period.
#[derive(Debug, Clone, Default)]
pub struct ReceiptRecords {
    /// The accounts that exist, by id.
    pub accounts: Vec<d::Account>,
    /// Their premises.
    pub premises: Vec<d::Premises>,
    /// Their invoices for the period.
    pub invoices: Vec<d::Invoice>,
    /// Their charges for the period, by account and id.
    pub charges: Vec<d::Charge>,
    /// Their active meters, by account and id.
    pub meters: Vec<d::Meter>,
    /// Readings of those meters taken up to the period's last day, newest
    /// first, then by zone.
    pub readings: Vec<d::Reading>,
}

/// Receipt records (see [`crate::Repos::receipts`]).
pub struct ReceiptData<'a, C>(pub(crate) &'a C);

impl<C: Conn> ReceiptData<'_, C> {
    /// The records the receipts of `accounts` for `period` show. Accounts that
    /// do not exist are left out; one without an invoice has none in the
    /// result. Keep batches to a few hundred ids (one query parameter each).
    pub async fn records(
        &self,
        accounts: &[d::AccountId],
        period: d::Period,
    ) -> Result<ReceiptRecords, DbError> {
        if accounts.is_empty() {
            return Ok(ReceiptRecords::default());
        }
        let ids: Vec<i64> = accounts.iter().map(|a| a.0).collect();
        let accounts = account::Entity::find()
            .filter(account::Column::Id.is_in(ids.clone()))
            .order_by_asc(account::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<d::Account>, DbError>>()?;
        let mut premises_ids: Vec<i64> = accounts.iter().map(|a| a.premises_id.0).collect();
        premises_ids.sort_unstable();
        premises_ids.dedup();
        let premises = premises::Entity::find()
            .filter(premises::Column::Id.is_in(premises_ids))
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        let invoices = invoice::Entity::find()
            .filter(invoice::Column::AccountId.is_in(ids.clone()))
            .filter(invoice::Column::Period.eq(period.yyyymm()))
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, DbError>>()?;
        let charges = charge::Entity::find()
            .filter(charge::Column::AccountId.is_in(ids.clone()))
            .filter(charge::Column::Period.eq(period.yyyymm()))
            .order_by_asc(charge::Column::AccountId)
            .order_by_asc(charge::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, DbError>>()?;
        let meters = meter::Entity::find()
            .filter(meter::Column::AccountId.is_in(ids))
            .filter(meter::Column::Status.eq(d::MeterStatus::Active.code()))
            .order_by_asc(meter::Column::AccountId)
            .order_by_asc(meter::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<d::Meter>, DbError>>()?;
        let readings = if meters.is_empty() {
            Vec::new()
        } else {
            meter_reading::Entity::find()
                .filter(meter_reading::Column::MeterId.is_in(meters.iter().map(|m| m.id.0)))
                .filter(meter_reading::Column::TakenOn.lte(period.last_day()))
                .order_by_desc(meter_reading::Column::TakenOn)
                .order_by_asc(meter_reading::Column::Zone)
                .all(self.0.conn())
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, DbError>>()?
        };
        Ok(ReceiptRecords {
            accounts,
            premises,
            invoices,
            charges,
            meters,
            readings,
        })
    }
}
