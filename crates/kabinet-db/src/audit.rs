//! The audit log: sign-ins, sign-outs, password changes, registrations, Rules
//! acceptances and every change residents and staff make. A use case writes
//! its line in the transaction of the change it records.

use crate::entities::audit;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use time::OffsetDateTime;

fn to_record(m: audit::Model) -> d::AuditRecord {
    d::AuditRecord {
        at: m.at,
        actor: m.actor,
        user_id: m.user_id.map(d::UserId),
        account_id: m.account_id.map(d::AccountId),
        event: m.event,
        ip: m.ip,
        user_agent: m.user_agent,
        details: m.details,
    }
}

/// What the office's audit page asks for; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `resident`, `staff` or `system`.
    pub actor: Option<d::Actor>,
    /// One event.
    pub event: Option<d::AuditEvent>,
    /// One account.
    pub account: Option<d::AccountId>,
    /// From this moment.
    pub from: Option<OffsetDateTime>,
    /// Before this moment.
    pub until: Option<OffsetDateTime>,
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(a) = self.actor {
            c = c.add(audit::Column::Actor.eq(a.as_str()));
        }
        if let Some(e) = self.event {
            c = c.add(audit::Column::Event.eq(e.as_str()));
        }
        if let Some(a) = self.account {
            c = c.add(audit::Column::AccountId.eq(a.0));
        }
        if let Some(t) = self.from {
            c = c.add(audit::Column::At.gte(t));
        }
        if let Some(t) = self.until {
            c = c.add(audit::Column::At.lt(t));
        }
        c
    }
}

/// The audit log (see [`crate::Repos::audit`]).
pub struct Audit<'a, C>(pub(crate) &'a C);

impl<C: Conn> Audit<'_, C> {
    /// Writes one line.
    pub async fn record(&self, e: &d::AuditEntry, at: OffsetDateTime) -> Result<(), DbError> {
        audit::ActiveModel {
            at: Set(at),
            actor: Set(e.actor.as_str().to_string()),
            user_id: Set(e.user_id.map(|u| u.0)),
            account_id: Set(e.account_id.map(|a| a.0)),
            event: Set(e.event.as_str().to_string()),
            ip: Set(e.ip.chars().take(64).collect()),
            user_agent: Set(e.user_agent.chars().take(512).collect()),
            details: Set(e.details.clone()),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(())
    }

    /// The newest lines, newest first: about one account, or all.
    pub async fn lines(
        &self,
        account: Option<d::AccountId>,
        limit: u64,
    ) -> Result<Vec<d::AuditRecord>, DbError> {
        let mut q = audit::Entity::find()
            .order_by_desc(audit::Column::Id)
            .limit(limit);
        if let Some(a) = account {
            q = q.filter(audit::Column::AccountId.eq(a.0));
        }
        Ok(q.all(self.0.conn()).await?.into_iter().map(to_record).collect())
    }

    /// The newest `limit` lines about one user, newest first.
    pub async fn of_user(&self, user: d::UserId, limit: u64) -> Result<Vec<d::AuditRecord>, DbError> {
        self.about(user, None, limit).await
    }

    /// The newest `limit` lines about one user written by `actor`.
    pub async fn of_user_by(
        &self,
        user: d::UserId,
        actor: d::Actor,
        limit: u64,
    ) -> Result<Vec<d::AuditRecord>, DbError> {
        self.about(user, Some(actor), limit).await
    }

    async fn about(
        &self,
        user: d::UserId,
        actor: Option<d::Actor>,
        limit: u64,
    ) -> Result<Vec<d::AuditRecord>, DbError> {
        let mut q = audit::Entity::find().filter(audit::Column::UserId.eq(user.0));
        if let Some(a) = actor {
            q = q.filter(audit::Column::Actor.eq(a.as_str()));
        }
        Ok(q.order_by_desc(audit::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_record)
            .collect())
    }

    /// Lines matching `f`, newest first, `limit` from `offset`, with how
    /// many match in all.
    pub async fn search(
        &self,
        f: &AuditFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<d::AuditRecord>, u64), DbError> {
        let lines = audit::Entity::find()
            .filter(f.condition())
            .order_by_desc(audit::Column::Id)
            .limit(limit)
            .offset(offset)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_record)
            .collect();
        let total = audit::Entity::find()
            .filter(f.condition())
            .count(self.0.conn())
            .await?;
        Ok((lines, total))
    }
}
