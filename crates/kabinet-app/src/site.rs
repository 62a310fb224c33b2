//! What every portal page shows besides its own content: the organization's
//! name and contacts, a closing announced or in force (R14), the demo
//! sign-in on a demo database, and the help texts (R11). Each is read from
//! the database at most every few seconds per process.

use crate::Error;
use crate::cache::Cached;
use crate::staff::By;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::staff::Permission;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// The name e-mails to residents are signed with: the organization's short
/// name, or the portal's own name before one is set up.
pub(crate) async fn sender_name(db: &Db) -> Result<String, kabinet_db::DbError> {
    Ok(db
        .organization()
        .current()
        .await?
        .map_or_else(|| "Личный кабинет абонента".to_string(), |o| o.short_name))
}

/// How long the organization and the closing are kept between reads; a
/// closing set on one server reaches the others within this time.
pub const REFRESH: Duration = Duration::from_secs(5);

/// The demo resident's e-mail (marks the user `kabinet demo` creates).
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo resident's password, shown on a demo database's sign-in page.
pub const DEMO_PASSWORD: &str = "demo-kabinet-2026";

/// The sign-in of the demo resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// The account number to sign in with.
    pub account: String,
    /// The password.
    pub password: String,
}

/// A section of the user guide: a heading, paragraphs and list items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpSection {
    /// Heading.
    pub title: String,
    /// Blocks in order.
    pub blocks: Vec<HelpBlock>,
}

/// A block of a help section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpBlock {
    /// A paragraph.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
}

/// Parses a guide: `## Heading` starts a section, blank lines separate
/// paragraphs, lines starting with `- ` are list items. Plain text only:
/// pages escape everything.
pub fn parse_guide(text: &str) -> Vec<HelpSection> {
    let mut sections: Vec<HelpSection> = Vec::new();
    let mut para = String::new();
    let flush = |sections: &mut Vec<HelpSection>, para: &mut String| {
        if !para.trim().is_empty()
            && let Some(s) = sections.last_mut()
        {
            s.blocks.push(HelpBlock::Paragraph(para.trim().to_string()));
        }
        para.clear();
    };
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(title) = line.strip_prefix("## ") {
            flush(&mut sections, &mut para);
            sections.push(HelpSection {
                title: title.trim().to_string(),
                blocks: Vec::new(),
            });
        } else if let Some(item) = line.strip_prefix("- ") {
            flush(&mut sections, &mut para);
            if let Some(s) = sections.last_mut() {
                match s.blocks.last_mut() {
                    Some(HelpBlock::List(items)) => items.push(item.trim().to_string()),
                    _ => s.blocks.push(HelpBlock::List(vec![item.trim().to_string()])),
                }
            }
        } else if line.trim().is_empty() {
            flush(&mut sections, &mut para);
        } else {
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(line.trim());
        }
    }
    flush(&mut sections, &mut para);
    sections
}

/// The shared facts of portal pages.
#[derive(Clone)]
pub struct Site {
    db: Db,
    org: Arc<Cached<Option<d::Organization>>>,
    suspension: Arc<Cached<Option<d::Suspension>>>,
    configured: Option<d::Suspension>,
    demo: Arc<Cached<Option<DemoLogin>>>,
    guides: Arc<HashMap<d::Language, Guide>>,
    stored_guides: Arc<Cached<OwnGuides>>,
}

/// The office's own guides by language.
type OwnGuides = Arc<HashMap<d::Language, Vec<HelpSection>>>;

/// A language's guide as the server starts with it: the file in the help
/// folder (then fixed: the office cannot change it) or the built-in text.
#[derive(Debug, Clone)]
struct Guide {
    text: String,
    sections: Vec<HelpSection>,
    fixed: bool,
}

/// The key of the office's own guide text in `lang`.
pub fn guide_key(lang: d::Language) -> String {
    format!("help.guide.{}", lang.code())
}

/// The longest guide text the office may store, in bytes per language.
pub const MAX_GUIDE_BYTES: usize = 100_000;

/// A language's guide as the office edits it.
#[derive(Debug, Clone)]
pub struct GuideText {
    /// The language.
    pub lang: d::Language,
    /// The text in force (the office's, or the file's, or the built-in one).
    pub text: String,
    /// Whether the office's own text is in force.
    pub own: bool,
    /// Whether a file in the help folder gives it (the office cannot change it).
    pub fixed: bool,
}

impl Site {
    /// Over `db`; `configured` is a closing from the configuration (it wins
    /// over one set with `kabinet suspend`); guides come from
    /// `<help_dir>/guide.<lang>.txt` when present, else the built-in ones.
    pub fn new(db: Db, configured: Option<d::Suspension>, help_dir: Option<&Path>) -> Site {
        let mut guides = HashMap::new();
        for lang in d::Language::ALL {
            let builtin = match lang {
                d::Language::Ru => include_str!("../help/guide.ru.txt"),
                d::Language::En => include_str!("../help/guide.en.txt"),
            };
            let file = help_dir
                .map(|dir| dir.join(format!("guide.{}.txt", lang.code())))
                .and_then(|p| std::fs::read_to_string(p).ok());
            let fixed = file.is_some();
            let text = file.unwrap_or_else(|| builtin.to_string());
            let sections = parse_guide(&text);
            guides.insert(
                lang,
                Guide {
                    text,
                    sections,
                    fixed,
                },
            );
        }
        Site {
            db,
            org: Arc::new(Cached::new(REFRESH)),
            suspension: Arc::new(Cached::new(REFRESH)),
            configured,
            demo: Arc::new(Cached::new(REFRESH * 12)),
            guides: Arc::new(guides),
            stored_guides: Arc::new(Cached::new(REFRESH)),
        }
    }

    /// The organization, if one was set up.
    pub async fn organization(&self) -> Result<Option<d::Organization>, Error> {
        if let Some(o) = self.org.fresh() {
            return Ok(o);
        }
        let o = self.db.organization().current().await?;
        self.org.store(o.clone());
        Ok(o)
    }

    /// Forgets the cached organization (after the office changed it here;
    /// other servers read it again within [`REFRESH`]).
    pub fn forget_organization(&self) {
        self.org.clear();
    }

    /// The closing in force or announced, if any.
    pub async fn suspension(&self) -> Result<Option<d::Suspension>, Error> {
        if self.configured.is_some() {
            return Ok(self.configured.clone());
        }
        if let Some(s) = self.suspension.fresh() {
            return Ok(s);
        }
        let s = self.db.suspensions().current().await?;
        self.suspension.store(s.clone());
        Ok(s)
    }

    /// Announces or sets a closing (the CLI, the office's closing page),
    /// audited. It must end after it starts; the message is clipped to
    /// [`d::Suspension::MAX_MESSAGE`].
    pub async fn suspend(&self, by: By<'_>, s: &d::Suspension) -> Result<(), Error> {
        by.require(Permission::Settings)?;
        if s.ends_at.is_some_and(|e| e <= s.starts_at) {
            return Err(Error::Invalid(crate::FieldErrors::single(
                "until",
                d::Text::new("error-closing-ends-before"),
            )));
        }
        let s = &d::Suspension {
            message: s
                .message
                .trim()
                .chars()
                .take(d::Suspension::MAX_MESSAGE)
                .collect(),
            ..s.clone()
        };
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.suspensions().set(s, now).await?;
        let details = format!(
            "from {} until {}: {}",
            s.starts_at,
            s.ends_at.map_or_else(|| "lifted".to_string(), |e| e.to_string()),
            s.message
        );
        tx.audit()
            .record(&by.entry(d::AuditEvent::SuspensionSet, details), now)
            .await?;
        tx.commit().await?;
        self.suspension.clear();
        Ok(())
    }

    /// Lifts any closing, audited.
    pub async fn resume(&self, by: By<'_>) -> Result<(), Error> {
        by.require(Permission::Settings)?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.suspensions().clear().await?;
        tx.audit()
            .record(&by.entry(d::AuditEvent::SuspensionLifted, ""), now)
            .await?;
        tx.commit().await?;
        self.suspension.clear();
        Ok(())
    }

    /// The demo resident's sign-in while the database is a demo database.
    pub async fn demo_login(&self) -> Result<Option<DemoLogin>, Error> {
        if let Some(d) = self.demo.fresh() {
            return Ok(d);
        }
        let mut login = None;
        if self.db.organization().is_demo().await?
            && let Ok(email) = d::EmailAddress::parse(DEMO_EMAIL)
            && let Some(u) = self.db.users().by_email(&email).await?
        {
            login = Some(DemoLogin {
                account: u.account_number.to_string(),
                password: DEMO_PASSWORD.to_string(),
            });
        }
        self.demo.store(login.clone());
        Ok(login)
    }

    /// The office's own guide texts (by language), read at most once per
    /// [`REFRESH`].
    async fn stored_guides(&self) -> Result<OwnGuides, Error> {
        if let Some(g) = self.stored_guides.fresh() {
            return Ok(g);
        }
        let stored = self.db.org_settings().all().await?;
        let mut own = HashMap::new();
        for lang in d::Language::ALL {
            let key = guide_key(lang);
            if let Some((_, text)) = stored.iter().find(|(k, v)| *k == key && !v.trim().is_empty()) {
                own.insert(lang, parse_guide(text));
            }
        }
        let own = Arc::new(own);
        self.stored_guides.store(own.clone());
        Ok(own)
    }

    /// The user guide in `lang`: the office's own text when it wrote one
    /// (and no file in the help folder fixes it), else the file's or the
    /// built-in one.
    pub async fn guide(&self, lang: d::Language) -> Result<Vec<HelpSection>, Error> {
        let start = self.guides.get(&lang);
        if start.is_none_or(|g| !g.fixed)
            && let Some(own) = self.stored_guides().await?.get(&lang)
        {
            return Ok(own.clone());
        }
        Ok(start.map(|g| g.sections.clone()).unwrap_or_default())
    }

    /// Every language's guide as the office edits it.
    pub(crate) async fn guide_texts(&self) -> Result<Vec<GuideText>, Error> {
        let stored = self.db.org_settings().all().await?;
        Ok(d::Language::ALL
            .into_iter()
            .map(|lang| {
                let start = self.guides.get(&lang);
                let fixed = start.is_some_and(|g| g.fixed);
                let key = guide_key(lang);
                let own = stored
                    .iter()
                    .find(|(k, v)| *k == key && !v.trim().is_empty())
                    .filter(|_| !fixed)
                    .map(|(_, v)| v.clone());
                GuideText {
                    lang,
                    own: own.is_some(),
                    text: own.unwrap_or_else(|| start.map(|g| g.text.clone()).unwrap_or_default()),
                    fixed,
                }
            })
            .collect())
    }

    /// Forgets the cached guides (after the office changed them here; other
    /// servers read them again within [`REFRESH`]).
    pub(crate) fn forget_guides(&self) {
        self.stored_guides.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_sections_paragraphs_and_lists() {
        let g = parse_guide("## One\nfirst\nline\n\n- a\n- b\nafter\n## Two\n\ntext");
        assert_eq!(g.len(), 2);
        assert_eq!(
            g[0].blocks,
            vec![
                HelpBlock::Paragraph("first line".into()),
                HelpBlock::List(vec!["a".into(), "b".into()]),
                HelpBlock::Paragraph("after".into()),
            ]
        );
        assert_eq!(g[1].title, "Two");
    }

    #[test]
    fn built_in_guides_cover_the_topics() {
        for text in [
            include_str!("../help/guide.ru.txt"),
            include_str!("../help/guide.en.txt"),
        ] {
            let topics = parse_guide(text);
            assert_eq!(topics.len(), 7);
            let all: String = topics.iter().map(|t| format!("{t:?}")).collect();
            assert!(
                !all.contains("coming soon") && !all.contains("в ближайшее время"),
                "card payment is here"
            );
        }
    }
}
