//! Announcements and outages (B2) for residents: those in force for their
//! buildings and those ended in the last 90 days. Emergencies and outages in
//! force are also pinned on every page (the layout's banner).

use super::{Layout, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::pages::office::announcements::{kind_text, service_text};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kabinet_domain::announcements::Announcement;

/// An announcement as a resident reads it.
pub(crate) struct Item {
    pub title: String,
    pub what: String,
    pub when: String,
    pub paragraphs: Vec<String>,
    pub urgent: bool,
}

/// The page.
#[derive(Template)]
#[template(path = "announcements/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub current: Vec<Item>,
    pub past: Vec<Item>,
}

/// What an announcement is and when, in the reader's words: "Плановое
/// отключение: холодная вода, 7 декабря 10:00 — 7 декабря 18:00".
pub(crate) fn describe(state: &AppState, tr: &Tr, a: &Announcement) -> (String, String) {
    let clock = state.app.accounts.clock();
    let at = |t| tr.date_time(clock.local(t));
    let what = match a.service {
        Some(s) => format!("{}: {}", kind_text(tr, a.kind), service_text(tr, s)),
        None => kind_text(tr, a.kind),
    };
    let when = match a.ends_at {
        Some(e) => tr.a2("announcement-when", ("from", &at(a.starts_at)), ("until", &at(e))),
        None => tr.a("announcement-since", "from", &at(a.starts_at)),
    };
    (what, when)
}

fn item(state: &AppState, tr: &Tr, a: Announcement) -> Item {
    let (what, when) = describe(state, tr, &a);
    Item {
        urgent: a.kind.pinned(),
        paragraphs: a
            .body
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        title: a.title,
        what,
        when,
    }
}

/// `GET /announcements`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let (current, past) = state.app.announcements.for_resident(r.user.id).await?;
    page(&ListPage {
        layout: Layout::new(&state, &ctx),
        current: current.into_iter().map(|a| item(&state, &tr, a)).collect(),
        past: past.into_iter().map(|a| item(&state, &tr, a)).collect(),
    })
}
