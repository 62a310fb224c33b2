//! The office words the notifications (an administrator's right): for each
//! kind of event, channel it goes on and language, an own text with
//! `{placeholders}` in place of the built-in one from the Fluent files,
//! checked when saved (only the kind's placeholders, braces that close, a
//! length the channel carries), shown filled with sample values before it
//! is saved, and audited. Sending uses it from the next run on.

use super::Notifications;
use crate::Error;
use crate::FieldErrors;
use crate::staff::By;
use kabinet_db::Repos;
use kabinet_domain as d;
use kabinet_domain::notify::{Channel, EventKind, offered};
use kabinet_domain::notify_texts::{CustomText, MAX_SUBJECT, TextKey, check, fill, max_body, placeholders};
use kabinet_domain::staff::Permission;
use time::OffsetDateTime;

/// The form's fields.
pub mod fields {
    /// The e-mail's subject.
    pub const SUBJECT: &str = "subject";
    /// The text.
    pub const BODY: &str = "body";
}

/// One text the office may word, and whether it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRow {
    /// Which.
    pub key: TextKey,
    /// The organization's own text is used (not the built-in one).
    pub own: bool,
}

/// A text as the office edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextView {
    /// Which.
    pub key: TextKey,
    /// The organization's own text, if it has one.
    pub own: Option<CustomText>,
    /// The placeholders it may use, each with a sample value.
    pub placeholders: Vec<(&'static str, String)>,
}

/// Every kind × channel × language a text may be given for: the channels
/// each kind goes on (an emergency goes on every one).
pub fn all_keys() -> impl Iterator<Item = TextKey> {
    EventKind::ALL.into_iter().flat_map(|kind| {
        Channel::ALL
            .into_iter()
            .filter(move |c| kind.urgent() || offered(kind.preference(), *c))
            .flat_map(move |channel| {
                d::Language::ALL.into_iter().map(move |language| TextKey {
                    kind,
                    channel,
                    language,
                })
            })
    })
}

impl Notifications {
    /// Every text the office may word, and which have the organization's
    /// own.
    pub async fn texts(&self, by: By<'_>) -> Result<Vec<TextRow>, Error> {
        by.require(Permission::Settings)?;
        let own = self.custom_texts().await?;
        Ok(all_keys()
            .map(|key| TextRow {
                key,
                own: own.contains_key(&key),
            })
            .collect())
    }

    /// Text `key` for editing; not found when no such text is sent.
    pub async fn text(&self, by: By<'_>, key: TextKey) -> Result<TextView, Error> {
        by.require(Permission::Settings)?;
        if !all_keys().any(|k| k == key) {
            return Err(Error::NotFound);
        }
        let own = self.custom_texts().await?.remove(&key);
        Ok(TextView {
            key,
            own,
            placeholders: self.samples(key).await?,
        })
    }

    /// `text` filled with the sample values, as a message would read;
    /// refused as [`Notifications::save_text`] would refuse it.
    pub async fn preview_text(
        &self,
        by: By<'_>,
        key: TextKey,
        text: &CustomText,
    ) -> Result<CustomText, Error> {
        let view = self.text(by, key).await?;
        let text = checked(key, text)?;
        Ok(CustomText {
            subject: fill(&text.subject, &view.placeholders),
            body: fill(&text.body, &view.placeholders),
        })
    }

    /// Keeps `text` as the organization's text of `key` (audited), after
    /// checking it.
    pub async fn save_text(&self, by: By<'_>, key: TextKey, text: &CustomText) -> Result<(), Error> {
        self.text(by, key).await?;
        let text = checked(key, text)?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.notify_texts()
            .save(key, &text, by.member().map(|m| m.id), now)
            .await?;
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::NotifyTextChanged, describe(key, "own text")),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Returns `key` to the built-in text (audited when it had its own).
    pub async fn reset_text(&self, by: By<'_>, key: TextKey) -> Result<(), Error> {
        self.text(by, key).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if tx.notify_texts().remove(key).await? {
            tx.audit()
                .record(
                    &by.entry(d::AuditEvent::NotifyTextChanged, describe(key, "built-in text")),
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The placeholders of `key` with sample values in its language.
    async fn samples(&self, key: TextKey) -> Result<Vec<(&'static str, String)>, Error> {
        let tr = kabinet_notify::messages::tr(Some(key.language));
        let org = crate::site::sender_name(&self.db).await?;
        let today = self.clock.today(OffsetDateTime::now_utc());
        let site = self.public_url.as_str();
        let mut out = vec![("org", org)];
        for name in placeholders(key.kind) {
            let value = match *name {
                "account" => "7100000001".to_string(),
                "accounts" => "7100000001, 7100000002".to_string(),
                "period" => tr.month(d::Period::containing(today)),
                "amount" => tr.money(d::Kopecks(345_678)),
                "date" => tr.date(today + time::Duration::days(10)),
                "meter" => "123456".to_string(),
                "resource" => tr.t(&format!("resource-{}", d::Resource::ColdWater.code())),
                "number" => "42".to_string(),
                "news" => {
                    kabinet_notify::messages::news_text(tr, kabinet_notify::messages::RequestNews::Taken)
                }
                other => tr.t(&format!("texts-sample-{other}")),
            };
            out.push((name, value));
        }
        out.push(("url", format!("{site}/cabinet")));
        Ok(out)
    }
}

/// `text` trimmed and checked for `key`: an e-mail needs a subject; SMS
/// and MAX have none.
fn checked(key: TextKey, text: &CustomText) -> Result<CustomText, Error> {
    let mut errors = FieldErrors::default();
    let subject = if key.channel == Channel::Email {
        let subject = text.subject.trim().to_string();
        if let Err(e) = check(&subject, key.kind, MAX_SUBJECT) {
            errors.add(fields::SUBJECT, e);
        }
        subject
    } else {
        String::new()
    };
    let body = text.body.trim().replace("\r\n", "\n");
    if let Err(e) = check(&body, key.kind, max_body(key.channel)) {
        errors.add(fields::BODY, e);
    }
    errors.check()?;
    Ok(CustomText { subject, body })
}

/// The audit line's details.
fn describe(key: TextKey, what: &str) -> String {
    format!(
        "{} by {} in {}: {what}",
        key.kind.as_str(),
        key.channel.as_str(),
        key.language.code()
    )
}
