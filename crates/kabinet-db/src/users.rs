//! Residents' users: the sign-in of a personal account, its password, failed
//! sign-ins, the Rules version accepted and the consents given.

use crate::convert::corrupt;
use crate::entities::{acceptance, account, user};
use crate::{Backend, Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use time::OffsetDateTime;

/// A new resident's user, created at registration.
#[derive(Debug, Clone)]
pub struct NewUser {
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
    /// The consent version given on the form (0 when none is published).
    pub consent_version: i32,
    /// Now.
    pub now: OffsetDateTime,
}

/// Something a resident accepted or consented to, with where from.
#[derive(Debug, Clone)]
pub struct Acceptance<'a> {
    /// `rules`, `personal_data` (see [`d::Document::acceptance_kind`]) or
    /// `consent` (to informational messages).
    pub kind: &'static str,
    /// The version of the document (for `consent`, of the Rules) it was
    /// given under.
    pub version: i32,
    /// Client address.
    pub ip: &'a str,
    /// Client's User-Agent.
    pub user_agent: &'a str,
}

/// A user row with its account's number.
pub(crate) fn to_user(u: user::Model, account_number: &str) -> Result<d::ResidentUser, DbError> {
    Ok(d::ResidentUser {
        id: d::UserId(u.id),
        account_id: d::AccountId(u.account_id),
        account_number: d::AccountNumber::parse(account_number)
            .map_err(|_| corrupt("accounts", "number", account_number))?,
        email: d::EmailAddress::parse(&u.email).map_err(|_| corrupt("users", "email", &u.email))?,
        password_hash: u.password_hash,
        password_generated: u.password_generated,
        password_expires_at: u.password_expires_at,
        blocked: u.blocked,
        rules_version: u.rules_version,
        consent_version: u.consent_version,
        failed_count: u.failed_count,
        failed_window_start: u.failed_window_start,
        last_failed_at: u.last_failed_at,
        language: u.language.as_deref().and_then(d::Language::from_tag),
        email_notifications: d::Preferences::notifications_from_stored(&u.notifications),
        sms_notifications: d::Preferences::notifications_from_stored(&u.sms_notifications),
        sms_phone: verified_phone(u.phone.as_deref(), u.phone_verified.as_deref()),
        max_notifications: d::Preferences::notifications_from_stored(&u.max_notifications),
        max_user: u.max_user,
    })
}

/// The phone SMS may go to: the resident's phone when a code confirmed it.
fn verified_phone(phone: Option<&str>, verified: Option<&str>) -> Option<d::Phone> {
    match (phone, verified) {
        (Some(p), Some(v)) if p == v => d::Preferences::phone_from_stored(Some(p)),
        _ => None,
    }
}

/// Residents' users (see [`crate::Repos::users`]).
pub struct Users<'a, C>(pub(crate) &'a C);

impl<C: Conn> Users<'_, C> {
    async fn with_account(&self, u: user::Model) -> Result<d::ResidentUser, DbError> {
        let a = account::Entity::find_by_id(u.account_id)
            .one(self.0.conn())
            .await?
            .ok_or(DbError::NotFound)?;
        to_user(u, &a.number)
    }

    /// The user of the account with this number, if it has one.
    pub async fn by_account_number(
        &self,
        number: &d::AccountNumber,
    ) -> Result<Option<d::ResidentUser>, DbError> {
        let Some(a) = account::Entity::find()
            .filter(account::Column::Number.eq(number.as_str()))
            .one(self.0.conn())
            .await?
        else {
            return Ok(None);
        };
        let Some(u) = user::Entity::find()
            .filter(user::Column::AccountId.eq(a.id))
            .one(self.0.conn())
            .await?
        else {
            return Ok(None);
        };
        to_user(u, &a.number).map(Some)
    }

    /// The user of `account`, if it has one (one query: the account is known).
    pub async fn of_account(&self, account: &d::Account) -> Result<Option<d::ResidentUser>, DbError> {
        user::Entity::find()
            .filter(user::Column::AccountId.eq(account.id.0))
            .one(self.0.conn())
            .await?
            .map(|u| to_user(u, account.number.as_str()))
            .transpose()
    }

    /// A user by id.
    pub async fn by_id(&self, id: d::UserId) -> Result<Option<d::ResidentUser>, DbError> {
        match user::Entity::find_by_id(id.0).one(self.0.conn()).await? {
            Some(u) => self.with_account(u).await.map(Some),
            None => Ok(None),
        }
    }

    /// A user by id with its row held until the transaction ends (on
    /// PostgreSQL; a SQLite write transaction holds the whole database).
    pub async fn lock(&self, id: d::UserId) -> Result<Option<d::ResidentUser>, DbError> {
        let mut q = user::Entity::find_by_id(id.0);
        if self.0.backend() == Backend::Postgres {
            q = q.lock_exclusive();
        }
        match q.one(self.0.conn()).await? {
            Some(u) => self.with_account(u).await.map(Some),
            None => Ok(None),
        }
    }

    /// Creates a user with a generated password; `None` when the account
    /// already has one (also when another request created it a moment ago:
    /// the unique index decides).
    pub async fn insert(&self, new: &NewUser) -> Result<Option<d::UserId>, DbError> {
        let inserted = user::ActiveModel {
            account_id: Set(new.account_id.0),
            email: Set(new.email.as_str().to_string()),
            password_hash: Set(new.password_hash.clone()),
            password_generated: Set(true),
            password_expires_at: Set(Some(new.password_expires_at)),
            blocked: Set(false),
            rules_version: Set(new.rules_version),
            consent_version: Set(new.consent_version),
            failed_count: Set(0),
            failed_window_start: Set(None),
            last_failed_at: Set(None),
            created_at: Set(new.now),
            password_changed_at: Set(new.now),
            phone: Set(None),
            language: Set(None),
            paperless: Set(false),
            notifications: Set(d::Preferences::default().notifications_stored()),
            sms_notifications: Set(String::new()),
            phone_verified: Set(None),
            max_user: Set(None),
            max_notifications: Set(String::new()),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await;
        match inserted {
            Ok(m) => {
                crate::links::link(
                    self.0,
                    d::UserId(m.id),
                    new.account_id,
                    d::LinkedBy::Registration,
                    new.now,
                )
                .await?;
                Ok(Some(d::UserId(m.id)))
            }
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the user's failed sign-ins.
    pub async fn store_failures(&self, id: d::UserId, c: d::Counter) -> Result<(), DbError> {
        user::Entity::update_many()
            .col_expr(user::Column::FailedCount, Expr::value(c.count))
            .col_expr(user::Column::FailedWindowStart, Expr::value(c.window_start))
            .col_expr(user::Column::LastFailedAt, Expr::value(c.last_at))
            .filter(user::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// After a successful sign-in: clears the failure count and, when the
    /// password was a one-time one, makes it unusable.
    pub async fn signed_in(&self, id: d::UserId, consume_password: bool) -> Result<(), DbError> {
        let mut update = user::Entity::update_many()
            .col_expr(user::Column::FailedCount, Expr::value(0))
            .col_expr(
                user::Column::FailedWindowStart,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .filter(user::Column::Id.eq(id.0));
        if consume_password {
            update = update.col_expr(user::Column::PasswordHash, Expr::value(""));
        }
        update.exec(self.0.conn()).await?;
        Ok(())
    }

    /// Sets the user's own password: the one-time state and the failure count
    /// are cleared. (Ending sessions is the sessions' business.)
    pub async fn set_password(&self, id: d::UserId, hash: &str, now: OffsetDateTime) -> Result<(), DbError> {
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
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
            .filter(user::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// The user's settings.
    pub async fn preferences(&self, id: d::UserId) -> Result<Option<d::Preferences>, DbError> {
        let row = user::Entity::find_by_id(id.0).one(self.0.conn()).await?;
        Ok(row.map(|u| d::Preferences {
            phone: d::Preferences::phone_from_stored(u.phone.as_deref()),
            phone_verified: verified_phone(u.phone.as_deref(), u.phone_verified.as_deref()).is_some(),
            language: u.language.as_deref().and_then(d::Language::from_tag),
            paperless: u.paperless,
            email_notifications: d::Preferences::notifications_from_stored(&u.notifications),
            sms_notifications: d::Preferences::notifications_from_stored(&u.sms_notifications),
            max_linked: u.max_user.is_some(),
            max_notifications: d::Preferences::notifications_from_stored(&u.max_notifications),
        }))
    }

    /// Stores the user's settings.
    pub async fn set_preferences(&self, id: d::UserId, p: &d::Preferences) -> Result<(), DbError> {
        user::Entity::update_many()
            .col_expr(
                user::Column::Phone,
                Expr::value(p.phone.as_ref().map(|p| p.as_str().to_string())),
            )
            .col_expr(
                user::Column::Language,
                Expr::value(p.language.map(|l| l.code().to_string())),
            )
            .col_expr(user::Column::Paperless, Expr::value(p.paperless))
            .col_expr(user::Column::Notifications, Expr::value(p.notifications_stored()))
            .col_expr(
                user::Column::SmsNotifications,
                Expr::value(d::Preferences::kinds_stored(&p.sms_notifications)),
            )
            .col_expr(
                user::Column::MaxNotifications,
                Expr::value(d::Preferences::kinds_stored(&p.max_notifications)),
            )
            .filter(user::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Replaces the user's e-mail address.
    pub async fn set_email(&self, id: d::UserId, email: &d::EmailAddress) -> Result<(), DbError> {
        user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email.as_str()))
            .filter(user::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// When the user was created.
    pub async fn created_at(&self, id: d::UserId) -> Result<Option<OffsetDateTime>, DbError> {
        Ok(user::Entity::find_by_id(id.0)
            .select_only()
            .column(user::Column::CreatedAt)
            .into_tuple()
            .one(self.0.conn())
            .await?)
    }

    /// The user of the demo resident: the one with this e-mail address.
    pub async fn by_email(&self, email: &d::EmailAddress) -> Result<Option<d::ResidentUser>, DbError> {
        match user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .order_by_asc(user::Column::Id)
            .one(self.0.conn())
            .await?
        {
            Some(u) => Ok(Some(self.with_account(u).await?)),
            None => Ok(None),
        }
    }

    /// Records the version of `doc` the user accepted last.
    pub async fn set_accepted(&self, id: d::UserId, doc: d::Document, version: i32) -> Result<(), DbError> {
        user::Entity::update_many()
            .col_expr(crate::rules::accepted_column(doc), Expr::value(version))
            .filter(user::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Records an acceptance of the Rules or a consent.
    pub async fn add_acceptance(
        &self,
        id: d::UserId,
        a: &Acceptance<'_>,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        acceptance::ActiveModel {
            user_id: Set(id.0),
            kind: Set(a.kind.to_string()),
            version: Set(a.version),
            accepted_at: Set(now),
            ip: Set(a.ip.chars().take(64).collect()),
            user_agent: Set(a.user_agent.to_string()),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(())
    }

    /// Acceptances and consents a user gave: (kind, version, when, ip), oldest first.
    pub async fn acceptances(
        &self,
        id: d::UserId,
    ) -> Result<Vec<(String, i32, OffsetDateTime, String)>, DbError> {
        Ok(acceptance::Entity::find()
            .filter(acceptance::Column::UserId.eq(id.0))
            .order_by_asc(acceptance::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|a| (a.kind, a.version, a.accepted_at, a.ip))
            .collect())
    }
}
