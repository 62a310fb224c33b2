//! Passwords after sign-in: the resident's own password after a one-time
//! one, a change (the current one asked again), and a reset by an e-mailed
//! link. Each ends the sessions it must, in the transaction that sets it.

use super::fields::{ACCOUNT, CURRENT, PASSWORD, PASSWORD_AGAIN};
use super::secrets::{new_token, token_hash};
use super::{Auth, Client, Principal};
use crate::{Error, FieldErrors};
use kabinet_db::resets::NewReset;
use kabinet_db::{DbError, Repos};
use kabinet_domain as d;
use kabinet_notify::messages;
use std::sync::Arc;
use time::OffsetDateTime;

fn new_password(user: &d::ResidentUser, new: &str, again: &str) -> Result<d::NewPassword, Error> {
    d::NewPassword::parse_confirmed(new, again, &[user.account_number.as_str(), user.email.as_str()]).map_err(
        |e| {
            let field = if e == d::PasswordError::Mismatch {
                PASSWORD_AGAIN
            } else {
                PASSWORD
            };
            Error::Invalid(FieldErrors::single(field, e))
        },
    )
}

impl Auth {
    /// Sets `user`'s password, ends their other sessions (keeping `keep`,
    /// now unrestricted), and writes the audit line and the notice, if any —
    /// one transaction.
    async fn store_password(
        &self,
        user: &d::ResidentUser,
        hash: &str,
        keep: Option<d::SessionId>,
        entry: d::AuditEntry,
        notice: Option<d::Email>,
    ) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.users().set_password(user.id, hash, now).await?;
        tx.sessions().close_others(user.id, keep).await?;
        tx.audit().record(&entry, now).await?;
        if let Some(mail) = &notice {
            tx.outbox().queue(mail, Some(user.id), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the resident's own password after signing in with a one-time one;
    /// the session becomes a normal one.
    pub async fn set_own_password(
        &self,
        p: &Principal,
        new: &str,
        again: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let password = new_password(&p.user, new, again)?;
        let hash = self.hasher.hash(password.expose()).await?;
        let entry = client.entry(
            d::AuditEvent::PasswordSet,
            Some(p.user.id),
            Some(p.user.account_id),
            "after one-time password",
        );
        self.store_password(&p.user, &hash, Some(p.session.id), entry, None)
            .await
    }

    /// Changes the password (the current one is asked again); every other
    /// session of the resident ends and a notice is e-mailed. A wrong current
    /// password counts as a failed sign-in.
    pub async fn change_password(
        &self,
        p: &Principal,
        current: &str,
        new: &str,
        again: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let wrong = || {
            Error::Invalid(FieldErrors::single(
                CURRENT,
                d::Text::new("error-current-password-wrong"),
            ))
        };
        if self
            .settings
            .throttle
            .blocked_until(&p.user.failures(), now)
            .is_some()
        {
            self.hasher.waste().await;
            return Err(wrong());
        }
        if !self.hasher.verify(&p.user.password_hash, current).await? {
            let entry = client.entry(
                d::AuditEvent::PasswordChangeFailed,
                Some(p.user.id),
                Some(p.user.account_id),
                "wrong current password",
            );
            self.count_failure(p.user.id, &entry, now).await?;
            return Err(wrong());
        }
        let password = new_password(&p.user, new, again)?;
        let hash = self.hasher.hash(password.expose()).await?;
        let org = self.org_name().await?;
        let notice = messages::password_changed(
            messages::tr(p.user.language),
            &org,
            &p.user.email,
            &p.user.account_number,
            &self.url("/password/reset"),
        );
        let entry = client.entry(
            d::AuditEvent::PasswordChanged,
            Some(p.user.id),
            Some(p.user.account_id),
            "",
        );
        self.store_password(&p.user, &hash, Some(p.session.id), entry, Some(notice))
            .await
    }

    /// Starts a password reset. A malformed account number is reported at
    /// once; otherwise the request is taken, answered the same way for every
    /// account, and done in the background: when the account has an active
    /// user, a single-use link valid for an hour goes to its e-mail, at most
    /// [`super::AuthSettings::mail_limit`] such e-mails per account (beyond it
    /// the request is only audited).
    pub async fn request_reset(self: &Arc<Self>, account: &str, client: &Client) -> Result<(), Error> {
        let number =
            d::AccountNumber::parse(account).map_err(|e| Error::Invalid(FieldErrors::single(ACCOUNT, e)))?;
        let this = Arc::clone(self);
        let client = client.clone();
        self.background
            .spawn("password reset", async move {
                this.reset_requested(number, &client).await
            })
            .await;
        Ok(())
    }

    async fn reset_requested(&self, number: d::AccountNumber, client: &Client) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let user = self.db.users().by_account_number(&number).await?;
        let Some(user) = user.filter(|u| !u.blocked) else {
            let entry = client.entry(
                d::AuditEvent::PasswordResetRequested,
                None,
                None,
                format!("account {number}: no active user, nothing sent"),
            );
            self.db.audit().record(&entry, now).await?;
            return Ok(());
        };
        let entry = |event| client.entry(event, Some(user.id), Some(user.account_id), "");
        let entries = (
            entry(d::AuditEvent::PasswordResetRequested),
            entry(d::AuditEvent::PasswordResetSuppressed),
        );
        self.reset_link(&user, entries).await?;
        Ok(())
    }

    /// E-mails `user` a single-use reset link valid for
    /// [`super::AuthSettings::reset_valid`], within the account's mail
    /// limit; audits `entries.0` when sent, `entries.1` when the limit held
    /// it back. `true` when sent. Staff's support sends links this way too.
    pub async fn reset_link(
        &self,
        user: &d::ResidentUser,
        entries: (d::AuditEntry, d::AuditEntry),
    ) -> Result<bool, Error> {
        let now = OffsetDateTime::now_utc();
        let token = new_token();
        let org = self.org_name().await?;
        let valid = self.settings.reset_valid;
        let mail = messages::password_reset(
            messages::tr(user.language),
            &org,
            &user.email,
            &user.account_number,
            &self.url(&format!("/password/reset/{token}")),
            valid.whole_minutes(),
        );
        let reset = NewReset {
            user_id: user.id,
            token_hash: token_hash(&token),
            expires_at: now + valid,
        };
        self.limited_mail(user, mail, Some(reset), entries).await
    }

    /// Whether a reset link is still good (for showing its form).
    pub async fn reset_token_valid(&self, token: &str) -> Result<bool, DbError> {
        Ok(token.len() <= 128
            && self
                .db
                .resets()
                .user_of(&token_hash(token), OffsetDateTime::now_utc())
                .await?
                .is_some())
    }

    /// Sets a new password with a reset link; every session of the resident
    /// ends and failed-attempt counters are cleared. The link is claimed in
    /// the transaction that sets the password, so two uses cannot both win.
    pub async fn complete_reset(
        &self,
        token: &str,
        new: &str,
        again: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let hash = token_hash(token);
        let user_id = self
            .db
            .resets()
            .user_of(&hash, now)
            .await?
            .ok_or(Error::InvalidResetToken)?;
        let user = self
            .db
            .users()
            .by_id(user_id)
            .await?
            .ok_or(Error::InvalidResetToken)?;
        let password = new_password(&user, new, again)?;
        let pw_hash = self.hasher.hash(password.expose()).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if tx.resets().claim(&hash, now).await? != Some(user.id) {
            return Err(Error::InvalidResetToken);
        }
        tx.users().set_password(user.id, &pw_hash, now).await?;
        tx.sessions().close_others(user.id, None).await?;
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::PasswordReset,
                    Some(user.id),
                    Some(user.account_id),
                    "",
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
