//! Signing in and out (R2). Every form carries a CSRF token; sign-in is
//! limited per client address.

use super::{Layout, page, page_with, see_other};
use crate::AppState;
use crate::http::context::{Ctx, SESSION_COOKIE, set_cookie};
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::next_page;
use crate::paths;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use kabinet_app::Error;
use kabinet_domain::SessionKind;
use serde::Deserialize;

/// The sign-in page.
#[derive(Template)]
#[template(path = "auth/login.html")]
pub(crate) struct LoginPage {
    pub layout: Layout,
    pub account: String,
    pub error: Option<String>,
    pub demo: Option<String>,
}

/// The demo resident's sign-in, shown only on a demo database.
async fn demo_hint(state: &AppState) -> Option<String> {
    let login = state.app.site.demo_login().await.ok().flatten()?;
    let tr = crate::i18n::Tr::current();
    Some(tr.a2(
        "demo-hint",
        ("account", &login.account),
        ("password", &login.password),
    ))
}

/// The sign-in form's fields.
#[derive(Deserialize, Default)]
pub(crate) struct LoginForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
}

/// Refuses when this address is over its limit of sign-in, registration and
/// reset requests.
pub(crate) async fn within_limit(state: &AppState, ctx: &Ctx) -> Result<(), PageError> {
    if state.limiter.allow(&ctx.client.ip).await {
        Ok(())
    } else {
        tracing::warn!(ip = %ctx.client.ip, "per-address limit reached");
        Err(PageError::TooManyRequests)
    }
}

/// `GET /login`.
pub(crate) async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    if let Some(p) = &ctx.principal {
        return Ok(see_other(next_page(p)));
    }
    page(&LoginPage {
        layout: Layout::new(&state, &ctx),
        account: String::new(),
        error: None,
        demo: demo_hint(&state).await,
    })
}

/// `POST /login`: on success a new session cookie (the old session, if any,
/// ends) and the next step.
pub(crate) async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    within_limit(&state, &ctx).await?;
    if let Some(old) = &ctx.principal {
        state.app.auth.sign_out(old, &ctx.client).await?;
    }
    match state
        .app
        .auth
        .sign_in(&form.account, &form.password, SessionKind::Web, &ctx.client)
        .await
    {
        Ok(signed) => {
            let mut res = see_other(next_page(&signed.principal));
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &signed.token, None, state.web.cookie_secure),
            );
            Ok(res)
        }
        Err(e @ (Error::InvalidCredentials | Error::OneTimePasswordExpired | Error::Blocked)) => {
            let ctx = Ctx {
                principal: None,
                ..ctx
            };
            page_with(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    layout: Layout::new(&state, &ctx),
                    account: form.account.chars().take(32).collect(),
                    error: Some(say(&e.text())),
                    demo: demo_hint(&state).await,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`: ends the session and forgets the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    if let Some(p) = &ctx.principal {
        state.app.auth.sign_out(p, &ctx.client).await?;
    }
    let mut res = see_other(paths::LOGIN);
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), state.web.cookie_secure),
    );
    Ok(res)
}
