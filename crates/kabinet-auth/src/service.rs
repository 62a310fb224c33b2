//! The operations: register, sign in, authenticate a request, sign out, set
//! or change a password, reset it by e-mail, accept the Rules.

use crate::background::Background;
use crate::passwords::{HashError, Hasher};
use crate::secrets::{ServerKey, generated_password, new_token, token_hash};
use crate::throttle::{AccountThrottle, MailLimit};
use kabinet_db::counters::{CounterKind, CounterStep, NewPasswordReset};
use kabinet_db::residents::{NewResident, NewSession, Registered};
use kabinet_db::{Db, DbError};
use kabinet_domain as d;
use kabinet_notify::messages;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

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

/// Lifetimes and limits of the sign-in rules.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// What registration checks.
    pub registration_mode: RegistrationMode,
    /// A browser session ends after this long without a request.
    pub session_idle: Duration,
    /// A browser session ends this long after sign-in whatever happens.
    pub session_absolute: Duration,
    /// An API token works this long.
    pub api_token_lifetime: Duration,
    /// A generated password stops working this long after it was sent.
    pub generated_password_valid: Duration,
    /// A password-reset link works this long.
    pub reset_valid: Duration,
    /// Limits on failed sign-ins per account.
    pub throttle: AccountThrottle,
    /// Limits on failed registration checks per account.
    pub registration_throttle: AccountThrottle,
    /// E-mails to one account's resident that others can cause (reset links,
    /// "already registered" notices).
    pub mail_limit: MailLimit,
    /// The portal's address as residents reach it, for links in e-mails
    /// (`https://lk.example.ru`, no trailing slash).
    pub public_url: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            registration_mode: RegistrationMode::Amount,
            session_idle: Duration::minutes(30),
            session_absolute: Duration::hours(12),
            api_token_lifetime: Duration::days(90),
            generated_password_valid: Duration::hours(72),
            reset_valid: Duration::hours(1),
            throttle: AccountThrottle::SIGN_IN,
            registration_throttle: AccountThrottle::REGISTRATION,
            mail_limit: MailLimit::DEFAULT,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// Who is asking: recorded in the audit log.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address.
    pub ip: String,
    /// Its User-Agent header.
    pub user_agent: String,
}

/// A form field an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Personal account number.
    Account,
    /// E-mail.
    Email,
    /// Amount on the receipt or passport.
    Check,
    /// Acceptance of the Rules.
    Rules,
    /// Consent to informational messages.
    Consent,
    /// The current password.
    Current,
    /// The new password.
    Password,
    /// Its confirmation.
    PasswordAgain,
}

/// Errors in a submitted form, by field, in Russian.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(Field, String)>);

impl FieldErrors {
    fn add(&mut self, field: Field, message: impl ToString) {
        self.0.push((field, message.to_string()));
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    fn single(field: Field, message: impl ToString) -> FieldErrors {
        FieldErrors(vec![(field, message.to_string())])
    }
}

/// Why an operation did not go through.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The form has mistakes (shown next to the fields).
    #[error("проверьте заполнение формы")]
    Invalid(FieldErrors),
    /// Wrong account or password, or sign-in refused for now; deliberately
    /// one message for every such case.
    #[error(
        "неверный номер лицевого счёта или пароль. После нескольких неудачных попыток вход временно ограничивается — подождите и попробуйте снова"
    )]
    InvalidCredentials,
    /// The one-time password was right but is past its 72 hours.
    #[error("срок действия временного пароля истёк — восстановите пароль, и мы пришлём ссылку на почту")]
    OneTimePasswordExpired,
    /// The reset link is unknown, used or expired.
    #[error("ссылка для восстановления пароля недействительна или устарела — запросите новую")]
    InvalidResetToken,
    /// The Rules version accepted is not the one in force.
    #[error("правила изменились — прочитайте действующую редакцию")]
    StaleRules,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// An authenticated request: the session and its user.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The session.
    pub session: d::Session,
    /// Its user.
    pub user: d::ResidentUser,
    /// SHA-256 of the session's token (binds CSRF tokens to it).
    pub token_hash: String,
    /// The Rules version the resident must accept before going on, if any.
    pub rules_pending: Option<i32>,
}

impl Principal {
    /// The resident must set their own password before anything else.
    pub fn must_set_password(&self) -> bool {
        self.session.restricted
    }
}

/// A successful sign-in: the secret to hand to the client and the principal.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session cookie's value or the API bearer token. Shown once.
    pub token: String,
    /// Who signed in.
    pub principal: Principal,
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
    /// "I agree to informational e-mails and SMS".
    pub consent: bool,
}

enum CheckValue {
    Amount(d::Kopecks),
    Passport(d::Passport),
}

/// The sign-in rules over one database; share one per process (in an `Arc`:
/// registration and reset requests go on in the background).
pub struct Auth {
    db: Db,
    settings: AuthSettings,
    hasher: Hasher,
    key: ServerKey,
    background: Background,
}

/// What a registration check came to, as counted for the account.
enum Check {
    /// Locked by earlier failures: not checked at all.
    Refused,
    /// The value did not match.
    Failed,
    /// The value matched.
    Passed,
}

impl Auth {
    /// The rules with these settings, hasher and server key.
    pub fn new(db: Db, settings: AuthSettings, hasher: Hasher, key: ServerKey) -> Auth {
        Auth {
            db,
            settings,
            hasher,
            key,
            background: Background::new(),
        }
    }

    /// Waits until the registration and reset requests taken so far are
    /// done (before the server stops; tests).
    pub async fn idle(&self) {
        self.background.idle().await;
    }

    /// The settings in force.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The server key (CSRF tokens, passport hashes).
    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    fn entry(
        &self,
        client: &Client,
        event: &'static str,
        user: Option<d::UserId>,
        account: Option<d::AccountId>,
        details: impl Into<String>,
    ) -> d::AuditEntry {
        d::AuditEntry {
            actor: d::Actor::Resident,
            user_id: user,
            account_id: account,
            event,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            details: details.into(),
        }
    }

    async fn org_name(&self) -> Result<String, DbError> {
        Ok(self
            .db
            .organization()
            .await?
            .map_or_else(|| "Личный кабинет абонента".to_string(), |o| o.short_name))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url.trim_end_matches('/'))
    }

    /// Registers a resident (R1). Mistakes in the form are reported at once;
    /// otherwise the request is taken and answered the same way whatever the
    /// account, and checked in the background: no answer, no timing and no
    /// e-mail to the typed address tells whether the account exists, has a
    /// user or matched.
    ///
    /// In the background: the check value is compared (the amount of the
    /// latest invoice, or the passport's keyed hash) under the account's
    /// registration throttle (counted in the database; after
    /// [`AccountThrottle::REGISTRATION`]'s ten failures a day the account is
    /// refused until the day is over or staff unlock it). On a match a user with
    /// a one-time password is created and the password e-mailed; when the
    /// account already has a user, a notice goes to *that user's* address
    /// (within the account's mail limit) and nothing to the typed one.
    pub async fn register(
        self: &Arc<Self>,
        input: &RegistrationInput,
        client: &Client,
    ) -> Result<(), AuthError> {
        let mut errors = FieldErrors::default();
        let number = d::AccountNumber::parse(&input.account)
            .map_err(|e| errors.add(Field::Account, e))
            .ok();
        let email = d::EmailAddress::parse(&input.email)
            .map_err(|e| errors.add(Field::Email, e))
            .ok();
        let check = match self.settings.registration_mode {
            RegistrationMode::Amount => d::Kopecks::parse(&input.check)
                .map(CheckValue::Amount)
                .map_err(|e| errors.add(Field::Check, e))
                .ok(),
            RegistrationMode::Passport => d::Passport::parse(&input.check)
                .map(CheckValue::Passport)
                .map_err(|e| errors.add(Field::Check, e))
                .ok(),
        };
        if !input.accept_rules {
            errors.add(
                Field::Rules,
                "чтобы зарегистрироваться, примите правила пользования личным кабинетом",
            );
        }
        if !input.consent {
            errors.add(
                Field::Consent,
                "нужно согласие на получение информационных сообщений",
            );
        }
        let (Some(number), Some(email), Some(check), true) = (number, email, check, errors.0.is_empty())
        else {
            return Err(AuthError::Invalid(errors));
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
    ) -> Result<(), AuthError> {
        let now = OffsetDateTime::now_utc();
        let Some(account) = self.db.find_account(&number).await? else {
            let entry = self.entry(
                client,
                "registration_failed",
                None,
                None,
                format!("account {number}: no such account"),
            );
            self.db.audit(&entry, now).await?;
            return Ok(());
        };
        let matched = match &check {
            CheckValue::Amount(k) => self
                .db
                .latest_invoice(account.id)
                .await?
                .is_some_and(|i| i.total_due == *k),
            CheckValue::Passport(p) => {
                use subtle::ConstantTimeEq;
                let expected = self.key.passport_hash(p);
                self.db
                    .passport_hash(account.id)
                    .await?
                    .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(expected.as_bytes())))
            }
        };
        let throttle = self.settings.registration_throttle;
        let typed = email.masked();
        let verdict = self
            .db
            .with_counter(account.id, CounterKind::Registration, |c, now| {
                if let Some(until) = throttle.blocked_until(&c, now) {
                    let entry = self.entry(
                        client,
                        "registration_refused",
                        None,
                        Some(account.id),
                        format!(
                            "too many failed checks ({} since {}); locked until {until}, e-mail {typed}",
                            c.count,
                            c.window_start.map(|s| s.to_string()).unwrap_or_default()
                        ),
                    );
                    CounterStep {
                        audit: Some(entry),
                        ..CounterStep::nothing(Check::Refused)
                    }
                } else if !matched {
                    let after = c.after_event(now, throttle.window);
                    let entry = self.entry(
                        client,
                        "registration_failed",
                        None,
                        Some(account.id),
                        format!(
                            "the check value differs (failure {} of {} allowed a day), e-mail {typed}",
                            after.count, throttle.max_failures
                        ),
                    );
                    CounterStep {
                        store: Some(after),
                        audit: Some(entry),
                        ..CounterStep::nothing(Check::Failed)
                    }
                } else {
                    CounterStep::nothing(Check::Passed)
                }
            })
            .await?;
        if !matches!(verdict, Check::Passed) {
            return Ok(());
        }
        let org = self.org_name().await?;
        if let Some(owner) = self.db.user_by_account_number(&number).await? {
            return self.notify_already_registered(&owner, &org, client).await;
        }
        let password = generated_password();
        let hash = self.hasher.hash(&password).await?;
        let valid = self.settings.generated_password_valid;
        let mail = messages::registration_password(
            &org,
            &email,
            &number,
            &password,
            valid.whole_hours(),
            &self.url("/login"),
        );
        let rules_version = self.db.current_rules().await?.map_or(0, |r| r.version);
        let new = NewResident {
            account_id: account.id,
            email: email.clone(),
            password_hash: hash,
            password_expires_at: now + valid,
            rules_version,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            now,
        };
        let entry = self.entry(
            client,
            "registration",
            None,
            Some(account.id),
            format!("e-mail {typed}"),
        );
        match self.db.create_resident(&new, &entry, &mail).await? {
            Registered::Created(_) => Ok(()),
            // Another request created it a moment ago.
            Registered::AlreadyExists => match self.db.user_by_account_number(&number).await? {
                Some(owner) => self.notify_already_registered(&owner, &org, client).await,
                None => Ok(()),
            },
        }
    }

    /// Someone proved the account but it already has a user: its resident is
    /// told at their own address, at most [`AuthSettings::mail_limit`] times.
    async fn notify_already_registered(
        &self,
        owner: &d::ResidentUser,
        org: &str,
        client: &Client,
    ) -> Result<(), AuthError> {
        let mail = messages::already_registered(
            org,
            &owner.email,
            &owner.account_number,
            &self.url("/password/reset"),
        );
        self.limited_mail(owner, mail, None, "registration_repeated", client)
            .await
    }

    /// Queues `mail` to `user`'s resident within the account's mail limit,
    /// with the reset link to store, if any; beyond the limit nothing is sent
    /// and `<event>_suppressed` is audited.
    async fn limited_mail(
        &self,
        user: &d::ResidentUser,
        mail: d::Email,
        reset: Option<NewPasswordReset>,
        event: &'static str,
        client: &Client,
    ) -> Result<(), AuthError> {
        let limit = self.settings.mail_limit;
        let suppressed: &'static str = match event {
            "registration_repeated" => "registration_repeated_suppressed",
            _ => "password_reset_suppressed",
        };
        let to = user.email.masked();
        self.db
            .with_counter(user.account_id, CounterKind::Mail, |c, now| {
                if limit.allows(&c, now) {
                    let entry = self.entry(
                        client,
                        event,
                        Some(user.id),
                        Some(user.account_id),
                        format!("e-mail sent to {to}"),
                    );
                    CounterStep {
                        store: Some(c.after_event(now, limit.window)),
                        audit: Some(entry),
                        email: Some(mail),
                        reset,
                        result: (),
                    }
                } else {
                    let entry = self.entry(
                        client,
                        suppressed,
                        Some(user.id),
                        Some(user.account_id),
                        format!(
                            "not sent: {} e-mails to {to} in the last {} min already",
                            c.count,
                            limit.window.whole_minutes()
                        ),
                    );
                    CounterStep {
                        audit: Some(entry),
                        ..CounterStep::nothing(())
                    }
                }
            })
            .await?;
        Ok(())
    }

    /// Signs in with an account number and a password (R2). Every failure —
    /// unknown account, wrong password, blocked user, too many attempts — is
    /// the same [`AuthError::InvalidCredentials`] and costs one Argon2id
    /// computation. A one-time password opens a restricted session and stops
    /// working.
    pub async fn sign_in(
        &self,
        account: &str,
        password: &str,
        kind: d::SessionKind,
        client: &Client,
    ) -> Result<SignedIn, AuthError> {
        let now = OffsetDateTime::now_utc();
        let user = match d::AccountNumber::parse(account) {
            Ok(n) => self.db.user_by_account_number(&n).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            self.hasher.waste().await;
            let entry = self.entry(
                client,
                "sign_in_failed",
                None,
                None,
                format!("unknown account {:?}", truncate(account, 40)),
            );
            self.db.audit(&entry, now).await?;
            return Err(AuthError::InvalidCredentials);
        };
        let refused = if user.blocked {
            Some("user is blocked")
        } else if self
            .settings
            .throttle
            .blocked_until(&user.failures(), now)
            .is_some()
        {
            Some("too many failed attempts")
        } else {
            None
        };
        if let Some(reason) = refused {
            self.hasher.waste().await;
            let entry = self.entry(
                client,
                "sign_in_refused",
                Some(user.id),
                Some(user.account_id),
                reason,
            );
            self.db.audit(&entry, now).await?;
            return Err(AuthError::InvalidCredentials);
        }
        if !self.hasher.verify(&user.password_hash, password).await? {
            let entry = self.entry(
                client,
                "sign_in_failed",
                Some(user.id),
                Some(user.account_id),
                "wrong password",
            );
            self.db
                .record_sign_in_failure(user.id, now, self.settings.throttle.window, &entry)
                .await?;
            return Err(AuthError::InvalidCredentials);
        }
        if user.password_generated && user.password_expires_at.is_none_or(|e| e <= now) {
            let entry = self.entry(
                client,
                "sign_in_failed",
                Some(user.id),
                Some(user.account_id),
                "one-time password expired",
            );
            self.db.audit(&entry, now).await?;
            return Err(AuthError::OneTimePasswordExpired);
        }
        let token = new_token();
        let lifetime = match kind {
            d::SessionKind::Web => self.settings.session_absolute,
            d::SessionKind::Api => self.settings.api_token_lifetime,
        };
        let new = NewSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            kind,
            restricted: user.password_generated,
            now,
            expires_at: now + lifetime,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        };
        let details = match (kind, user.password_generated) {
            (d::SessionKind::Web, false) => "browser",
            (d::SessionKind::Web, true) => "browser, one-time password",
            (d::SessionKind::Api, false) => "API token",
            (d::SessionKind::Api, true) => "API token, one-time password",
        };
        let entry = self.entry(client, "sign_in", Some(user.id), Some(user.account_id), details);
        let session = self
            .db
            .open_session(&new, user.password_generated, &entry)
            .await?;
        let rules_pending = self.rules_pending(&user).await?;
        Ok(SignedIn {
            principal: Principal {
                session,
                user,
                token_hash: new.token_hash,
                rules_pending,
            },
            token,
        })
    }

    async fn rules_pending(&self, user: &d::ResidentUser) -> Result<Option<i32>, DbError> {
        Ok(self
            .db
            .current_rules()
            .await?
            .map(|r| r.version)
            .filter(|v| *v > user.rules_version))
    }

    /// The principal behind a session token, if the session is alive: not past
    /// its absolute end, not idle too long (browser), its user not blocked.
    /// A dead session is deleted.
    pub async fn authenticate(
        &self,
        token: &str,
        kind: d::SessionKind,
    ) -> Result<Option<Principal>, DbError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some((session, user)) = self.db.session_by_token(&hash).await? else {
            return Ok(None);
        };
        if session.kind != kind {
            return Ok(None);
        }
        let now = OffsetDateTime::now_utc();
        let idle = kind == d::SessionKind::Web && now - session.last_seen_at >= self.settings.session_idle;
        if session.expires_at <= now || idle || user.blocked {
            self.db.close_session(session.id, None, now).await?;
            return Ok(None);
        }
        if now - session.last_seen_at >= Duration::minutes(1) {
            self.db.touch_session(session.id, now).await?;
        }
        let rules_pending = self.rules_pending(&user).await?;
        Ok(Some(Principal {
            session,
            user,
            token_hash: hash,
            rules_pending,
        }))
    }

    /// Ends the principal's session.
    pub async fn sign_out(&self, p: &Principal, client: &Client) -> Result<(), AuthError> {
        let event = match p.session.kind {
            d::SessionKind::Web => "sign_out",
            d::SessionKind::Api => "token_revoked",
        };
        let entry = self.entry(client, event, Some(p.user.id), Some(p.user.account_id), "");
        self.db
            .close_session(p.session.id, Some(&entry), OffsetDateTime::now_utc())
            .await?;
        Ok(())
    }

    fn new_password(
        &self,
        user: &d::ResidentUser,
        new: &str,
        again: &str,
    ) -> Result<d::NewPassword, AuthError> {
        d::NewPassword::parse_confirmed(new, again, &[user.account_number.as_str(), user.email.as_str()])
            .map_err(|e| {
                let field = if e == d::PasswordError::Mismatch {
                    Field::PasswordAgain
                } else {
                    Field::Password
                };
                AuthError::Invalid(FieldErrors::single(field, e))
            })
    }

    /// Sets the resident's own password after signing in with a one-time one;
    /// the session becomes a normal one.
    pub async fn set_own_password(
        &self,
        p: &Principal,
        new: &str,
        again: &str,
        client: &Client,
    ) -> Result<(), AuthError> {
        let password = self.new_password(&p.user, new, again)?;
        let hash = self.hasher.hash(password.expose()).await?;
        let entry = self.entry(
            client,
            "password_set",
            Some(p.user.id),
            Some(p.user.account_id),
            "after one-time password",
        );
        self.db
            .set_password(
                p.user.id,
                &hash,
                Some(p.session.id),
                &entry,
                None,
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok(())
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
    ) -> Result<(), AuthError> {
        let now = OffsetDateTime::now_utc();
        let wrong = || {
            AuthError::Invalid(FieldErrors::single(
                Field::Current,
                "текущий пароль указан неверно",
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
            let entry = self.entry(
                client,
                "password_change_failed",
                Some(p.user.id),
                Some(p.user.account_id),
                "wrong current password",
            );
            self.db
                .record_sign_in_failure(p.user.id, now, self.settings.throttle.window, &entry)
                .await?;
            return Err(wrong());
        }
        let password = self.new_password(&p.user, new, again)?;
        let hash = self.hasher.hash(password.expose()).await?;
        let org = self.org_name().await?;
        let notice = messages::password_changed(
            &org,
            &p.user.email,
            &p.user.account_number,
            &self.url("/password/reset"),
        );
        let entry = self.entry(
            client,
            "password_changed",
            Some(p.user.id),
            Some(p.user.account_id),
            "",
        );
        self.db
            .set_password(p.user.id, &hash, Some(p.session.id), &entry, Some(&notice), now)
            .await?;
        Ok(())
    }

    /// Starts a password reset. A malformed account number is reported at
    /// once; otherwise the request is taken, answered the same way for every
    /// account, and done in the background: when the account has an active
    /// user, a single-use link valid for an hour goes to its e-mail, at most
    /// [`AuthSettings::mail_limit`] such e-mails per account (beyond it the
    /// request is only audited).
    pub async fn request_reset(self: &Arc<Self>, account: &str, client: &Client) -> Result<(), AuthError> {
        let number = d::AccountNumber::parse(account)
            .map_err(|e| AuthError::Invalid(FieldErrors::single(Field::Account, e)))?;
        let this = Arc::clone(self);
        let client = client.clone();
        self.background
            .spawn("password reset", async move {
                this.reset_requested(number, &client).await
            })
            .await;
        Ok(())
    }

    async fn reset_requested(&self, number: d::AccountNumber, client: &Client) -> Result<(), AuthError> {
        let now = OffsetDateTime::now_utc();
        let user = self.db.user_by_account_number(&number).await?;
        let Some(user) = user.filter(|u| !u.blocked) else {
            let entry = self.entry(
                client,
                "password_reset_requested",
                None,
                None,
                format!("account {number}: no active user, nothing sent"),
            );
            self.db.audit(&entry, now).await?;
            return Ok(());
        };
        let token = new_token();
        let org = self.org_name().await?;
        let valid = self.settings.reset_valid;
        let mail = messages::password_reset(
            &org,
            &user.email,
            &number,
            &self.url(&format!("/password/reset/{token}")),
            valid.whole_minutes(),
        );
        let reset = NewPasswordReset {
            user_id: user.id,
            token_hash: token_hash(&token),
            expires_at: now + valid,
        };
        self.limited_mail(&user, mail, Some(reset), "password_reset_requested", client)
            .await
    }

    /// Whether a reset link is still good (for showing its form).
    pub async fn reset_token_valid(&self, token: &str) -> Result<bool, DbError> {
        Ok(token.len() <= 128
            && self
                .db
                .password_reset_user(&token_hash(token), OffsetDateTime::now_utc())
                .await?
                .is_some())
    }

    /// Sets a new password with a reset link; every session of the resident
    /// ends and failed-attempt counters are cleared.
    pub async fn complete_reset(
        &self,
        token: &str,
        new: &str,
        again: &str,
        client: &Client,
    ) -> Result<(), AuthError> {
        let now = OffsetDateTime::now_utc();
        let hash = token_hash(token);
        let user = self
            .db
            .password_reset_user(&hash, now)
            .await?
            .ok_or(AuthError::InvalidResetToken)?;
        let password = self.new_password(&user, new, again)?;
        let pw_hash = self.hasher.hash(password.expose()).await?;
        let entry = self.entry(client, "password_reset", Some(user.id), Some(user.account_id), "");
        self.db
            .complete_password_reset(&hash, &pw_hash, &entry, now)
            .await?
            .ok_or(AuthError::InvalidResetToken)?;
        Ok(())
    }

    /// Records that the resident accepted Rules `version`, which must be the one
    /// in force.
    pub async fn accept_rules(&self, p: &Principal, version: i32, client: &Client) -> Result<(), AuthError> {
        let current = self.db.current_rules().await?.map(|r| r.version);
        if current != Some(version) {
            return Err(AuthError::StaleRules);
        }
        let entry = self.entry(
            client,
            "rules_accepted",
            Some(p.user.id),
            Some(p.user.account_id),
            format!("version {version}"),
        );
        self.db
            .accept_rules(p.user.id, version, &entry, OffsetDateTime::now_utc())
            .await?;
        Ok(())
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
