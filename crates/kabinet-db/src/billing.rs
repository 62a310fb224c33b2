//! Charges and invoices of an account.

use crate::entities::{charge, invoice};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

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

/// A charge row with its service, as [`Billing::charges`] reads it.
#[derive(FromQueryResult)]
struct ChargeRow {
    id: i64,
    account_id: i64,
    period: i32,
    service_id: i64,
    volume: Option<i64>,
    unit: String,
    tariff: Option<i64>,
    charged: i64,
    recalculation: i64,
    benefits: i64,
    total: i64,
    method: String,
    service_code: String,
    service_name: String,
    sort_order: i32,
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
        // One statement with the services joined, in receipt order (a
        // line whose service is unknown cannot be imported).
        let c = self.0.conn();
        let rows = ChargeRow::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT c.id, c.account_id, c.period, c.service_id, c.volume, c.unit, c.tariff, c.charged, \
             c.recalculation, c.benefits, c.total, c.method, s.code AS service_code, s.name AS service_name, \
             s.sort_order AS sort_order \
             FROM charges c JOIN services s ON s.id = c.service_id \
             WHERE c.account_id = $1 AND c.period BETWEEN $2 AND $3 \
             ORDER BY c.period, s.sort_order, c.service_id",
            [account.0.into(), from.yyyymm().into(), to.yyyymm().into()],
        ))
        .all(c)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ChargeLine {
                    charge: charge::Model {
                        id: r.id,
                        account_id: r.account_id,
                        period: r.period,
                        service_id: r.service_id,
                        volume: r.volume,
                        unit: r.unit,
                        tariff: r.tariff,
                        charged: r.charged,
                        recalculation: r.recalculation,
                        benefits: r.benefits,
                        total: r.total,
                        method: r.method,
                    }
                    .try_into()?,
                    service_code: r.service_code,
                    service_name: r.service_name,
                    sort_order: r.sort_order,
                })
            })
            .collect()
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
