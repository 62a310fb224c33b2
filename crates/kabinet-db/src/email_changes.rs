//! Pending changes of a resident's e-mail: the new address waits here until
//! the link sent to it is opened (R10).

use crate::entities::email_change;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;

/// A confirmed change: whose, and the address to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedChange {
    /// The user.
    pub user_id: d::UserId,
    /// The confirmed address.
    pub new_email: d::EmailAddress,
}

/// E-mail changes (see [`crate::Repos::email_changes`]).
pub struct EmailChanges<'a, C>(pub(crate) &'a C);

impl<C: Conn> EmailChanges<'_, C> {
    /// Stores a change waiting for confirmation; earlier unconfirmed ones of
    /// the user stop working.
    pub async fn create(
        &self,
        user: d::UserId,
        new_email: &d::EmailAddress,
        token_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), DbError> {
        email_change::Entity::update_many()
            .col_expr(email_change::Column::UsedAt, Expr::value(Some(now)))
            .filter(email_change::Column::UserId.eq(user.0))
            .filter(email_change::Column::UsedAt.is_null())
            .exec(self.0.conn())
            .await?;
        email_change::ActiveModel {
            token_hash: Set(token_hash.to_string()),
            user_id: Set(user.0),
            new_email: Set(new_email.as_str().to_string()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(())
    }

    /// Uses the change with this token hash once, if it is unused and not
    /// expired; the conditional update makes a second use find nothing.
    pub async fn claim(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ClaimedChange>, DbError> {
        let Some(row) = email_change::Entity::find()
            .filter(email_change::Column::TokenHash.eq(token_hash))
            .one(self.0.conn())
            .await?
        else {
            return Ok(None);
        };
        if row.used_at.is_some() || row.expires_at <= now {
            return Ok(None);
        }
        let res = email_change::Entity::update_many()
            .col_expr(email_change::Column::UsedAt, Expr::value(Some(now)))
            .filter(email_change::Column::Id.eq(row.id))
            .filter(email_change::Column::UsedAt.is_null())
            .exec(self.0.conn())
            .await?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        let new_email = d::EmailAddress::parse(&row.new_email)
            .map_err(|_| crate::convert::corrupt("email_changes", "new_email", &row.new_email))?;
        Ok(Some(ClaimedChange {
            user_id: d::UserId(row.user_id),
            new_email,
        }))
    }
}
