//! Joining a neighbour's request: a resident of the same building adds
//! themselves to an open request about the building's common property (a
//! lift, the building's water or heating) instead of filing the same one
//! again. They see what it is about and where it stands — never its text,
//! phone, photos or flat, which belong to whoever filed it — and hear by
//! e-mail when its status changes; staff see how many joined and who.

use super::Requests;
use crate::Error;
use crate::auth::{Client, Resident};
use kabinet_db::Repos;
use kabinet_db::requests::Joiner;
use kabinet_domain as d;
use kabinet_domain::requests::{JOINABLE_SHOWN, SharedRequest};
use time::OffsetDateTime;

/// How many joined requests a resident's list shows at most.
pub const JOINED_SHOWN: u64 = 50;

impl Requests {
    /// The buildings (premises addresses) of the resident's accounts, each
    /// once, with the first of their accounts in it.
    async fn buildings(&self, r: &Resident) -> Result<Vec<(String, d::AccountId)>, Error> {
        let mut out: Vec<(String, d::AccountId)> = Vec::new();
        for l in self.db.links().of_user(r.user.id).await? {
            if !out.iter().any(|(b, _)| *b == l.premises.address) {
                out.push((l.premises.address, l.account.id));
            }
        }
        Ok(out)
    }

    /// Open requests about the common property of the resident's buildings
    /// that neighbours filed, newest first: those they may join, and those
    /// they joined.
    pub async fn shared(&self, r: &Resident) -> Result<Vec<SharedRequest>, Error> {
        let buildings: Vec<String> = self.buildings(r).await?.into_iter().map(|(b, _)| b).collect();
        Ok(self
            .db
            .requests()
            .shared(&buildings, r.user.id, None, JOINABLE_SHOWN)
            .await?)
    }

    /// The requests the resident joined, newest join first, whatever their
    /// status now.
    pub async fn joined(&self, r: &Resident) -> Result<Vec<SharedRequest>, Error> {
        Ok(self.db.requests().joined_by(r.user.id, JOINED_SHOWN).await?)
    }

    /// Adds the resident to request `id`, for their account in its building;
    /// audited. A request they may not join — not in their buildings, not
    /// about common property, no longer open, or their own — is
    /// [`Error::NotFound`]; joining twice changes nothing.
    pub async fn join(&self, r: &Resident, id: d::RequestId, client: &Client) -> Result<(), Error> {
        let buildings = self.buildings(r).await?;
        let names: Vec<String> = buildings.iter().map(|(b, _)| b.clone()).collect();
        let found = self
            .db
            .requests()
            .shared(&names, r.user.id, Some(id), 1)
            .await?
            .into_iter()
            .next()
            .ok_or(Error::NotFound)?;
        if found.joined_at.is_some() {
            return Ok(());
        }
        let account = buildings
            .iter()
            .find(|(b, _)| *b == found.building)
            .map(|(_, a)| *a)
            .ok_or(Error::NotFound)?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if tx.requests().join(id, r.user.id, account, now).await? {
            tx.audit()
                .record(
                    &client.entry(
                        d::AuditEvent::RequestJoined,
                        Some(r.user.id),
                        Some(account),
                        format!("request {id}"),
                    ),
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes the resident off a request they joined; audited.
    /// [`Error::NotFound`] when they had not joined it.
    pub async fn leave(&self, r: &Resident, id: d::RequestId, client: &Client) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if !tx.requests().leave(id, r.user.id).await? {
            return Err(Error::NotFound);
        }
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::RequestLeft,
                    Some(r.user.id),
                    None,
                    format!("request {id}"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who joined request `id` (staff's view of it).
    pub(super) async fn joiners(&self, id: d::RequestId) -> Result<Vec<Joiner>, Error> {
        Ok(self.db.requests().joiners(id).await?)
    }
}
