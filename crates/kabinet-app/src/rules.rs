//! The documents residents accept (R11, R15, B8) — the Rules of service and,
//! separately, the consent to personal-data processing: the text in force,
//! earlier versions, publishing a new version and accepting it. One use case
//! serves both ([`App::rules`](crate::App::rules),
//! [`App::consent`](crate::App::consent)).

use crate::Error;
use crate::auth::{Client, Principal};
use crate::staff::By;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::staff::Permission;
use time::OffsetDateTime;

/// The longest title of a version, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest text of a version, in bytes.
pub const MAX_BODY_BYTES: usize = 200_000;

/// The use cases of one document.
#[derive(Clone)]
pub struct Rules {
    db: Db,
    doc: d::Document,
}

impl Rules {
    /// The versions of `doc` over `db`.
    pub fn new(db: Db, doc: d::Document) -> Rules {
        Rules { db, doc }
    }

    /// Which document this is.
    pub fn document(&self) -> d::Document {
        self.doc
    }

    fn stale(&self) -> Error {
        match self.doc {
            d::Document::Rules => Error::StaleRules,
            d::Document::Consent => Error::StaleConsent,
        }
    }

    /// The version in force, if one was published.
    pub async fn current(&self) -> Result<Option<d::RulesVersion>, Error> {
        Ok(self.db.documents(self.doc).current().await?)
    }

    /// One version; [`Error::NotFound`] when there is none such.
    pub async fn version(&self, version: i32) -> Result<d::RulesVersion, Error> {
        self.db
            .documents(self.doc)
            .version(version)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Every published version, newest first.
    pub async fn all(&self) -> Result<Vec<d::RulesVersion>, Error> {
        Ok(self.db.documents(self.doc).all().await?)
    }

    /// Every published version, newest first, with how many residents have
    /// accepted it as their latest, for the office.
    pub async fn with_acceptance(&self, by: By<'_>) -> Result<Vec<(d::RulesVersion, u64)>, Error> {
        by.require(Permission::Settings)?;
        let counts = self.db.documents(self.doc).acceptance().await?;
        Ok(self
            .db
            .documents(self.doc)
            .all()
            .await?
            .into_iter()
            .map(|v| {
                let n = counts.get(&v.version).copied().unwrap_or(0);
                (v, n)
            })
            .collect())
    }

    /// Records that the resident accepted `version`, which must be the one in
    /// force (otherwise [`Error::StaleRules`] or [`Error::StaleConsent`]); a
    /// resident who must still set a password cannot.
    pub async fn accept(&self, p: &Principal, version: i32, client: &Client) -> Result<(), Error> {
        if p.must_set_password() {
            return Err(Error::PasswordNotSet);
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if tx.documents(self.doc).current().await?.map(|r| r.version) != Some(version) {
            return Err(self.stale());
        }
        tx.users().set_accepted(p.user.id, self.doc, version).await?;
        let acceptance = kabinet_db::users::Acceptance {
            kind: self.doc.acceptance_kind(),
            version,
            ip: &client.ip,
            user_agent: &client.user_agent,
        };
        tx.users().add_acceptance(p.user.id, &acceptance, now).await?;
        tx.audit()
            .record(
                &client.entry(
                    match self.doc {
                        d::Document::Rules => d::AuditEvent::RulesAccepted,
                        d::Document::Consent => d::AuditEvent::ConsentGiven,
                    },
                    Some(p.user.id),
                    Some(p.user.account_id),
                    format!("version {version}"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes a new version (the next number) by the Organization; returns
    /// it. Residents who accepted an older one are asked at their next request.
    pub async fn publish(&self, by: By<'_>, title: &str, body: &str) -> Result<i32, Error> {
        by.require(Permission::Settings)?;
        let (title, body) = (title.trim(), body.trim());
        let mut problems = crate::FieldErrors::default();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            problems.add("title", d::Text::new("error-rules-title"));
        }
        if body.is_empty() || body.len() > MAX_BODY_BYTES {
            problems.add(
                "body",
                d::Text::new(match self.doc {
                    d::Document::Rules => "error-rules-body",
                    d::Document::Consent => "error-consent-body",
                }),
            );
        }
        problems.check()?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let version = tx.documents(self.doc).publish(title, body, now).await?;
        // Residents hear of it through the notifications.
        let job = crate::jobs::announcements::NotifyDocument {
            doc: match self.doc {
                d::Document::Rules => "rules".into(),
                d::Document::Consent => "consent".into(),
            },
            version,
            after: 0,
        };
        crate::jobs::enqueue(&tx, &job, now, now).await?;
        tx.audit()
            .record(
                &by.entry(
                    match self.doc {
                        d::Document::Rules => d::AuditEvent::RulesPublished,
                        d::Document::Consent => d::AuditEvent::ConsentPublished,
                    },
                    format!("version {version}"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(version)
    }
}
