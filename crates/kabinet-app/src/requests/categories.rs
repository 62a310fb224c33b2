//! The organization's request categories in the office (S4): the list
//! residents choose from, with each category's desk, emergency flag, own
//! deadline, place and whether it is offered. A category is switched off,
//! never deleted, and its code never changes: filed requests and the
//! queue's filter keep it. Changes are audited with the values before and
//! after, and every server offers the new list on its next form (the list
//! is read from the database each time).

use super::Requests;
use crate::staff::By;
use crate::{Error, FieldErrors};
use kabinet_db::Repos;
use kabinet_db::requests::StoredCategory;
use kabinet_domain as d;
use kabinet_domain::requests::{CategorySetting, Desk};
use kabinet_domain::staff::Permission;
use time::OffsetDateTime;

/// How a category reads in the audit log.
fn describe(c: &CategorySetting) -> String {
    let cat = &c.category;
    format!(
        "name \"{}\", desk {}, emergency {}, deadline {}, position {}, active {}",
        cat.name,
        cat.desk.as_str(),
        cat.emergency,
        cat.deadline_hours
            .map_or_else(|| "desk's".to_string(), |h| format!("{h} h")),
        c.position,
        c.active
    )
}

/// `c` with its name trimmed.
fn trimmed(c: &CategorySetting) -> CategorySetting {
    let mut c = c.clone();
    c.category.name = c.category.name.trim().to_string();
    c.category.code = c.category.code.trim().to_string();
    c
}

impl Requests {
    /// Every category, switched off or not, in the list's order.
    pub async fn all_categories(&self, by: By<'_>) -> Result<Vec<StoredCategory>, Error> {
        by.require(Permission::Settings)?;
        Ok(self.db.requests().all_categories().await?)
    }

    /// One category.
    pub async fn category(&self, by: By<'_>, id: i64) -> Result<StoredCategory, Error> {
        by.require(Permission::Settings)?;
        self.db.requests().category(id).await?.ok_or(Error::NotFound)
    }

    /// The deadline of a desk's requests when their category has none.
    pub fn desk_deadline(&self, desk: Desk) -> d::requests::DeskDeadline {
        self.settings.deadlines.of(desk)
    }

    /// Adds a category (`id` `None`) or changes category `id` (all but its
    /// code), after checking it ([`d::requests::check_category`]), a code
    /// not taken, and that residents keep at least one category to choose.
    /// Audited with the values before and after. Gives the row id.
    pub async fn save_category(
        &self,
        by: By<'_>,
        id: Option<i64>,
        c: &CategorySetting,
    ) -> Result<i64, Error> {
        by.require(Permission::Settings)?;
        let mut c = trimmed(c);
        let tx = self.db.begin().await?;
        let before = match id {
            Some(id) => {
                let stored = tx.requests().category(id).await?.ok_or(Error::NotFound)?;
                c.category.code = stored.setting.category.code.clone();
                Some(stored)
            }
            None => None,
        };
        let mut problems = FieldErrors::default();
        for p in d::requests::check_category(&c) {
            problems.add(p.field, p.text);
        }
        let others_active = tx
            .requests()
            .all_categories()
            .await?
            .iter()
            .any(|s| Some(s.id) != id && s.setting.active);
        if !c.active && !others_active {
            problems.add("active", d::Text::new("error-category-last-active"));
        }
        problems.check()?;
        let now = OffsetDateTime::now_utc();
        let code = c.category.code.clone();
        let (id, details) = match before {
            Some(before) => {
                if before.setting == c {
                    return Ok(before.id);
                }
                tx.requests().update_category(before.id, &c).await?;
                (
                    before.id,
                    format!(
                        "request category {code}: before: {}; after: {}",
                        describe(&before.setting),
                        describe(&c)
                    ),
                )
            }
            None => {
                let id = tx.requests().add_category(&c).await?.ok_or_else(|| {
                    Error::Invalid(FieldErrors::single(
                        "code",
                        d::Text::new("error-category-code-taken"),
                    ))
                })?;
                (id, format!("request category {code} added: {}", describe(&c)))
            }
        };
        tx.audit()
            .record(&by.entry(d::AuditEvent::OrgSettingsChanged, details), now)
            .await?;
        tx.commit().await?;
        Ok(id)
    }
}
