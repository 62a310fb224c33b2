//! The settings the office changes at run time, as key and text value; the
//! app crate gives them meaning and lays them over the configuration.

use crate::entities::org_setting;
use crate::{Conn, DbError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use time::OffsetDateTime;

/// Stored settings (see [`crate::Repos::org_settings`]).
pub struct OrgSettings<'a, C>(pub(crate) &'a C);

impl<C: Conn> OrgSettings<'_, C> {
    /// Every stored setting: (key, value).
    pub async fn all(&self) -> Result<Vec<(String, String)>, DbError> {
        Ok(org_setting::Entity::find()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|m| (m.key, m.value))
            .collect())
    }

    /// Stores `value` under `key`, replacing what was there.
    pub async fn put(&self, key: &str, value: &str, now: OffsetDateTime) -> Result<(), DbError> {
        org_setting::Entity::insert(org_setting::ActiveModel {
            key: Set(key.to_string()),
            value: Set(value.to_string()),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(org_setting::Column::Key)
                .update_columns([org_setting::Column::Value, org_setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(self.0.conn())
        .await?;
        Ok(())
    }
}
