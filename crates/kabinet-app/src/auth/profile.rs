//! The parts of a resident's profile that need proof (R10): linking another
//! personal account (proved with the registration check value, under the same
//! per-account throttle) and changing the e-mail address (the password again,
//! then a link opened from the new address; the old one is told).

use super::fields::{ACCOUNT, CHECK, CURRENT, EMAIL};
use super::registration::Check;
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
pub const LINK_REFUSED: &str = "лицевой счёт и проверочное значение не подходят друг к другу — проверьте номер и значение по последней квитанции";

impl Auth {
    /// Links account `number` to the resident when `check` proves it (the
    /// organization's registration mode). Unknown accounts, wrong values and
    /// locked accounts all get [`LINK_REFUSED`]; failures count towards the
    /// account's registration throttle.
    pub async fn link_account(
        &self,
        r: &Resident,
        number: &str,
        check: &str,
        client: &Client,
    ) -> Result<(), Error> {
        use d::AuditEvent as E;
        let mut errors = FieldErrors::default();
        let number = d::AccountNumber::parse(number)
            .map_err(|e| errors.add(ACCOUNT, e))
            .ok();
        let check = self.parse_check(check).map_err(|e| errors.add(CHECK, e)).ok();
        let (Some(number), Some(check)) = (number, check) else {
            return Err(Error::Invalid(errors));
        };
        let refused = || Error::Invalid(FieldErrors::single(CHECK, LINK_REFUSED));
        let user = r.user.id;
        let Some(account) = self.db.accounts().by_number(&number).await? else {
            let entry = client.entry(
                E::AccountLinkFailed,
                Some(user),
                None,
                format!("account {number}: no such account"),
            );
            self.db.audit().record(&entry, OffsetDateTime::now_utc()).await?;
            return Err(refused());
        };
        let events = (E::AccountLinkFailed, E::AccountLinkRefused);
        let about = format!("linking to user {}", user.0);
        match self
            .check_account(&account, &check, Some(user), events, client, &about)
            .await?
        {
            Check::Passed => {}
            Check::Failed | Check::Refused => return Err(refused()),
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if tx.links().add(user, account.id, now).await? {
            let entry = client.entry(
                E::AccountLinked,
                Some(user),
                Some(account.id),
                format!("account {number}"),
            );
            tx.audit().record(&entry, now).await?;
        }
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
                "лицевой счёт, с которым вы входите, убрать нельзя",
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
            errors.add(EMAIL, "это и есть ваш текущий адрес");
        }
        let wrong = || Error::Invalid(FieldErrors::single(CURRENT, "пароль указан неверно"));
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
        let token = new_token();
        let org = self.org_name().await?;
        let mail = messages::email_change_confirm(
            &org,
            &email,
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
                "слишком много писем за последний час — попробуйте позже",
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
                &email,
                &token_hash(&token),
                now,
                now + EMAIL_CHANGE_VALID,
            )
            .await?;
        tx.outbox().queue(&mail, now).await?;
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
            &org,
            &user.email,
            &user.account_number,
            &change.new_email.masked(),
            &self.url("/password/reset"),
        );
        tx.outbox().queue(&notice, now).await?;
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
