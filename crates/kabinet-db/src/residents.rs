//! Residents' users and everything about signing in: sessions, password-reset
//! tokens, Rules versions and acceptances, passport hashes. Every change that
//! must be audited or mailed writes its audit line and outbox message in the
//! same transaction.

use crate::audit::insert_audit;
use crate::convert::corrupt;
use crate::entities::{acceptance, account, account_secret, password_reset, rules_version, session, user};
use crate::outbox::insert_email;
use crate::{Db, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    SqlErr, TransactionTrait,
};
use time::{Duration, OffsetDateTime};

/// A new resident's user, created at registration.
#[derive(Debug, Clone)]
pub struct NewResident {
    /// The account it signs in to.
    pub account_id: d::AccountId,
    /// Where messages go.
    pub email: d::EmailAddress,
    /// Argon2id hash of the generated password.
    pub password_hash: String,
    /// When the generated password stops working.
    pub password_expires_at: OffsetDateTime,
    /// The Rules version accepted on the form (0 when none is published).
    pub rules_version: i32,
    /// Client address.
    pub ip: String,
    /// Client's User-Agent.
    pub user_agent: String,
    /// Now.
    pub now: OffsetDateTime,
}

/// What registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// The user was created and its password queued for mailing.
    Created(d::UserId),
    /// The account already has a user; nothing was written.
    AlreadyExists,
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the session's secret, hex.
    pub token_hash: String,
    /// Whose.
    pub user_id: d::UserId,
    /// Browser or app.
    pub kind: d::SessionKind,
    /// Opened with a one-time password: only setting a password is allowed.
    pub restricted: bool,
    /// Now.
    pub now: OffsetDateTime,
    /// Absolute end.
    pub expires_at: OffsetDateTime,
    /// Client address.
    pub ip: String,
    /// Client's User-Agent.
    pub user_agent: String,
}

fn to_user(u: user::Model, a: account::Model) -> Result<d::ResidentUser, DbError> {
    Ok(d::ResidentUser {
        id: d::UserId(u.id),
        account_id: d::AccountId(u.account_id),
        account_number: d::AccountNumber::parse(&a.number)
            .map_err(|_| corrupt("accounts", "number", &a.number))?,
        email: d::EmailAddress::parse(&u.email).map_err(|_| corrupt("users", "email", &u.email))?,
        password_hash: u.password_hash,
        password_generated: u.password_generated,
        password_expires_at: u.password_expires_at,
        blocked: u.blocked,
        rules_version: u.rules_version,
        failed_count: u.failed_count,
        failed_window_start: u.failed_window_start,
        last_failed_at: u.last_failed_at,
    })
}

fn to_session(s: session::Model) -> Result<d::Session, DbError> {
    Ok(d::Session {
        id: s.id,
        user_id: d::UserId(s.user_id),
        kind: d::SessionKind::from_stored(&s.kind).ok_or_else(|| corrupt("sessions", "kind", &s.kind))?,
        restricted: s.restricted,
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
    })
}

fn to_rules(r: rules_version::Model) -> d::RulesVersion {
    d::RulesVersion {
        version: r.version,
        title: r.title,
        body: r.body,
        published_at: r.published_at,
    }
}

async fn user_with_account<C: ConnectionTrait>(c: &C, u: user::Model) -> Result<d::ResidentUser, DbError> {
    let a = account::Entity::find_by_id(u.account_id)
        .one(c)
        .await?
        .ok_or(DbError::NotFound)?;
    to_user(u, a)
}

async fn insert_acceptance<C: ConnectionTrait>(
    c: &C,
    user_id: d::UserId,
    kind: &str,
    version: i32,
    now: OffsetDateTime,
    ip: &str,
    user_agent: &str,
) -> Result<(), DbError> {
    acceptance::ActiveModel {
        user_id: Set(user_id.0),
        kind: Set(kind.to_string()),
        version: Set(version),
        accepted_at: Set(now),
        ip: Set(ip.to_string()),
        user_agent: Set(user_agent.to_string()),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(())
}

impl Db {
    /// The user of the account with this number, if it has one.
    pub async fn user_by_account_number(
        &self,
        number: &d::AccountNumber,
    ) -> Result<Option<d::ResidentUser>, DbError> {
        let Some(a) = account::Entity::find()
            .filter(account::Column::Number.eq(number.as_str()))
            .one(self.conn())
            .await?
        else {
            return Ok(None);
        };
        let Some(u) = user::Entity::find()
            .filter(user::Column::AccountId.eq(a.id))
            .one(self.conn())
            .await?
        else {
            return Ok(None);
        };
        to_user(u, a).map(Some)
    }

    /// A user by id.
    pub async fn user(&self, id: d::UserId) -> Result<Option<d::ResidentUser>, DbError> {
        match user::Entity::find_by_id(id.0).one(self.conn()).await? {
            Some(u) => user_with_account(self.conn(), u).await.map(Some),
            None => Ok(None),
        }
    }

    /// Creates a resident's user with a generated password, records the Rules
    /// acceptance and the consent to informational messages, writes the audit
    /// line and queues the e-mail with the password — all or nothing. Nothing is
    /// written when the account already has a user (also when another request
    /// creates it at the same moment).
    pub async fn create_resident(
        &self,
        new: &NewResident,
        audit: &d::AuditEntry,
        email: &d::Email,
    ) -> Result<Registered, DbError> {
        let tx = self.write_tx().await?;
        let exists = user::Entity::find()
            .filter(user::Column::AccountId.eq(new.account_id.0))
            .one(&tx)
            .await?
            .is_some();
        if exists {
            return Ok(Registered::AlreadyExists);
        }
        let inserted = user::ActiveModel {
            account_id: Set(new.account_id.0),
            email: Set(new.email.as_str().to_string()),
            password_hash: Set(new.password_hash.clone()),
            password_generated: Set(true),
            password_expires_at: Set(Some(new.password_expires_at)),
            blocked: Set(false),
            rules_version: Set(new.rules_version),
            failed_count: Set(0),
            failed_window_start: Set(None),
            last_failed_at: Set(None),
            created_at: Set(new.now),
            password_changed_at: Set(new.now),
            ..Default::default()
        }
        .insert(&tx)
        .await;
        let user_id = match inserted {
            Ok(m) => d::UserId(m.id),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Ok(Registered::AlreadyExists);
            }
            Err(e) => return Err(e.into()),
        };
        if new.rules_version > 0 {
            insert_acceptance(
                &tx,
                user_id,
                "rules",
                new.rules_version,
                new.now,
                &new.ip,
                &new.user_agent,
            )
            .await?;
        }
        insert_acceptance(
            &tx,
            user_id,
            "consent",
            new.rules_version,
            new.now,
            &new.ip,
            &new.user_agent,
        )
        .await?;
        let audit = d::AuditEntry {
            user_id: Some(user_id),
            ..audit.clone()
        };
        insert_audit(&tx, &audit, new.now).await?;
        insert_email(&tx, email, new.now).await?;
        tx.commit().await?;
        Ok(Registered::Created(user_id))
    }

    /// Counts one failed sign-in of `user` in the current window of
    /// `window` length (a new window starts when the old one is over).
    pub async fn record_sign_in_failure(
        &self,
        user: d::UserId,
        now: OffsetDateTime,
        window: Duration,
        audit: &d::AuditEntry,
    ) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        let mut q = user::Entity::find_by_id(user.0);
        if self.backend() == crate::Backend::Postgres {
            q = q.lock_exclusive();
        }
        let Some(u) = q.one(&tx).await? else {
            return Err(DbError::NotFound);
        };
        let fresh = u.failed_window_start.is_none_or(|s| now - s >= window);
        let mut m: user::ActiveModel = u.clone().into();
        if fresh {
            m.failed_count = Set(1);
            m.failed_window_start = Set(Some(now));
        } else {
            m.failed_count = Set(u.failed_count.saturating_add(1));
        }
        m.last_failed_at = Set(Some(now));
        m.update(&tx).await?;
        insert_audit(&tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session after a successful sign-in: clears the failure count,
    /// makes a one-time password unusable when `consume_password` is set, and
    /// writes the audit line.
    pub async fn open_session(
        &self,
        new: &NewSession,
        consume_password: bool,
        audit: &d::AuditEntry,
    ) -> Result<d::Session, DbError> {
        let tx = self.write_tx().await?;
        let mut update = user::Entity::update_many()
            .col_expr(user::Column::FailedCount, Expr::value(0))
            .col_expr(
                user::Column::FailedWindowStart,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .filter(user::Column::Id.eq(new.user_id.0));
        if consume_password {
            update = update.col_expr(user::Column::PasswordHash, Expr::value(""));
        }
        update.exec(&tx).await?;
        let s = session::ActiveModel {
            token_hash: Set(new.token_hash.clone()),
            user_id: Set(new.user_id.0),
            kind: Set(new.kind.as_str().to_string()),
            restricted: Set(new.restricted),
            created_at: Set(new.now),
            last_seen_at: Set(new.now),
            expires_at: Set(new.expires_at),
            ip: Set(new.ip.clone()),
            user_agent: Set(new.user_agent.clone()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        insert_audit(&tx, audit, new.now).await?;
        tx.commit().await?;
        to_session(s)
    }

    /// The session with this token hash and its user, if both exist.
    pub async fn session_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(d::Session, d::ResidentUser)>, DbError> {
        let Some(s) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash))
            .one(self.conn())
            .await?
        else {
            return Ok(None);
        };
        let Some(u) = user::Entity::find_by_id(s.user_id).one(self.conn()).await? else {
            return Ok(None);
        };
        Ok(Some((to_session(s)?, user_with_account(self.conn(), u).await?)))
    }

    /// Notes activity on a session (for the idle timeout).
    pub async fn touch_session(&self, id: i64, now: OffsetDateTime) -> Result<(), DbError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(id))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// Ends one session (sign-out, token revocation, timeout) with an optional
    /// audit line.
    pub async fn close_session(
        &self,
        id: i64,
        audit: Option<&d::AuditEntry>,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        session::Entity::delete_many()
            .filter(session::Column::Id.eq(id))
            .exec(&tx)
            .await?;
        if let Some(a) = audit {
            insert_audit(&tx, a, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes sessions past their absolute end or idle since `idle_before`
    /// (browser sessions only); returns how many.
    pub async fn sweep_sessions(
        &self,
        now: OffsetDateTime,
        idle_before: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let r = session::Entity::delete_many()
            .filter(
                session::Column::ExpiresAt.lte(now).or(session::Column::Kind
                    .eq(d::SessionKind::Web.as_str())
                    .and(session::Column::LastSeenAt.lt(idle_before))),
            )
            .exec(self.conn())
            .await?;
        Ok(r.rows_affected)
    }

    /// Sets a user's own password: clears the one-time state and the failure
    /// count, ends every other session (keeping `keep`, now unrestricted),
    /// writes the audit line and queues the `notice` e-mail, if any.
    pub async fn set_password(
        &self,
        user: d::UserId,
        password_hash: &str,
        keep: Option<i64>,
        audit: &d::AuditEntry,
        notice: Option<&d::Email>,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        set_password_in(&tx, user, password_hash, keep, now).await?;
        insert_audit(&tx, audit, now).await?;
        if let Some(mail) = notice {
            insert_email(&tx, mail, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user a reset token belongs to, if it is unused and not expired.
    pub async fn password_reset_user(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<d::ResidentUser>, DbError> {
        let Some(r) = password_reset::Entity::find()
            .filter(password_reset::Column::TokenHash.eq(token_hash))
            .filter(password_reset::Column::UsedAt.is_null())
            .filter(password_reset::Column::ExpiresAt.gt(now))
            .one(self.conn())
            .await?
        else {
            return Ok(None);
        };
        self.user(d::UserId(r.user_id)).await
    }

    /// Uses a reset token: sets the new password, ends every session of the
    /// user and writes the audit line. `None` (and nothing changed) when the
    /// token is unknown, used or expired — also when two requests race.
    pub async fn complete_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        audit: &d::AuditEntry,
        now: OffsetDateTime,
    ) -> Result<Option<d::UserId>, DbError> {
        let tx = self.write_tx().await?;
        let Some(r) = password_reset::Entity::find()
            .filter(password_reset::Column::TokenHash.eq(token_hash))
            .one(&tx)
            .await?
        else {
            return Ok(None);
        };
        // Claim the token; a concurrent use finds it taken.
        let claimed = password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now)))
            .filter(password_reset::Column::Id.eq(r.id))
            .filter(password_reset::Column::UsedAt.is_null())
            .filter(password_reset::Column::ExpiresAt.gt(now))
            .exec(&tx)
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(None);
        }
        let user = d::UserId(r.user_id);
        set_password_in(&tx, user, password_hash, None, now).await?;
        let audit = d::AuditEntry {
            user_id: Some(user),
            ..audit.clone()
        };
        insert_audit(&tx, &audit, now).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    /// The Rules version in force (the newest), if any was published.
    pub async fn current_rules(&self) -> Result<Option<d::RulesVersion>, DbError> {
        Ok(rules_version::Entity::find()
            .order_by_desc(rules_version::Column::Version)
            .one(self.conn())
            .await?
            .map(to_rules))
    }

    /// Every published Rules version, newest first.
    pub async fn rules_versions(&self) -> Result<Vec<d::RulesVersion>, DbError> {
        Ok(rules_version::Entity::find()
            .order_by_desc(rules_version::Column::Version)
            .all(self.conn())
            .await?
            .into_iter()
            .map(to_rules)
            .collect())
    }

    /// One Rules version.
    pub async fn rules(&self, version: i32) -> Result<Option<d::RulesVersion>, DbError> {
        Ok(rules_version::Entity::find()
            .filter(rules_version::Column::Version.eq(version))
            .one(self.conn())
            .await?
            .map(to_rules))
    }

    /// Publishes a new Rules version (the next number); returns it. Residents
    /// who accepted an older one are asked to accept it at their next request.
    pub async fn publish_rules(
        &self,
        title: &str,
        body: &str,
        audit: &d::AuditEntry,
        now: OffsetDateTime,
    ) -> Result<i32, DbError> {
        let tx = self.write_tx().await?;
        let last = rules_version::Entity::find()
            .order_by_desc(rules_version::Column::Version)
            .one(&tx)
            .await?
            .map_or(0, |r| r.version);
        let version = last + 1;
        rules_version::ActiveModel {
            version: Set(version),
            title: Set(title.to_string()),
            body: Set(body.to_string()),
            published_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let audit = d::AuditEntry {
            details: format!("version {version}"),
            ..audit.clone()
        };
        insert_audit(&tx, &audit, now).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Records that `user` accepted Rules `version`, with the audit line.
    pub async fn accept_rules(
        &self,
        user: d::UserId,
        version: i32,
        audit: &d::AuditEntry,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        user::Entity::update_many()
            .col_expr(user::Column::RulesVersion, Expr::value(version))
            .filter(user::Column::Id.eq(user.0))
            .exec(&tx)
            .await?;
        insert_acceptance(&tx, user, "rules", version, now, &audit.ip, &audit.user_agent).await?;
        insert_audit(&tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Acceptances and consents a user gave: (kind, version, when, ip), oldest first.
    pub async fn acceptances(
        &self,
        user: d::UserId,
    ) -> Result<Vec<(String, i32, OffsetDateTime, String)>, DbError> {
        Ok(acceptance::Entity::find()
            .filter(acceptance::Column::UserId.eq(user.0))
            .order_by_asc(acceptance::Column::Id)
            .all(self.conn())
            .await?
            .into_iter()
            .map(|a| (a.kind, a.version, a.accepted_at, a.ip))
            .collect())
    }

    /// Stores (or replaces) keyed hashes of account holders' passports, all in
    /// one transaction.
    pub async fn set_passport_hashes(&self, rows: &[(d::AccountId, String)]) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        for (account, hash) in rows {
            account_secret::Entity::insert(account_secret::ActiveModel {
                account_id: Set(account.0),
                passport_hash: Set(hash.clone()),
            })
            .on_conflict(
                OnConflict::column(account_secret::Column::AccountId)
                    .update_column(account_secret::Column::PassportHash)
                    .to_owned(),
            )
            .exec(&tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The keyed hash of the account holder's passport, if the billing system
    /// supplied one.
    pub async fn passport_hash(&self, account: d::AccountId) -> Result<Option<String>, DbError> {
        Ok(account_secret::Entity::find_by_id(account.0)
            .one(self.conn())
            .await?
            .map(|s| s.passport_hash))
    }
}

async fn set_password_in<C: ConnectionTrait + TransactionTrait>(
    c: &C,
    user: d::UserId,
    password_hash: &str,
    keep: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::PasswordGenerated, Expr::value(false))
        .col_expr(
            user::Column::PasswordExpiresAt,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(user::Column::FailedCount, Expr::value(0))
        .col_expr(
            user::Column::FailedWindowStart,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .filter(user::Column::Id.eq(user.0))
        .exec(c)
        .await?;
    let mut others = session::Entity::delete_many().filter(session::Column::UserId.eq(user.0));
    if let Some(id) = keep {
        others = others.filter(session::Column::Id.ne(id));
        session::Entity::update_many()
            .col_expr(session::Column::Restricted, Expr::value(false))
            .filter(session::Column::Id.eq(id))
            .exec(c)
            .await?;
    }
    others.exec(c).await?;
    Ok(())
}
