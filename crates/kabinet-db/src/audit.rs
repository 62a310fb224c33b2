//! The audit log: sign-ins, sign-outs, password changes, registrations, Rules
//! acceptances and every change residents and staff make. A use case writes
//! its line in the transaction of the change it records.

use crate::entities::audit;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
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
        Ok(audit::Entity::find()
            .filter(audit::Column::UserId.eq(user.0))
            .order_by_desc(audit::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(to_record)
            .collect())
    }
}
