//! Residents' support (S6): finding a resident by the start of an account
//! number, e-mail, phone or building address, and what their card shows
//! beside what other repositories give (sign-ins, sessions, pending links).
//!
//! Each search is one range over an index of migration
//! `m20261207_000015_support`, read in the index's order and cut at the
//! limit, so it costs the same at a million accounts as at a hundred.

use crate::entities::{audit, session, user};
use crate::{Backend, Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::support::{Search, SearchField};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use time::OffsetDateTime;

/// A resident found by a search: one account, and one of its residents
/// when someone signed up with it or linked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The account.
    pub account_id: d::AccountId,
    /// Its number.
    pub number: String,
    /// Its address with the flat.
    pub address: String,
    /// A resident who sees it (none: nobody registered).
    pub user: Option<FoundUser>,
}

/// The resident of a [`Found`] row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundUser {
    /// Row id.
    pub id: d::UserId,
    /// E-mail.
    pub email: String,
    /// Blocked by staff.
    pub blocked: bool,
    /// This account is the one they sign in with.
    pub primary: bool,
}

#[derive(FromQueryResult)]
struct Row {
    account_id: i64,
    number: String,
    address: String,
    flat: Option<String>,
    user_id: Option<i64>,
    email: Option<String>,
    blocked: Option<bool>,
    primary_account: Option<i64>,
}

/// A sign-in, a failed one or a refused one, from the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLine {
    /// When.
    pub at: OffsetDateTime,
    /// `sign_in`, `sign_in_failed` or `sign_in_refused`.
    pub event: d::AuditEvent,
    /// From which address.
    pub ip: String,
    /// Browser or app.
    pub user_agent: String,
}

/// A resident's open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession {
    /// Browser or API token.
    pub kind: String,
    /// Opened.
    pub created_at: OffsetDateTime,
    /// Last used.
    pub last_seen_at: OffsetDateTime,
    /// From which address it was opened.
    pub ip: String,
    /// Browser or app.
    pub user_agent: String,
}

/// The support repository (see [`crate::Repos::support`]).
pub struct Support<'a, C>(pub(crate) &'a C);

impl<C: Conn> Support<'_, C> {
    /// At most `limit` accounts and residents matching `search`, in the
    /// order of the searched field.
    pub async fn find(&self, search: &Search, limit: u64) -> Result<Vec<Found>, DbError> {
        let column = match search.field {
            SearchField::Account => "a.number",
            SearchField::Email => "u.email",
            SearchField::Phone => "u.phone",
            SearchField::Address => "p.address",
        };
        let collate = match self.0.backend() {
            Backend::Postgres => " COLLATE \"C\"",
            Backend::Sqlite => "",
        };
        // A search by a resident's field starts from users; one by an
        // account's, from accounts (listing those nobody registered too).
        let from = match search.field {
            SearchField::Email | SearchField::Phone => {
                "users u JOIN user_accounts ua ON ua.user_id = u.id \
                 JOIN accounts a ON a.id = ua.account_id JOIN premises p ON p.id = a.premises_id"
            }
            SearchField::Account | SearchField::Address => {
                "premises p JOIN accounts a ON a.premises_id = p.id \
                 LEFT JOIN user_accounts ua ON ua.account_id = a.id LEFT JOIN users u ON u.id = ua.user_id"
            }
        };
        let sql = format!(
            "SELECT a.id AS account_id, a.number, p.address, p.flat, u.id AS user_id, u.email, u.blocked, \
             u.account_id AS primary_account FROM {from} \
             WHERE {column}{collate} >= $1 AND {column}{collate} < $2 \
             ORDER BY {column}{collate} LIMIT $3"
        );
        let c = self.0.conn();
        let rows = Row::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            sql,
            [
                search.prefix.clone().into(),
                search.upper().into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ))
        .all(c)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Found {
                account_id: d::AccountId(r.account_id),
                number: r.number,
                address: d::full_address(&r.address, r.flat.as_deref()),
                user: match (r.user_id, r.email) {
                    (Some(id), Some(email)) => Some(FoundUser {
                        id: d::UserId(id),
                        email,
                        blocked: r.blocked.unwrap_or(false),
                        primary: r.primary_account == Some(r.account_id),
                    }),
                    _ => None,
                },
            })
            .collect())
    }

    /// The newest `limit` sign-ins of `user`, failed and refused ones too.
    pub async fn sign_ins(&self, user: d::UserId, limit: u64) -> Result<Vec<SignInLine>, DbError> {
        use d::AuditEvent as E;
        let events = [E::SignIn, E::SignInFailed, E::SignInRefused];
        let rows = audit::Entity::find()
            .filter(audit::Column::UserId.eq(user.0))
            .filter(audit::Column::Event.is_in(events.iter().map(|e| e.as_str())))
            .order_by_desc(audit::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(SignInLine {
                    at: r.at,
                    event: E::from_stored(&r.event)?,
                    ip: r.ip,
                    user_agent: r.user_agent,
                })
            })
            .collect())
    }

    /// The sessions of `user` not yet at their end, newest first.
    pub async fn sessions(&self, user: d::UserId, now: OffsetDateTime) -> Result<Vec<OpenSession>, DbError> {
        Ok(session::Entity::find()
            .filter(session::Column::UserId.eq(user.0))
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_desc(session::Column::Id)
            .limit(100)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|s| OpenSession {
                kind: s.kind,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Blocks or unblocks `user`; `false` when it already was so.
    pub async fn set_blocked(&self, user: d::UserId, blocked: bool) -> Result<bool, DbError> {
        use sea_orm::sea_query::Expr;
        let n = user::Entity::update_many()
            .col_expr(user::Column::Blocked, Expr::value(blocked))
            .filter(user::Column::Id.eq(user.0))
            .filter(user::Column::Blocked.eq(!blocked))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
    }
}
