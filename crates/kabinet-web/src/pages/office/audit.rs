//! The audit log in the office (S5): filtered by actor, event, account and
//! period, paged, and downloadable as CSV (cells safe to open in a
//! spreadsheet; the download is itself audited).

use super::super::{page, pager};
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::charges::cell;
use crate::pages::console::Choice;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kabinet_app::office::AuditQuery as Ask;
use kabinet_domain::{Actor, AuditEvent};
use serde::{Deserialize, Serialize};
use time::macros::format_description;

/// The filters as the query string has them.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct AuditQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    actor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    event: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    account: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    to: String,
    #[serde(default, skip_serializing)]
    page: Option<u64>,
}

/// A line of the log as shown.
pub(crate) struct Line {
    pub at: String,
    pub actor: String,
    pub event: String,
    pub account: String,
    pub ip: String,
    pub details: String,
}

/// The page.
#[derive(Template)]
#[template(path = "office/audit.html")]
pub(crate) struct AuditLogPage {
    pub layout: StaffLayout,
    pub actors: Vec<Choice>,
    pub events: Vec<Choice>,
    pub account: String,
    pub from: String,
    pub to: String,
    pub unknown_account: bool,
    pub lines: Vec<Line>,
    pub total: String,
    pub csv: String,
    pub pager: Option<super::super::Pager>,
}

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

impl AuditQuery {
    /// What the use case is asked: unreadable values ask for nothing.
    fn ask(&self) -> Ask {
        let day = |v: &str| time::Date::parse(v.trim(), DAY).ok();
        Ask {
            actor: Actor::from_stored(self.actor.trim()),
            event: AuditEvent::from_stored(self.event.trim()),
            account: Some(self.account.trim().to_string()).filter(|a| !a.is_empty()),
            from: day(&self.from),
            to: day(&self.to),
        }
    }
}

fn query_string(q: &AuditQuery) -> String {
    serde_urlencoded::to_string(q).unwrap_or_default()
}

/// `GET /staff/audit`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let clock = state.app.accounts.clock();
    let page_no = q.page.unwrap_or(1).clamp(1, 100_000);
    let found = state.app.office.audit(by(&s, &ctx), &q.ask(), page_no).await?;
    let mut actors = vec![Choice {
        value: String::new(),
        label: tr.t("queue-any"),
        selected: q.actor.is_empty(),
    }];
    actors.extend(Actor::ALL.iter().map(|a| Choice {
        value: a.as_str().to_string(),
        label: tr.t(&format!("audit-actor-{}", a.as_str())),
        selected: q.actor == a.as_str(),
    }));
    let mut events = vec![Choice {
        value: String::new(),
        label: tr.t("queue-any"),
        selected: q.event.is_empty(),
    }];
    events.extend(AuditEvent::ALL.iter().map(|e| Choice {
        value: e.as_str().to_string(),
        label: event_label(&tr, e.as_str()),
        selected: q.event == e.as_str(),
    }));
    let base = query_string(&q);
    let p = &found;
    let (lines, total, pg) = (
        p.lines
            .iter()
            .map(|line| {
                let l = &line.record;
                Line {
                    at: tr.date_time(clock.local(l.at)),
                    actor: tr.t(&format!("audit-actor-{}", l.actor)),
                    event: event_label(&tr, &l.event),
                    account: line.account.clone().unwrap_or_default(),
                    ip: l.ip.clone(),
                    details: l.details.clone(),
                }
            })
            .collect(),
        p.total,
        pager(&tr, p.page, p.pages, |n| {
            let sep = if base.is_empty() { "" } else { "&" };
            format!("{}?{base}{sep}page={n}", paths::STAFF_AUDIT)
        }),
    );
    page(&AuditLogPage {
        layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_AUDIT),
        actors,
        events,
        account: q.account.chars().take(64).collect(),
        from: q.from.chars().take(10).collect(),
        to: q.to.chars().take(10).collect(),
        unknown_account: found.unknown_account,
        lines,
        total: tr.n("audit-total", i64::try_from(total).unwrap_or(i64::MAX)),
        csv: if base.is_empty() {
            paths::STAFF_AUDIT_CSV.to_string()
        } else {
            format!("{}?{base}", paths::STAFF_AUDIT_CSV)
        },
        pager: pg,
    })
}

/// `GET /staff/audit.csv`: the lines matching the filters (the newest
/// 100 000), semicolon-separated UTF-8 with a BOM, times in the
/// organization's offset.
pub(crate) async fn csv(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let clock = state.app.accounts.clock();
    let lines = state.app.office.audit_export(by(&s, &ctx), &q.ask()).await?;
    let mut out = String::from("\u{feff}");
    let head = [
        "audit-at",
        "audit-actor",
        "audit-event",
        "audit-account",
        "audit-ip",
        "audit-agent",
        "audit-details",
    ];
    out.push_str(&head.iter().map(|h| cell(&tr.t(h))).collect::<Vec<_>>().join(";"));
    out.push_str("\r\n");
    let stamp = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    for line in &lines {
        let l = &line.record;
        let row = [
            clock.local(l.at).format(stamp).unwrap_or_default(),
            cell(&l.actor),
            cell(&l.event),
            cell(line.account.as_deref().unwrap_or_default()),
            cell(&l.ip),
            cell(&l.user_agent),
            cell(&l.details),
        ];
        out.push_str(&row.join(";"));
        out.push_str("\r\n");
    }
    Ok(crate::http::files::csv("audit.csv", out))
}

/// An event's name in the reader's language (the stored name for one this
/// version does not know).
fn event_label(tr: &Tr, event: &str) -> String {
    let id = format!("audit-event-{}", event.replace('_', "-"));
    if tr.has(&id) { tr.t(&id) } else { event.to_string() }
}
