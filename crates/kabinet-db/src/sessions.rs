//! Browser sessions and API tokens: server-side rows holding only the SHA-256
//! of the secret the client keeps.

use crate::convert::corrupt;
use crate::entities::{session, user};
use crate::users::to_user;
use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set, Statement,
};
use time::OffsetDateTime;

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

/// A session with its user and the Rules and consent versions in force, read in one query
/// on every signed-in request.
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    /// The session.
    pub session: d::Session,
    /// Its user.
    pub user: d::ResidentUser,
    /// The newest published Rules version, if any.
    pub current_rules: Option<i32>,
    /// The newest published personal-data consent version, if any.
    pub current_consent: Option<i32>,
}

pub(crate) fn to_session(s: session::Model) -> Result<d::Session, DbError> {
    Ok(d::Session {
        id: d::SessionId(s.id),
        user_id: d::UserId(s.user_id),
        kind: d::SessionKind::from_stored(&s.kind).ok_or_else(|| corrupt("sessions", "kind", &s.kind))?,
        restricted: s.restricted,
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
    })
}

#[derive(FromQueryResult)]
struct Row {
    s_id: i64,
    s_kind: String,
    s_restricted: bool,
    s_created_at: OffsetDateTime,
    s_last_seen_at: OffsetDateTime,
    s_expires_at: OffsetDateTime,
    u_id: i64,
    u_account_id: i64,
    u_email: String,
    u_password_hash: String,
    u_password_generated: bool,
    u_password_expires_at: Option<OffsetDateTime>,
    u_blocked: bool,
    u_rules_version: i32,
    u_consent_version: i32,
    u_failed_count: i32,
    u_failed_window_start: Option<OffsetDateTime>,
    u_last_failed_at: Option<OffsetDateTime>,
    u_created_at: OffsetDateTime,
    u_password_changed_at: OffsetDateTime,
    u_language: Option<String>,
    u_notifications: String,
    u_phone: Option<String>,
    u_phone_verified: Option<String>,
    u_sms_notifications: String,
    u_max_user: Option<i64>,
    u_max_notifications: String,
    a_number: String,
    current_rules: Option<i32>,
    current_consent: Option<i32>,
}

/// Sessions (see [`crate::Repos::sessions`]).
pub struct Sessions<'a, C>(pub(crate) &'a C);

impl<C: Conn> Sessions<'_, C> {
    /// Opens a session.
    pub async fn open(&self, new: &NewSession) -> Result<d::Session, DbError> {
        let s = session::ActiveModel {
            token_hash: Set(new.token_hash.clone()),
            user_id: Set(new.user_id.0),
            kind: Set(new.kind.as_str().to_string()),
            restricted: Set(new.restricted),
            created_at: Set(new.now),
            last_seen_at: Set(new.now),
            expires_at: Set(new.expires_at),
            ip: Set(new.ip.chars().take(64).collect()),
            user_agent: Set(new.user_agent.clone()),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        to_session(s)
    }

    /// The session with this token hash, its user and the Rules version in
    /// force, in one query; `None` when there is no such session.
    pub async fn by_token(&self, token_hash: &str) -> Result<Option<SessionWithUser>, DbError> {
        let c = self.0.conn();
        let row = Row::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT s.id AS s_id, s.kind AS s_kind, s.restricted AS s_restricted, \
             s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, \
             u.id AS u_id, u.account_id AS u_account_id, u.email AS u_email, u.password_hash AS u_password_hash, \
             u.password_generated AS u_password_generated, u.password_expires_at AS u_password_expires_at, \
             u.blocked AS u_blocked, u.rules_version AS u_rules_version, u.consent_version AS u_consent_version, u.failed_count AS u_failed_count, \
             u.failed_window_start AS u_failed_window_start, u.last_failed_at AS u_last_failed_at, \
             u.created_at AS u_created_at, u.password_changed_at AS u_password_changed_at, u.language AS u_language, u.notifications AS u_notifications, \
             u.phone AS u_phone, u.phone_verified AS u_phone_verified, u.sms_notifications AS u_sms_notifications, \
             u.max_user AS u_max_user, u.max_notifications AS u_max_notifications, \
             a.number AS a_number, \
             (SELECT MAX(version) FROM rules_versions) AS current_rules, \
             (SELECT MAX(version) FROM consent_versions) AS current_consent \
             FROM sessions s JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id \
             WHERE s.token_hash = $1",
            [token_hash.into()],
        ))
        .one(c)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let session = d::Session {
            id: d::SessionId(r.s_id),
            user_id: d::UserId(r.u_id),
            kind: d::SessionKind::from_stored(&r.s_kind)
                .ok_or_else(|| corrupt("sessions", "kind", &r.s_kind))?,
            restricted: r.s_restricted,
            created_at: r.s_created_at,
            last_seen_at: r.s_last_seen_at,
            expires_at: r.s_expires_at,
        };
        let user = to_user(
            user::Model {
                id: r.u_id,
                account_id: r.u_account_id,
                email: r.u_email,
                password_hash: r.u_password_hash,
                password_generated: r.u_password_generated,
                password_expires_at: r.u_password_expires_at,
                blocked: r.u_blocked,
                rules_version: r.u_rules_version,
                consent_version: r.u_consent_version,
                failed_count: r.u_failed_count,
                failed_window_start: r.u_failed_window_start,
                last_failed_at: r.u_last_failed_at,
                created_at: r.u_created_at,
                password_changed_at: r.u_password_changed_at,
                phone: r.u_phone,
                language: r.u_language,
                paperless: false,
                notifications: r.u_notifications,
                sms_notifications: r.u_sms_notifications,
                phone_verified: r.u_phone_verified,
                max_user: r.u_max_user,
                max_notifications: r.u_max_notifications,
            },
            &r.a_number,
        )?;
        Ok(Some(SessionWithUser {
            session,
            user,
            current_rules: r.current_rules,
            current_consent: r.current_consent,
        }))
    }

    /// Notes activity on a session (for the idle timeout).
    pub async fn touch(&self, id: d::SessionId, now: OffsetDateTime) -> Result<(), DbError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Ends one session.
    pub async fn close(&self, id: d::SessionId) -> Result<(), DbError> {
        session::Entity::delete_many()
            .filter(session::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Ends every session of `user` but `keep`, which becomes unrestricted
    /// (after the resident set their own password in it).
    pub async fn close_others(&self, user: d::UserId, keep: Option<d::SessionId>) -> Result<(), DbError> {
        let mut others = session::Entity::delete_many().filter(session::Column::UserId.eq(user.0));
        if let Some(id) = keep {
            others = others.filter(session::Column::Id.ne(id.0));
            session::Entity::update_many()
                .col_expr(session::Column::Restricted, Expr::value(false))
                .filter(session::Column::Id.eq(id.0))
                .exec(self.0.conn())
                .await?;
        }
        others.exec(self.0.conn()).await?;
        Ok(())
    }

    /// Deletes sessions past their absolute end or idle since `idle_before`
    /// (browser sessions only); returns how many.
    pub async fn sweep(&self, now: OffsetDateTime, idle_before: OffsetDateTime) -> Result<u64, DbError> {
        let r = session::Entity::delete_many()
            .filter(
                session::Column::ExpiresAt.lte(now).or(session::Column::Kind
                    .eq(d::SessionKind::Web.as_str())
                    .and(session::Column::LastSeenAt.lt(idle_before))),
            )
            .exec(self.0.conn())
            .await?;
        Ok(r.rows_affected)
    }
}
