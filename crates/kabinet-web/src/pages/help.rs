//! Help (R11): the user guide (the organization's own text when it put one
//! in the data folder), contacts and the Rules.

use super::{Layout, Link, Section, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kabinet_app::site::HelpSection;

/// The help page.
#[derive(Template)]
#[template(path = "help/help.html")]
pub(crate) struct HelpPage {
    pub layout: Layout,
    pub sections: Vec<HelpSection>,
    pub rules: Vec<Link>,
}

/// `GET /help`: open to everyone.
pub(crate) async fn show(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let tr = Tr::current();
    let rules = state
        .app
        .rules
        .all()
        .await?
        .into_iter()
        .map(|r| Link {
            text: tr.a2(
                "rules-version-link",
                ("v", &r.version.to_string()),
                ("title", &r.title),
            ),
            href: paths::rules_version(r.version),
        })
        .collect();
    page(&HelpPage {
        layout: Layout::section(&state, &ctx, Section::Help),
        sections: state.app.site.guide(tr.lang).await?,
        rules,
    })
}
