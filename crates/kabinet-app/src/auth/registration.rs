//! Registration (R1): the account number, an e-mail and a check value prove
//! the resident; the answer is the same whatever the account, and the check
//! is made afterwards, under a per-account limit on failures.

use super::fields::{ACCOUNT, CHECK, CONSENT, EMAIL, PERSONAL_DATA, RULES};
use super::secrets::generated_password;
use super::{Auth, Client};
use crate::{Error, FieldErrors};
use kabinet_db::counters::CounterKind;
use kabinet_db::resets::NewReset;
use kabinet_db::users::{Acceptance, NewUser};
use kabinet_db::{DbError, Repos};
use kabinet_domain as d;
use kabinet_notify::messages;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

/// What a resident proves at registration besides the account number
/// (chosen by the Organization).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// The amount to pay on the latest receipt.
    Amount,
    /// The holder's passport series and number.
    Passport,
}

impl RegistrationMode {
    /// Both modes.
    pub const ALL: [RegistrationMode; 2] = [RegistrationMode::Amount, RegistrationMode::Passport];

    /// The stored and configured form (`amount`, `passport`).
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationMode::Amount => "amount",
            RegistrationMode::Passport => "passport",
        }
    }

    /// Reads [`RegistrationMode::as_str`]'s form.
    pub fn from_stored(s: &str) -> Option<RegistrationMode> {
        RegistrationMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The registration form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistrationInput {
    /// Personal account number.
    pub account: String,
    /// E-mail.
    pub email: String,
    /// The amount on the latest receipt, or the passport series and number.
    pub check: String,
    /// "I accept the Rules".
    pub accept_rules: bool,
    /// "I consent to the processing of my personal data" (152-ФЗ: a document
    /// of its own, given separately from the Rules).
    pub personal_data: bool,
    /// "I agree to informational e-mails and SMS".
    pub consent: bool,
}

/// What a new resident accepts on the registration form: the versions of
/// the Rules and of the personal-data consent in force (0: none published),
/// and the consent to informational messages.
pub(crate) struct Accepted {
    pub rules: i32,
    pub consent: i32,
}

impl Accepted {
    /// The versions in force now.
    pub(crate) async fn in_force(tx: &kabinet_db::Tx) -> Result<Accepted, DbError> {
        let version = async |doc| -> Result<i32, DbError> {
            Ok(tx.documents(doc).current().await?.map_or(0, |r| r.version))
        };
        Ok(Accepted {
            rules: version(d::Document::Rules).await?,
            consent: version(d::Document::Consent).await?,
        })
    }

    /// Records them for `user`, as given from `ip` with `user_agent`. The
    /// personal-data consent is recorded even before any text is published
    /// (version 0): it was given on the form.
    pub(crate) async fn record(
        &self,
        tx: &kabinet_db::Tx,
        user: d::UserId,
        ip: &str,
        user_agent: &str,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let given = |kind, version| Acceptance {
            kind,
            version,
            ip,
            user_agent,
        };
        if self.rules > 0 {
            tx.users()
                .add_acceptance(user, &given("rules", self.rules), now)
                .await?;
        }
        let personal_data = given(d::Document::Consent.acceptance_kind(), self.consent);
        tx.users().add_acceptance(user, &personal_data, now).await?;
        tx.users()
            .add_acceptance(user, &given("consent", self.rules), now)
            .await
    }
}

/// A check value of the organization's registration mode.
pub(crate) enum CheckValue {
    Amount(d::Kopecks),
    Passport(d::Passport),
}

/// What a registration check came to, as counted for the account.
pub(crate) enum Check {
    /// Locked by earlier failures: not checked at all.
    Refused,
    /// The value did not match.
    Failed,
    /// The value matched.
    Passed,
}

impl Auth {
    /// Registers a resident (R1). Mistakes in the form are reported at once;
    /// otherwise the request is taken and answered the same way whatever the
    /// account, and checked in the background: no answer, no timing and no
    /// e-mail to the typed address tells whether the account exists, has a
    /// user or matched.
    ///
    /// In the background: the check value is compared (the amount of the
    /// latest invoice, or the passport's keyed hash) under the account's
    /// registration throttle (counted in the database; after
    /// [`super::AccountThrottle::REGISTRATION`]'s ten failures a day the
    /// account is refused until the day is over or staff unlock it). On a match
    /// a user with a one-time password is created and the password e-mailed;
    /// when the account already has a user, a notice goes to *that user's*
    /// address (within the account's mail limit) and nothing to the typed one.
    pub async fn register(self: &Arc<Self>, input: &RegistrationInput, client: &Client) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        let number = d::AccountNumber::parse(&input.account)
            .map_err(|e| errors.add(ACCOUNT, e))
            .ok();
        let email = d::EmailAddress::parse(&input.email)
            .map_err(|e| errors.add(EMAIL, e))
            .ok();
        let check = Self::parse_check(self.registration_mode().await?, &input.check)
            .map_err(|e| errors.add(CHECK, e))
            .ok();
        if !input.accept_rules {
            errors.add(RULES, d::Text::new("error-rules-not-accepted"));
        }
        if !input.personal_data {
            errors.add(PERSONAL_DATA, d::Text::new("error-personal-data-missing"));
        }
        if !input.consent {
            errors.add(CONSENT, d::Text::new("error-consent-missing"));
        }
        let (Some(number), Some(email), Some(check), true) = (number, email, check, errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let this = Arc::clone(self);
        let client = client.clone();
        self.background
            .spawn("registration", async move {
                this.register_checked(number, email, check, &client).await
            })
            .await;
        Ok(())
    }

    async fn register_checked(
        &self,
        number: d::AccountNumber,
        email: d::EmailAddress,
        check: CheckValue,
        client: &Client,
    ) -> Result<(), Error> {
        use d::AuditEvent as E;
        let Some(account) = self.db.accounts().by_number(&number).await? else {
            let entry = client.entry(
                E::RegistrationFailed,
                None,
                None,
                format!("account {number}: no such account"),
            );
            self.db.audit().record(&entry, OffsetDateTime::now_utc()).await?;
            return Ok(());
        };
        let typed = email.masked();
        let events = (E::RegistrationFailed, E::RegistrationRefused);
        let about = format!("e-mail {typed}");
        let verdict = self
            .check_account(&account, &check, None, events, client, &about)
            .await?;
        if !matches!(verdict, Check::Passed) {
            return Ok(());
        }
        let org = self.org_name().await?;
        if let Some(owner) = self.db.users().of_account(&account).await? {
            return self.notify_already_registered(&owner, &org, client).await;
        }
        self.create_user(&account, &email, &org, client).await
    }

    /// Creates the user of `account` with a generated password mailed to
    /// `email`, the Rules and the consent given, in one transaction; a user
    /// another request created a moment ago gets the "already registered"
    /// letter instead.
    async fn create_user(
        &self,
        account: &d::Account,
        email: &d::EmailAddress,
        org: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let number = &account.number;
        let password = generated_password();
        let hash = self.hasher.hash(&password).await?;
        let valid = self.settings.generated_password_valid;
        // A new user has chosen no language yet: Russian, the default.
        let mail = messages::registration_password(
            messages::tr(None),
            org,
            email,
            number,
            &password,
            valid.whole_hours(),
            &self.url("/login"),
        );
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let accepted = Accepted::in_force(&tx).await?;
        let new = NewUser {
            account_id: account.id,
            email: email.clone(),
            password_hash: hash,
            password_expires_at: now + valid,
            rules_version: accepted.rules,
            consent_version: accepted.consent,
            now,
        };
        let Some(user_id) = tx.users().insert(&new).await? else {
            // Another request created it a moment ago (the unique index decides).
            drop(tx);
            return match self.db.users().of_account(account).await? {
                Some(owner) => self.notify_already_registered(&owner, org, client).await,
                None => Ok(()),
            };
        };
        accepted
            .record(&tx, user_id, &client.ip, &client.user_agent, now)
            .await?;
        let details = format!("e-mail {}", email.masked());
        let entry = client.entry(
            d::AuditEvent::Registration,
            Some(user_id),
            Some(account.id),
            details,
        );
        tx.audit().record(&entry, now).await?;
        tx.outbox().queue(&mail, Some(user_id), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Parses the check value of the organization's registration mode
    /// (`mode`, from [`Auth::registration_mode`]).
    pub(crate) fn parse_check(mode: RegistrationMode, text: &str) -> Result<CheckValue, d::Text> {
        use d::Describe;
        match mode {
            RegistrationMode::Amount => d::Kopecks::parse(text)
                .map(CheckValue::Amount)
                .map_err(|e| e.text()),
            RegistrationMode::Passport => d::Passport::parse(text)
                .map(CheckValue::Passport)
                .map_err(|e| e.text()),
        }
    }

    /// Compares `check` with `account`'s under the account's registration
    /// throttle, shared by registration and linking (counted in the database,
    /// so it holds across servers): a failure is counted and audited as
    /// `events.0`, a locked account is not checked and audited as `events.1`.
    pub(crate) async fn check_account(
        &self,
        account: &d::Account,
        check: &CheckValue,
        user: Option<d::UserId>,
        (failed, refused): (d::AuditEvent, d::AuditEvent),
        client: &Client,
        about: &str,
    ) -> Result<Check, Error> {
        let matched = match check {
            CheckValue::Amount(k) => self
                .db
                .billing()
                .latest_invoice(account.id)
                .await?
                // A zero total can be known without the receipt: never proof.
                .is_some_and(|i| *k > d::Kopecks::ZERO && i.total_due == *k),
            CheckValue::Passport(p) => {
                use subtle::ConstantTimeEq;
                let expected = self.key.passport_hash(p);
                self.db
                    .accounts()
                    .passport_hash(account.id)
                    .await?
                    .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(expected.as_bytes())))
            }
        };
        let throttle = self.settings.registration_throttle;
        // The account's counter is held while deciding, and the time read
        // once it is, so requests that queued for it are counted in order.
        let tx = self.db.begin().await?;
        let counter = tx.counters().lock(account.id, CounterKind::Registration).await?;
        let now = OffsetDateTime::now_utc();
        let verdict = if let Some(until) = throttle.blocked_until(&counter, now) {
            let entry = client.entry(
                refused,
                user,
                Some(account.id),
                format!(
                    "too many failed checks ({} since {}); locked until {until}, {about}",
                    counter.count,
                    counter.window_start.map(|s| s.to_string()).unwrap_or_default()
                ),
            );
            tx.audit().record(&entry, now).await?;
            Check::Refused
        } else if !matched {
            let after = counter.after_event(now, throttle.window);
            let entry = client.entry(
                failed,
                user,
                Some(account.id),
                format!(
                    "the check value differs (failure {} of {} allowed a day), {about}",
                    after.count, throttle.max_failures
                ),
            );
            tx.counters()
                .store(account.id, CounterKind::Registration, after)
                .await?;
            tx.audit().record(&entry, now).await?;
            Check::Failed
        } else {
            Check::Passed
        };
        tx.commit().await?;
        Ok(verdict)
    }

    /// Someone proved the account but it already has a user: its resident is
    /// told at their own address, within the account's mail limit.
    async fn notify_already_registered(
        &self,
        owner: &d::ResidentUser,
        org: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let mail = messages::already_registered(
            messages::tr(owner.language),
            org,
            &owner.email,
            &owner.account_number,
            &self.url("/password/reset"),
        );
        let entry = |event| client.entry(event, Some(owner.id), Some(owner.account_id), "");
        let entries = (
            entry(d::AuditEvent::RegistrationRepeated),
            entry(d::AuditEvent::RegistrationRepeatedSuppressed),
        );
        self.limited_mail(owner, mail, None, entries).await?;
        Ok(())
    }

    /// Queues `mail` to `user`'s resident within the account's mail limit,
    /// with the reset link to store, if any, and audits `entries.0`; beyond
    /// the limit nothing is sent and `entries.1` is audited. Each line's
    /// details get what happened appended. `true` when the mail was queued.
    pub(super) async fn limited_mail(
        &self,
        user: &d::ResidentUser,
        mail: d::Email,
        reset: Option<NewReset>,
        (mut sent, mut suppressed): (d::AuditEntry, d::AuditEntry),
    ) -> Result<bool, Error> {
        let limit = self.settings.mail_limit;
        let to = user.email.masked();
        let join = |details: &str, more: String| {
            if details.is_empty() {
                more
            } else {
                format!("{details}; {more}")
            }
        };
        let tx = self.db.begin().await?;
        let counter = tx.counters().lock(user.account_id, CounterKind::Mail).await?;
        let now = OffsetDateTime::now_utc();
        let allowed = limit.allows(&counter, now);
        if allowed {
            tx.counters()
                .store(
                    user.account_id,
                    CounterKind::Mail,
                    counter.after_event(now, limit.window),
                )
                .await?;
            if let Some(r) = &reset {
                tx.resets().create(r, now).await?;
            }
            tx.outbox().queue(&mail, Some(user.id), now).await?;
            sent.details = join(&sent.details, format!("e-mail sent to {to}"));
            tx.audit().record(&sent, now).await?;
        } else {
            suppressed.details = join(
                &suppressed.details,
                format!(
                    "not sent: {} e-mails to {to} in the last {} min already",
                    counter.count,
                    limit.window.whole_minutes()
                ),
            );
            tx.audit().record(&suppressed, now).await?;
        }
        tx.commit().await?;
        Ok(allowed)
    }
}

/// Failed registration checks of an account today, and until when its
/// registration is refused (`None`: open).
pub async fn registration_lock(
    db: &kabinet_db::Db,
    account: d::AccountId,
) -> Result<(i32, Option<OffsetDateTime>), DbError> {
    let counter = db.counters().get(account, CounterKind::Registration).await?;
    let throttle = super::AccountThrottle::REGISTRATION;
    let now = OffsetDateTime::now_utc();
    Ok((
        counter.in_window(now, throttle.window),
        throttle.blocked_until(&counter, now),
    ))
}

/// Clears an account's failed registration checks (staff, once they made
/// sure the resident is who they say), with its audit line.
pub async fn unlock_registration(db: &kabinet_db::Db, account: d::AccountId) -> Result<i32, DbError> {
    let (failures, _) = registration_lock(db, account).await?;
    let now = OffsetDateTime::now_utc();
    let tx = db.begin().await?;
    tx.counters().clear(account, CounterKind::Registration).await?;
    tx.audit()
        .record(
            &d::AuditEntry::system(
                d::AuditEvent::RegistrationUnlocked,
                Some(account),
                format!("{failures} failed check(s) cleared"),
            ),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(failures)
}
