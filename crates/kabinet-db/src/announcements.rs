//! Announcements and outages (B2): published, changed (a new end extends or
//! ends one), listed for the office, and those in force or recently ended
//! for residents. The buildings are stored one address a line.

use crate::convert::corrupt;
use crate::entities::announcement;
use crate::{Conn, DbError};
use kabinet_domain::announcements::{Announcement, AnnouncementDraft, AnnouncementKind, Service};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use time::OffsetDateTime;

fn to_announcement(m: announcement::Model) -> Result<Announcement, DbError> {
    Ok(Announcement {
        id: m.id,
        kind: AnnouncementKind::from_stored(&m.kind)
            .ok_or_else(|| corrupt("announcements", "kind", &m.kind))?,
        service: match m.service.as_deref() {
            None => None,
            Some(s) => Some(Service::from_stored(s).ok_or_else(|| corrupt("announcements", "service", s))?),
        },
        title: m.title,
        body: m.body,
        buildings: m
            .buildings
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        created_at: m.created_at,
    })
}

/// Sets the columns a draft gives, and the time of the change.
fn set_draft(row: &mut announcement::ActiveModel, a: &AnnouncementDraft, now: OffsetDateTime) {
    row.kind = Set(a.kind.as_str().into());
    row.service = Set(a.service.map(|s| s.as_str().to_string()));
    row.title = Set(a.title.trim().to_string());
    row.body = Set(a.body.trim().to_string());
    row.buildings = Set(a.buildings.join("\n"));
    row.starts_at = Set(a.starts_at);
    row.ends_at = Set(a.ends_at);
    row.updated_at = Set(now);
}

/// The announcements (see [`crate::Repos::announcements`]).
pub struct Announcements<'a, C>(pub(crate) &'a C);

impl<C: Conn> Announcements<'_, C> {
    /// Publishes a checked draft; returns its id.
    pub async fn insert(
        &self,
        a: &AnnouncementDraft,
        by: Option<kabinet_domain::StaffId>,
        now: OffsetDateTime,
    ) -> Result<i64, DbError> {
        let mut row = announcement::ActiveModel {
            created_by: Set(by.map(|s| s.0)),
            created_at: Set(now),
            ..Default::default()
        };
        set_draft(&mut row, a, now);
        let row = row.insert(self.0.conn()).await?;
        Ok(row.id)
    }

    /// Replaces announcement `id` with a checked draft; `false` when there
    /// is none.
    pub async fn update(&self, id: i64, a: &AnnouncementDraft, now: OffsetDateTime) -> Result<bool, DbError> {
        let Some(row) = announcement::Entity::find_by_id(id).one(self.0.conn()).await? else {
            return Ok(false);
        };
        let mut row: announcement::ActiveModel = row.into();
        set_draft(&mut row, a, now);
        row.update(self.0.conn()).await?;
        Ok(true)
    }

    /// One announcement.
    pub async fn get(&self, id: i64) -> Result<Option<Announcement>, DbError> {
        announcement::Entity::find_by_id(id)
            .one(self.0.conn())
            .await?
            .map(to_announcement)
            .transpose()
    }

    /// The newest `limit` announcements, for the office.
    pub async fn newest(&self, limit: u64) -> Result<Vec<Announcement>, DbError> {
        announcement::Entity::find()
            .order_by_desc(announcement::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_announcement)
            .collect()
    }

    /// Those begun by `now` that had not ended by `since` (in force now, or
    /// ended since then), newest start first, at most `limit`.
    pub async fn shown_since(
        &self,
        now: OffsetDateTime,
        since: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Announcement>, DbError> {
        use announcement::Column as A;
        announcement::Entity::find()
            .filter(A::StartsAt.lte(now))
            .filter(Condition::any().add(A::EndsAt.is_null()).add(A::EndsAt.gt(since)))
            .order_by_desc(A::StartsAt)
            .order_by_desc(A::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_announcement)
            .collect()
    }
}
