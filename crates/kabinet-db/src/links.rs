//! The personal accounts a resident's user may see: the account they signed
//! up with and the ones they linked by proving them (R10). Every page a
//! resident opens is scoped by this list.

use crate::entities::user_account;
use crate::overview::AccountRow;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set, Statement};
use time::OffsetDateTime;

/// One of a user's accounts with its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAccount {
    /// The account.
    pub account: d::Account,
    /// Its premises.
    pub premises: d::Premises,
    /// When it was linked.
    pub linked_at: OffsetDateTime,
    /// The account the user signs in with (cannot be removed).
    pub primary: bool,
    /// Until when a card payment for it may be in progress (none: no card
    /// payment lately), read with the account at no extra cost.
    pub card_payments_until: Option<OffsetDateTime>,
}

#[derive(FromQueryResult)]
struct Row {
    #[sea_orm(nested)]
    account: AccountRow,
    linked_at: OffsetDateTime,
    is_primary: i32,
    card_payments_until: Option<OffsetDateTime>,
}

/// Links `account` to `user` (nothing when already linked).
pub(crate) async fn link<C: Conn>(
    c: &C,
    user: d::UserId,
    account: d::AccountId,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let res = user_account::Entity::insert(user_account::ActiveModel {
        user_id: Set(user.0),
        account_id: Set(account.0),
        linked_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([user_account::Column::UserId, user_account::Column::AccountId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(c.conn())
    .await?;
    Ok(res > 0)
}

/// Linked accounts (see [`crate::Repos::links`]).
pub struct Links<'a, C>(pub(crate) &'a C);

impl<C: Conn> Links<'_, C> {
    /// The user's accounts, the primary one first, then by number; one query.
    pub async fn of_user(&self, user: d::UserId) -> Result<Vec<LinkedAccount>, DbError> {
        let c = self.0.conn();
        let rows = Row::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT a.id, a.number, a.premises_id, a.holder_name, a.residents, a.els, a.izhku, \
             a.opened_on, a.closed_on, p.address, p.flat, p.total_area, p.living_area, ua.linked_at, a.card_payments_until, \
             CASE WHEN a.id = u.account_id THEN 1 ELSE 0 END AS is_primary \
             FROM user_accounts ua JOIN users u ON u.id = ua.user_id \
             JOIN accounts a ON a.id = ua.account_id JOIN premises p ON p.id = a.premises_id \
             WHERE ua.user_id = $1 ORDER BY is_primary DESC, a.number",
            [user.0.into()],
        ))
        .all(c)
        .await?;
        rows.into_iter()
            .map(|r| {
                let (account, premises) = r.account.split()?;
                Ok(LinkedAccount {
                    account,
                    premises,
                    linked_at: r.linked_at,
                    primary: r.is_primary != 0,
                    card_payments_until: r.card_payments_until,
                })
            })
            .collect()
    }

    /// Links `account` to `user`; `false` when it already was.
    pub async fn add(
        &self,
        user: d::UserId,
        account: d::AccountId,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        link(self.0, user, account, now).await
    }

    /// Unlinks `account` from `user`; `false` when it was not linked.
    pub async fn remove(&self, user: d::UserId, account: d::AccountId) -> Result<bool, DbError> {
        let res = user_account::Entity::delete_many()
            .filter(user_account::Column::UserId.eq(user.0))
            .filter(user_account::Column::AccountId.eq(account.0))
            .exec(self.0.conn())
            .await?;
        Ok(res.rows_affected > 0)
    }
}
