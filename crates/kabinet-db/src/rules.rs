//! Versions of the Rules of service (R15): each publication is a new, higher
//! version; residents accept the newest.

use crate::entities::{rules_version, user};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::HashMap;
use time::OffsetDateTime;

fn to_rules(r: rules_version::Model) -> d::RulesVersion {
    d::RulesVersion {
        version: r.version,
        title: r.title,
        body: r.body,
        published_at: r.published_at,
    }
}

/// Rules versions (see [`crate::Repos::rules`]).
pub struct Rules<'a, C>(pub(crate) &'a C);

impl<C: Conn> Rules<'_, C> {
    /// The version in force (the newest), if any was published.
    pub async fn current(&self) -> Result<Option<d::RulesVersion>, DbError> {
        Ok(rules_version::Entity::find()
            .order_by_desc(rules_version::Column::Version)
            .one(self.0.conn())
            .await?
            .map(to_rules))
    }

    /// Every published version, newest first.
    pub async fn all(&self) -> Result<Vec<d::RulesVersion>, DbError> {
        Ok(rules_version::Entity::find()
            .order_by_desc(rules_version::Column::Version)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_rules)
            .collect())
    }

    /// One version.
    pub async fn version(&self, version: i32) -> Result<Option<d::RulesVersion>, DbError> {
        Ok(rules_version::Entity::find()
            .filter(rules_version::Column::Version.eq(version))
            .one(self.0.conn())
            .await?
            .map(to_rules))
    }

    /// Publishes the next version; returns its number. Two publications at
    /// once cannot both take a number: the version is unique.
    pub async fn publish(&self, title: &str, body: &str, now: OffsetDateTime) -> Result<i32, DbError> {
        let version = self.current().await?.map_or(0, |r| r.version) + 1;
        rules_version::ActiveModel {
            version: Set(version),
            title: Set(title.to_string()),
            body: Set(body.to_string()),
            published_at: Set(now),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(version)
    }

    /// How many residents have each version as the latest they accepted.
    pub async fn acceptance(&self) -> Result<HashMap<i32, u64>, DbError> {
        let rows: Vec<(i32, i64)> = user::Entity::find()
            .select_only()
            .column(user::Column::RulesVersion)
            .column_as(user::Column::Id.count(), "n")
            .group_by(user::Column::RulesVersion)
            .into_tuple()
            .all(self.0.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(v, n)| (v, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}
