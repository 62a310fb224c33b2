//! The portal's announced or current closing (R14), set by `kabinet suspend`.
//! One is in force at a time: the newest.

use crate::entities::suspension;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use time::OffsetDateTime;

/// Closings (see [`crate::Repos::suspensions`]).
pub struct Suspensions<'a, C>(pub(crate) &'a C);

impl<C: Conn> Suspensions<'_, C> {
    /// The closing in force, if any.
    pub async fn current(&self) -> Result<Option<d::Suspension>, DbError> {
        Ok(suspension::Entity::find()
            .order_by_desc(suspension::Column::Id)
            .one(self.0.conn())
            .await?
            .map(|s| d::Suspension {
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                message: s.message,
            }))
    }

    /// Replaces the closing in force.
    pub async fn set(&self, s: &d::Suspension, now: OffsetDateTime) -> Result<(), DbError> {
        self.clear().await?;
        suspension::ActiveModel {
            starts_at: Set(s.starts_at),
            ends_at: Set(s.ends_at),
            message: Set(s.message.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(())
    }

    /// Lifts any closing.
    pub async fn clear(&self) -> Result<(), DbError> {
        suspension::Entity::delete_many().exec(self.0.conn()).await?;
        Ok(())
    }
}
