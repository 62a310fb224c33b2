//! The residents' user guide in the office (S4): the text of each language,
//! previewed as residents will read it, then saved (empty: the built-in
//! guide again). A language a file in the help folder gives is read-only.

use super::super::page_with;
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::site::{HelpSection, parse_guide};
use kabinet_app::staff::StaffUser;
use kabinet_domain::Language;
use serde::Deserialize;

/// One language's text on the page.
pub(crate) struct GuideField {
    pub code: &'static str,
    pub label: String,
    pub text: String,
    pub fixed: bool,
    pub preview: Option<Vec<HelpSection>>,
}

/// The page.
#[derive(Template)]
#[template(path = "office/help.html")]
pub(crate) struct HelpPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub errors: Vec<String>,
    pub guides: Vec<GuideField>,
    pub any_fixed: bool,
}

/// The form: each language's text, and `preview` or `save`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HelpForm {
    guide_ru: Option<String>,
    guide_en: Option<String>,
    #[serde(default)]
    intent: String,
}

impl HelpForm {
    fn text(&self, lang: Language) -> Option<&String> {
        match lang {
            Language::Ru => self.guide_ru.as_ref(),
            Language::En => self.guide_en.as_ref(),
        }
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    status: StatusCode,
    errors: Vec<String>,
    typed: Option<&HelpForm>,
    saved: bool,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let preview = typed.is_some_and(|f| f.intent == "preview");
    let guides: Vec<GuideField> = state
        .app
        .office
        .guides(by(s, ctx))
        .await?
        .into_iter()
        .map(|g| {
            let text = typed
                .and_then(|f| f.text(g.lang))
                .filter(|_| !g.fixed)
                .cloned()
                .unwrap_or(g.text);
            GuideField {
                code: g.lang.code(),
                label: tr.t(match g.lang {
                    Language::Ru => "help-guide-ru",
                    Language::En => "help-guide-en",
                }),
                preview: preview.then(|| parse_guide(&text)),
                text,
                fixed: g.fixed,
            }
        })
        .collect();
    page_with(
        status,
        &HelpPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_HELP),
            saved,
            errors,
            any_fixed: guides.iter().any(|g| g.fixed),
            guides,
        },
    )
}

/// `GET /staff/help`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<super::SavedQuery>,
) -> Result<Response, PageError> {
    render(&state, &ctx, &s, StatusCode::OK, Vec::new(), None, q.saved()).await
}

/// `POST /staff/help`: `intent=preview` shows the texts as residents will
/// read them (nothing is stored); `intent=save` stores them.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<HelpForm>,
) -> Result<Response, PageError> {
    match f.intent.as_str() {
        "preview" => render(&state, &ctx, &s, StatusCode::OK, Vec::new(), Some(&f), false).await,
        "save" => {
            let texts: Vec<(Language, String)> = Language::ALL
                .into_iter()
                .filter_map(|l| f.text(l).map(|t| (l, t.clone())))
                .collect();
            match state.app.office.save_guides(by(&s, &ctx), &texts).await {
                Ok(()) => Ok(super::SavedQuery::back_to(paths::STAFF_HELP)),
                Err(e) => {
                    let (status, errors) = refusal(e)?;
                    render(&state, &ctx, &s, status, errors, Some(&f), false).await
                }
            }
        }
        _ => Err(PageError::BadRequest("error-form-malformed")),
    }
}
