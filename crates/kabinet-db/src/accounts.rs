//! Personal accounts and what a resident sees first about one.

use crate::entities::{account, premises};
use crate::{Db, DbError};
use kabinet_domain as d;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// An account with its premises, current invoice and balance: the first thing a
/// resident sees (R3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountOverview {
    /// The account.
    pub account: d::Account,
    /// Its premises.
    pub premises: d::Premises,
    /// The newest invoice, if any.
    pub current_invoice: Option<d::Invoice>,
    /// Payments made after the current invoice's period ended.
    pub paid_since_invoice: d::Kopecks,
    /// What is owed now: the current invoice's total minus the payments since
    /// (positive: a debt, negative: an advance).
    pub balance: d::Kopecks,
    /// The latest payment, if any.
    pub last_payment: Option<d::Payment>,
}

impl Db {
    /// The account with this number.
    pub async fn find_account(&self, number: &d::AccountNumber) -> Result<Option<d::Account>, DbError> {
        account::Entity::find()
            .filter(account::Column::Number.eq(number.as_str()))
            .one(self.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// The account with this id.
    pub async fn account(&self, id: d::AccountId) -> Result<Option<d::Account>, DbError> {
        account::Entity::find_by_id(id.0)
            .one(self.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// Premises by id.
    pub async fn premises(&self, id: d::PremisesId) -> Result<Option<d::Premises>, DbError> {
        Ok(premises::Entity::find_by_id(id.0)
            .one(self.conn())
            .await?
            .map(Into::into))
    }

    /// The overview of one account: premises, current invoice and balance.
    pub async fn account_overview(&self, id: d::AccountId) -> Result<Option<AccountOverview>, DbError> {
        let Some(account) = self.account(id).await? else {
            return Ok(None);
        };
        let premises = self
            .premises(account.premises_id)
            .await?
            .ok_or(DbError::NotFound)?;
        let current_invoice = self.latest_invoice(id).await?;
        let paid_since_invoice = match &current_invoice {
            Some(inv) => self.paid_since(id, inv.period.next().first_day()).await?,
            None => self.paid_since(id, time::Date::MIN).await?,
        };
        let owed = current_invoice.as_ref().map_or(d::Kopecks::ZERO, |i| i.total_due);
        let last_payment = self.payments(id, 1).await?.into_iter().next();
        Ok(Some(AccountOverview {
            account,
            premises,
            current_invoice,
            paid_since_invoice,
            balance: owed - paid_since_invoice,
            last_payment,
        }))
    }

    /// Number of accounts.
    pub async fn count_accounts(&self) -> Result<u64, DbError> {
        Ok(account::Entity::find().count(self.conn()).await?)
    }
}
