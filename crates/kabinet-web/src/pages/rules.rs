//! The Rules of service: the text in force, earlier versions, and accepting a
//! new version (R11, R15).

use super::{Layout, Link, page, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::PageError;
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use kabinet_app::Error;
use kabinet_domain::RulesVersion;
use serde::Deserialize;

/// A version of the Rules, with the other versions and, when the resident
/// must accept it, the accept button.
#[derive(Template)]
#[template(path = "rules/rules.html")]
pub(crate) struct RulesPage {
    pub layout: Layout,
    pub rules: Option<RulesVersion>,
    pub edition: String,
    pub paragraphs: Vec<String>,
    pub accept: bool,
    pub others: Vec<Link>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    rules: Option<RulesVersion>,
    accept: bool,
) -> Result<Response, PageError> {
    let tr = crate::i18n::Tr::current();
    let others = state
        .app
        .rules
        .all()
        .await?
        .into_iter()
        .filter(|r| rules.as_ref().is_none_or(|c| c.version != r.version))
        .map(|r| Link {
            text: tr.a2(
                "rules-version-link",
                ("v", &r.version.to_string()),
                ("title", &r.title),
            ),
            href: paths::rules_version(r.version),
        })
        .collect();
    let paragraphs = rules.as_ref().map(|r| paragraphs(&r.body)).unwrap_or_default();
    let edition = rules
        .as_ref()
        .map(|r| {
            tr.a2(
                "rules-edition-since",
                ("v", &r.version.to_string()),
                ("date", &tr.date(state.app.accounts.clock().today(r.published_at))),
            )
        })
        .unwrap_or_default();
    page(&RulesPage {
        layout: Layout::new(state, ctx),
        rules,
        edition,
        paragraphs,
        accept,
        others,
    })
}

/// `GET /rules`: the version in force and links to earlier ones.
pub(crate) async fn current(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let rules = state.app.rules.current().await?;
    render(&state, &ctx, rules, false).await
}

/// `GET /rules/{version}`: an earlier version.
pub(crate) async fn version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(version): Path<String>,
) -> Result<Response, PageError> {
    let v: i32 = version
        .parse()
        .map_err(|_| PageError::NotFound("error-rules-version-unknown"))?;
    let rules = match state.app.rules.version(v).await {
        Err(Error::NotFound) => return Err(PageError::NotFound("error-rules-version-unknown")),
        other => other?,
    };
    render(&state, &ctx, Some(rules), false).await
}

/// `GET /rules/accept`: the new version with an accept button.
pub(crate) async fn accept_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    match &ctx.principal {
        None => return Ok(see_other(paths::LOGIN)),
        Some(p) if p.must_set_password() => return Ok(see_other(paths::PASSWORD_NEW)),
        Some(p) if p.rules_pending.is_none() => return Ok(see_other(paths::CABINET)),
        Some(_) => {}
    }
    let rules = state.app.rules.current().await?;
    render(&state, &ctx, rules, true).await
}

/// The accept form: the version the resident saw.
#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    version: String,
}

/// `POST /rules/accept`: a version that is no longer the one in force sends
/// back to the cabinet, which asks for the new one.
pub(crate) async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<Response, PageError> {
    let Some(p) = ctx.principal.clone().filter(|p| !p.must_set_password()) else {
        return Ok(see_other(paths::LOGIN));
    };
    let version: i32 = form
        .version
        .parse()
        .map_err(|_| PageError::BadRequest("error-form-malformed"))?;
    match state.app.rules.accept(&p, version, &ctx.client).await {
        Ok(()) | Err(Error::StaleRules) => Ok(see_other(paths::CABINET)),
        Err(e) => Err(e.into()),
    }
}

/// The paragraphs of a Rules text: blank lines separate them, single line
/// breaks join (the office's preview shows them the same way).
pub(crate) fn paragraphs(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .collect()
}
