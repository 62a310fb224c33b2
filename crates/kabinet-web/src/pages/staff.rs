//! Staff sign-in (S5): the password at `/staff/login`, then the second factor
//! — at the first sign-in its enrolment, with the `otpauth://` URI drawn as
//! a QR code here (an SVG made on our side; the secret never leaves for a
//! third-party QR service) and the ten recovery codes shown once — then, after
//! a generated password, the member's own. The staff cookie is separate from
//! residents', sent only to `/staff` and SameSite=Strict.

use super::{page, page_with, see_other};
use crate::AppState;
use crate::http::context::{Ctx, staff_cookie};
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::StaffStep;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_domain::staff::StaffStage;
use serde::Deserialize;

/// What the staff layout needs.
pub(crate) struct StaffLayout {
    pub tr: Tr,
    pub csrf: String,
    pub org_name: String,
    pub member: Option<String>,
    /// The sections the member's role may use (empty during sign-in).
    pub nav: Vec<super::NavItem>,
}

impl StaffLayout {
    pub fn new(state: &AppState, ctx: &Ctx) -> StaffLayout {
        let tr = Tr::current();
        let ready = ctx
            .staff
            .as_ref()
            .filter(|s| s.session.stage == StaffStage::Ready);
        let nav = ready.map_or_else(Vec::new, |s| {
            super::office::NAV
                .iter()
                .filter(|(_, need, _)| need.allows(s.member.role))
                .map(|(href, _, text)| super::NavItem {
                    text: tr.t(text),
                    href: (*href).to_string(),
                    current: false,
                })
                .collect()
        });
        StaffLayout {
            csrf: ctx.csrf(state),
            org_name: ctx
                .org
                .as_ref()
                .map_or_else(|| tr.t("site-name"), |o| o.short_name.clone()),
            member: ctx.staff.as_ref().map(|s| s.member.name.clone()),
            nav,
            tr,
        }
    }

    /// Marks the section at `path` as the current one.
    pub fn at(mut self, path: &str) -> StaffLayout {
        for item in &mut self.nav {
            item.current = item.href == path;
        }
        self
    }
}

/// The sign-in form.
#[derive(Template)]
#[template(path = "staff/login.html")]
pub(crate) struct LoginPage {
    pub layout: StaffLayout,
    pub error: Option<String>,
    pub login: String,
}

/// `GET /staff/login`.
pub(crate) async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    page(&LoginPage {
        layout: StaffLayout::new(&state, &ctx),
        error: None,
        login: String::new(),
    })
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// `POST /staff/login`: the password; on success the second factor is next.
pub(crate) async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    if !state.limiter.allow(&ctx.client.ip).await {
        return Err(PageError::TooManyRequests);
    }
    match state
        .app
        .staff
        .sign_in(&f.login, &f.password, &ctx.client, ctx.staff.as_ref())
        .await
    {
        Ok(token) => {
            let mut res = see_other(paths::STAFF_SECOND_FACTOR);
            res.headers_mut().append(
                header::SET_COOKIE,
                staff_cookie(&token, false, state.web.cookie_secure),
            );
            Ok(res)
        }
        Err(e @ (Error::InvalidCredentials | Error::StaffPasswordExpired)) => page_with(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                layout: StaffLayout::new(&state, &ctx),
                error: Some(match e {
                    Error::StaffPasswordExpired => say(&e.text()),
                    _ => Tr::current().t("staff-login-failed"),
                }),
                login: f.login.chars().take(64).collect(),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

/// The second factor, or its enrolment.
#[derive(Template)]
#[template(path = "staff/second_factor.html")]
pub(crate) struct SecondFactorPage {
    pub layout: StaffLayout,
    pub error: Option<String>,
    pub enrol: Option<(String, String)>,
}

/// Draws `text` as a QR code in SVG (the enrolment URI, the sandbox's СБП
/// page).
pub(crate) fn qr_svg(text: &str) -> Result<String, Error> {
    let qr = fast_qr::QRBuilder::new(text)
        .ecl(fast_qr::ECL::M)
        .build()
        .map_err(|e| Error::Internal(format!("QR: {e:?}")))?;
    Ok(fast_qr::convert::svg::SvgBuilder::default().to_str(&qr))
}

async fn second_factor_page(
    state: &AppState,
    ctx: &Ctx,
    p: &kabinet_app::staff::StaffPrincipal,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let enrol = if p.member.totp_enabled {
        None
    } else {
        let e = state.app.staff.enrolment(p).await?;
        Some((qr_svg(&e.uri)?, e.secret))
    };
    page_with(
        status,
        &SecondFactorPage {
            layout: StaffLayout::new(state, ctx),
            error,
            enrol,
        },
    )
}

fn step_page(stage: StaffStage) -> &'static str {
    match stage {
        StaffStage::SecondFactor => paths::STAFF_SECOND_FACTOR,
        StaffStage::SetPassword => paths::STAFF_PASSWORD,
        StaffStage::Ready => paths::STAFF,
    }
}

/// `GET /staff/second-factor`.
pub(crate) async fn second_factor_form(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffStep(p): StaffStep,
) -> Result<Response, PageError> {
    if p.session.stage != StaffStage::SecondFactor {
        return Ok(see_other(step_page(p.session.stage)));
    }
    second_factor_page(&state, &ctx, &p, StatusCode::OK, None).await
}

/// The code form.
#[derive(Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
}

/// The recovery codes, shown once after enrolment.
#[derive(Template)]
#[template(path = "staff/codes.html")]
pub(crate) struct CodesPage {
    pub layout: StaffLayout,
    pub codes: Vec<String>,
    pub next: &'static str,
}

/// `POST /staff/second-factor`: a TOTP code, or a recovery code.
pub(crate) async fn second_factor(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffStep(p): StaffStep,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    if !state.limiter.allow(&ctx.client.ip).await {
        return Err(PageError::TooManyRequests);
    }
    match state.app.staff.second_factor(&p, &f.code, &ctx.client).await {
        Ok(passed) => {
            // The session id changes once both factors passed.
            let cookie = staff_cookie(&passed.token, false, state.web.cookie_secure);
            let mut res = if passed.recovery_codes.is_empty() {
                see_other(step_page(passed.stage))
            } else {
                page(&CodesPage {
                    layout: StaffLayout::new(&state, &ctx),
                    codes: passed.recovery_codes,
                    next: step_page(passed.stage),
                })?
            };
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e @ Error::InvalidCode) => {
            second_factor_page(&state, &ctx, &p, StatusCode::UNAUTHORIZED, Some(say(&e.text()))).await
        }
        Err(Error::Forbidden) => Ok(see_other(step_page(p.session.stage))),
        Err(e) => Err(e.into()),
    }
}

/// The own-password form.
#[derive(Template)]
#[template(path = "staff/password.html")]
pub(crate) struct PasswordPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
}

/// `GET /staff/password`.
pub(crate) async fn password_form(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffStep(p): StaffStep,
) -> Result<Response, PageError> {
    if p.session.stage != StaffStage::SetPassword {
        return Ok(see_other(step_page(p.session.stage)));
    }
    page(&PasswordPage {
        layout: StaffLayout::new(&state, &ctx),
        errors: Vec::new(),
    })
}

/// The own-password form's fields.
#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// `POST /staff/password`.
pub(crate) async fn password(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffStep(p): StaffStep,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .staff
        .set_password(&p, &f.password, &f.password_again, &ctx.client)
        .await
    {
        Ok(()) => Ok(see_other(paths::STAFF)),
        Err(Error::Invalid(fe)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                layout: StaffLayout::new(&state, &ctx),
                errors: fe.iter().map(|(_, m)| say(m)).collect(),
            },
        ),
        Err(Error::Forbidden) => Ok(see_other(step_page(p.session.stage))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /staff/logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    if let Some(p) = &ctx.staff {
        state.app.staff.sign_out(p, &ctx.client).await?;
    }
    let mut res = see_other(paths::STAFF_LOGIN);
    res.headers_mut().append(
        header::SET_COOKIE,
        staff_cookie("", true, state.web.cookie_secure),
    );
    Ok(res.into_response())
}
