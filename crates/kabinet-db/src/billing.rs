//! Charges and invoices of an account.

use crate::entities::{charge, invoice, service};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// One charge line with the service it is for, as a page or receipt shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeLine {
    /// The charge.
    pub charge: d::Charge,
    /// Service code.
    pub service_code: String,
    /// Service name.
    pub service_name: String,
    /// Position on the receipt.
    pub sort_order: i32,
}

/// Charges and invoices (see [`crate::Repos::billing`]).
pub struct Billing<'a, C>(pub(crate) &'a C);

impl<C: Conn> Billing<'_, C> {
    /// Charges of an account for the periods `from..=to`, ordered by period and
    /// then by the services' receipt order.
    pub async fn charges(
        &self,
        account: d::AccountId,
        from: d::Period,
        to: d::Period,
    ) -> Result<Vec<ChargeLine>, DbError> {
        let rows = charge::Entity::find()
            .filter(charge::Column::AccountId.eq(account.0))
            .filter(charge::Column::Period.between(from.yyyymm(), to.yyyymm()))
            .order_by_asc(charge::Column::Period)
            .all(self.0.conn())
            .await?;
        let services: HashMap<i64, service::Model> = service::Entity::find()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let mut lines = rows
            .into_iter()
            .map(|row| {
                let svc = services
                    .get(&row.service_id)
                    .ok_or_else(|| crate::convert::corrupt("charges", "service_id", row.service_id))?;
                Ok(ChargeLine {
                    service_code: svc.code.clone(),
                    service_name: svc.name.clone(),
                    sort_order: svc.sort_order,
                    charge: row.try_into()?,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        lines.sort_by_key(|l| (l.charge.period, l.sort_order, l.charge.service_id));
        Ok(lines)
    }

    /// The newest `limit` invoices of an account, newest first.
    pub async fn invoices(&self, account: d::AccountId, limit: u64) -> Result<Vec<d::Invoice>, DbError> {
        invoice::Entity::find()
            .filter(invoice::Column::AccountId.eq(account.0))
            .order_by_desc(invoice::Column::Period)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The invoices of an account for the periods `from..=to`, newest first.
    pub async fn invoices_between(
        &self,
        account: d::AccountId,
        from: d::Period,
        to: d::Period,
    ) -> Result<Vec<d::Invoice>, DbError> {
        invoice::Entity::find()
            .filter(invoice::Column::AccountId.eq(account.0))
            .filter(invoice::Column::Period.between(from.yyyymm(), to.yyyymm()))
            .order_by_desc(invoice::Column::Period)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The invoice of an account for one period.
    pub async fn invoice(
        &self,
        account: d::AccountId,
        period: d::Period,
    ) -> Result<Option<d::Invoice>, DbError> {
        invoice::Entity::find()
            .filter(invoice::Column::AccountId.eq(account.0))
            .filter(invoice::Column::Period.eq(period.yyyymm()))
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// Accounts that have an invoice for `period`, by id.
    pub async fn invoiced_accounts(&self, period: d::Period) -> Result<Vec<d::AccountId>, DbError> {
        let ids: Vec<i64> = invoice::Entity::find()
            .select_only()
            .column(invoice::Column::AccountId)
            .filter(invoice::Column::Period.eq(period.yyyymm()))
            .order_by_asc(invoice::Column::AccountId)
            .into_tuple()
            .all(self.0.conn())
            .await?;
        Ok(ids.into_iter().map(d::AccountId).collect())
    }

    /// The newest invoice of an account.
    pub async fn latest_invoice(&self, account: d::AccountId) -> Result<Option<d::Invoice>, DbError> {
        invoice::Entity::find()
            .filter(invoice::Column::AccountId.eq(account.0))
            .order_by_desc(invoice::Column::Period)
            .limit(1)
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }
}
