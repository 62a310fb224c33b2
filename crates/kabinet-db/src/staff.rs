//! Staff members, their recovery codes and their sessions. A TOTP step and a
//! recovery code are consumed by one conditional `UPDATE`, so of two
//! concurrent sign-ins with the same code only one succeeds.

use crate::convert::corrupt;
use crate::entities::{staff, staff_failure, staff_recovery_code, staff_session};
use crate::{Backend, Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::staff::{Role, StaffMember, StaffSession, StaffStage};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use time::OffsetDateTime;

/// A staff member to add.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// Sign-in name.
    pub login: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Argon2id hash of the generated password.
    pub password_hash: String,
    /// When the generated password stops working.
    pub password_expires_at: OffsetDateTime,
    /// Now.
    pub now: OffsetDateTime,
}

/// A staff session to open.
#[derive(Debug, Clone)]
pub struct NewStaffSession {
    /// SHA-256 of the cookie's secret.
    pub token_hash: String,
    /// Whose.
    pub staff_id: d::StaffId,
    /// Where sign-in stands.
    pub stage: StaffStage,
    /// Now.
    pub now: OffsetDateTime,
    /// Absolute end.
    pub expires_at: OffsetDateTime,
    /// Client address.
    pub ip: String,
    /// Client's User-Agent.
    pub user_agent: String,
}

impl TryFrom<staff::Model> for StaffMember {
    type Error = DbError;
    fn try_from(m: staff::Model) -> Result<StaffMember, DbError> {
        Ok(StaffMember {
            id: d::StaffId(m.id),
            role: Role::from_stored(&m.role).ok_or_else(|| corrupt("staff", "role", &m.role))?,
            login: m.login,
            name: m.name,
            password_hash: m.password_hash,
            password_generated: m.password_generated,
            // A sealed secret; an older install's plain one until its next use.
            totp_secret: m.totp_sealed.or(m.totp_secret),
            totp_enabled: m.totp_enabled,
            totp_last_step: m.totp_last_step,
            password_expires_at: m.password_expires_at,
            disabled: m.disabled,
            failures: d::Counter {
                count: m.failed_count,
                window_start: m.failed_window_start,
                last_at: m.last_failed_at,
            },
            created_at: m.created_at,
            email: m.email.as_deref().and_then(|e| d::EmailAddress::parse(e).ok()),
            buildings: m
                .buildings
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
        })
    }
}

impl From<staff_failure::Model> for d::Counter {
    fn from(f: staff_failure::Model) -> d::Counter {
        d::Counter {
            count: f.count,
            window_start: f.window_start,
            last_at: f.last_at,
        }
    }
}

/// An address as stored (the column holds 64 characters).
fn address(ip: &str) -> String {
    ip.chars().take(64).collect()
}

/// Staff (see [`crate::Repos::staff`]).
pub struct Staff<'a, C>(pub(crate) &'a C);

impl<C: Conn> Staff<'_, C> {
    async fn one(&self, select: Select<staff::Entity>) -> Result<Option<StaffMember>, DbError> {
        select
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// Adds a member (a login taken is [`DbError::is_unique_violation`]).
    pub async fn insert(&self, n: &NewStaff) -> Result<StaffMember, DbError> {
        let row = staff::ActiveModel {
            login: Set(n.login.clone()),
            name: Set(n.name.clone()),
            role: Set(n.role.as_str().into()),
            password_hash: Set(n.password_hash.clone()),
            password_generated: Set(true),
            password_expires_at: Set(Some(n.password_expires_at)),
            totp_secret: Set(None),
            totp_sealed: Set(None),
            totp_enabled: Set(false),
            totp_last_step: Set(0),
            disabled: Set(false),
            failed_count: Set(0),
            failed_window_start: Set(None),
            last_failed_at: Set(None),
            created_at: Set(n.now),
            ..Default::default()
        };
        let id = staff::Entity::insert(row)
            .exec(self.0.conn())
            .await?
            .last_insert_id;
        self.get(d::StaffId(id)).await?.ok_or(DbError::NotFound)
    }

    /// The member signing in as `login`.
    pub async fn by_login(&self, login: &str) -> Result<Option<StaffMember>, DbError> {
        self.one(staff::Entity::find().filter(staff::Column::Login.eq(login)))
            .await
    }

    /// The member with this id.
    pub async fn get(&self, id: d::StaffId) -> Result<Option<StaffMember>, DbError> {
        self.one(staff::Entity::find_by_id(id.0)).await
    }

    /// The member's row, held until the transaction ends (PostgreSQL; SQLite
    /// write transactions hold the whole database).
    pub async fn lock(&self, id: d::StaffId) -> Result<Option<StaffMember>, DbError> {
        let mut select = staff::Entity::find_by_id(id.0);
        if self.0.backend() == Backend::Postgres {
            select = select.lock_exclusive();
        }
        self.one(select).await
    }

    /// Every member who may be assigned requests (not disabled), by name.
    pub async fn active(&self) -> Result<Vec<StaffMember>, DbError> {
        self.listed(staff::Entity::find().filter(staff::Column::Disabled.eq(false)))
            .await
    }

    /// Every member, the disabled ones last (the office's list).
    pub async fn all(&self) -> Result<Vec<StaffMember>, DbError> {
        self.listed(staff::Entity::find().order_by_asc(staff::Column::Disabled))
            .await
    }

    /// The members `select` finds, by name.
    async fn listed(&self, select: sea_orm::Select<staff::Entity>) -> Result<Vec<StaffMember>, DbError> {
        select
            .order_by_asc(staff::Column::Name)
            .order_by_asc(staff::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// How many members who are not disabled hold `role`.
    pub async fn count_enabled(&self, role: Role) -> Result<u64, DbError> {
        Ok(staff::Entity::find()
            .filter(staff::Column::Disabled.eq(false))
            .filter(staff::Column::Role.eq(role.as_str()))
            .count(self.0.conn())
            .await?)
    }

    /// Sets the buildings member `id` works (empty: all).
    pub async fn set_buildings(&self, id: d::StaffId, buildings: &[String]) -> Result<(), DbError> {
        self.update(
            id,
            [(staff::Column::Buildings, Expr::value(buildings.join("\n")))],
            None,
        )
        .await?;
        Ok(())
    }

    /// Sets member `id`'s e-mail for alerts (`None`: none).
    pub async fn set_email(&self, id: d::StaffId, email: Option<&d::EmailAddress>) -> Result<(), DbError> {
        self.update(
            id,
            [(
                staff::Column::Email,
                Expr::value(email.map(|e| e.as_str().to_string())),
            )],
            None,
        )
        .await?;
        Ok(())
    }

    /// The enabled members of `roles` with an e-mail, for alerts.
    pub async fn alerted(&self, roles: &[Role]) -> Result<Vec<StaffMember>, DbError> {
        self.listed(
            staff::Entity::find()
                .filter(staff::Column::Disabled.eq(false))
                .filter(staff::Column::Email.is_not_null())
                .filter(staff::Column::Role.is_in(roles.iter().map(|r| r.as_str()))),
        )
        .await
    }

    /// Gives member `id` another role.
    pub async fn set_role(&self, id: d::StaffId, role: Role) -> Result<(), DbError> {
        self.update(id, [(staff::Column::Role, Expr::value(role.as_str()))], None)
            .await?;
        Ok(())
    }

    /// Sets columns of member `id`; how many rows changed.
    async fn update(
        &self,
        id: d::StaffId,
        set: impl IntoIterator<Item = (staff::Column, Expr)>,
        only_if: Option<sea_orm::sea_query::SimpleExpr>,
    ) -> Result<u64, DbError> {
        let mut update = staff::Entity::update_many().filter(staff::Column::Id.eq(id.0));
        for (column, value) in set {
            update = update.col_expr(column, value);
        }
        if let Some(condition) = only_if {
            update = update.filter(condition);
        }
        Ok(update.exec(self.0.conn()).await?.rows_affected)
    }

    /// Stores the failed sign-ins counter.
    pub async fn store_failures(&self, id: d::StaffId, c: d::Counter) -> Result<(), DbError> {
        use staff::Column as S;
        self.update(
            id,
            [
                (S::FailedCount, Expr::value(c.count)),
                (S::FailedWindowStart, Expr::value(c.window_start)),
                (S::LastFailedAt, Expr::value(c.last_at)),
            ],
            None,
        )
        .await?;
        Ok(())
    }

    /// The failed sign-ins of member `id` from address `ip`, with the row
    /// held until the transaction ends (`FOR UPDATE` on PostgreSQL; a SQLite
    /// write transaction holds the whole database).
    pub async fn lock_failures_from(&self, id: d::StaffId, ip: &str) -> Result<d::Counter, DbError> {
        let ip = address(ip);
        let row = staff_failure::ActiveModel {
            staff_id: Set(id.0),
            ip: Set(ip.clone()),
            count: Set(0),
            window_start: Set(None),
            last_at: Set(None),
        };
        staff_failure::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([staff_failure::Column::StaffId, staff_failure::Column::Ip])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.0.conn())
            .await?;
        self.failures_row(id, &ip, self.0.backend() == Backend::Postgres)
            .await
    }

    /// The failed sign-ins of member `id` from address `ip` (zero when none).
    pub async fn failures_from(&self, id: d::StaffId, ip: &str) -> Result<d::Counter, DbError> {
        self.failures_row(id, &address(ip), false).await
    }

    async fn failures_row(&self, id: d::StaffId, ip: &str, lock: bool) -> Result<d::Counter, DbError> {
        let mut select = staff_failure::Entity::find_by_id((id.0, ip.to_string()));
        if lock {
            select = select.lock_exclusive();
        }
        Ok(select
            .one(self.0.conn())
            .await?
            .map(Into::into)
            .unwrap_or_default())
    }

    /// Stores the failed sign-ins of member `id` from address `ip`.
    pub async fn store_failures_from(&self, id: d::StaffId, ip: &str, c: d::Counter) -> Result<(), DbError> {
        use staff_failure::Column as F;
        staff_failure::Entity::update_many()
            .col_expr(F::Count, Expr::value(c.count))
            .col_expr(F::WindowStart, Expr::value(c.window_start))
            .col_expr(F::LastAt, Expr::value(c.last_at))
            .filter(F::StaffId.eq(id.0))
            .filter(F::Ip.eq(address(ip)))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Sets a password: `generated` for one made by `kabinet staff reset`,
    /// else the member's own. Clears the failures counter.
    /// `expires_at`: when a generated password stops working (`None` for
    /// the member's own).
    pub async fn set_password(
        &self,
        id: d::StaffId,
        hash: &str,
        generated: bool,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), DbError> {
        use staff::Column as S;
        let never: Option<OffsetDateTime> = None;
        self.update(
            id,
            [
                (S::PasswordHash, Expr::value(hash)),
                (S::PasswordGenerated, Expr::value(generated)),
                (S::PasswordExpiresAt, Expr::value(expires_at)),
                (S::FailedCount, Expr::value(0)),
                (S::FailedWindowStart, Expr::value(never)),
                (S::LastFailedAt, Expr::value(never)),
            ],
            None,
        )
        .await?;
        Ok(())
    }

    /// Forgets the second factor (a lost phone): enrolment starts again at
    /// the next sign-in, and the recovery codes are gone.
    pub async fn clear_second_factor(&self, id: d::StaffId) -> Result<(), DbError> {
        use staff::Column as S;
        let none: Option<String> = None;
        self.update(
            id,
            [
                (S::TotpSecret, Expr::value(none.clone())),
                (S::TotpSealed, Expr::value(none)),
                (S::TotpEnabled, Expr::value(false)),
                (S::TotpLastStep, Expr::value(0i64)),
            ],
            None,
        )
        .await?;
        staff_recovery_code::Entity::delete_many()
            .filter(staff_recovery_code::Column::StaffId.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Disables or enables a member.
    pub async fn set_disabled(&self, id: d::StaffId, disabled: bool) -> Result<(), DbError> {
        self.update(id, [(staff::Column::Disabled, Expr::value(disabled))], None)
            .await?;
        Ok(())
    }

    /// Confirms enrolment: stores the sealed secret and takes the step its
    /// code was for; false when the member is enrolled already.
    pub async fn enrol(&self, id: d::StaffId, sealed: &str, step: i64) -> Result<bool, DbError> {
        use staff::Column as S;
        let none: Option<String> = None;
        let n = self
            .update(
                id,
                [
                    (S::TotpSealed, Expr::value(sealed)),
                    (S::TotpSecret, Expr::value(none)),
                    (S::TotpEnabled, Expr::value(true)),
                    (S::TotpLastStep, Expr::value(step)),
                ],
                Some(S::TotpEnabled.eq(false)),
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces an unsealed secret of an older install with its sealed form.
    pub async fn seal_secret(&self, id: d::StaffId, sealed: &str) -> Result<(), DbError> {
        use staff::Column as S;
        let none: Option<String> = None;
        self.update(
            id,
            [
                (S::TotpSealed, Expr::value(sealed)),
                (S::TotpSecret, Expr::value(none)),
            ],
            None,
        )
        .await?;
        Ok(())
    }

    /// Spends a generated password once it has been used: no password works
    /// until the member sets their own (or is reset).
    pub async fn spend_password(&self, id: d::StaffId) -> Result<(), DbError> {
        use staff::Column as S;
        let never: Option<OffsetDateTime> = None;
        self.update(
            id,
            [
                (S::PasswordHash, Expr::value("")),
                (S::PasswordExpiresAt, Expr::value(never)),
            ],
            Some(S::PasswordGenerated.eq(true)),
        )
        .await?;
        Ok(())
    }

    /// Keeps the (sealed) secret an enrolment page showed on its session.
    pub async fn set_pending_secret(&self, session: d::StaffSessionId, sealed: &str) -> Result<(), DbError> {
        self.update_session(session, staff_session::Column::PendingSecret, Expr::value(sealed))
            .await
    }

    /// Takes TOTP step `step` if it is later than the last one taken (and,
    /// with `enable`, confirms enrolment); false when another sign-in took
    /// it or a later one first.
    pub async fn take_step(&self, id: d::StaffId, step: i64, enable: bool) -> Result<bool, DbError> {
        use staff::Column as S;
        let enabled = Expr::col(S::TotpEnabled).or(Expr::value(enable));
        let n = self
            .update(
                id,
                [(S::TotpLastStep, Expr::value(step)), (S::TotpEnabled, enabled)],
                Some(S::TotpLastStep.lt(step)),
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces the member's recovery codes (hashes).
    pub async fn replace_codes(&self, id: d::StaffId, hashes: &[String]) -> Result<(), DbError> {
        staff_recovery_code::Entity::delete_many()
            .filter(staff_recovery_code::Column::StaffId.eq(id.0))
            .exec(self.0.conn())
            .await?;
        if hashes.is_empty() {
            return Ok(());
        }
        let rows = hashes.iter().map(|h| staff_recovery_code::ActiveModel {
            staff_id: Set(id.0),
            code_hash: Set(h.clone()),
            used_at: Set(None),
            ..Default::default()
        });
        staff_recovery_code::Entity::insert_many(rows)
            .exec_without_returning(self.0.conn())
            .await?;
        Ok(())
    }

    /// Uses a recovery code once: false when it is unknown or used.
    pub async fn use_code(&self, id: d::StaffId, hash: &str, now: OffsetDateTime) -> Result<bool, DbError> {
        use staff_recovery_code::Column as C;
        let n = staff_recovery_code::Entity::update_many()
            .col_expr(C::UsedAt, Expr::value(now))
            .filter(C::StaffId.eq(id.0))
            .filter(C::CodeHash.eq(hash))
            .filter(C::UsedAt.is_null())
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
    }

    /// How many recovery codes are left.
    pub async fn codes_left(&self, id: d::StaffId) -> Result<i64, DbError> {
        let n = staff_recovery_code::Entity::find()
            .filter(staff_recovery_code::Column::StaffId.eq(id.0))
            .filter(staff_recovery_code::Column::UsedAt.is_null())
            .count(self.0.conn())
            .await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Opens a session.
    pub async fn open_session(&self, s: &NewStaffSession) -> Result<(), DbError> {
        let row = staff_session::ActiveModel {
            token_hash: Set(s.token_hash.clone()),
            staff_id: Set(s.staff_id.0),
            stage: Set(s.stage.as_str().into()),
            created_at: Set(s.now),
            last_seen_at: Set(s.now),
            expires_at: Set(s.expires_at),
            ip: Set(address(&s.ip)),
            user_agent: Set(s.user_agent.chars().take(512).collect()),
            pending_secret: Set(None),
            ..Default::default()
        };
        staff_session::Entity::insert(row).exec(self.0.conn()).await?;
        Ok(())
    }

    /// The session with this token hash and its member, in one query.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(StaffSession, StaffMember)>, DbError> {
        let found = staff_session::Entity::find()
            .filter(staff_session::Column::TokenHash.eq(token_hash))
            .find_also_related(staff::Entity)
            .one(self.0.conn())
            .await?;
        let Some((x, Some(m))) = found else {
            return Ok(None);
        };
        let m: StaffMember = m.try_into()?;
        let session = StaffSession {
            id: d::StaffSessionId(x.id),
            staff_id: m.id,
            stage: StaffStage::from_stored(&x.stage)
                .ok_or_else(|| corrupt("staff_sessions", "stage", &x.stage))?,
            created_at: x.created_at,
            last_seen_at: x.last_seen_at,
            expires_at: x.expires_at,
            pending_secret: x.pending_secret,
        };
        Ok(Some((session, m)))
    }

    async fn update_session(
        &self,
        session: d::StaffSessionId,
        column: staff_session::Column,
        value: Expr,
    ) -> Result<(), DbError> {
        staff_session::Entity::update_many()
            .col_expr(column, value)
            .filter(staff_session::Column::Id.eq(session.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Moves a session to `stage`.
    pub async fn set_stage(&self, session: d::StaffSessionId, stage: StaffStage) -> Result<(), DbError> {
        self.update_session(session, staff_session::Column::Stage, Expr::value(stage.as_str()))
            .await
    }

    /// Notes activity on a session.
    pub async fn touch(&self, session: d::StaffSessionId, now: OffsetDateTime) -> Result<(), DbError> {
        self.update_session(session, staff_session::Column::LastSeenAt, Expr::value(now))
            .await
    }

    /// Ends a session.
    pub async fn close_session(&self, session: d::StaffSessionId) -> Result<(), DbError> {
        staff_session::Entity::delete_by_id(session.0)
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Ends every session of a member.
    pub async fn close_sessions(&self, id: d::StaffId) -> Result<(), DbError> {
        staff_session::Entity::delete_many()
            .filter(staff_session::Column::StaffId.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }
}
