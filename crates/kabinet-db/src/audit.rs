//! The audit log: sign-ins, sign-outs, password changes, registrations, Rules
//! acceptances and, later, every change residents and staff make.

use crate::entities::audit;
use crate::{Db, DbError};
use kabinet_domain as d;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;

/// Writes one audit line inside the caller's transaction.
pub(crate) async fn insert_audit<C: ConnectionTrait>(
    c: &C,
    e: &d::AuditEntry,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    audit::ActiveModel {
        at: Set(at),
        actor: Set(e.actor.as_str().to_string()),
        user_id: Set(e.user_id.map(|u| u.0)),
        account_id: Set(e.account_id.map(|a| a.0)),
        event: Set(e.event.to_string()),
        ip: Set(e.ip.chars().take(64).collect()),
        user_agent: Set(e.user_agent.chars().take(512).collect()),
        details: Set(e.details.clone()),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(())
}

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

impl Db {
    /// Records one audit line on its own.
    pub async fn audit(&self, entry: &d::AuditEntry, at: OffsetDateTime) -> Result<(), DbError> {
        insert_audit(self.conn(), entry, at).await
    }

    /// The newest audit lines, newest first: about one account, or all.
    pub async fn audit_lines(
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
        Ok(q.all(self.conn()).await?.into_iter().map(to_record).collect())
    }
}
