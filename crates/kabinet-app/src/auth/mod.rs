//! Residents' sign-in and account security (R1, R2, P4): registration,
//! sign-in and sessions, passwords and their reset. Passwords are Argon2id
//! ([`hashing`]), tokens are random and stored hashed ([`secrets`]), guessing
//! is throttled ([`throttle`]), and every outcome is written to the audit log
//! in the transaction of the change it records.

pub mod background;
pub mod hashing;
mod password;
pub mod profile;
pub mod registration;
pub mod secrets;
pub mod throttle;

pub use hashing::{HashError, Hasher};
pub use registration::{RegistrationInput, RegistrationMode};
pub use secrets::ServerKey;
pub use throttle::{AccountThrottle, IpLimiter, MailLimit};

use crate::Error;
use background::Background;
use kabinet_db::sessions::NewSession;
use kabinet_db::{Db, DbError, Repos};
use kabinet_domain as d;
use secrets::{new_token, token_hash};
use time::{Duration, OffsetDateTime};

/// Form field names the sign-in use cases report errors on.
pub mod fields {
    /// Personal account number.
    pub const ACCOUNT: &str = "account";
    /// E-mail.
    pub const EMAIL: &str = "email";
    /// The amount on the receipt or the passport.
    pub const CHECK: &str = "check";
    /// Acceptance of the Rules.
    pub const RULES: &str = "rules";
    /// The personal-data consent checkbox.
    pub const PERSONAL_DATA: &str = "personal_data";
    /// Consent to informational messages.
    pub const CONSENT: &str = "consent";
    /// The current password.
    pub const CURRENT: &str = "current";
    /// The new password.
    pub const PASSWORD: &str = "password";
    /// Its confirmation.
    pub const PASSWORD_AGAIN: &str = "password_again";
}

/// Lifetimes and limits of the sign-in rules.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// What registration checks.
    pub registration_mode: RegistrationMode,
    /// Whether the configuration gives the mode (the office cannot change it).
    pub registration_mode_fixed: bool,
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
            registration_mode_fixed: false,
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

impl Client {
    /// An audit line about a resident's action from this client.
    pub fn entry(
        &self,
        event: d::AuditEvent,
        user: Option<d::UserId>,
        account: Option<d::AccountId>,
        details: impl Into<String>,
    ) -> d::AuditEntry {
        d::AuditEntry {
            actor: d::Actor::Resident,
            user_id: user,
            account_id: account,
            event,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            details: details.into(),
        }
    }
}

/// An authenticated request: the session and its user, in whatever state.
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
    /// The personal-data consent version the resident must give before going
    /// on, if any.
    pub consent_pending: Option<i32>,
}

/// What a signed-in resident must do before using the cabinet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Signed in with a one-time password: set an own password.
    SetPassword,
    /// A new version of the Rules is in force: accept it.
    AcceptRules,
    /// A new version of the personal-data consent is in force: give it.
    AcceptConsent,
    /// Nothing: the cabinet is open.
    Ready,
}

impl Principal {
    /// The resident must set their own password before anything else.
    pub fn must_set_password(&self) -> bool {
        self.session.restricted
    }

    /// The version of `doc` the resident still has to accept, if any.
    pub fn pending(&self, doc: d::Document) -> Option<i32> {
        match doc {
            d::Document::Rules => self.rules_pending,
            d::Document::Consent => self.consent_pending,
        }
    }

    /// Notes that the resident accepted the version of `doc` in force (so
    /// the next step is known without reading the session again).
    pub fn accepted(&mut self, doc: d::Document) {
        match doc {
            d::Document::Rules => self.rules_pending = None,
            d::Document::Consent => self.consent_pending = None,
        }
    }

    /// What comes next for this resident.
    pub fn next_step(&self) -> Step {
        if self.must_set_password() {
            Step::SetPassword
        } else if self.rules_pending.is_some() {
            Step::AcceptRules
        } else if self.consent_pending.is_some() {
            Step::AcceptConsent
        } else {
            Step::Ready
        }
    }

    /// The resident who may use the cabinet, or the step to take first.
    pub fn resident(self) -> Result<Resident, Step> {
        match self.next_step() {
            Step::Ready => Ok(Resident(self)),
            step => Err(step),
        }
    }
}

/// A signed-in resident who has set their own password and accepted the
/// Rules in force: the only kind of principal the resident use cases take.
/// Everything they read is scoped to the resident's linked accounts
/// ([`crate::account::Accounts::scope`]).
#[derive(Debug, Clone)]
pub struct Resident(Principal);

impl Resident {
    /// `user` acting in a messenger chat linked to their account (the MAX
    /// bot): no portal session, but the same gate — the Rules and the
    /// consent in force (`rules`, `consent`) must be accepted first.
    pub(crate) fn in_chat(
        user: d::ResidentUser,
        rules: Option<i32>,
        consent: Option<i32>,
        now: time::OffsetDateTime,
    ) -> Result<Resident, Step> {
        let principal = Principal {
            session: d::Session {
                id: d::SessionId(0),
                user_id: user.id,
                kind: d::SessionKind::Api,
                restricted: false,
                created_at: now,
                last_seen_at: now,
                expires_at: now,
            },
            rules_pending: rules.filter(|v| *v > user.rules_version),
            consent_pending: consent.filter(|v| *v > user.consent_version),
            user,
            token_hash: String::new(),
        };
        principal.resident()
    }

    /// The account the resident signs in with (always one of their linked
    /// accounts).
    pub fn account_id(&self) -> d::AccountId {
        self.0.user.account_id
    }
}

impl std::ops::Deref for Resident {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
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

/// The sign-in rules over one database; share one per process (in an `Arc`:
/// registration and reset requests go on in the background).
pub struct Auth {
    db: Db,
    registration: crate::org_settings::LiveRegistration,
    settings: AuthSettings,
    hasher: Hasher,
    key: ServerKey,
    background: Background,
}

impl Auth {
    /// The rules with these settings, hasher and server key.
    pub fn new(db: Db, settings: AuthSettings, hasher: Hasher, key: ServerKey) -> Auth {
        let registration = crate::org_settings::LiveRegistration::new(
            db.clone(),
            settings.registration_mode,
            settings.registration_mode_fixed,
        );
        Auth {
            db,
            registration,
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

    /// The registration mode in force: the configuration's, or the office's
    /// change over it.
    pub async fn registration_mode(&self) -> Result<RegistrationMode, Error> {
        self.registration.current().await
    }

    /// The registration mode as the office changes it (shares its cache).
    pub fn live_registration(&self) -> &crate::org_settings::LiveRegistration {
        &self.registration
    }

    /// The password hasher (shared with staff sign-in).
    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// The server key (CSRF tokens, passport hashes).
    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    async fn org_name(&self) -> Result<String, DbError> {
        crate::site::sender_name(&self.db).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url.trim_end_matches('/'))
    }

    /// Signs in with an account number and a password (R2). Every failure —
    /// unknown account, wrong password, too many attempts — is the same
    /// [`Error::InvalidCredentials`] and costs one Argon2id computation; a
    /// blocked resident with the right password is told so
    /// ([`Error::Blocked`]). A one-time password opens a restricted session and stops
    /// working.
    pub async fn sign_in(
        &self,
        account: &str,
        password: &str,
        kind: d::SessionKind,
        client: &Client,
    ) -> Result<SignedIn, Error> {
        let result = self.check_sign_in(account, password, kind, client).await;
        if let Err(e) = &result {
            crate::ops::sign_in_failed(crate::ops::Who::Resident, e);
        }
        result
    }

    async fn check_sign_in(
        &self,
        account: &str,
        password: &str,
        kind: d::SessionKind,
        client: &Client,
    ) -> Result<SignedIn, Error> {
        use d::AuditEvent as E;
        let now = OffsetDateTime::now_utc();
        let user = match d::AccountNumber::parse(account) {
            Ok(n) => self.db.users().by_account_number(&n).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            self.hasher.waste().await;
            let entry = client.entry(
                E::SignInFailed,
                None,
                None,
                format!("unknown account {:?}", truncate(account, 40)),
            );
            self.db.audit().record(&entry, now).await?;
            return Err(Error::InvalidCredentials);
        };
        if self
            .settings
            .throttle
            .blocked_until(&user.failures(), now)
            .is_some()
        {
            self.hasher.waste().await;
            let entry = client.entry(
                E::SignInRefused,
                Some(user.id),
                Some(user.account_id),
                "too many failed attempts",
            );
            self.db.audit().record(&entry, now).await?;
            return Err(Error::InvalidCredentials);
        }
        if !self.hasher.verify(&user.password_hash, password).await? {
            let entry = client.entry(
                E::SignInFailed,
                Some(user.id),
                Some(user.account_id),
                "wrong password",
            );
            self.count_failure(user.id, &entry, now).await?;
            return Err(Error::InvalidCredentials);
        }
        // Only someone who knows the password learns that staff blocked it.
        if user.blocked {
            let entry = client.entry(
                E::SignInRefused,
                Some(user.id),
                Some(user.account_id),
                "user is blocked",
            );
            self.db.audit().record(&entry, now).await?;
            return Err(Error::Blocked);
        }
        if user.password_generated && user.password_expires_at.is_none_or(|e| e <= now) {
            let entry = client.entry(
                E::SignInFailed,
                Some(user.id),
                Some(user.account_id),
                "one-time password expired",
            );
            self.db.audit().record(&entry, now).await?;
            return Err(Error::OneTimePasswordExpired);
        }
        self.open_session(user, kind, client, now).await
    }

    /// Opens a session for a resident whose password passed, with the
    /// sign-in's audit line, and says whether newer Rules wait for them.
    async fn open_session(
        &self,
        user: d::ResidentUser,
        kind: d::SessionKind,
        client: &Client,
        now: OffsetDateTime,
    ) -> Result<SignedIn, Error> {
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
        let tx = self.db.begin().await?;
        tx.users().signed_in(user.id, user.password_generated).await?;
        let session = tx.sessions().open(&new).await?;
        let entry = client.entry(
            d::AuditEvent::SignIn,
            Some(user.id),
            Some(user.account_id),
            details,
        );
        tx.audit().record(&entry, now).await?;
        let newer = async |doc, accepted: i32| -> Result<Option<i32>, Error> {
            let current = tx.documents(doc).current().await?;
            Ok(current.map(|r| r.version).filter(|v| *v > accepted))
        };
        let rules_pending = newer(d::Document::Rules, user.rules_version).await?;
        let consent_pending = newer(d::Document::Consent, user.consent_version).await?;
        tx.commit().await?;
        Ok(SignedIn {
            principal: Principal {
                session,
                user,
                token_hash: new.token_hash,
                rules_pending,
                consent_pending,
            },
            token,
        })
    }

    /// Counts one failed sign-in (or wrong current password) of `user`, with
    /// its audit line, holding the user's row so concurrent failures all count.
    async fn count_failure(
        &self,
        user: d::UserId,
        entry: &d::AuditEntry,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let tx = self.db.begin().await?;
        let Some(u) = tx.users().lock(user).await? else {
            return Err(Error::Db(DbError::NotFound));
        };
        let failures = u.failures().after_event(now, self.settings.throttle.window);
        tx.users().store_failures(user, failures).await?;
        tx.audit().record(entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal behind a session token, if the session is alive: not past
    /// its absolute end, not idle too long (browser), its user not blocked.
    /// One query reads the session, its user and the Rules in force; a dead
    /// session is deleted, and activity is noted at most once a minute.
    pub async fn authenticate(
        &self,
        token: &str,
        kind: d::SessionKind,
    ) -> Result<Option<Principal>, DbError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some(found) = self.db.sessions().by_token(&hash).await? else {
            return Ok(None);
        };
        let (session, user) = (found.session, found.user);
        if session.kind != kind {
            return Ok(None);
        }
        let now = OffsetDateTime::now_utc();
        let idle = kind == d::SessionKind::Web && now - session.last_seen_at >= self.settings.session_idle;
        if session.expires_at <= now || idle || user.blocked {
            self.db.sessions().close(session.id).await?;
            return Ok(None);
        }
        // Best effort: a page that only reads must not fail because the
        // database is busy writing (a billing import holds SQLite's write
        // lock); a touch missed makes the session's idle end a minute early.
        if now - session.last_seen_at >= Duration::minutes(1)
            && let Err(e) = self.db.sessions().touch(session.id, now).await
        {
            tracing::warn!(error = %e, "session not touched");
        }
        let rules_pending = found.current_rules.filter(|v| *v > user.rules_version);
        let consent_pending = found.current_consent.filter(|v| *v > user.consent_version);
        Ok(Some(Principal {
            session,
            user,
            token_hash: hash,
            rules_pending,
            consent_pending,
        }))
    }

    /// Ends the principal's session.
    pub async fn sign_out(&self, p: &Principal, client: &Client) -> Result<(), Error> {
        let event = match p.session.kind {
            d::SessionKind::Web => d::AuditEvent::SignOut,
            d::SessionKind::Api => d::AuditEvent::TokenRevoked,
        };
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.sessions().close(p.session.id).await?;
        tx.audit()
            .record(
                &client.entry(event, Some(p.user.id), Some(p.user.account_id), ""),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
