//! Announcements and outages (B2): the office publishes news, a planned
//! outage or an emergency to everyone or to chosen buildings; residents see
//! those in force and the recent past, with emergencies and outages pinned
//! as a banner on their pages; publishing queues a job that makes them
//! notifications to the targeted residents ([`crate::notify`]): by the
//! residents' choice, an emergency to everyone on every channel.

use crate::Error;
use crate::cache::Cached;
use crate::forms::FieldErrors;
use crate::staff::By;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::announcements::{Announcement, AnnouncementDraft, check_announcement};
use kabinet_domain::staff::Permission;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// How long residents see an ended announcement in their list.
pub const PAST_SHOWN: Duration = Duration::days(90);
/// The most announcements a resident's list holds.
pub const LIST_LIMIT: u64 = 100;
/// The most announcements in force at once that pages look at.
const IN_FORCE_LIMIT: u64 = 500;

/// The announcement use cases.
#[derive(Clone)]
pub struct Announcements {
    db: Db,
    in_force: Arc<Cached<Arc<Vec<Announcement>>>>,
}

impl Announcements {
    /// Over `db`.
    pub fn new(db: Db) -> Announcements {
        Announcements {
            db,
            in_force: Arc::new(Cached::new(std::time::Duration::from_secs(5))),
        }
    }

    /// Those in force now, read at most every 5 s per server.
    async fn in_force(&self) -> Result<Arc<Vec<Announcement>>, Error> {
        if let Some(v) = self.in_force.fresh() {
            return Ok(v);
        }
        let now = OffsetDateTime::now_utc();
        let list = Arc::new(
            self.db
                .announcements()
                .shown_since(now, now, IN_FORCE_LIMIT)
                .await?,
        );
        self.in_force.store(list.clone());
        Ok(list)
    }

    /// The buildings of `user`'s accounts.
    async fn buildings_of(&self, user: d::UserId) -> Result<Vec<String>, Error> {
        Ok(self
            .db
            .links()
            .of_user(user)
            .await?
            .into_iter()
            .map(|l| l.premises.address)
            .collect())
    }

    /// The emergencies and outages in force for `user`: the banner on their
    /// pages. Their buildings are read only when one targets buildings.
    pub async fn pinned_for(&self, user: d::UserId) -> Result<Vec<Announcement>, Error> {
        let now = OffsetDateTime::now_utc();
        let all = self.in_force().await?;
        let pinned: Vec<&Announcement> = all.iter().filter(|a| a.pinned(now)).collect();
        if pinned.is_empty() {
            return Ok(Vec::new());
        }
        let buildings = if pinned.iter().any(|a| !a.buildings.is_empty()) {
            self.buildings_of(user).await?
        } else {
            Vec::new()
        };
        Ok(pinned
            .into_iter()
            .filter(|a| a.targets(&buildings))
            .cloned()
            .collect())
    }

    /// What `user` is shown: in force now, and ended within
    /// [`PAST_SHOWN`], each newest first.
    pub async fn for_resident(
        &self,
        user: d::UserId,
    ) -> Result<(Vec<Announcement>, Vec<Announcement>), Error> {
        let now = OffsetDateTime::now_utc();
        let buildings = self.buildings_of(user).await?;
        let (current, past) = self
            .db
            .announcements()
            .shown_since(now, now - PAST_SHOWN, LIST_LIMIT)
            .await?
            .into_iter()
            .filter(|a| a.targets(&buildings))
            .partition(|a| a.in_force(now));
        Ok((current, past))
    }

    /// The newest announcements, for the office.
    pub async fn newest(&self, by: By<'_>) -> Result<Vec<Announcement>, Error> {
        by.require(Permission::Announcements)?;
        Ok(self.db.announcements().newest(100).await?)
    }

    /// One announcement, for the office.
    pub async fn get(&self, by: By<'_>, id: i64) -> Result<Announcement, Error> {
        by.require(Permission::Announcements)?;
        self.db.announcements().get(id).await?.ok_or(Error::NotFound)
    }

    /// Checks a draft (every problem at once, buildings against the
    /// premises billing sent).
    async fn check(&self, draft: &AnnouncementDraft, now: OffsetDateTime) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        for p in check_announcement(draft, now) {
            errors.add(p.field, p.text);
        }
        let known = self.db.accounts().known_buildings(&draft.buildings).await?;
        if let Some(unknown) = draft.buildings.iter().find(|b| !known.contains(b)) {
            errors.add(
                "buildings",
                d::Text::new("error-announcement-building-unknown").with("name", unknown.clone()),
            );
        }
        errors.check()
    }

    /// Publishes a draft, audited, with the job that notifies the targeted
    /// residents (from its start); returns its id.
    pub async fn publish(&self, by: By<'_>, draft: &AnnouncementDraft) -> Result<i64, Error> {
        by.require(Permission::Announcements)?;
        let now = OffsetDateTime::now_utc();
        self.check(draft, now).await?;
        let tx = self.db.begin().await?;
        let id = tx
            .announcements()
            .insert(draft, by.member().map(|m| m.id), now)
            .await?;
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::AnnouncementPublished, summary(id, draft)),
                now,
            )
            .await?;
        let job = crate::jobs::announcements::NotifyAnnouncement { id, after: 0 };
        crate::jobs::enqueue(&tx, &job, draft.starts_at.max(now), now).await?;
        tx.commit().await?;
        self.in_force.clear();
        Ok(id)
    }

    /// Changes announcement `id` (a new end extends or ends it), audited.
    /// Residents are not notified again.
    pub async fn update(&self, by: By<'_>, id: i64, draft: &AnnouncementDraft) -> Result<(), Error> {
        by.require(Permission::Announcements)?;
        let now = OffsetDateTime::now_utc();
        let before = self.db.announcements().get(id).await?.ok_or(Error::NotFound)?;
        // An announcement already shown keeps its start.
        let draft = if before.starts_at <= now {
            &AnnouncementDraft {
                starts_at: before.starts_at,
                ..draft.clone()
            }
        } else {
            draft
        };
        self.check(draft, now).await?;
        let tx = self.db.begin().await?;
        if !tx.announcements().update(id, draft, now).await? {
            return Err(Error::NotFound);
        }
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::AnnouncementChanged, summary(id, draft)),
                now,
            )
            .await?;
        tx.commit().await?;
        self.in_force.clear();
        Ok(())
    }

    /// Ends announcement `id` now, audited.
    pub async fn end_now(&self, by: By<'_>, id: i64) -> Result<(), Error> {
        by.require(Permission::Announcements)?;
        let now = OffsetDateTime::now_utc();
        let a = self.db.announcements().get(id).await?.ok_or(Error::NotFound)?;
        if a.ends_at.is_some_and(|e| e <= now) {
            return Err(Error::Conflict(d::Text::new("error-announcement-ended")));
        }
        let draft = AnnouncementDraft {
            kind: a.kind,
            service: a.service,
            title: a.title,
            body: a.body,
            buildings: a.buildings,
            starts_at: a.starts_at.min(now),
            ends_at: Some(now),
        };
        let tx = self.db.begin().await?;
        tx.announcements().update(id, &draft, now).await?;
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::AnnouncementChanged, format!("#{id} ended")),
                now,
            )
            .await?;
        tx.commit().await?;
        self.in_force.clear();
        Ok(())
    }
}

/// The audit line's details of announcement `id`.
fn summary(id: i64, a: &AnnouncementDraft) -> String {
    format!(
        "#{id} {} {}: {:?}, {} building(s), until {}",
        a.kind.as_str(),
        a.service.map_or("-", |s| s.as_str()),
        a.title.trim(),
        a.buildings.len(),
        a.ends_at
            .map_or_else(|| "taken down".to_string(), |e| e.to_string())
    )
}
