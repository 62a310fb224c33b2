//! Password-reset links: single-use, short-lived, stored as the SHA-256 of
//! their token.

use crate::entities::password_reset;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;

/// A password-reset link to store: its token's hash, whose, until when.
#[derive(Debug, Clone)]
pub struct NewReset {
    /// The user whose password the link sets.
    pub user_id: d::UserId,
    /// SHA-256 of the link's token, hex.
    pub token_hash: String,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

/// Reset links (see [`crate::Repos::resets`]).
pub struct Resets<'a, C>(pub(crate) &'a C);

impl<C: Conn> Resets<'_, C> {
    /// Stores a link; the user's earlier unused links stop working.
    pub async fn create(&self, r: &NewReset, now: OffsetDateTime) -> Result<(), DbError> {
        password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now)))
            .filter(password_reset::Column::UserId.eq(r.user_id.0))
            .filter(password_reset::Column::UsedAt.is_null())
            .exec(self.0.conn())
            .await?;
        password_reset::ActiveModel {
            token_hash: Set(r.token_hash.clone()),
            user_id: Set(r.user_id.0),
            created_at: Set(now),
            expires_at: Set(r.expires_at),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(())
    }

    /// The user a link belongs to, if it is unused and not expired.
    pub async fn user_of(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<d::UserId>, DbError> {
        Ok(password_reset::Entity::find()
            .filter(password_reset::Column::TokenHash.eq(token_hash))
            .filter(password_reset::Column::UsedAt.is_null())
            .filter(password_reset::Column::ExpiresAt.gt(now))
            .one(self.0.conn())
            .await?
            .map(|r| d::UserId(r.user_id)))
    }

    /// Uses a link: its user, or `None` (and nothing changed) when it is
    /// unknown, used or expired — also when another request used it a moment
    /// ago (the claim is one conditional update).
    pub async fn claim(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<d::UserId>, DbError> {
        let Some(r) = password_reset::Entity::find()
            .filter(password_reset::Column::TokenHash.eq(token_hash))
            .one(self.0.conn())
            .await?
        else {
            return Ok(None);
        };
        let claimed = password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now)))
            .filter(password_reset::Column::Id.eq(r.id))
            .filter(password_reset::Column::UsedAt.is_null())
            .filter(password_reset::Column::ExpiresAt.gt(now))
            .exec(self.0.conn())
            .await?;
        Ok((claimed.rows_affected == 1).then_some(d::UserId(r.user_id)))
    }
}
