//! Personal accounts, their premises, and the keyed passport hashes that
//! registration in `passport` mode compares with.

use crate::entities::{account, account_secret, premises};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// Personal accounts (see [`crate::Repos::accounts`]).
pub struct Accounts<'a, C>(pub(crate) &'a C);

impl<C: Conn> Accounts<'_, C> {
    /// The account with this number.
    pub async fn by_number(&self, number: &d::AccountNumber) -> Result<Option<d::Account>, DbError> {
        account::Entity::find()
            .filter(account::Column::Number.eq(number.as_str()))
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// The account with this id.
    pub async fn by_id(&self, id: d::AccountId) -> Result<Option<d::Account>, DbError> {
        account::Entity::find_by_id(id.0)
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// The numbers of the accounts `ids`, by id (those that exist), a
    /// thousand at a time.
    pub async fn numbers(
        &self,
        ids: &[d::AccountId],
    ) -> Result<std::collections::HashMap<d::AccountId, String>, DbError> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(1000) {
            let rows: Vec<(i64, String)> = account::Entity::find()
                .select_only()
                .column(account::Column::Id)
                .column(account::Column::Number)
                .filter(account::Column::Id.is_in(chunk.iter().map(|a| a.0)))
                .into_tuple()
                .all(self.0.conn())
                .await?;
            out.extend(rows.into_iter().map(|(id, n)| (d::AccountId(id), n)));
        }
        Ok(out)
    }

    /// Premises by id.
    pub async fn premises(&self, id: d::PremisesId) -> Result<Option<d::Premises>, DbError> {
        Ok(premises::Entity::find_by_id(id.0)
            .one(self.0.conn())
            .await?
            .map(Into::into))
    }

    /// The first `n` open accounts by id (the demo resident's).
    pub async fn first_open(&self, n: u64) -> Result<Vec<d::Account>, DbError> {
        account::Entity::find()
            .filter(account::Column::ClosedOn.is_null())
            .order_by_asc(account::Column::Id)
            .limit(n)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Number of accounts.
    pub async fn count(&self) -> Result<u64, DbError> {
        Ok(account::Entity::find().count(self.0.conn()).await?)
    }

    /// Stores (or replaces) the keyed hash of an account holder's passport.
    pub async fn set_passport_hash(&self, account: d::AccountId, hash: &str) -> Result<(), DbError> {
        account_secret::Entity::insert(account_secret::ActiveModel {
            account_id: sea_orm::Set(account.0),
            passport_hash: sea_orm::Set(hash.to_string()),
        })
        .on_conflict(
            OnConflict::column(account_secret::Column::AccountId)
                .update_column(account_secret::Column::PassportHash)
                .to_owned(),
        )
        .exec(self.0.conn())
        .await?;
        Ok(())
    }

    /// The keyed hash of the account holder's passport, if the billing system
    /// supplied one.
    pub async fn passport_hash(&self, account: d::AccountId) -> Result<Option<String>, DbError> {
        Ok(account_secret::Entity::find_by_id(account.0)
            .one(self.0.conn())
            .await?
            .map(|s| s.passport_hash))
    }

    /// How many accounts have a passport hash (registration in `passport`
    /// mode needs them).
    pub async fn passport_count(&self) -> Result<u64, DbError> {
        Ok(account_secret::Entity::find().count(self.0.conn()).await?)
    }

    /// Which of `addresses` are buildings' addresses on record (as billing
    /// wrote them), each once.
    pub async fn known_buildings(&self, addresses: &[String]) -> Result<Vec<String>, DbError> {
        let mut known = Vec::new();
        for chunk in addresses.chunks(100) {
            known.extend(
                premises::Entity::find()
                    .select_only()
                    .column(premises::Column::Address)
                    .distinct()
                    .filter(premises::Column::Address.is_in(chunk.iter().map(String::as_str)))
                    .into_tuple::<String>()
                    .all(self.0.conn())
                    .await?,
            );
        }
        Ok(known)
    }
}
