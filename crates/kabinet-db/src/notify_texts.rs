//! The organization's own texts of notifications (see
//! [`kabinet_domain::notify_texts`]): one row per event kind × channel ×
//! language that staff changed.

use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::notify::{Channel, EventKind};
use kabinet_domain::notify_texts::{CustomText, TextKey};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};
use time::OffsetDateTime;

#[derive(FromQueryResult)]
struct Row {
    kind: String,
    channel: String,
    language: String,
    subject: String,
    body: String,
}

/// Notification texts (see [`crate::Repos::notify_texts`]).
pub struct NotifyTexts<'a, C>(pub(crate) &'a C);

impl<C: Conn> NotifyTexts<'_, C> {
    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        crate::raw::execute(self.0, sql, values).await
    }

    /// Every text staff changed (rows of kinds, channels or languages this
    /// version does not know are left out).
    pub async fn all(&self) -> Result<Vec<(TextKey, CustomText)>, DbError> {
        let c = self.0.conn();
        let rows = Row::find_by_statement(Statement::from_string(
            c.get_database_backend(),
            "SELECT kind, channel, language, subject, body FROM notify_texts",
        ))
        .all(c)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let key = TextKey {
                    kind: EventKind::from_stored(&r.kind)?,
                    channel: Channel::from_stored(&r.channel)?,
                    language: d::Language::from_tag(&r.language)?,
                };
                Some((
                    key,
                    CustomText {
                        subject: r.subject,
                        body: r.body,
                    },
                ))
            })
            .collect())
    }

    /// Stores `text` as the text of `key`, by staff member `by`.
    pub async fn save(
        &self,
        key: TextKey,
        text: &CustomText,
        by: Option<d::StaffId>,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO notify_texts (kind, channel, language, subject, body, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, channel, language) DO UPDATE SET \
             subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
            vec![
                key.kind.as_str().into(),
                key.channel.as_str().into(),
                key.language.code().into(),
                text.subject.clone().into(),
                text.body.clone().into(),
                now.into(),
                by.map(|s| s.0).into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Returns `key` to its built-in text; `false` when it had none of its
    /// own.
    pub async fn remove(&self, key: TextKey) -> Result<bool, DbError> {
        Ok(self
            .exec(
                "DELETE FROM notify_texts WHERE kind = $1 AND channel = $2 AND language = $3",
                vec![
                    key.kind.as_str().into(),
                    key.channel.as_str().into(),
                    key.language.code().into(),
                ],
            )
            .await?
            == 1)
    }
}
