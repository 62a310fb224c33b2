//! The parts of a resident's profile that need proof (R10): linking another
//! personal account (proved with the registration check value, under the same
//! per-account throttle) and changing the e-mail address (the password again,
//! then a link opened from the new address; the old one is told).

use super::fields::{ACCOUNT, CHECK, CURRENT, EMAIL};
use super::registration::{Check, CheckValue};
use super::secrets::{new_token, token_hash};
use super::{Auth, Client, Resident};
use crate::{Error, FieldErrors};
use kabinet_db::Repos;
use kabinet_db::counters::CounterKind;
use kabinet_domain as d;
use kabinet_notify::messages;
use time::{Duration, OffsetDateTime};

/// How long the link confirming a new e-mail works.
pub const EMAIL_CHANGE_VALID: Duration = Duration::hours(24);

/// The one answer to every failed link attempt: it does not say whether the
/// account exists, has a user, or the value was wrong or locked.
pub const LINK_REFUSED: d::Text = d::Text::new("error-link-refused");

/// The answer to a zero amount: a total of 0,00 can be known without the
/// receipt, so it proves nothing.
pub const LINK_ZERO: d::Text = d::Text::new("error-link-zero");

/// The answer once a user failed [`LINK_ATTEMPTS_PER_DAY`] link checks.
pub const LINK_TOO_MANY: d::Text = d::Text::new("error-link-too-many");

/// Failed link checks one user may make in a day, over all accounts.
pub const LINK_ATTEMPTS_PER_DAY: i32 = 5;

/// How long the owner's approve/decline link works.
pub const LINK_REQUEST_VALID: Duration = Duration::days(7);

/// What a link attempt that passed its check came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The account is linked (nobody had signed up with it).
    Linked,
    /// Another resident signs in with it: they were asked to approve, and
    /// nothing of it is shown until they do.
    AwaitingConsent,
}

/// What the owner of an account answers to a link request, or does to a
/// link that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessAction {
    /// Let them see the account.
    Approve,
    /// Refuse.
    Decline,
    /// Take away a link already made.
    Remove,
}

/// Who sees the account a resident signs in with, and who asks to.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Requests waiting for the resident's answer.
    pub awaiting: Vec<kabinet_db::links::LinkRequest>,
    /// Others who see the account.
    pub viewers: Vec<kabinet_db::links::Viewer>,
    /// The resident's own requests to others, not answered yet.
    pub asked: Vec<kabinet_db::links::LinkRequest>,
}

impl Auth {
    /// Links account `number` to the resident when `check` proves it (the
    /// organization's registration mode). Unknown accounts, wrong values and
    /// locked accounts all get [`LINK_REFUSED`]; failures count towards the
    /// account's registration throttle and the user's own daily limit. An
    /// account someone else signs in with is linked only once they approve:
    /// they are e-mailed a link and see the request in their settings.
    pub async fn link_account(
        &self,
        r: &Resident,
        number: &str,
        check: &str,
        client: &Client,
    ) -> Result<LinkOutcome, Error> {
        use d::AuditEvent as E;
        let mut errors = FieldErrors::default();
        let number = d::AccountNumber::parse(number)
            .map_err(|e| errors.add(ACCOUNT, e))
            .ok();
        let check = Self::parse_check(self.registration_mode().await?, check)
            .map_err(|e| errors.add(CHECK, e))
            .ok();
        let (Some(number), Some(check)) = (number, check) else {
            return Err(Error::Invalid(errors));
        };
        if matches!(check, CheckValue::Amount(k) if k <= d::Kopecks::ZERO) {
            return Err(Error::Invalid(FieldErrors::single(CHECK, LINK_ZERO)));
        }
        let user = r.user.id;
        let now = OffsetDateTime::now_utc();
        if self.link_attempts_spent(r, now).await? {
            return Err(Error::TooManyRequests(LINK_TOO_MANY));
        }
        let refused = || Error::Invalid(FieldErrors::single(CHECK, LINK_REFUSED));
        let Some(account) = self.db.accounts().by_number(&number).await? else {
            let entry = client.entry(
                E::AccountLinkFailed,
                Some(user),
                None,
                format!("account {number}: no such account"),
            );
            self.db.audit().record(&entry, now).await?;
            self.count_link_failure(r).await?;
            return Err(refused());
        };
        let events = (E::AccountLinkFailed, E::AccountLinkRefused);
        let about = format!("linking to user {}", user.0);
        match self
            .check_account(&account, &check, Some(user), events, client, &about)
            .await?
        {
            Check::Passed => {}
            Check::Failed | Check::Refused => {
                self.count_link_failure(r).await?;
                return Err(refused());
            }
        }
        if self
            .db
            .links()
            .of_user(user)
            .await?
            .iter()
            .any(|l| l.account.id == account.id)
        {
            // Linked already (or allowed earlier): nobody is asked again.
            return Ok(LinkOutcome::Linked);
        }
        let owner = self.db.users().of_account(&account).await?;
        match owner {
            Some(owner) if owner.id != user => self.ask_owner(r, &account, &owner, client).await,
            _ => {
                let tx = self.db.begin().await?;
                if tx
                    .links()
                    .add(user, account.id, d::LinkedBy::Details, now)
                    .await?
                {
                    let entry = client.entry(
                        E::AccountLinked,
                        Some(user),
                        Some(account.id),
                        format!("account {number}"),
                    );
                    tx.audit().record(&entry, now).await?;
                }
                tx.commit().await?;
                Ok(LinkOutcome::Linked)
            }
        }
    }

    /// Whether the user has no failed link checks left today.
    async fn link_attempts_spent(&self, r: &Resident, now: OffsetDateTime) -> Result<bool, Error> {
        let c = self
            .db
            .counters()
            .get(r.user.account_id, CounterKind::LinkAttempts)
            .await?;
        Ok(c.window_start.is_some_and(|w| now - w < Duration::days(1)) && c.count >= LINK_ATTEMPTS_PER_DAY)
    }

    /// Counts a failed link check against the user (a day's window from the
    /// first failure), under the counter's row lock so servers agree.
    async fn count_link_failure(&self, r: &Resident) -> Result<(), Error> {
        let tx = self.db.begin().await?;
        let c = tx
            .counters()
            .lock(r.user.account_id, CounterKind::LinkAttempts)
            .await?;
        let now = OffsetDateTime::now_utc();
        let next = c.after_event(now, Duration::days(1));
        tx.counters()
            .store(r.user.account_id, CounterKind::LinkAttempts, next)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks `owner` to let the resident see `account`: one pending request
    /// at a time per account, an e-mail with a link, an audit line.
    async fn ask_owner(
        &self,
        r: &Resident,
        account: &d::Account,
        owner: &d::ResidentUser,
        client: &Client,
    ) -> Result<LinkOutcome, Error> {
        let now = OffsetDateTime::now_utc();
        let org = self.org_name().await?;
        let tx = self.db.begin().await?;
        tx.users().lock(r.user.id).await?;
        if tx.links().pending(r.user.id, account.id, now).await?.is_some() {
            // Asked already: the owner is not e-mailed again.
            return Ok(LinkOutcome::AwaitingConsent);
        }
        let token = new_token();
        let id = tx
            .links()
            .request(
                r.user.id,
                account.id,
                owner.id,
                &token_hash(&token),
                now,
                now + LINK_REQUEST_VALID,
            )
            .await?;
        let mail = messages::link_request(
            messages::tr(owner.language),
            &org,
            &owner.email,
            &account.number,
            &r.user.email.masked(),
            &self.url(&format!("/settings/access/{token}")),
            LINK_REQUEST_VALID.whole_days(),
        );
        tx.outbox().queue(&mail, Some(owner.id), now).await?;
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::AccountLinkRequested,
                    Some(r.user.id),
                    Some(account.id),
                    format!("account {}: request {id} to user {}", account.number, owner.id.0),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(LinkOutcome::AwaitingConsent)
    }

    /// Who sees the account the resident signs in with, who asks to, and
    /// what the resident asked of others.
    pub async fn access(&self, r: &Resident) -> Result<Access, Error> {
        let now = OffsetDateTime::now_utc();
        let links = self.db.links();
        Ok(Access {
            awaiting: links.awaiting(r.user.id, now).await?,
            viewers: links.viewers(r.user.account_id).await?,
            asked: links.asked_by(r.user.id, now).await?,
        })
    }

    /// The request behind an approve/decline link, if it is the resident's
    /// to answer and still open.
    pub async fn link_request(
        &self,
        r: &Resident,
        token: &str,
    ) -> Result<kabinet_db::links::LinkRequest, Error> {
        if token.is_empty() || token.len() > 128 {
            return Err(Error::NotFound);
        }
        let now = OffsetDateTime::now_utc();
        self.db
            .links()
            .request_by_token(&token_hash(token))
            .await?
            .filter(|q| q.owner_id == r.user.id && q.status == "pending" && q.expires_at > now)
            .ok_or(Error::NotFound)
    }

    /// The owner answers request `id`, or removes user `id`'s link to the
    /// account they sign in with. Someone else's request or link is not found.
    pub async fn decide_access(
        &self,
        r: &Resident,
        action: AccessAction,
        id: i64,
        client: &Client,
    ) -> Result<(), Error> {
        use d::AuditEvent as E;
        let now = OffsetDateTime::now_utc();
        let mine = r.user.account_id;
        let tx = self.db.begin().await?;
        let (event, details) = match action {
            AccessAction::Approve | AccessAction::Decline => {
                let approve = action == AccessAction::Approve;
                let asked = tx
                    .links()
                    .awaiting(r.user.id, now)
                    .await?
                    .into_iter()
                    .find(|q| q.id.0 == id)
                    .ok_or(Error::NotFound)?;
                if !tx.links().decide(asked.id, r.user.id, approve, now).await? {
                    return Err(Error::NotFound);
                }
                if approve {
                    tx.links()
                        .add(asked.user_id, asked.account_id, d::LinkedBy::Owner, now)
                        .await?;
                }
                (
                    if approve {
                        E::AccountLinkApproved
                    } else {
                        E::AccountLinkDeclined
                    },
                    format!("request {id}: user {}", asked.user_id.0),
                )
            }
            AccessAction::Remove => {
                let user = d::UserId(id);
                if user == r.user.id
                    || !tx.links().viewers(mine).await?.iter().any(|v| v.user_id == user)
                    || !tx.links().remove(user, mine).await?
                {
                    return Err(Error::NotFound);
                }
                (E::AccountAccessRemoved, format!("user {id}"))
            }
        };
        tx.audit()
            .record(&client.entry(event, Some(r.user.id), Some(mine), details), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a linked account from the resident's list; the account they
    /// sign in with cannot be removed, another resident's is not found.
    pub async fn unlink_account(&self, r: &Resident, number: &str, client: &Client) -> Result<(), Error> {
        let number = d::AccountNumber::parse(number).map_err(|_| Error::NotFound)?;
        if number == r.user.account_number {
            return Err(Error::Invalid(FieldErrors::single(
                ACCOUNT,
                d::Text::new("error-unlink-own-account"),
            )));
        }
        let account = self
            .db
            .accounts()
            .by_number(&number)
            .await?
            .ok_or(Error::NotFound)?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if !tx.links().remove(r.user.id, account.id).await? {
            return Err(Error::NotFound);
        }
        let entry = client.entry(
            d::AuditEvent::AccountUnlinked,
            Some(r.user.id),
            Some(account.id),
            format!("account {number}"),
        );
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts changing the e-mail: checks the password (a wrong one counts as
    /// a failed sign-in), then e-mails a confirmation link to the new address.
    /// The address in use stays until the link is opened. These links count
    /// towards the account's e-mail limit ([`super::AuthSettings::mail_limit`]).
    pub async fn request_email_change(
        &self,
        r: &Resident,
        password: &str,
        new_email: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let mut errors = FieldErrors::default();
        let email = d::EmailAddress::parse(new_email)
            .map_err(|e| errors.add(EMAIL, e))
            .ok();
        if email.as_ref().is_some_and(|e| *e == r.user.email) {
            errors.add(EMAIL, d::Text::new("error-email-same"));
        }
        let wrong = || Error::Invalid(FieldErrors::single(CURRENT, d::Text::new("error-password-wrong")));
        if self
            .settings
            .throttle
            .blocked_until(&r.user.failures(), now)
            .is_some()
        {
            self.hasher.waste().await;
            return Err(wrong());
        }
        if !self.hasher.verify(&r.user.password_hash, password).await? {
            let entry = client.entry(
                d::AuditEvent::PasswordChangeFailed,
                Some(r.user.id),
                Some(r.user.account_id),
                "wrong password when changing the e-mail",
            );
            self.count_failure(r.user.id, &entry, now).await?;
            return Err(wrong());
        }
        let Some(email) = email else {
            return Err(Error::Invalid(errors));
        };
        errors.check()?;
        self.send_email_link(r, &email, client, now).await
    }

    /// Records a change to `email` and queues its confirmation link, within
    /// the account's limit of e-mails, audited, in one transaction.
    async fn send_email_link(
        &self,
        r: &Resident,
        email: &d::EmailAddress,
        client: &Client,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let token = new_token();
        let org = self.org_name().await?;
        let mail = messages::email_change_confirm(
            messages::tr(r.user.language),
            &org,
            email,
            &r.user.account_number,
            &self.url(&format!("/settings/email/{token}")),
            EMAIL_CHANGE_VALID.whole_hours(),
        );
        // Links to addresses the resident types count with the account's
        // other e-mails, so the portal cannot be made to flood a stranger.
        let limit = self.settings.mail_limit;
        let tx = self.db.begin().await?;
        let counter = tx.counters().lock(r.account_id(), CounterKind::Mail).await?;
        if !limit.allows(&counter, now) {
            return Err(Error::Invalid(FieldErrors::single(
                EMAIL,
                d::Text::new("error-too-many-mails"),
            )));
        }
        tx.counters()
            .store(
                r.account_id(),
                CounterKind::Mail,
                counter.after_event(now, limit.window),
            )
            .await?;
        tx.email_changes()
            .create(
                r.user.id,
                email,
                &token_hash(&token),
                now,
                now + EMAIL_CHANGE_VALID,
            )
            .await?;
        tx.outbox().queue(&mail, Some(r.user.id), now).await?;
        let entry = client.entry(
            d::AuditEvent::EmailChangeRequested,
            Some(r.user.id),
            Some(r.user.account_id),
            format!("to {}", email.masked()),
        );
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a confirmation link: sets the new address and tells the old
    /// one. A used, expired or unknown link is [`Error::InvalidResetToken`].
    pub async fn confirm_email_change(&self, token: &str, client: &Client) -> Result<d::EmailAddress, Error> {
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let Some(change) = tx.email_changes().claim(&token_hash(token), now).await? else {
            return Err(Error::InvalidResetToken);
        };
        let user = tx
            .users()
            .by_id(change.user_id)
            .await?
            .ok_or(Error::InvalidResetToken)?;
        tx.users().set_email(user.id, &change.new_email).await?;
        let org = self.org_name().await?;
        let notice = messages::email_changed(
            messages::tr(user.language),
            &org,
            &user.email,
            &user.account_number,
            &change.new_email.masked(),
            &self.url("/password/reset"),
        );
        tx.outbox().queue(&notice, Some(user.id), now).await?;
        let entry = client.entry(
            d::AuditEvent::EmailChanged,
            Some(user.id),
            Some(user.account_id),
            format!("from {} to {}", user.email.masked(), change.new_email.masked()),
        );
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(change.new_email)
    }
}
