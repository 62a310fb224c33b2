//! Versions of the documents residents accept (R15, B8): the Rules of service
//! and the personal-data consent, each in a table of its own of the same
//! shape. Each publication is a new, higher version; residents accept the
//! newest.

use crate::entities::{consent_version, rules_version, user};
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Runs `$body` with `$e` naming the entity module of `$doc`'s table (the two
/// tables have the same columns, so one body serves both).
macro_rules! on_table {
    ($doc:expr, $e:ident => $body:expr) => {
        match $doc {
            d::Document::Rules => {
                use rules_version as $e;
                $body
            }
            d::Document::Consent => {
                use consent_version as $e;
                $body
            }
        }
    };
}

macro_rules! to_version {
    ($r:expr) => {{
        let r = $r;
        d::RulesVersion {
            version: r.version,
            title: r.title,
            body: r.body,
            published_at: r.published_at,
        }
    }};
}

/// The column of `users` holding the version of `doc` a resident accepted last.
pub(crate) fn accepted_column(doc: d::Document) -> user::Column {
    match doc {
        d::Document::Rules => user::Column::RulesVersion,
        d::Document::Consent => user::Column::ConsentVersion,
    }
}

/// The versions of one document (see [`crate::Repos::documents`]).
pub struct Documents<'a, C>(pub(crate) &'a C, pub(crate) d::Document);

impl<C: Conn> Documents<'_, C> {
    /// The version in force (the newest), if any was published.
    pub async fn current(&self) -> Result<Option<d::RulesVersion>, DbError> {
        on_table!(self.1, e => Ok(e::Entity::find()
            .order_by_desc(e::Column::Version)
            .one(self.0.conn())
            .await?
            .map(|r| to_version!(r))))
    }

    /// Every published version, newest first.
    pub async fn all(&self) -> Result<Vec<d::RulesVersion>, DbError> {
        on_table!(self.1, e => Ok(e::Entity::find()
            .order_by_desc(e::Column::Version)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|r| to_version!(r))
            .collect()))
    }

    /// One version.
    pub async fn version(&self, version: i32) -> Result<Option<d::RulesVersion>, DbError> {
        on_table!(self.1, e => Ok(e::Entity::find()
            .filter(e::Column::Version.eq(version))
            .one(self.0.conn())
            .await?
            .map(|r| to_version!(r))))
    }

    /// Publishes the next version; returns its number. Two publications at
    /// once cannot both take a number: the version is unique.
    pub async fn publish(&self, title: &str, body: &str, now: OffsetDateTime) -> Result<i32, DbError> {
        let version = self.current().await?.map_or(0, |r| r.version) + 1;
        on_table!(self.1, e => {
            e::ActiveModel {
                version: Set(version),
                title: Set(title.to_string()),
                body: Set(body.to_string()),
                published_at: Set(now),
                ..Default::default()
            }
            .insert(self.0.conn())
            .await?;
        });
        Ok(version)
    }

    /// How many residents have each version as the latest they accepted.
    pub async fn acceptance(&self) -> Result<HashMap<i32, u64>, DbError> {
        let column = accepted_column(self.1);
        let rows: Vec<(i32, i64)> = user::Entity::find()
            .select_only()
            .column(column)
            .column_as(user::Column::Id.count(), "n")
            .group_by(column)
            .into_tuple()
            .all(self.0.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(v, n)| (v, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}
