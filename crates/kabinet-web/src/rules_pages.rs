//! The Rules of service: the text in force, earlier versions, and accepting a
//! new version (R11, R15).

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfForm;
use crate::error::AppError;
use crate::views::{Layout, RulesPage, page, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use kabinet_auth::AuthError;
use kabinet_domain::RulesVersion;
use serde::Deserialize;

async fn rules_page(
    state: &AppState,
    ctx: &Ctx,
    rules: Option<RulesVersion>,
    accept: bool,
) -> Result<Response, AppError> {
    let others = state
        .db
        .rules_versions()
        .await?
        .into_iter()
        .filter(|r| rules.as_ref().is_none_or(|c| c.version != r.version))
        .map(|r| (r.version, r.title))
        .collect();
    let paragraphs = rules
        .as_ref()
        .map(|r| {
            r.body
                .split("\n\n")
                .map(|p| p.trim().replace('\n', " "))
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let published = rules
        .as_ref()
        .map(|r| crate::views::date(r.published_at.date()))
        .unwrap_or_default();
    Ok(page(&RulesPage {
        layout: Layout::new(state, ctx),
        rules,
        published,
        paragraphs,
        accept,
        others,
    }))
}

/// `GET /rules`: the version in force and links to earlier ones.
pub(crate) async fn current(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let rules = state.db.current_rules().await?;
    rules_page(&state, &ctx, rules, false).await
}

/// `GET /rules/{version}`: an earlier version.
pub(crate) async fn version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(version): Path<String>,
) -> Result<Response, AppError> {
    let v: i32 = version.parse().map_err(|_| AppError::NotFound)?;
    let rules = state.db.rules(v).await?.ok_or(AppError::NotFound)?;
    rules_page(&state, &ctx, Some(rules), false).await
}

/// `GET /rules/accept`: the new version with an accept button.
pub(crate) async fn accept_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    match &ctx.principal {
        None => return Ok(see_other("/login")),
        Some(p) if p.must_set_password() => return Ok(see_other("/password/new")),
        Some(p) if p.rules_pending.is_none() => return Ok(see_other("/cabinet")),
        Some(_) => {}
    }
    let rules = state.db.current_rules().await?;
    rules_page(&state, &ctx, rules, true).await
}

/// The accept form: the version the resident saw.
#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    version: String,
}

/// `POST /rules/accept`.
pub(crate) async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<Response, AppError> {
    let Some(p) = ctx.principal.clone().filter(|p| !p.must_set_password()) else {
        return Ok(see_other("/login"));
    };
    let version: i32 = form
        .version
        .parse()
        .map_err(|_| AppError::BadRequest("форма заполнена неверно".into()))?;
    match state.auth.accept_rules(&p, version, &ctx.client).await {
        Ok(()) | Err(AuthError::StaleRules) => Ok(see_other("/cabinet")),
        Err(AuthError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}
