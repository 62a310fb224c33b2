//! The MAX messenger's links: one-time codes that link a MAX account to a
//! resident, the link itself (`users.max_user`), and the question the bot
//! waits an answer to in a chat.

use crate::{Conn, DbError};
use kabinet_domain as d;
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};
use time::OffsetDateTime;

/// The mark of the last update taken by long polling (in `notify_marks`).
pub const UPDATES_MARK: &str = "max_updates";

/// A question the bot asked and waits an answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The resident the chat is linked to when it was asked.
    pub user: d::UserId,
    /// What was asked, as the bot wrote it down.
    pub question: String,
    /// When.
    pub asked_at: OffsetDateTime,
}

/// MAX links (see [`crate::Repos::max`]).
pub struct MaxLinks<'a, C>(pub(crate) &'a C);

impl<C: Conn> MaxLinks<'_, C> {
    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        crate::raw::execute(self.0, sql, values).await
    }

    async fn one<T: FromQueryResult>(&self, sql: &str, values: Vec<Value>) -> Result<Option<T>, DbError> {
        let c = self.0.conn();
        Ok(T::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            sql,
            values,
        ))
        .one(c)
        .await?)
    }

    /// Stores a link code for `user` working until `expires_at`; the
    /// user's earlier codes stop working.
    pub async fn add_code(
        &self,
        user: d::UserId,
        code_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), DbError> {
        self.exec(
            "UPDATE max_codes SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
            vec![now.into(), user.0.into()],
        )
        .await?;
        self.exec(
            "INSERT INTO max_codes (user_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            vec![user.0.into(), code_hash.into(), now.into(), expires_at.into()],
        )
        .await?;
        Ok(())
    }

    /// Uses the code with `code_hash` if it still works at `now`: its
    /// resident, once.
    pub async fn take_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<d::UserId>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            id: i64,
            user_id: i64,
            expires_at: OffsetDateTime,
        }
        let Some(row) = self
            .one::<Row>(
                "SELECT id, user_id, expires_at FROM max_codes WHERE code_hash = $1 AND used_at IS NULL",
                vec![code_hash.into()],
            )
            .await?
        else {
            return Ok(None);
        };
        if row.expires_at <= now {
            return Ok(None);
        }
        let taken = self
            .exec(
                "UPDATE max_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
                vec![now.into(), row.id.into()],
            )
            .await?;
        Ok((taken == 1).then_some(d::UserId(row.user_id)))
    }

    /// Links MAX user `max_user` to `user`, taking it from any other
    /// resident it was linked to (returned); the first link ticks
    /// `defaults` as the kinds wanted in MAX.
    pub async fn link(
        &self,
        user: d::UserId,
        max_user: i64,
        defaults: &str,
    ) -> Result<Option<d::UserId>, DbError> {
        let before = self.user_of(max_user).await?.filter(|u| *u != user);
        self.exec(
            "UPDATE users SET max_user = NULL WHERE max_user = $1 AND id <> $2",
            vec![max_user.into(), user.0.into()],
        )
        .await?;
        self.exec(
            "UPDATE users SET max_user = $1, max_notifications = CASE WHEN max_notifications = '' \
             THEN $2 ELSE max_notifications END WHERE id = $3",
            vec![max_user.into(), defaults.into(), user.0.into()],
        )
        .await?;
        Ok(before)
    }

    /// Unlinks `user`'s MAX account: the one it was, if any.
    pub async fn unlink(&self, user: d::UserId) -> Result<Option<i64>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            max_user: Option<i64>,
        }
        let was = self
            .one::<Row>("SELECT max_user FROM users WHERE id = $1", vec![user.0.into()])
            .await?
            .and_then(|r| r.max_user);
        if let Some(m) = was {
            self.exec(
                "UPDATE users SET max_user = NULL WHERE id = $1 AND max_user = $2",
                vec![user.0.into(), m.into()],
            )
            .await?;
            self.exec("DELETE FROM max_questions WHERE max_user = $1", vec![m.into()])
                .await?;
        }
        Ok(was)
    }

    /// The resident MAX user `max_user` is linked to.
    pub async fn user_of(&self, max_user: i64) -> Result<Option<d::UserId>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            id: i64,
        }
        Ok(self
            .one::<Row>("SELECT id FROM users WHERE max_user = $1", vec![max_user.into()])
            .await?
            .map(|r| d::UserId(r.id)))
    }

    /// Keeps `question` as what the bot asked `max_user` (linked to
    /// `user`), replacing an earlier one.
    pub async fn ask(
        &self,
        max_user: i64,
        user: d::UserId,
        question: &str,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO max_questions (max_user, user_id, question, asked_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (max_user) DO UPDATE SET user_id = excluded.user_id, question = excluded.question, \
             asked_at = excluded.asked_at",
            vec![max_user.into(), user.0.into(), question.into(), now.into()],
        )
        .await?;
        Ok(())
    }

    /// What the bot asked `max_user` and waits an answer to; it is
    /// forgotten as it is read (answered once).
    pub async fn take_question(&self, max_user: i64) -> Result<Option<Question>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: i64,
            question: String,
            asked_at: OffsetDateTime,
        }
        let Some(row) = self
            .one::<Row>(
                "SELECT user_id, question, asked_at FROM max_questions WHERE max_user = $1",
                vec![max_user.into()],
            )
            .await?
        else {
            return Ok(None);
        };
        let gone = self
            .exec(
                "DELETE FROM max_questions WHERE max_user = $1 AND question = $2",
                vec![max_user.into(), row.question.clone().into()],
            )
            .await?;
        Ok((gone == 1).then_some(Question {
            user: d::UserId(row.user_id),
            question: row.question,
            asked_at: row.asked_at,
        }))
    }
}
