//! Staff identity (S5, first part): members added from the command line with
//! a generated password, sign-in at `/staff/login` with the password and
//! then a second factor — a TOTP code (RFC 6238, enrolled at the first
//! sign-in from a QR code, with ten single-use recovery codes) — and short
//! sessions (15 minutes idle, 8 hours in all by default). A TOTP step and a
//! recovery code are taken by one conditional update, so neither can be
//! replayed, not even by two sign-ins at once. Failed attempts delay further
//! attempts of the member from the same address (never a lock for everyone;
//! the web layer adds the per-address limit), and every outcome goes to the
//! audit log. The session id changes when the second factor passes; TOTP
//! secrets are sealed at rest ([`SecretBox`]); a generated password works
//! once, within 72 hours.

use crate::Error;
use crate::auth::secrets::{generated_password, new_token, random_bytes, token_hash};
use crate::auth::{Client, Hasher};
use kabinet_db::staff::{NewStaff, NewStaffSession};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::staff::{Permission, Role, StaffMember, StaffSession, StaffStage};
use time::{Duration, OffsetDateTime};
use totp_rs::{Algorithm, Secret, TOTP};

mod sealed;

pub use sealed::SecretBox;

/// The login of the administrator a new installation starts with.
pub const FIRST_ADMINISTRATOR: &str = "admin";

/// How many recovery codes a member gets.
pub const RECOVERY_CODES: usize = 10;

/// How long a generated password works (it works once in that time).
pub const GENERATED_PASSWORD_VALID: Duration = Duration::hours(72);

/// Staff session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct StaffSettings {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after sign-in whatever happens.
    pub absolute: Duration,
    /// Limits on failed sign-ins per member.
    pub throttle: d::AccountThrottle,
}

impl Default for StaffSettings {
    fn default() -> Self {
        StaffSettings {
            idle: Duration::minutes(15),
            absolute: Duration::hours(8),
            throttle: STAFF_THROTTLE,
        }
    }
}

/// Failed staff sign-ins per member: delays only, never a lock — wrong
/// passwords sent from one address must not shut the member out everywhere.
/// Five free failures, then 2 s doubling up to a minute; the address is
/// held back by the sign-in forms' per-address limit.
pub const STAFF_THROTTLE: d::AccountThrottle = d::AccountThrottle {
    free_failures: 5,
    base_delay: Duration::seconds(2),
    max_delay: Duration::minutes(1),
    max_failures: i32::MAX,
    window: Duration::hours(1),
};

/// A staff request with a live session, at whatever stage.
#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    /// The session.
    pub session: StaffSession,
    /// Its member.
    pub member: StaffMember,
    /// SHA-256 of the cookie's secret (binds CSRF tokens).
    pub token_hash: String,
}

/// A staff member who passed both factors and has their own password: the
/// only kind of staff principal the console's use cases take.
#[derive(Debug, Clone)]
pub struct StaffUser(StaffPrincipal);

impl StaffUser {
    /// The member.
    pub fn member(&self) -> &StaffMember {
        &self.0.member
    }

    /// Refuses unless the member's role holds `p`.
    pub fn require(&self, p: Permission) -> Result<(), Error> {
        if self.0.member.role.can(p) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// Refuses unless the member may work with the requests of `desk`.
    pub fn require_desk(&self, desk: d::requests::Desk) -> Result<(), Error> {
        self.require(Permission::for_desk(desk))
    }

    /// The buildings the member works, when their role is scoped and a
    /// scope is set; `None`: every building.
    pub fn buildings(&self) -> Option<&[String]> {
        let m = &self.0.member;
        (matches!(m.role, Role::Operator | Role::Dispatcher) && !m.buildings.is_empty())
            .then_some(m.buildings.as_slice())
    }

    /// Refuses a request in `building` outside the member's buildings.
    pub fn require_building(&self, building: Option<&str>) -> Result<(), Error> {
        match (self.buildings(), building) {
            (None, _) => Ok(()),
            (Some(b), Some(x)) if b.iter().any(|y| y == x) => Ok(()),
            _ => Err(Error::Forbidden),
        }
    }

    /// The desks whose requests the member may see (empty: none).
    pub fn desks(&self) -> Vec<d::requests::Desk> {
        d::requests::Desk::ALL
            .into_iter()
            .filter(|k| self.require_desk(*k).is_ok())
            .collect()
    }

    /// An audit line about this member's action.
    pub fn entry(&self, client: &Client, event: d::AuditEvent, details: &str) -> d::AuditEntry {
        staff_entry(client, event, &self.0.member.login, details)
    }
}

/// Who makes a change in the office: the command line on the server, or a
/// staff member in the console (whose role must allow it).
#[derive(Clone, Copy)]
pub enum By<'a> {
    /// The command line: Kabinet itself, run by whoever runs the server.
    Cli,
    /// A staff member signed in to the console, from this client.
    Staff(&'a StaffUser, &'a Client),
}

impl By<'_> {
    /// Refuses unless the actor may `p` (the command line always may).
    pub fn require(&self, p: Permission) -> Result<(), Error> {
        match self {
            By::Cli => Ok(()),
            By::Staff(s, _) => s.require(p),
        }
    }

    /// The audit line of this actor's change.
    pub fn entry(&self, event: d::AuditEvent, details: impl Into<String>) -> d::AuditEntry {
        match self {
            By::Cli => d::AuditEntry::system(event, None, details),
            By::Staff(s, client) => s.entry(client, event, &details.into()),
        }
    }

    /// The acting member, when it is one.
    pub fn member(&self) -> Option<&StaffMember> {
        match self {
            By::Cli => None,
            By::Staff(s, _) => Some(s.member()),
        }
    }
}

impl StaffPrincipal {
    /// The member ready for the console, or `None` while a step is due.
    pub fn ready(self) -> Option<StaffUser> {
        (self.session.stage == StaffStage::Ready).then_some(StaffUser(self))
    }
}

fn staff_entry(client: &Client, event: d::AuditEvent, login: &str, details: &str) -> d::AuditEntry {
    d::AuditEntry {
        actor: d::Actor::Staff,
        user_id: None,
        account_id: None,
        event,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        details: if details.is_empty() {
            format!("staff {login}")
        } else {
            format!("staff {login}: {details}")
        },
    }
}

/// What enrolment shows: the secret to type in and the URI for the QR code.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32.
    pub secret: String,
    /// `otpauth://totp/…`.
    pub uri: String,
}

/// A second factor passed: where the new session stands, its cookie
/// secret (the session id changes when the second factor passes), and the
/// recovery codes when enrolment just finished (shown once).
#[derive(Debug, Clone)]
pub struct Passed {
    /// The new stage.
    pub stage: StaffStage,
    /// The new session's secret for the cookie.
    pub token: String,
    /// Recovery codes, on enrolment only.
    pub recovery_codes: Vec<String>,
}

/// Staff sign-in and the command line's staff management.
#[derive(Clone)]
pub struct StaffAuth {
    db: Db,
    hasher: Hasher,
    settings: StaffSettings,
    issuer: String,
    secrets: SecretBox,
}

fn staff_owner(id: d::StaffId) -> String {
    format!("staff:{id}")
}

fn session_owner(id: d::StaffSessionId) -> String {
    format!("session:{id}")
}

fn totp(secret: &str) -> Result<TOTP, Error> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|e| Error::Internal(format!("TOTP secret: {e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).map_err(|e| Error::Internal(format!("TOTP: {e}")))
}

/// The TOTP code of `secret` at `unix` seconds (demo output and tests).
pub fn totp_code(secret: &str, unix: u64) -> Result<String, Error> {
    Ok(totp(secret)?.generate(unix))
}

fn code_hash(staff: d::StaffId, code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    token_hash(&format!("{staff}:{normalized}"))
}

/// Percent-encodes a label for the `otpauth://` URI.
fn uri_part(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl StaffAuth {
    /// Staff sign-in over `db`; `issuer` names the portal in authenticator apps.
    pub fn new(
        db: Db,
        hasher: Hasher,
        settings: StaffSettings,
        issuer: &str,
        secrets: SecretBox,
    ) -> StaffAuth {
        StaffAuth {
            db,
            hasher,
            settings,
            issuer: issuer.to_string(),
            secrets,
        }
    }

    /// A member's TOTP secret in clear (the demo prints its dispatcher's).
    pub fn totp_secret(&self, m: &StaffMember) -> Result<Option<String>, Error> {
        m.totp_secret
            .as_deref()
            .map(|s| self.secrets.open(&staff_owner(m.id), s))
            .transpose()
    }

    /// The session lifetimes.
    pub fn settings(&self) -> StaffSettings {
        self.settings
    }

    /// Adds a member with a generated password, returned once
    /// (`kabinet staff add`, the office's staff page).
    pub async fn add(
        &self,
        by: By<'_>,
        login: &str,
        name: &str,
        role: Role,
    ) -> Result<(StaffMember, String), Error> {
        by.require(Permission::Staff)?;
        let login = login.trim().to_lowercase();
        if login.is_empty()
            || login.len() > 64
            || !login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "login",
                d::Text::new("error-staff-login-invalid"),
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 128 {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "name",
                d::Text::new("error-staff-name-invalid"),
            )));
        }
        let password = generated_password();
        let hash = self.hasher.hash(&password).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let member = match tx
            .staff()
            .insert(&NewStaff {
                login: login.clone(),
                name: name.to_string(),
                role,
                password_hash: hash,
                password_expires_at: now + GENERATED_PASSWORD_VALID,
                now,
            })
            .await
        {
            Ok(m) => m,
            Err(e) if e.is_unique_violation() => {
                return Err(Error::Invalid(crate::FieldErrors::single(
                    "login",
                    d::Text::new("error-staff-login-taken"),
                )));
            }
            Err(e) => return Err(e.into()),
        };
        tx.audit()
            .record(
                &by.entry(
                    d::AuditEvent::StaffChanged,
                    format!("added staff {login} ({})", role.as_str()),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok((member, password))
    }

    /// On a database without any staff member (a new installation), adds
    /// the first administrator, login [`FIRST_ADMINISTRATOR`], and returns
    /// their one-time password; `None` when there are members already (or
    /// another server added the first one at the same moment).
    pub async fn first_administrator(&self) -> Result<Option<(StaffMember, String)>, Error> {
        if !self.db.staff().all().await?.is_empty() {
            return Ok(None);
        }
        match self
            .add(By::Cli, FIRST_ADMINISTRATOR, "Administrator", Role::Administrator)
            .await
        {
            Ok(x) => Ok(Some(x)),
            Err(Error::Invalid(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The member who signs in with `login`.
    pub async fn by_login(&self, login: &str) -> Result<StaffMember, Error> {
        self.db
            .staff()
            .by_login(&login.trim().to_lowercase())
            .await?
            .ok_or(Error::NotFound)
    }

    /// Member `id`, for the office.
    pub async fn member(&self, by: By<'_>, id: d::StaffId) -> Result<StaffMember, Error> {
        by.require(Permission::Staff)?;
        self.db.staff().get(id).await?.ok_or(Error::NotFound)
    }

    /// Every member, the disabled ones last, for the office.
    pub async fn members(&self, by: By<'_>) -> Result<Vec<StaffMember>, Error> {
        by.require(Permission::Staff)?;
        Ok(self.db.staff().all().await?)
    }

    /// Refuses a change to `target` that would lock the office out: a
    /// member changing their own standing in the console, or the last
    /// enabled administrator losing the role or being disabled.
    async fn check_standing(&self, by: By<'_>, target: &StaffMember, stays_admin: bool) -> Result<(), Error> {
        if by.member().is_some_and(|m| m.id == target.id) {
            return Err(Error::Conflict(d::Text::new("error-staff-self")));
        }
        if target.role == Role::Administrator
            && !target.disabled
            && !stays_admin
            && self.db.staff().count_enabled(Role::Administrator).await? <= 1
        {
            return Err(Error::Conflict(d::Text::new("error-staff-last-administrator")));
        }
        Ok(())
    }

    /// Gives a member a new generated password and forgets their second
    /// factor and sessions (a lost phone, a forgotten password;
    /// `kabinet staff reset`). Returns the password.
    pub async fn reset(&self, by: By<'_>, id: d::StaffId) -> Result<String, Error> {
        by.require(Permission::Staff)?;
        let m = self.db.staff().get(id).await?.ok_or(Error::NotFound)?;
        if by.member().is_some_and(|me| me.id == m.id) {
            return Err(Error::Conflict(d::Text::new("error-staff-self")));
        }
        let password = generated_password();
        let hash = self.hasher.hash(&password).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff()
            .set_password(m.id, &hash, true, Some(now + GENERATED_PASSWORD_VALID))
            .await?;
        tx.staff().clear_second_factor(m.id).await?;
        tx.staff().close_sessions(m.id).await?;
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::StaffChanged, format!("reset staff {}", m.login)),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(password)
    }

    /// Disables (or enables again) a member; a disabled member's sessions end.
    pub async fn set_disabled(&self, by: By<'_>, id: d::StaffId, disabled: bool) -> Result<(), Error> {
        by.require(Permission::Staff)?;
        let m = self.db.staff().get(id).await?.ok_or(Error::NotFound)?;
        self.check_standing(by, &m, !disabled).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff().set_disabled(m.id, disabled).await?;
        tx.staff().close_sessions(m.id).await?;
        let what = if disabled { "disabled" } else { "enabled" };
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::StaffChanged, format!("{what} staff {}", m.login)),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the e-mail a member's alerts go to (empty: none), audited.
    pub async fn set_email(&self, by: By<'_>, id: d::StaffId, text: &str) -> Result<(), Error> {
        by.require(Permission::Staff)?;
        let m = self.db.staff().get(id).await?.ok_or(Error::NotFound)?;
        let email = match text.trim() {
            "" => None,
            t => Some(
                d::EmailAddress::parse(t)
                    .map_err(|e| Error::Invalid(crate::FieldErrors::single("email", e)))?,
            ),
        };
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff().set_email(m.id, email.as_ref()).await?;
        let shown = |e: Option<&d::EmailAddress>| e.map_or_else(|| "none".to_string(), |e| e.masked());
        tx.audit()
            .record(
                &by.entry(
                    d::AuditEvent::StaffChanged,
                    format!(
                        "alert e-mail of staff {}: {} → {}",
                        m.login,
                        shown(m.email.as_ref()),
                        shown(email.as_ref())
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the buildings an operator or dispatcher works (one address a
    /// line, as the billing files give them; empty: every building).
    /// Audited with the list before and after.
    pub async fn set_buildings(&self, by: By<'_>, id: d::StaffId, text: &str) -> Result<(), Error> {
        by.require(Permission::Staff)?;
        let m = self.db.staff().get(id).await?.ok_or(Error::NotFound)?;
        let Some(buildings) = d::staff::parse_buildings(text) else {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "buildings",
                d::Text::new("error-staff-buildings"),
            )));
        };
        if !buildings.is_empty() && !matches!(m.role, Role::Operator | Role::Dispatcher) {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "buildings",
                d::Text::new("error-staff-buildings-role"),
            )));
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff().set_buildings(m.id, &buildings).await?;
        tx.audit()
            .record(
                &by.entry(
                    d::AuditEvent::StaffChanged,
                    format!(
                        "buildings of staff {}: [{}] → [{}]",
                        m.login,
                        m.buildings.join("; "),
                        buildings.join("; ")
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a member another role; their sessions end, so the new rights
    /// hold from their next sign-in.
    pub async fn set_role(&self, by: By<'_>, id: d::StaffId, role: Role) -> Result<(), Error> {
        by.require(Permission::Staff)?;
        let m = self.db.staff().get(id).await?.ok_or(Error::NotFound)?;
        if m.role == role {
            return Ok(());
        }
        self.check_standing(by, &m, role == Role::Administrator).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff().set_role(m.id, role).await?;
        tx.staff().close_sessions(m.id).await?;
        tx.audit()
            .record(
                &by.entry(
                    d::AuditEvent::StaffChanged,
                    format!(
                        "role of staff {}: {} → {}",
                        m.login,
                        m.role.as_str(),
                        role.as_str()
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every member who is not disabled (the assignment list, `kabinet staff list`).
    pub async fn active(&self) -> Result<Vec<StaffMember>, Error> {
        Ok(self.db.staff().active().await?)
    }

    /// The first factor: every failure is the same [`Error::InvalidCredentials`]
    /// and costs one Argon2id computation (an expired one-time password says
    /// so, once the password was right). Opens a session that can only take
    /// the second factor — ending `previous`, the session this browser had —
    /// and returns its secret for the cookie. A generated password works
    /// once: it is spent here.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        client: &Client,
        previous: Option<&StaffPrincipal>,
    ) -> Result<String, Error> {
        let result = self.check_sign_in(login, password, client, previous).await;
        if let Err(e) = &result {
            crate::ops::sign_in_failed(crate::ops::Who::Staff, e);
        }
        result
    }

    async fn check_sign_in(
        &self,
        login: &str,
        password: &str,
        client: &Client,
        previous: Option<&StaffPrincipal>,
    ) -> Result<String, Error> {
        use d::AuditEvent as E;
        let now = OffsetDateTime::now_utc();
        let login = login.trim().to_lowercase();
        let member = if login.is_empty() || login.len() > 64 {
            None
        } else {
            self.db.staff().by_login(&login).await?
        };
        let Some(m) = member else {
            self.hasher.waste().await;
            let short: String = login.chars().take(40).collect();
            self.db
                .audit()
                .record(
                    &staff_entry(client, E::StaffSignInFailed, &short, "unknown login"),
                    now,
                )
                .await?;
            return Err(Error::InvalidCredentials);
        };
        let from_here = self.db.staff().failures_from(m.id, &client.ip).await?;
        if m.disabled || self.settings.throttle.blocked_until(&from_here, now).is_some() {
            self.hasher.waste().await;
            let why = if m.disabled {
                "disabled"
            } else {
                "too many failed attempts"
            };
            self.db
                .audit()
                .record(&staff_entry(client, E::StaffSignInFailed, &m.login, why), now)
                .await?;
            return Err(Error::InvalidCredentials);
        }
        if m.password_hash.is_empty() {
            // A one-time password that was used: nothing works until reset.
            self.hasher.waste().await;
            self.count_failure(&m, client, "one-time password used already", now)
                .await?;
            return Err(Error::InvalidCredentials);
        }
        if !self.hasher.verify(&m.password_hash, password).await? {
            self.count_failure(&m, client, "wrong password", now).await?;
            return Err(Error::InvalidCredentials);
        }
        if m.password_generated && m.password_expires_at.is_none_or(|e| e <= now) {
            self.db
                .audit()
                .record(
                    &staff_entry(
                        client,
                        E::StaffSignInFailed,
                        &m.login,
                        "one-time password expired",
                    ),
                    now,
                )
                .await?;
            return Err(Error::StaffPasswordExpired);
        }
        self.open_first_stage(&m, client, previous, now).await
    }

    /// The password passed: a session at the second factor (ending the one
    /// this browser had), a generated password spent, the step audited.
    async fn open_first_stage(
        &self,
        m: &StaffMember,
        client: &Client,
        previous: Option<&StaffPrincipal>,
        now: OffsetDateTime,
    ) -> Result<String, Error> {
        let token = new_token();
        let tx = self.db.begin().await?;
        if let Some(p) = previous {
            tx.staff().close_session(p.session.id).await?;
        }
        if m.password_generated {
            tx.staff().spend_password(m.id).await?;
        }
        tx.staff()
            .open_session(&NewStaffSession {
                token_hash: token_hash(&token),
                staff_id: m.id,
                stage: StaffStage::SecondFactor,
                now,
                expires_at: now + self.settings.absolute,
                ip: client.ip.clone(),
                user_agent: client.user_agent.clone(),
            })
            .await?;
        let entry = staff_entry(client, d::AuditEvent::StaffPassword, &m.login, "");
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn count_failure(
        &self,
        m: &StaffMember,
        client: &Client,
        why: &str,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let tx = self.db.begin().await?;
        let Some(locked) = tx.staff().lock(m.id).await? else {
            return Err(Error::NotFound);
        };
        // The member's own count is kept for the record; what delays the
        // next attempt is the count from this address.
        let failures = locked.failures.after_event(now, self.settings.throttle.window);
        tx.staff().store_failures(m.id, failures).await?;
        let here = tx.staff().lock_failures_from(m.id, &client.ip).await?;
        tx.staff()
            .store_failures_from(
                m.id,
                &client.ip,
                here.after_event(now, self.settings.throttle.window),
            )
            .await?;
        tx.audit()
            .record(
                &staff_entry(client, d::AuditEvent::StaffSignInFailed, &m.login, why),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal behind a staff cookie, if its session is alive (not past
    /// its end, not idle too long, its member not disabled). `activity`:
    /// whether the request is the member's own (a page reloading itself is
    /// not, and does not keep the session from its idle end).
    pub async fn authenticate(&self, token: &str, activity: bool) -> Result<Option<StaffPrincipal>, Error> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some((session, member)) = self.db.staff().session(&hash).await? else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        if session.expires_at <= now || now - session.last_seen_at >= self.settings.idle || member.disabled {
            self.db.staff().close_session(session.id).await?;
            return Ok(None);
        }
        // Best effort, as for residents' sessions (see `Auth::authenticate`).
        if activity
            && now - session.last_seen_at >= Duration::minutes(1)
            && let Err(e) = self.db.staff().touch(session.id, now).await
        {
            tracing::warn!(error = %e, "staff session not touched");
        }
        Ok(Some(StaffPrincipal {
            session,
            member,
            token_hash: hash,
        }))
    }

    /// The enrolment a member without a second factor sees: a secret
    /// generated anew for each enrolment (each sign-in session that reaches
    /// it; reloading the page keeps it, so a scanned code stays right), kept
    /// sealed on the session and given to the member only once a code proves
    /// it.
    pub async fn enrolment(&self, p: &StaffPrincipal) -> Result<Enrolment, Error> {
        if p.session.stage != StaffStage::SecondFactor || p.member.totp_enabled {
            return Err(Error::Forbidden);
        }
        let owner = session_owner(p.session.id);
        let secret = match &p.session.pending_secret {
            Some(sealed) => self.secrets.open(&owner, sealed)?,
            None => {
                let s = match Secret::Raw(random_bytes::<20>().to_vec()).to_encoded() {
                    Secret::Encoded(s) => s,
                    Secret::Raw(_) => return Err(Error::Internal("TOTP secret encoding".into())),
                };
                let sealed = self.secrets.seal(&owner, &s)?;
                self.db.staff().set_pending_secret(p.session.id, &sealed).await?;
                s
            }
        };
        let label = format!("{}:{}", uri_part(&self.issuer), uri_part(&p.member.login));
        Ok(Enrolment {
            uri: format!(
                "otpauth://totp/{label}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
                uri_part(&self.issuer)
            ),
            secret,
        })
    }

    /// Takes a TOTP code, or a recovery code once the factor is enrolled.
    /// Confirming enrolment returns the ten recovery codes (shown once).
    /// Every failure is [`Error::InvalidCode`] and counts as a failed sign-in.
    pub async fn second_factor(
        &self,
        p: &StaffPrincipal,
        code: &str,
        client: &Client,
    ) -> Result<Passed, Error> {
        let now = OffsetDateTime::now_utc();
        if p.session.stage != StaffStage::SecondFactor {
            return Err(Error::Forbidden);
        }
        let m = self.db.staff().get(p.member.id).await?.ok_or(Error::NotFound)?;
        let from_here = self.db.staff().failures_from(m.id, &client.ip).await?;
        if self.settings.throttle.blocked_until(&from_here, now).is_some() {
            self.count_failure(&m, client, "too many failed attempts", now)
                .await?;
            return Err(Error::InvalidCode);
        }
        let enrolling = !m.totp_enabled;
        // Enrolment checks the secret this session's page showed; a member
        // with a factor, the one stored (sealed).
        let secret = if enrolling {
            let Some(pending) = p.session.pending_secret.as_deref() else {
                return Err(Error::Forbidden);
            };
            self.secrets.open(&session_owner(p.session.id), pending)?
        } else {
            let Some(stored) = m.totp_secret.as_deref() else {
                return Err(Error::Forbidden);
            };
            self.secrets.open(&staff_owner(m.id), stored)?
        };
        let Some(factor) = self.check_code(&m, &secret, code, enrolling, now).await? else {
            self.count_failure(&m, client, "wrong second factor", now).await?;
            return Err(Error::InvalidCode);
        };
        self.pass(p, &m, &secret, factor, client, now).await
    }

    /// Which factor `code` proves — a TOTP code of a step not used yet, or
    /// an unused recovery code (spent now) once enrolled — or `None`.
    async fn check_code(
        &self,
        m: &StaffMember,
        secret: &str,
        code: &str,
        enrolling: bool,
        now: OffsetDateTime,
    ) -> Result<Option<Factor>, Error> {
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
            let t = totp(secret)?;
            let unix = now.unix_timestamp();
            for step in d::staff::totp_candidate_steps(d::staff::totp_step(unix), m.totp_last_step) {
                let at = u64::try_from(step * 30).unwrap_or(0);
                if subtle_eq(&t.generate(at), &digits) {
                    if enrolling {
                        return Ok(Some(Factor::Enrolled(step)));
                    }
                    let fresh = self.db.staff().take_step(m.id, step, false).await?;
                    return Ok(fresh.then_some(Factor::Totp));
                }
            }
            return Ok(None);
        }
        let recovered = !enrolling
            && code.len() <= 32
            && self
                .db
                .staff()
                .use_code(m.id, &code_hash(m.id, code), now)
                .await?;
        Ok(recovered.then_some(Factor::RecoveryCode))
    }

    /// Both factors passed: finishes enrolment (with new recovery codes),
    /// seals an older plain secret, replaces the session, clears the
    /// failure counts and records the sign-in, in one transaction.
    async fn pass(
        &self,
        p: &StaffPrincipal,
        m: &StaffMember,
        secret: &str,
        factor: Factor,
        client: &Client,
        now: OffsetDateTime,
    ) -> Result<Passed, Error> {
        let stage = if m.password_generated {
            StaffStage::SetPassword
        } else {
            StaffStage::Ready
        };
        let sealed = self.secrets.seal(&staff_owner(m.id), secret)?;
        let mut codes = Vec::new();
        let tx = self.db.begin().await?;
        if let Factor::Enrolled(step) = factor {
            if !tx.staff().enrol(m.id, &sealed, step).await? {
                // Another browser finished enrolment first.
                return Err(Error::InvalidCode);
            }
            codes = (0..RECOVERY_CODES).map(|_| generated_password()).collect();
            let hashes: Vec<String> = codes.iter().map(|c| code_hash(m.id, c)).collect();
            tx.staff().replace_codes(m.id, &hashes).await?;
            let entry = staff_entry(client, d::AuditEvent::StaffEnrolled, &m.login, "");
            tx.audit().record(&entry, now).await?;
        } else if m.totp_secret.as_deref().is_some_and(|s| !SecretBox::is_sealed(s)) {
            // An older install's plain secret is sealed at its first use.
            tx.staff().seal_secret(m.id, &sealed).await?;
        }
        // A new session id once both factors passed: whatever saw the old
        // cookie gets nothing from it.
        let token = new_token();
        tx.staff().close_session(p.session.id).await?;
        tx.staff()
            .open_session(&NewStaffSession {
                token_hash: token_hash(&token),
                staff_id: m.id,
                stage,
                now,
                expires_at: p.session.expires_at,
                ip: client.ip.clone(),
                user_agent: client.user_agent.clone(),
            })
            .await?;
        tx.staff().store_failures(m.id, d::Counter::default()).await?;
        tx.staff()
            .store_failures_from(m.id, &client.ip, d::Counter::default())
            .await?;
        let how = match factor {
            Factor::RecoveryCode => "recovery code",
            Factor::Totp | Factor::Enrolled(_) => "totp",
        };
        let entry = staff_entry(client, d::AuditEvent::StaffSignIn, &m.login, how);
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        Ok(Passed {
            stage,
            token,
            recovery_codes: codes,
        })
    }

    /// Replaces a generated password with the member's own.
    pub async fn set_password(
        &self,
        p: &StaffPrincipal,
        password: &str,
        again: &str,
        client: &Client,
    ) -> Result<(), Error> {
        if p.session.stage != StaffStage::SetPassword {
            return Err(Error::Forbidden);
        }
        let new =
            d::NewPassword::parse_confirmed(password, again, &[p.member.login.as_str()]).map_err(|e| {
                let field = if e == d::PasswordError::Mismatch {
                    "password_again"
                } else {
                    "password"
                };
                Error::Invalid(crate::FieldErrors::single(field, e))
            })?;
        let hash = self.hasher.hash(new.expose()).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff().set_password(p.member.id, &hash, false, None).await?;
        tx.staff().set_stage(p.session.id, StaffStage::Ready).await?;
        tx.audit()
            .record(
                &staff_entry(client, d::AuditEvent::StaffPasswordSet, &p.member.login, ""),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the session.
    pub async fn sign_out(&self, p: &StaffPrincipal, client: &Client) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.staff().close_session(p.session.id).await?;
        tx.audit()
            .record(
                &staff_entry(client, d::AuditEvent::StaffSignOut, &p.member.login, ""),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many recovery codes the member has left.
    pub async fn codes_left(&self, member: d::StaffId) -> Result<i64, Error> {
        Ok(self.db.staff().codes_left(member).await?)
    }
}

fn subtle_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vector() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", T = 59.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => String::new(),
        };
        assert_eq!(totp_code(&secret, 59).ok().as_deref(), Some("287082"));
        assert_eq!(totp_code(&secret, 1_111_111_109).ok().as_deref(), Some("081804"));
    }

    #[test]
    fn recovery_codes_compare_without_case_or_dashes() {
        let (a, b) = (d::StaffId(7), d::StaffId(8));
        assert_eq!(code_hash(a, "abcd-efgh-jkmn"), code_hash(a, "ABCDEFGHJKMN"));
        assert_ne!(code_hash(a, "abcd-efgh-jkmn"), code_hash(b, "abcd-efgh-jkmn"));
    }
}

/// The second factor a code proved.
#[derive(Debug, Clone, Copy)]
enum Factor {
    /// A TOTP code confirming enrolment, at this step.
    Enrolled(i64),
    /// A TOTP code of an enrolled member.
    Totp,
    /// A recovery code (now spent).
    RecoveryCode,
}
