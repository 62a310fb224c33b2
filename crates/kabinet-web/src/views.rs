//! The page templates (askama, compiled and checked with the crate) and the
//! small helpers every page uses.

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kabinet_auth::Principal;

/// What the shared layout needs: whether someone is signed in and the CSRF
/// token for the sign-out form.
pub(crate) struct Layout {
    pub signed_in: bool,
    pub csrf: String,
}

impl Layout {
    pub fn new(state: &AppState, ctx: &Ctx) -> Layout {
        Layout {
            signed_in: ctx.principal.as_ref().is_some_and(|p| !p.must_set_password()),
            csrf: ctx.csrf(state),
        }
    }
}

/// Renders a template into a page response.
pub(crate) fn page<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(format!("template: {e}")).into_page(),
    }
}

/// Renders a template with a status other than 200.
pub(crate) fn page_with<T: Template>(status: axum::http::StatusCode, t: &T) -> Response {
    let mut res = page(t);
    *res.status_mut() = status;
    res
}

/// A 303 redirect (the answer to a successful form).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The signed-in resident who may use the cabinet; otherwise the page to go
/// to first: sign in, set a password, or accept new Rules.
pub(crate) fn resident(ctx: &Ctx) -> Result<&Principal, &'static str> {
    match &ctx.principal {
        None => Err("/login"),
        Some(p) => match next_step(p) {
            "/cabinet" => Ok(p),
            other => Err(other),
        },
    }
}

/// Where to go after signing in or finishing a step.
pub(crate) fn next_step(p: &Principal) -> &'static str {
    if p.must_set_password() {
        "/password/new"
    } else if p.rules_pending.is_some() {
        "/rules/accept"
    } else {
        "/cabinet"
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub layout: Layout,
    pub account: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
pub(crate) struct RegisterPage {
    pub layout: Layout,
    pub check_label: &'static str,
    pub check_hint: &'static str,
    pub check_example: &'static str,
    pub check_inputmode: &'static str,
    pub rules_version: Option<i32>,
    pub account: String,
    pub email: String,
    pub check: String,
    pub accept_rules: bool,
    pub consent: bool,
    pub has_errors: bool,
    pub account_error: Option<String>,
    pub email_error: Option<String>,
    pub check_error: Option<String>,
    pub rules_error: Option<String>,
    pub consent_error: Option<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
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

#[derive(Template)]
#[template(path = "reset_request.html")]
pub(crate) struct ResetRequestPage {
    pub layout: Layout,
    pub account: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "rules.html")]
pub(crate) struct RulesPage {
    pub layout: Layout,
    pub rules: Option<kabinet_domain::RulesVersion>,
    pub published: String,
    pub paragraphs: Vec<String>,
    pub accept: bool,
    pub others: Vec<(i32, String)>,
}

#[derive(Template)]
#[template(path = "cabinet.html")]
pub(crate) struct CabinetPage {
    pub layout: Layout,
    pub account: String,
    pub holder: String,
    pub address: String,
    pub balance_label: &'static str,
    pub balance: String,
    pub invoice: Option<(String, String, String)>,
    pub last_payment: Option<String>,
    pub receipts: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub layout: Layout,
    pub org: Option<kabinet_domain::Organization>,
}

/// `GET /assets/style.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/style.css"),
    )
        .into_response()
}

/// `DD.MM.YYYY`.
pub(crate) fn date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}
