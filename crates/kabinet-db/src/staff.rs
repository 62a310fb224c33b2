//! Staff members, their recovery codes and their sessions. A TOTP step and a
//! recovery code are consumed by one conditional `UPDATE`, so of two
//! concurrent sign-ins with the same code only one succeeds.

use crate::convert::{corrupt, stmt};
use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::staff::{Role, StaffMember, StaffSession, StaffStage};
use sea_orm::{ConnectionTrait, QueryResult};
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

const COLUMNS: &str = "s.id, s.login, s.name, s.role, s.password_hash, s.password_generated, \
     COALESCE(s.totp_sealed, s.totp_secret) AS totp_secret, s.password_expires_at, \
     s.totp_enabled, s.totp_last_step, s.disabled, s.failed_count, s.failed_window_start, s.last_failed_at, \
     s.created_at";

fn member(r: &QueryResult) -> Result<StaffMember, DbError> {
    let role: String = r.try_get("", "role")?;
    Ok(StaffMember {
        id: d::StaffId(r.try_get("", "id")?),
        login: r.try_get("", "login")?,
        name: r.try_get("", "name")?,
        role: Role::from_stored(&role).ok_or_else(|| corrupt("staff", "role", &role))?,
        password_hash: r.try_get("", "password_hash")?,
        password_generated: r.try_get("", "password_generated")?,
        totp_secret: r.try_get("", "totp_secret")?,
        totp_enabled: r.try_get("", "totp_enabled")?,
        totp_last_step: r.try_get("", "totp_last_step")?,
        password_expires_at: r.try_get("", "password_expires_at")?,
        disabled: r.try_get("", "disabled")?,
        failures: d::Counter {
            count: r.try_get("", "failed_count")?,
            window_start: r.try_get("", "failed_window_start")?,
            last_at: r.try_get("", "last_failed_at")?,
        },
        created_at: r.try_get("", "created_at")?,
    })
}

/// Staff (see [`crate::Repos::staff`]).
pub struct Staff<'a, C>(pub(crate) &'a C);

impl<C: Conn> Staff<'_, C> {
    async fn one(&self, sql: String, values: Vec<sea_orm::Value>) -> Result<Option<StaffMember>, DbError> {
        self.0
            .conn()
            .query_one_raw(stmt(self.0, sql, values))
            .await?
            .map(|r| member(&r))
            .transpose()
    }

    async fn exec(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<u64, DbError> {
        Ok(self
            .0
            .conn()
            .execute_raw(stmt(self.0, sql, values))
            .await?
            .rows_affected())
    }

    /// Adds a member (a login taken is [`DbError::is_unique_violation`]).
    pub async fn insert(&self, n: &NewStaff) -> Result<StaffMember, DbError> {
        self.exec(
            "INSERT INTO staff (login, name, role, password_hash, password_generated, totp_enabled, \
             totp_last_step, disabled, failed_count, created_at, password_expires_at) \
             VALUES ($1, $2, $3, $4, TRUE, FALSE, 0, FALSE, 0, $5, $6)",
            vec![
                n.login.clone().into(),
                n.name.clone().into(),
                n.role.as_str().into(),
                n.password_hash.clone().into(),
                n.now.into(),
                n.password_expires_at.into(),
            ],
        )
        .await?;
        self.by_login(&n.login).await?.ok_or(DbError::NotFound)
    }

    /// The member signing in as `login`.
    pub async fn by_login(&self, login: &str) -> Result<Option<StaffMember>, DbError> {
        self.one(
            format!("SELECT {COLUMNS} FROM staff s WHERE s.login = $1"),
            vec![login.into()],
        )
        .await
    }

    /// The member with this id.
    pub async fn get(&self, id: d::StaffId) -> Result<Option<StaffMember>, DbError> {
        self.one(
            format!("SELECT {COLUMNS} FROM staff s WHERE s.id = $1"),
            vec![id.0.into()],
        )
        .await
    }

    /// The member's row, held until the transaction ends (PostgreSQL; SQLite
    /// write transactions hold the whole database).
    pub async fn lock(&self, id: d::StaffId) -> Result<Option<StaffMember>, DbError> {
        let lock = match self.0.backend() {
            crate::Backend::Postgres => " FOR UPDATE",
            crate::Backend::Sqlite => "",
        };
        self.one(
            format!("SELECT {COLUMNS} FROM staff s WHERE s.id = $1{lock}"),
            vec![id.0.into()],
        )
        .await
    }

    /// Every member who may be assigned requests (not disabled), by name.
    pub async fn active(&self) -> Result<Vec<StaffMember>, DbError> {
        let rows = self
            .0
            .conn()
            .query_all_raw(stmt(
                self.0,
                format!("SELECT {COLUMNS} FROM staff s WHERE s.disabled = FALSE ORDER BY s.name, s.id"),
                vec![],
            ))
            .await?;
        rows.iter().map(member).collect()
    }

    /// Stores the failed sign-ins counter.
    pub async fn store_failures(&self, id: d::StaffId, c: d::Counter) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff SET failed_count = $2, failed_window_start = $3, last_failed_at = $4 WHERE id = $1",
            vec![
                id.0.into(),
                c.count.into(),
                c.window_start.into(),
                c.last_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The failed sign-ins of member `id` from address `ip`, with the row
    /// held until the transaction ends (`FOR UPDATE` on PostgreSQL; a SQLite
    /// write transaction holds the whole database).
    pub async fn lock_failures_from(&self, id: d::StaffId, ip: &str) -> Result<d::Counter, DbError> {
        let ip: String = ip.chars().take(64).collect();
        self.exec(
            "INSERT INTO staff_failures (staff_id, ip, count) VALUES ($1, $2, 0) ON CONFLICT (staff_id, ip) DO NOTHING",
            vec![id.0.into(), ip.clone().into()],
        )
        .await?;
        let lock = if self.0.backend() == crate::Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        self.failures_row(id, &ip, lock).await
    }

    /// The failed sign-ins of member `id` from address `ip` (zero when none).
    pub async fn failures_from(&self, id: d::StaffId, ip: &str) -> Result<d::Counter, DbError> {
        let ip: String = ip.chars().take(64).collect();
        self.failures_row(id, &ip, "").await
    }

    async fn failures_row(&self, id: d::StaffId, ip: &str, lock: &str) -> Result<d::Counter, DbError> {
        let r = self
            .0
            .conn()
            .query_one_raw(stmt(
                self.0,
                format!("SELECT count, window_start, last_at FROM staff_failures WHERE staff_id = $1 AND ip = $2{lock}"),
                vec![id.0.into(), ip.into()],
            ))
            .await?;
        Ok(match r {
            Some(r) => d::Counter {
                count: r.try_get("", "count")?,
                window_start: r.try_get("", "window_start")?,
                last_at: r.try_get("", "last_at")?,
            },
            None => d::Counter::default(),
        })
    }

    /// Stores the failed sign-ins of member `id` from address `ip`.
    pub async fn store_failures_from(&self, id: d::StaffId, ip: &str, c: d::Counter) -> Result<(), DbError> {
        let ip: String = ip.chars().take(64).collect();
        self.exec(
            "UPDATE staff_failures SET count = $3, window_start = $4, last_at = $5 WHERE staff_id = $1 AND ip = $2",
            vec![id.0.into(), ip.into(), c.count.into(), c.window_start.into(), c.last_at.into()],
        )
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
        self.exec(
            "UPDATE staff SET password_hash = $2, password_generated = $3, password_expires_at = $4, failed_count = 0, \
             failed_window_start = NULL, last_failed_at = NULL WHERE id = $1",
            vec![id.0.into(), hash.into(), generated.into(), expires_at.into()],
        )
        .await?;
        Ok(())
    }

    /// Forgets the second factor (a lost phone): enrolment starts again at
    /// the next sign-in, and the recovery codes are gone.
    pub async fn clear_second_factor(&self, id: d::StaffId) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff SET totp_secret = NULL, totp_sealed = NULL, totp_enabled = FALSE, totp_last_step = 0 WHERE id = $1",
            vec![id.0.into()],
        )
        .await?;
        self.exec(
            "DELETE FROM staff_recovery_codes WHERE staff_id = $1",
            vec![id.0.into()],
        )
        .await?;
        Ok(())
    }

    /// Disables or enables a member.
    pub async fn set_disabled(&self, id: d::StaffId, disabled: bool) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff SET disabled = $2 WHERE id = $1",
            vec![id.0.into(), disabled.into()],
        )
        .await?;
        Ok(())
    }

    /// Confirms enrolment: stores the sealed secret and takes the step its
    /// code was for; false when the member is enrolled already.
    pub async fn enrol(&self, id: d::StaffId, sealed: &str, step: i64) -> Result<bool, DbError> {
        let n = self
            .exec(
                "UPDATE staff SET totp_sealed = $2, totp_secret = NULL, totp_enabled = TRUE, totp_last_step = $3 \
                 WHERE id = $1 AND totp_enabled = FALSE",
                vec![id.0.into(), sealed.into(), step.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces an unsealed secret of an older install with its sealed form.
    pub async fn seal_secret(&self, id: d::StaffId, sealed: &str) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff SET totp_sealed = $2, totp_secret = NULL WHERE id = $1",
            vec![id.0.into(), sealed.into()],
        )
        .await?;
        Ok(())
    }

    /// Spends a generated password once it has been used: no password works
    /// until the member sets their own (or is reset).
    pub async fn spend_password(&self, id: d::StaffId) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff SET password_hash = '', password_expires_at = NULL WHERE id = $1 AND password_generated = TRUE",
            vec![id.0.into()],
        )
        .await?;
        Ok(())
    }

    /// Keeps the (sealed) secret an enrolment page showed on its session.
    pub async fn set_pending_secret(&self, session: d::StaffSessionId, sealed: &str) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff_sessions SET pending_secret = $2 WHERE id = $1",
            vec![session.0.into(), sealed.into()],
        )
        .await?;
        Ok(())
    }

    /// Takes TOTP step `step` if it is later than the last one taken (and,
    /// with `enable`, confirms enrolment); false when another sign-in took
    /// it or a later one first.
    pub async fn take_step(&self, id: d::StaffId, step: i64, enable: bool) -> Result<bool, DbError> {
        let n = self
            .exec(
                "UPDATE staff SET totp_last_step = $2, totp_enabled = (totp_enabled OR $3) \
                 WHERE id = $1 AND totp_last_step < $2",
                vec![id.0.into(), step.into(), enable.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces the member's recovery codes (hashes).
    pub async fn replace_codes(&self, id: d::StaffId, hashes: &[String]) -> Result<(), DbError> {
        self.exec(
            "DELETE FROM staff_recovery_codes WHERE staff_id = $1",
            vec![id.0.into()],
        )
        .await?;
        for h in hashes {
            self.exec(
                "INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES ($1, $2)",
                vec![id.0.into(), h.clone().into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Uses a recovery code once: false when it is unknown or used.
    pub async fn use_code(&self, id: d::StaffId, hash: &str, now: OffsetDateTime) -> Result<bool, DbError> {
        let n = self
            .exec(
                "UPDATE staff_recovery_codes SET used_at = $3 WHERE staff_id = $1 AND code_hash = $2 AND used_at IS NULL",
                vec![id.0.into(), hash.into(), now.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// How many recovery codes are left.
    pub async fn codes_left(&self, id: d::StaffId) -> Result<i64, DbError> {
        let r = self
            .0
            .conn()
            .query_one_raw(stmt(
                self.0,
                "SELECT COUNT(*) AS n FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL",
                vec![id.0.into()],
            ))
            .await?;
        Ok(r.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
    }

    /// Opens a session.
    pub async fn open_session(&self, s: &NewStaffSession) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO staff_sessions (token_hash, staff_id, stage, created_at, last_seen_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
            vec![
                s.token_hash.clone().into(),
                s.staff_id.0.into(),
                s.stage.as_str().into(),
                s.now.into(),
                s.expires_at.into(),
                s.ip.chars().take(64).collect::<String>().into(),
                s.user_agent.chars().take(512).collect::<String>().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The session with this token hash and its member, in one query.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(StaffSession, StaffMember)>, DbError> {
        let r = self
            .0
            .conn()
            .query_one_raw(stmt(
                self.0,
                format!(
                    "SELECT {COLUMNS}, x.id AS x_id, x.stage AS x_stage, x.created_at AS x_created_at, \
                     x.last_seen_at AS x_last_seen_at, x.expires_at AS x_expires_at, x.pending_secret AS x_pending \
                     FROM staff_sessions x JOIN staff s ON s.id = x.staff_id WHERE x.token_hash = $1"
                ),
                vec![token_hash.into()],
            ))
            .await?;
        let Some(r) = r else { return Ok(None) };
        let stage: String = r.try_get("", "x_stage")?;
        let m = member(&r)?;
        Ok(Some((
            StaffSession {
                id: d::StaffSessionId(r.try_get("", "x_id")?),
                staff_id: m.id,
                stage: StaffStage::from_stored(&stage)
                    .ok_or_else(|| corrupt("staff_sessions", "stage", &stage))?,
                created_at: r.try_get("", "x_created_at")?,
                last_seen_at: r.try_get("", "x_last_seen_at")?,
                expires_at: r.try_get("", "x_expires_at")?,
                pending_secret: r.try_get("", "x_pending")?,
            },
            m,
        )))
    }

    /// Moves a session to `stage`.
    pub async fn set_stage(&self, session: d::StaffSessionId, stage: StaffStage) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff_sessions SET stage = $2 WHERE id = $1",
            vec![session.0.into(), stage.as_str().into()],
        )
        .await?;
        Ok(())
    }

    /// Notes activity on a session.
    pub async fn touch(&self, session: d::StaffSessionId, now: OffsetDateTime) -> Result<(), DbError> {
        self.exec(
            "UPDATE staff_sessions SET last_seen_at = $2 WHERE id = $1",
            vec![session.0.into(), now.into()],
        )
        .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn close_session(&self, session: d::StaffSessionId) -> Result<(), DbError> {
        self.exec("DELETE FROM staff_sessions WHERE id = $1", vec![session.0.into()])
            .await?;
        Ok(())
    }

    /// Ends every session of a member.
    pub async fn close_sessions(&self, id: d::StaffId) -> Result<(), DbError> {
        self.exec(
            "DELETE FROM staff_sessions WHERE staff_id = $1",
            vec![id.0.into()],
        )
        .await?;
        Ok(())
    }
}
