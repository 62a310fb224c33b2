//! Phone verification codes: stored hashed, counted per phone and per
//! resident to hold the daily limit, guessed a few times at most.

use crate::entities::{phone_code, user};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

/// A code waiting to be typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCode {
    /// Its row.
    pub id: i64,
    /// The phone it was sent to (`+7…`).
    pub phone: String,
    /// The code's hash.
    pub code_hash: String,
    /// Wrong guesses so far.
    pub tries: i32,
}

/// Phone codes (see [`crate::Repos::phone_codes`]).
pub struct PhoneCodes<'a, C>(pub(crate) &'a C);

impl<C: Conn> PhoneCodes<'_, C> {
    /// Stores a code sent to `phone` for `user`, working until `expires_at`;
    /// the user's earlier codes stop working.
    pub async fn add(
        &self,
        user: d::UserId,
        phone: &str,
        code_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), DbError> {
        phone_code::Entity::update_many()
            .col_expr(phone_code::Column::UsedAt, Expr::value(Some(now)))
            .filter(phone_code::Column::UserId.eq(user.0))
            .filter(phone_code::Column::UsedAt.is_null())
            .exec(self.0.conn())
            .await?;
        phone_code::Entity::insert(phone_code::ActiveModel {
            user_id: Set(user.0),
            phone: Set(phone.into()),
            code_hash: Set(code_hash.into()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            tries: Set(0),
            used_at: Set(None),
            ..Default::default()
        })
        .exec_without_returning(self.0.conn())
        .await?;
        Ok(())
    }

    /// Codes sent since `since` to `phone`, and to `user`.
    pub async fn sent_since(
        &self,
        user: d::UserId,
        phone: &str,
        since: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        let to_phone = phone_code::Entity::find()
            .filter(phone_code::Column::Phone.eq(phone))
            .filter(phone_code::Column::CreatedAt.gte(since))
            .count(self.0.conn())
            .await?;
        let to_user = phone_code::Entity::find()
            .filter(phone_code::Column::UserId.eq(user.0))
            .filter(phone_code::Column::CreatedAt.gte(since))
            .count(self.0.conn())
            .await?;
        Ok((to_phone, to_user))
    }

    /// The user's newest code that still works at `now`.
    pub async fn live(&self, user: d::UserId, now: OffsetDateTime) -> Result<Option<PhoneCode>, DbError> {
        Ok(phone_code::Entity::find()
            .filter(phone_code::Column::UserId.eq(user.0))
            .filter(phone_code::Column::UsedAt.is_null())
            .filter(phone_code::Column::ExpiresAt.gt(now))
            .order_by_desc(phone_code::Column::Id)
            .one(self.0.conn())
            .await?
            .map(|c| PhoneCode {
                id: c.id,
                phone: c.phone,
                code_hash: c.code_hash,
                tries: c.tries,
            }))
    }

    /// Counts a wrong guess at code `id`; it stops working after `max`.
    pub async fn wrong(&self, id: i64, max: i32, now: OffsetDateTime) -> Result<(), DbError> {
        phone_code::Entity::update_many()
            .col_expr(
                phone_code::Column::Tries,
                Expr::col(phone_code::Column::Tries).add(1),
            )
            .filter(phone_code::Column::Id.eq(id))
            .exec(self.0.conn())
            .await?;
        phone_code::Entity::update_many()
            .col_expr(phone_code::Column::UsedAt, Expr::value(Some(now)))
            .filter(phone_code::Column::Id.eq(id))
            .filter(phone_code::Column::Tries.gte(max))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Uses code `id` and records its phone as `user`'s verified one, if
    /// the user's phone is still that number; `false` when the code was
    /// used meanwhile or the phone changed.
    pub async fn confirm(
        &self,
        id: i64,
        user: d::UserId,
        phone: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let used = phone_code::Entity::update_many()
            .col_expr(phone_code::Column::UsedAt, Expr::value(Some(now)))
            .filter(phone_code::Column::Id.eq(id))
            .filter(phone_code::Column::UsedAt.is_null())
            .exec(self.0.conn())
            .await?
            .rows_affected;
        if used != 1 {
            return Ok(false);
        }
        let n = user::Entity::update_many()
            .col_expr(user::Column::PhoneVerified, Expr::value(Some(phone.to_string())))
            .filter(user::Column::Id.eq(user.0))
            .filter(user::Column::Phone.eq(phone))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
    }
}
