//! The read model of what a resident sees first about an account (R3): the
//! account and its premises, the newest invoices, the balance and the last
//! payment — three queries whatever the account's history.

use crate::entities::{account, invoice, payment, premises};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

/// An account with its premises, newest invoices and balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountOverview {
    /// The account.
    pub account: d::Account,
    /// Its premises.
    pub premises: d::Premises,
    /// The newest invoices, newest first (the first is the current one).
    pub recent_invoices: Vec<d::Invoice>,
    /// Payments made after the current invoice's period ended.
    pub paid_since_invoice: d::Kopecks,
    /// What is owed now: the current invoice's total minus the payments since
    /// (positive: a debt, negative: an advance).
    pub balance: d::Kopecks,
    /// The latest payment, if any.
    pub last_payment: Option<d::Payment>,
}

impl AccountOverview {
    /// The newest invoice, if any.
    pub fn current_invoice(&self) -> Option<&d::Invoice> {
        self.recent_invoices.first()
    }
}

/// An account joined with its premises (`a.*`, `p.address`, `p.flat`,
/// `p.total_area`, `p.living_area`), for queries that read both at once.
#[derive(FromQueryResult)]
pub(crate) struct AccountRow {
    id: i64,
    number: String,
    premises_id: i64,
    holder_name: String,
    residents: i32,
    els: Option<String>,
    izhku: Option<String>,
    opened_on: time::Date,
    closed_on: Option<time::Date>,
    address: String,
    flat: Option<String>,
    total_area: i64,
    living_area: Option<i64>,
}

impl AccountRow {
    /// The account and its premises.
    pub(crate) fn split(self) -> Result<(d::Account, d::Premises), DbError> {
        let account: d::Account = account::Model {
            id: self.id,
            number: self.number,
            premises_id: self.premises_id,
            holder_name: self.holder_name,
            residents: self.residents,
            els: self.els,
            izhku: self.izhku,
            opened_on: self.opened_on,
            closed_on: self.closed_on,
        }
        .try_into()?;
        let premises = premises::Model {
            id: self.premises_id,
            address: self.address,
            flat: self.flat,
            total_area: self.total_area,
            living_area: self.living_area,
        }
        .into();
        Ok((account, premises))
    }
}

/// Overviews (see [`crate::Repos::overview`]).
pub struct Overviews<'a, C>(pub(crate) &'a C);

impl<C: Conn> Overviews<'_, C> {
    /// The overview of account `id` with its `invoices` newest invoices, or
    /// `None` when there is no such account.
    pub async fn of_account(
        &self,
        id: d::AccountId,
        invoices: u64,
        clock: d::OrgClock,
    ) -> Result<Option<AccountOverview>, DbError> {
        let c = self.0.conn();
        let backend = c.get_database_backend();
        let row = AccountRow::find_by_statement(Statement::from_sql_and_values(
            backend,
            "SELECT a.id, a.number, a.premises_id, a.holder_name, a.residents, a.els, a.izhku, \
             a.opened_on, a.closed_on, p.address, p.flat, p.total_area, p.living_area \
             FROM accounts a JOIN premises p ON p.id = a.premises_id WHERE a.id = $1",
            [id.0.into()],
        ))
        .one(c)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (account, premises) = row.split()?;
        self.with_account(account, premises, invoices, clock, None)
            .await
            .map(Some)
    }

    /// The overview of an account already read (with its premises): the
    /// `invoices` newest invoices and the payments. Months begin at the
    /// organization's local midnight (`clock`).
    ///
    /// With `latest`, the organization's newest billing period, both are one
    /// statement: the payments since that period's month ended come with the
    /// invoices. That is exactly what is needed when the account's newest
    /// invoice is of that period (nearly every account), and a superset
    /// filtered here when it is newer (a `latest` read before an import this
    /// server has not seen yet); only an account whose newest invoice is
    /// older than `latest` reads its payments again. Without `latest`, two
    /// statements.
    pub async fn with_account(
        &self,
        account: d::Account,
        premises: d::Premises,
        invoices: u64,
        clock: d::OrgClock,
        latest: Option<d::Period>,
    ) -> Result<AccountOverview, DbError> {
        let Some(latest) = latest else {
            return self.with_account_in_two(account, premises, invoices, clock).await;
        };
        let c = self.0.conn();
        let id = account.id;
        let guess = clock.start_of(latest.next().first_day());
        let rows = c
            .query_all_raw(Statement::from_sql_and_values(
                c.get_database_backend(),
                "SELECT i.id AS i_id, i.account_id AS i_account_id, i.period AS i_period, i.number AS i_number, \
                 i.opening_balance AS i_opening_balance, i.charged AS i_charged, i.paid AS i_paid, \
                 i.penalties AS i_penalties, i.total_due AS i_total_due, i.due_date AS i_due_date, \
                 NULL AS p_id, NULL AS p_account_id, NULL AS p_source, NULL AS p_external_id, NULL AS p_amount, \
                 NULL AS p_paid_at, NULL AS p_period, NULL AS p_export_run_id, NULL AS p_confirmed, \
                 NULL AS p_gateway_payment_id, NULL AS p_gateway_refund_id \
                 FROM (SELECT * FROM invoices WHERE account_id = $1 ORDER BY period DESC LIMIT $2) i \
                 UNION ALL \
                 SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                 p.id, p.account_id, p.source, p.external_id, p.amount, p.paid_at, p.period, p.export_run_id, \
                 p.confirmed, p.gateway_payment_id, p.gateway_refund_id \
                 FROM payments p WHERE p.account_id = $1 AND (p.paid_at >= $3 OR p.id = \
                 (SELECT q.id FROM payments q WHERE q.account_id = $1 ORDER BY q.paid_at DESC, q.id DESC LIMIT 1))",
                [
                    id.0.into(),
                    i64::try_from(Ord::max(invoices, 1)).unwrap_or(i64::MAX).into(),
                    guess.into(),
                ],
            ))
            .await?;
        let mut recent_invoices = Vec::new();
        let mut payments = Vec::new();
        for row in rows {
            if let Some(i) = invoice::Model::from_query_result_optional(&row, "i_")? {
                recent_invoices.push(d::Invoice::try_from(i)?);
            } else if let Some(p) = payment::Model::from_query_result_optional(&row, "p_")? {
                payments.push(p);
            }
        }
        recent_invoices.sort_by_key(|i| std::cmp::Reverse(i.period));
        let since = paid_since(&recent_invoices, clock);
        if since < guess {
            return self.finish(account, premises, recent_invoices, since, id).await;
        }
        payments.sort_by_key(|p| std::cmp::Reverse((p.paid_at, p.id)));
        let payments = payments
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<d::Payment>, DbError>>()?;
        Ok(summed(account, premises, recent_invoices, since, payments))
    }

    /// [`Overviews::with_account`] in two statements.
    async fn with_account_in_two(
        &self,
        account: d::Account,
        premises: d::Premises,
        invoices: u64,
        clock: d::OrgClock,
    ) -> Result<AccountOverview, DbError> {
        let c = self.0.conn();
        let id = account.id;
        let recent_invoices = invoice::Entity::find()
            .filter(invoice::Column::AccountId.eq(id.0))
            .order_by_desc(invoice::Column::Period)
            .limit(Ord::max(invoices, 1))
            .all(c)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<d::Invoice>, DbError>>()?;
        // Payments after the current invoice's period, and the latest one
        // whenever it was, in one query.
        let since = paid_since(&recent_invoices, clock);
        self.finish(account, premises, recent_invoices, since, id).await
    }

    /// The overview with the payments of account `id` read: those since
    /// `since` and the latest one.
    async fn finish(
        &self,
        account: d::Account,
        premises: d::Premises,
        recent_invoices: Vec<d::Invoice>,
        since: time::OffsetDateTime,
        id: d::AccountId,
    ) -> Result<AccountOverview, DbError> {
        let c = self.0.conn();
        let latest = Query::select()
            .column(payment::Column::Id)
            .from(payment::Entity)
            .and_where(Expr::col(payment::Column::AccountId).eq(id.0))
            .order_by(payment::Column::PaidAt, sea_orm::Order::Desc)
            .order_by(payment::Column::Id, sea_orm::Order::Desc)
            .limit(1)
            .to_owned();
        let payments = payment::Entity::find()
            .filter(payment::Column::AccountId.eq(id.0))
            .filter(
                Condition::any()
                    .add(payment::Column::PaidAt.gte(since))
                    .add(payment::Column::Id.in_subquery(latest)),
            )
            .order_by_desc(payment::Column::PaidAt)
            .order_by_desc(payment::Column::Id)
            .all(c)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<d::Payment>, DbError>>()?;
        Ok(summed(account, premises, recent_invoices, since, payments))
    }
}

/// When payments start counting towards the newest of `invoices` (newest
/// first): the organization's midnight after its month; all of them when
/// there is no invoice.
fn paid_since(invoices: &[d::Invoice], clock: d::OrgClock) -> time::OffsetDateTime {
    clock.start_of(invoices.first().map_or(time::macros::date!(0001 - 01 - 01), |i| {
        i.period.next().first_day()
    }))
}

/// The overview from the invoices (newest first) and the payments (newest
/// first, those since `since` and maybe older ones, the latest among them).
fn summed(
    account: d::Account,
    premises: d::Premises,
    recent_invoices: Vec<d::Invoice>,
    since: time::OffsetDateTime,
    payments: Vec<d::Payment>,
) -> AccountOverview {
    let paid_since_invoice: d::Kopecks = payments
        .iter()
        .filter(|p| p.paid_at >= since)
        .map(|p| p.amount)
        .sum();
    let owed = recent_invoices.first().map_or(d::Kopecks::ZERO, |i| i.total_due);
    AccountOverview {
        account,
        premises,
        recent_invoices,
        paid_since_invoice,
        balance: owed - paid_since_invoice,
        last_payment: payments.into_iter().next(),
    }
}
