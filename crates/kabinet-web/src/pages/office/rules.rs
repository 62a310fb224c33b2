//! The Rules of service (R15) and the personal-data consent (B8) in the
//! office, one page each: every version with how many residents accepted it
//! as their latest, and a new version — previewed as residents will read it,
//! then published. Residents accept it at their next request.

use super::super::{page_with, see_other};
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::rules::{Kind, Sheet};
use crate::pages::staff::StaffLayout;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

/// A published version in the list.
pub(crate) struct VersionRow {
    pub version: i32,
    pub href: String,
    pub title: String,
    pub published: String,
    pub accepted: String,
}

/// The page.
#[derive(Template)]
#[template(path = "office/rules.html")]
pub(crate) struct RulesPage {
    pub layout: StaffLayout,
    pub sheet: &'static Sheet,
    pub errors: Vec<String>,
    pub versions: Vec<VersionRow>,
    pub title: String,
    pub body: String,
    pub preview: Option<Vec<String>>,
}

/// The form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RulesForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// `preview` or `publish`.
    #[serde(default)]
    intent: String,
}

async fn render<K: Kind>(
    state: &AppState,
    ctx: &Ctx,
    s: &kabinet_app::staff::StaffUser,
    status: StatusCode,
    errors: Vec<String>,
    f: &RulesForm,
    preview: Option<Vec<String>>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let sheet = K::SHEET;
    let clock = state.app.accounts.clock();
    let versions = state
        .app
        .document(sheet.doc)
        .with_acceptance(by(s, ctx))
        .await?
        .into_iter()
        .map(|(v, n)| VersionRow {
            version: v.version,
            href: (sheet.version_path)(v.version),
            title: v.title,
            published: tr.date_time(clock.local(v.published_at)),
            accepted: n.to_string(),
        })
        .collect();
    page_with(
        status,
        &RulesPage {
            layout: StaffLayout::new(state, ctx).at(sheet.office_path),
            sheet,
            errors,
            versions,
            title: f.title.clone(),
            body: f.body.clone(),
            preview,
        },
    )
}

/// `GET /staff/rules`, `GET /staff/consent`.
pub(crate) async fn show<K: Kind>(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
) -> Result<Response, PageError> {
    render::<K>(
        &state,
        &ctx,
        &s,
        StatusCode::OK,
        Vec::new(),
        &RulesForm::default(),
        None,
    )
    .await
}

/// `POST /staff/rules`, `POST /staff/consent`: `intent=preview` shows the
/// text as residents will read it (nothing is stored); `intent=publish`
/// publishes it.
pub(crate) async fn publish<K: Kind>(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<RulesForm>,
) -> Result<Response, PageError> {
    match f.intent.as_str() {
        "preview" => {
            let preview = crate::pages::rules::paragraphs(&f.body);
            render::<K>(&state, &ctx, &s, StatusCode::OK, Vec::new(), &f, Some(preview)).await
        }
        "publish" => match state
            .app
            .document(K::SHEET.doc)
            .publish(by(&s, &ctx), &f.title, &f.body)
            .await
        {
            Ok(_) => Ok(see_other(K::SHEET.office_path)),
            Err(e) => {
                let (status, errors) = refusal(e)?;
                render::<K>(&state, &ctx, &s, status, errors, &f, None).await
            }
        },
        _ => Err(PageError::BadRequest("error-form-malformed")),
    }
}
