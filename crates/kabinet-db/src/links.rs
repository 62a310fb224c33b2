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

/// A resident's request to see an account another resident signed up with,
/// waiting for that resident's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    /// Row id.
    pub id: d::LinkRequestId,
    /// Who asked.
    pub user_id: d::UserId,
    /// Their e-mail (shown to the owner masked).
    pub user_email: String,
    /// The account asked for.
    pub account_id: d::AccountId,
    /// Its number.
    pub account_number: String,
    /// The resident who signs in with that account and decides.
    pub owner_id: d::UserId,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    /// When it was asked.
    pub created_at: OffsetDateTime,
    /// Until when it may be approved.
    pub expires_at: OffsetDateTime,
}

/// Someone else who sees one of the owner's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The user.
    pub user_id: d::UserId,
    /// Their e-mail (shown masked).
    pub email: String,
    /// Since when.
    pub linked_at: OffsetDateTime,
}

const REQUEST_COLUMNS: &str = "lr.id, lr.user_id, u.email AS user_email, lr.account_id, a.number AS account_number, \
     lr.owner_id, lr.status, lr.created_at, lr.expires_at \
     FROM link_requests lr JOIN users u ON u.id = lr.user_id JOIN accounts a ON a.id = lr.account_id";

fn request_row(r: &sea_orm::QueryResult) -> Result<LinkRequest, DbError> {
    Ok(LinkRequest {
        id: d::LinkRequestId(r.try_get("", "id")?),
        user_id: d::UserId(r.try_get("", "user_id")?),
        user_email: r.try_get("", "user_email")?,
        account_id: d::AccountId(r.try_get("", "account_id")?),
        account_number: r.try_get("", "account_number")?,
        owner_id: d::UserId(r.try_get("", "owner_id")?),
        status: r.try_get("", "status")?,
        created_at: r.try_get("", "created_at")?,
        expires_at: r.try_get("", "expires_at")?,
    })
}

impl<C: Conn> Links<'_, C> {
    async fn requests(&self, cond: &str, values: Vec<sea_orm::Value>) -> Result<Vec<LinkRequest>, DbError> {
        let rows = self
            .0
            .conn()
            .query_all_raw(crate::convert::stmt(
                self.0,
                format!("SELECT {REQUEST_COLUMNS} WHERE {cond} ORDER BY lr.created_at DESC, lr.id DESC"),
                values,
            ))
            .await?;
        rows.iter().map(request_row).collect()
    }

    /// Records a request of `user` to see `account`, which `owner` signs in
    /// with; the link sent to the owner carries the token whose hash is
    /// given. Returns the request's id.
    pub async fn request(
        &self,
        user: d::UserId,
        account: d::AccountId,
        owner: d::UserId,
        token_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<i64, DbError> {
        let r = self
            .0
            .conn()
            .query_one_raw(crate::convert::stmt(
                self.0,
                "INSERT INTO link_requests (user_id, account_id, owner_id, token_hash, status, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING id",
                vec![
                    user.0.into(),
                    account.0.into(),
                    owner.0.into(),
                    token_hash.into(),
                    now.into(),
                    expires_at.into(),
                ],
            ))
            .await?
            .ok_or_else(|| crate::convert::corrupt("link_requests", "id", "no row returned"))?;
        Ok(r.try_get("", "id")?)
    }

    /// The pending, unexpired request of `user` for `account`, if any.
    pub async fn pending(
        &self,
        user: d::UserId,
        account: d::AccountId,
        now: OffsetDateTime,
    ) -> Result<Option<LinkRequest>, DbError> {
        Ok(self
            .requests(
                "lr.user_id = $1 AND lr.account_id = $2 AND lr.status = 'pending' AND lr.expires_at > $3",
                vec![user.0.into(), account.0.into(), now.into()],
            )
            .await?
            .into_iter()
            .next())
    }

    /// A request by the hash of its token.
    pub async fn request_by_token(&self, token_hash: &str) -> Result<Option<LinkRequest>, DbError> {
        Ok(self
            .requests("lr.token_hash = $1", vec![token_hash.into()])
            .await?
            .into_iter()
            .next())
    }

    /// The pending, unexpired requests `owner` is to answer, newest first.
    pub async fn awaiting(&self, owner: d::UserId, now: OffsetDateTime) -> Result<Vec<LinkRequest>, DbError> {
        self.requests(
            "lr.owner_id = $1 AND lr.status = 'pending' AND lr.expires_at > $2",
            vec![owner.0.into(), now.into()],
        )
        .await
    }

    /// The pending, unexpired requests `user` made, newest first.
    pub async fn asked_by(&self, user: d::UserId, now: OffsetDateTime) -> Result<Vec<LinkRequest>, DbError> {
        self.requests(
            "lr.user_id = $1 AND lr.status = 'pending' AND lr.expires_at > $2",
            vec![user.0.into(), now.into()],
        )
        .await
    }

    /// Answers request `id` of `owner` (`approved` or `declined`) if it is
    /// still pending and unexpired; true if this call answered it.
    pub async fn decide(
        &self,
        id: d::LinkRequestId,
        owner: d::UserId,
        approve: bool,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let res = self
            .0
            .conn()
            .execute_raw(crate::convert::stmt(
                self.0,
                "UPDATE link_requests SET status = $3, decided_at = $4 \
                 WHERE id = $1 AND owner_id = $2 AND status = 'pending' AND expires_at > $4",
                vec![
                    id.0.into(),
                    owner.0.into(),
                    if approve { "approved" } else { "declined" }.into(),
                    now.into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// The other users who see `account` (not the one who signs in with it).
    pub async fn viewers(&self, account: d::AccountId) -> Result<Vec<Viewer>, DbError> {
        let rows = self
            .0
            .conn()
            .query_all_raw(crate::convert::stmt(
                self.0,
                "SELECT ua.user_id, u.email, ua.linked_at FROM user_accounts ua JOIN users u ON u.id = ua.user_id \
                 WHERE ua.account_id = $1 AND u.account_id <> $1 ORDER BY ua.linked_at, ua.user_id",
                vec![account.0.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Viewer {
                    user_id: d::UserId(r.try_get("", "user_id")?),
                    email: r.try_get("", "email")?,
                    linked_at: r.try_get("", "linked_at")?,
                })
            })
            .collect()
    }
}
