//! The personal accounts a resident's user may see: the account they signed
//! up with and the ones they linked by proving them (R10). Every page a
//! resident opens is scoped by this list.

use crate::entities::{account, link_request, user, user_account};
use crate::overview::AccountRow;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::{Condition, Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, Statement,
};
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
    /// How it was linked.
    pub linked_by: d::LinkedBy,
    /// Until when a card payment for it may be in progress (none: no card
    /// payment lately), read with the account at no extra cost.
    pub card_payments_until: Option<OffsetDateTime>,
    /// Whether an autopay of it is on (anyone's), read with the account.
    pub autopay: bool,
}

#[derive(FromQueryResult)]
struct Row {
    #[sea_orm(nested)]
    account: AccountRow,
    linked_at: OffsetDateTime,
    linked_by: String,
    is_primary: i32,
    autopay_on: i32,
    card_payments_until: Option<OffsetDateTime>,
}

/// Links `account` to `user` (nothing when already linked).
pub(crate) async fn link<C: Conn>(
    c: &C,
    user: d::UserId,
    account: d::AccountId,
    by: d::LinkedBy,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let res = user_account::Entity::insert(user_account::ActiveModel {
        user_id: Set(user.0),
        account_id: Set(account.0),
        linked_at: Set(now),
        linked_by: Set(by.as_str().into()),
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
             a.opened_on, a.closed_on, p.address, p.flat, p.total_area, p.living_area, ua.linked_at, ua.linked_by, a.card_payments_until, \
             CASE WHEN a.id = u.account_id THEN 1 ELSE 0 END AS is_primary, \
             CASE WHEN ap.id IS NULL THEN 0 ELSE 1 END AS autopay_on \
             FROM user_accounts ua JOIN users u ON u.id = ua.user_id \
             JOIN accounts a ON a.id = ua.account_id JOIN premises p ON p.id = a.premises_id \
             LEFT JOIN autopays ap ON ap.account_id = a.id AND ap.enabled = $2 \
             WHERE ua.user_id = $1 ORDER BY is_primary DESC, a.number",
            [user.0.into(), true.into()],
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
                    linked_by: d::LinkedBy::from_stored(&r.linked_by)
                        .ok_or_else(|| crate::convert::corrupt("user_accounts", "linked_by", &r.linked_by))?,
                    card_payments_until: r.card_payments_until,
                    autopay: r.autopay_on != 0,
                })
            })
            .collect()
    }

    /// Links `account` to `user` in the way `by`; `false` when it already
    /// was.
    pub async fn add(
        &self,
        user: d::UserId,
        account: d::AccountId,
        by: d::LinkedBy,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        link(self.0, user, account, by, now).await
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

/// A link request's row with the asker's e-mail and the account's number.
#[derive(FromQueryResult)]
struct RequestRow {
    #[sea_orm(nested)]
    r: link_request::Model,
    user_email: String,
    account_number: String,
}

impl From<RequestRow> for LinkRequest {
    fn from(row: RequestRow) -> LinkRequest {
        let r = row.r;
        LinkRequest {
            id: d::LinkRequestId(r.id),
            user_id: d::UserId(r.user_id),
            user_email: row.user_email,
            account_id: d::AccountId(r.account_id),
            account_number: row.account_number,
            owner_id: d::UserId(r.owner_id),
            status: r.status,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

/// A link request still waiting for its answer at `now`.
fn open_at(now: OffsetDateTime) -> Condition {
    Condition::all()
        .add(link_request::Column::Status.eq(PENDING))
        .add(link_request::Column::ExpiresAt.gt(now))
}

const PENDING: &str = "pending";

impl<C: Conn> Links<'_, C> {
    async fn requests(&self, condition: Condition) -> Result<Vec<LinkRequest>, DbError> {
        Ok(link_request::Entity::find()
            .join(JoinType::InnerJoin, link_request::Relation::User.def())
            .join(JoinType::InnerJoin, link_request::Relation::Account.def())
            .column_as(user::Column::Email, "user_email")
            .column_as(account::Column::Number, "account_number")
            .filter(condition)
            .order_by_desc(link_request::Column::CreatedAt)
            .order_by_desc(link_request::Column::Id)
            .into_model::<RequestRow>()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(LinkRequest::from)
            .collect())
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
    ) -> Result<d::LinkRequestId, DbError> {
        let row = link_request::ActiveModel {
            user_id: Set(user.0),
            account_id: Set(account.0),
            owner_id: Set(owner.0),
            token_hash: Set(token_hash.into()),
            status: Set(PENDING.into()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            decided_at: Set(None),
            ..Default::default()
        };
        let id = link_request::Entity::insert(row)
            .exec(self.0.conn())
            .await?
            .last_insert_id;
        Ok(d::LinkRequestId(id))
    }

    /// The pending, unexpired request of `user` for `account`, if any.
    pub async fn pending(
        &self,
        user: d::UserId,
        account: d::AccountId,
        now: OffsetDateTime,
    ) -> Result<Option<LinkRequest>, DbError> {
        let mine = open_at(now)
            .add(link_request::Column::UserId.eq(user.0))
            .add(link_request::Column::AccountId.eq(account.0));
        Ok(self.requests(mine).await?.into_iter().next())
    }

    /// A request by the hash of its token.
    pub async fn request_by_token(&self, token_hash: &str) -> Result<Option<LinkRequest>, DbError> {
        let found = Condition::all().add(link_request::Column::TokenHash.eq(token_hash));
        Ok(self.requests(found).await?.into_iter().next())
    }

    /// The pending, unexpired requests `owner` is to answer, newest first.
    pub async fn awaiting(&self, owner: d::UserId, now: OffsetDateTime) -> Result<Vec<LinkRequest>, DbError> {
        self.requests(open_at(now).add(link_request::Column::OwnerId.eq(owner.0)))
            .await
    }

    /// The pending, unexpired requests to see `account`, newest first.
    pub async fn asked_for(
        &self,
        account: d::AccountId,
        now: OffsetDateTime,
    ) -> Result<Vec<LinkRequest>, DbError> {
        self.requests(open_at(now).add(link_request::Column::AccountId.eq(account.0)))
            .await
    }

    /// The pending, unexpired requests `user` made, newest first.
    pub async fn asked_by(&self, user: d::UserId, now: OffsetDateTime) -> Result<Vec<LinkRequest>, DbError> {
        self.requests(open_at(now).add(link_request::Column::UserId.eq(user.0)))
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
        let answer = if approve { "approved" } else { "declined" };
        let n = link_request::Entity::update_many()
            .col_expr(link_request::Column::Status, Expr::value(answer))
            .col_expr(link_request::Column::DecidedAt, Expr::value(now))
            .filter(link_request::Column::Id.eq(id.0))
            .filter(link_request::Column::OwnerId.eq(owner.0))
            .filter(open_at(now))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
    }

    /// The other users who see `account` (not the one who signs in with it).
    pub async fn viewers(&self, account: d::AccountId) -> Result<Vec<Viewer>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: i64,
            email: String,
            linked_at: OffsetDateTime,
        }
        Ok(user_account::Entity::find()
            .select_only()
            .column(user_account::Column::UserId)
            .column(user::Column::Email)
            .column(user_account::Column::LinkedAt)
            .join(JoinType::InnerJoin, user_account::Relation::User.def())
            .filter(user_account::Column::AccountId.eq(account.0))
            .filter(user::Column::AccountId.ne(account.0))
            .order_by_asc(user_account::Column::LinkedAt)
            .order_by_asc(user_account::Column::UserId)
            .into_model::<Row>()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|r| Viewer {
                user_id: d::UserId(r.user_id),
                email: r.email,
                linked_at: r.linked_at,
            })
            .collect())
    }
}
