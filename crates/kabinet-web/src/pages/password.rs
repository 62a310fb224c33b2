//! Password pages: the resident's own password after a one-time one, a change,
//! and the reset by an e-mailed link (R2).

use super::auth::within_limit;
use super::{Layout, message, page, page_with, see_other};
use crate::AppState;
use crate::http::context::{Ctx, SESSION_COOKIE, set_cookie};
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::{ResidentPage, next_page};
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::auth::fields;
use serde::Deserialize;

/// A password form: first, change or reset.
#[derive(Template)]
#[template(path = "auth/password.html")]
pub(crate) struct PasswordPage {
    pub layout: Layout,
    pub title: &'static str,
    pub intro: Option<&'static str>,
    pub action: String,
    pub ask_current: bool,
    pub error: Option<String>,
    pub current_error: Option<String>,
    pub password_error: Option<String>,
    pub again_error: Option<String>,
}

/// The reset request page.
#[derive(Template)]
#[template(path = "auth/reset_request.html")]
pub(crate) struct ResetRequestPage {
    pub layout: Layout,
    pub account: String,
    pub error: Option<String>,
}

/// Fields of the password forms.
#[derive(Deserialize, Default)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// The reset request form's field.
#[derive(Deserialize, Default)]
pub(crate) struct ResetForm {
    #[serde(default)]
    account: String,
}

enum Kind {
    First,
    Change,
    Reset(String),
}

fn render(state: &AppState, ctx: &Ctx, kind: Kind, errors: Option<&Error>) -> Result<Response, PageError> {
    let (title, intro, action, ask_current) = match &kind {
        Kind::First => (
            "password-first-title",
            Some("password-first-intro"),
            paths::PASSWORD_NEW.to_string(),
            false,
        ),
        Kind::Change => (
            "password-change-title",
            None,
            paths::PASSWORD_CHANGE.to_string(),
            true,
        ),
        Kind::Reset(token) => (
            "password-reset-title",
            Some("password-reset-intro"),
            paths::password_reset_token(token),
            false,
        ),
    };
    let fields = match errors {
        Some(Error::Invalid(f)) => f.clone(),
        _ => Default::default(),
    };
    let error = match errors {
        Some(Error::Invalid(_)) => Some(crate::i18n::Tr::current().t("password-not-saved")),
        Some(e) => Some(say(&e.text())),
        None => None,
    };
    let status = if errors.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page_with(
        status,
        &PasswordPage {
            layout: Layout::new(state, ctx),
            title,
            intro,
            action,
            ask_current,
            error,
            current_error: fields.get(fields::CURRENT).map(say),
            password_error: fields.get(fields::PASSWORD).map(say),
            again_error: fields.get(fields::PASSWORD_AGAIN).map(say),
        },
    )
}

/// `GET /password/new`: after signing in with a one-time password.
pub(crate) async fn first_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    match &ctx.principal {
        None => Ok(see_other(paths::LOGIN)),
        Some(p) if !p.must_set_password() => Ok(see_other(next_page(p))),
        Some(_) => render(&state, &ctx, Kind::First, None),
    }
}

/// `POST /password/new`.
pub(crate) async fn first(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let Some(p) = ctx.principal.clone().filter(|p| p.must_set_password()) else {
        return Ok(see_other(paths::LOGIN));
    };
    match state
        .app
        .auth
        .set_own_password(&p, &form.password, &form.password_again, &ctx.client)
        .await
    {
        Ok(()) => {
            // The next step of the resident now that the password is set.
            let mut then = p.clone();
            then.session.restricted = false;
            Ok(see_other(crate::http::guard::next_page(&then)))
        }
        Err(e @ Error::Invalid(_)) => render(&state, &ctx, Kind::First, Some(&e)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /password/change`.
pub(crate) async fn change_page(
    State(state): State<AppState>,
    ctx: Ctx,
    _: ResidentPage,
) -> Result<Response, PageError> {
    render(&state, &ctx, Kind::Change, None)
}

/// `POST /password/change`: the other sessions end; this one stays.
pub(crate) async fn change(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .auth
        .change_password(
            &r,
            &form.current,
            &form.password,
            &form.password_again,
            &ctx.client,
        )
        .await
    {
        Ok(()) => message(
            &state,
            &ctx,
            "password-changed-title",
            &["password-changed-text"],
            Some(("to-account", paths::CABINET)),
        ),
        Err(e @ Error::Invalid(_)) => render(&state, &ctx, Kind::Change, Some(&e)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /password/reset`.
pub(crate) async fn reset_request_page(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, PageError> {
    page(&ResetRequestPage {
        layout: Layout::new(&state, &ctx),
        account: String::new(),
        error: None,
    })
}

/// `POST /password/reset`: the same answer whether or not the account has a user.
pub(crate) async fn reset_request(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, PageError> {
    within_limit(&state, &ctx).await?;
    match state.app.auth.request_reset(&form.account, &ctx.client).await {
        Ok(()) => Ok(see_other(paths::PASSWORD_RESET_SENT)),
        Err(Error::Invalid(f)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetRequestPage {
                layout: Layout::new(&state, &ctx),
                account: form.account.chars().take(32).collect(),
                error: f.get(fields::ACCOUNT).map(say),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

/// `GET /password/reset/sent`.
pub(crate) async fn reset_sent(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    message(
        &state,
        &ctx,
        "check-mail",
        &["reset-sent-1", "reset-sent-2"],
        Some(("sign-in", paths::LOGIN)),
    )
}

fn invalid_link(state: &AppState, ctx: &Ctx) -> Result<Response, PageError> {
    let mut res = message(
        state,
        ctx,
        "reset-invalid-title",
        &["reset-invalid-text"],
        Some(("reset-request-title", paths::PASSWORD_RESET)),
    )?;
    *res.status_mut() = StatusCode::GONE;
    Ok(res)
}

/// `GET /password/reset/{token}`: the form for a valid link.
pub(crate) async fn reset_form_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !state.app.auth.reset_token_valid(&token).await? {
        return invalid_link(&state, &ctx);
    }
    render(&state, &ctx, Kind::Reset(token), None)
}

/// `POST /password/reset/{token}`: sets the password and sends to sign-in.
pub(crate) async fn reset_complete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    within_limit(&state, &ctx).await?;
    match state
        .app
        .auth
        .complete_reset(&token, &form.password, &form.password_again, &ctx.client)
        .await
    {
        Ok(()) => {
            let mut res = message(
                &state,
                &ctx,
                "password-changed-title",
                &["password-reset-done"],
                Some(("login-submit", paths::LOGIN)),
            )?;
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, "", Some(0), state.web.cookie_secure),
            );
            Ok(res)
        }
        Err(Error::InvalidResetToken) => invalid_link(&state, &ctx),
        Err(e @ Error::Invalid(_)) => render(&state, &ctx, Kind::Reset(token), Some(&e)),
        Err(e) => Err(e.into()),
    }
}
