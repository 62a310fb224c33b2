//! Residents' support (S6), for accountants, operators and administrators:
//! finding a resident, their card (accounts and who else sees them,
//! registration and sign-in locks, sign-ins, sessions, messages, requests,
//! card payments) and the actions taken for them — a password-reset link,
//! unlocking a registration, ending every session, blocking and unblocking,
//! removing a linked user. Each action is audited on the resident, so it is
//! in their "my data". Staff never see or set a resident's password.
//!
//! Loading passport data for registration checks is here too (command line).

use crate::Error;
use crate::auth::{Auth, ServerKey};
use crate::staff::By;
use kabinet_db::counters::CounterKind;
use kabinet_db::links::{LinkRequest, Viewer};
use kabinet_db::support::{Found, OpenSession, SignInLine};
use kabinet_db::{Db, DbError, Repos};
use kabinet_domain as d;
use kabinet_domain::payments::CardPayment;
use kabinet_domain::requests::Request;
use kabinet_domain::staff::Permission;
use kabinet_domain::support::{MAX_RESULTS, Search, SearchField};
use std::sync::Arc;
use time::OffsetDateTime;

/// Stores the keyed hashes of account holders' passports (only the hash, keyed
/// with the server key), all in one transaction.
pub async fn store_passports(
    db: &Db,
    key: &ServerKey,
    rows: &[(d::AccountId, d::Passport)],
) -> Result<(), DbError> {
    let tx = db.begin().await?;
    for (account, passport) in rows {
        tx.accounts()
            .set_passport_hash(*account, &key.passport_hash(passport))
            .await?;
    }
    tx.commit().await
}

/// Lines of each list on a resident's card.
pub const CARD_LINES: u64 = 20;

/// What a search found.
#[derive(Debug, Clone)]
pub struct Results {
    /// The field searched.
    pub field: SearchField,
    /// Accounts and their residents, at most [`MAX_RESULTS`].
    pub rows: Vec<Found>,
    /// More matched than are shown.
    pub more: bool,
}

/// One of the resident's accounts on their card.
#[derive(Debug, Clone)]
pub struct CardAccount {
    /// The account with its address.
    pub linked: kabinet_db::links::LinkedAccount,
    /// Failed registration checks in the current window.
    pub registration_failures: i32,
    /// Until when registration with it is refused (`None`: open).
    pub registration_locked_until: Option<OffsetDateTime>,
    /// The other residents who see it.
    pub viewers: Vec<Viewer>,
    /// Requests to see it still waiting for its owner.
    pub pending: Vec<LinkRequest>,
}

/// Everything the support card shows about one resident.
#[derive(Debug, Clone)]
pub struct Card {
    /// The resident (the password hash is never shown).
    pub user: d::ResidentUser,
    /// Registered at.
    pub registered_at: Option<OffsetDateTime>,
    /// Phone from their settings.
    pub phone: Option<String>,
    /// Until when sign-in is refused after wrong passwords (`None`: open).
    pub sign_in_locked_until: Option<OffsetDateTime>,
    /// Their accounts, the sign-in one first.
    pub accounts: Vec<CardAccount>,
    /// Requests this resident made to see others' accounts, still waiting.
    pub asked: Vec<LinkRequest>,
    /// The newest sign-ins, failed and refused ones too.
    pub sign_ins: Vec<SignInLine>,
    /// Open sessions and API tokens.
    pub sessions: Vec<OpenSession>,
    /// The newest messages written for them, with their delivery state.
    pub messages: Vec<d::OutboxMessage>,
    /// The newest SMS written for them, with what the provider said.
    pub sms: Vec<d::SmsMessage>,
    /// The newest MAX messages of notifications, with their text.
    pub max: Vec<d::SmsMessage>,
    /// The newest requests.
    pub requests: Vec<Request>,
    /// The newest card payments.
    pub payments: Vec<CardPayment>,
}

/// What sending a reset link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetSent {
    /// The link is on its way.
    Sent,
    /// The account's e-mail limit is reached: nothing sent (audited).
    Limited,
}

/// The support use cases.
#[derive(Clone)]
pub struct Support {
    db: Db,
    auth: Arc<Auth>,
}

impl Support {
    /// Over `db`, sending reset links as `auth` does.
    pub fn new(db: Db, auth: Arc<Auth>) -> Support {
        Support { db, auth }
    }

    /// Finds residents by the start of a field; `field` `None` guesses it
    /// from the text.
    pub async fn find(&self, by: By<'_>, field: Option<SearchField>, text: &str) -> Result<Results, Error> {
        by.require(Permission::Support)?;
        let field = field.unwrap_or_else(|| SearchField::guess(text));
        let search =
            Search::parse(field, text).map_err(|e| Error::Invalid(crate::FieldErrors::single("q", e)))?;
        let mut rows = self.db.support().find(&search, MAX_RESULTS + 1).await?;
        let more = rows.len() as u64 > MAX_RESULTS;
        rows.truncate(MAX_RESULTS as usize);
        Ok(Results { field, rows, more })
    }

    async fn user(&self, id: d::UserId) -> Result<d::ResidentUser, Error> {
        self.db.users().by_id(id).await?.ok_or(Error::NotFound)
    }

    /// The resident's card. Opening it is audited on the resident: their
    /// personal data was looked at.
    pub async fn card(&self, by: By<'_>, id: d::UserId) -> Result<Card, Error> {
        by.require(Permission::Support)?;
        let user = self.user(id).await?;
        let now = OffsetDateTime::now_utc();
        let db = &self.db;
        let mut accounts = Vec::new();
        for linked in db.links().of_user(id).await? {
            let account = linked.account.id;
            let counter = db.counters().get(account, CounterKind::Registration).await?;
            let throttle = d::AccountThrottle::REGISTRATION;
            accounts.push(CardAccount {
                registration_failures: counter.in_window(now, throttle.window),
                registration_locked_until: throttle.blocked_until(&counter, now),
                viewers: db.links().viewers(account).await?,
                pending: db.links().asked_for(account, now).await?,
                linked,
            });
        }
        let card = Card {
            registered_at: db.users().created_at(id).await?,
            phone: db
                .users()
                .preferences(id)
                .await?
                .and_then(|p| p.phone)
                .map(|p| p.as_str().to_string()),
            sign_in_locked_until: self.auth.settings().throttle.blocked_until(&user.failures(), now),
            accounts,
            asked: db.links().asked_by(id, now).await?,
            sign_ins: db.support().sign_ins(id, CARD_LINES).await?,
            sessions: db.support().sessions(id, now).await?,
            messages: db.outbox().of_user(id, CARD_LINES).await?,
            sms: db
                .outbox()
                .texts_of_user(id, d::notify::Channel::Sms, CARD_LINES)
                .await?,
            max: db
                .outbox()
                .texts_of_user(id, d::notify::Channel::Max, CARD_LINES)
                .await?,
            requests: db.requests().list_of_user(id, CARD_LINES, 0).await?.0,
            payments: db.card_payments().of_user(id, 0, CARD_LINES).await?.0,
            user,
        };
        self.record(by, d::AuditEvent::ResidentCardViewed, &card.user, String::new())
            .await?;
        Ok(card)
    }

    /// Writes `event` about `user` by `by`.
    async fn record(
        &self,
        by: By<'_>,
        event: d::AuditEvent,
        user: &d::ResidentUser,
        details: String,
    ) -> Result<(), Error> {
        let entry = on_resident(by, event, user, details);
        self.db.audit().record(&entry, OffsetDateTime::now_utc()).await?;
        Ok(())
    }

    /// E-mails the resident a password-reset link (as if they asked, within
    /// the account's e-mail limit). A blocked resident gets none.
    pub async fn send_reset(&self, by: By<'_>, id: d::UserId) -> Result<ResetSent, Error> {
        by.require(Permission::Support)?;
        let user = self.user(id).await?;
        if user.blocked {
            return Err(Error::Conflict(d::Text::new("error-support-blocked")));
        }
        let entries = (
            on_resident(by, d::AuditEvent::SupportResetSent, &user, String::new()),
            on_resident(by, d::AuditEvent::PasswordResetSuppressed, &user, String::new()),
        );
        Ok(if self.auth.reset_link(&user, entries).await? {
            ResetSent::Sent
        } else {
            ResetSent::Limited
        })
    }

    /// Clears the failed registration checks of one of the resident's
    /// accounts (or of an account nobody registered, `user` `None`).
    pub async fn unlock_registration(
        &self,
        by: By<'_>,
        account: d::AccountId,
        user: Option<d::UserId>,
    ) -> Result<i32, Error> {
        by.require(Permission::Support)?;
        let now = OffsetDateTime::now_utc();
        let counter = self.db.counters().get(account, CounterKind::Registration).await?;
        let failures = counter.in_window(now, d::AccountThrottle::REGISTRATION.window);
        let mut entry = by.entry(
            d::AuditEvent::RegistrationUnlocked,
            format!("{failures} failed check(s) cleared"),
        );
        entry.user_id = user;
        entry.account_id = Some(account);
        let tx = self.db.begin().await?;
        if tx.accounts().by_id(account).await?.is_none() {
            return Err(Error::NotFound);
        }
        tx.counters().clear(account, CounterKind::Registration).await?;
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(failures)
    }

    /// Ends every session and API token of the resident.
    pub async fn end_sessions(&self, by: By<'_>, id: d::UserId) -> Result<(), Error> {
        by.require(Permission::Support)?;
        let user = self.user(id).await?;
        let now = OffsetDateTime::now_utc();
        let entry = on_resident(by, d::AuditEvent::SupportSessionsEnded, &user, String::new());
        let tx = self.db.begin().await?;
        tx.sessions().close_others(id, None).await?;
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Blocks the resident (every session ends; signing in tells them to
    /// contact the organization) or unblocks them. `reason` is kept in the
    /// audit line.
    pub async fn set_blocked(
        &self,
        by: By<'_>,
        id: d::UserId,
        blocked: bool,
        reason: &str,
    ) -> Result<(), Error> {
        by.require(Permission::Support)?;
        let user = self.user(id).await?;
        let reason = reason.trim();
        if reason.chars().count() > 500 || reason.chars().any(char::is_control) {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "reason",
                d::Text::new("error-support-reason"),
            )));
        }
        let event = if blocked {
            d::AuditEvent::ResidentBlocked
        } else {
            d::AuditEvent::ResidentUnblocked
        };
        let now = OffsetDateTime::now_utc();
        let entry = on_resident(by, event, &user, reason.to_string());
        let tx = self.db.begin().await?;
        if !tx.support().set_blocked(id, blocked).await? {
            return Err(Error::Conflict(d::Text::new(if blocked {
                "error-support-blocked-already"
            } else {
                "error-support-not-blocked"
            })));
        }
        if blocked {
            tx.sessions().close_others(id, None).await?;
        }
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes `viewer`'s link to `account` (one the viewer did not sign up
    /// with); audited on both residents.
    pub async fn remove_link(
        &self,
        by: By<'_>,
        account: d::AccountId,
        viewer: d::UserId,
    ) -> Result<(), Error> {
        by.require(Permission::Support)?;
        let user = self.user(viewer).await?;
        if user.account_id == account {
            return Err(Error::Conflict(d::Text::new("error-support-primary-link")));
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let acc = tx.accounts().by_id(account).await?.ok_or(Error::NotFound)?;
        let number = acc.number.clone();
        if !tx.links().remove(viewer, account).await? {
            return Err(Error::NotFound);
        }
        let mut entry = on_resident(
            by,
            d::AuditEvent::SupportLinkRemoved,
            &user,
            format!("account {number}"),
        );
        entry.account_id = Some(account);
        tx.audit().record(&entry, now).await?;
        if let Some(owner) = tx.users().of_account(&acc).await? {
            let mut entry = on_resident(
                by,
                d::AuditEvent::SupportLinkRemoved,
                &owner,
                format!("{} no longer sees account {number}", user.email.masked()),
            );
            entry.account_id = Some(account);
            tx.audit().record(&entry, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The audit line of a staff action on `user`'s behalf.
fn on_resident(by: By<'_>, event: d::AuditEvent, user: &d::ResidentUser, details: String) -> d::AuditEntry {
    let mut entry = by.entry(event, details);
    entry.user_id = Some(user.id);
    entry.account_id = Some(user.account_id);
    entry
}
