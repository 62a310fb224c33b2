//! The pages for browsers (askama templates, no JavaScript needed): a
//! handler and its view struct per page, templates in `templates/<group>/`
//! sharing `templates/layout/base.html`. Routes come in groups — public,
//! signed-in steps, and the resident group guarded once by
//! [`crate::http::guard::require_resident`].

pub(crate) mod auth;
pub(crate) mod cabinet;
pub(crate) mod health;
pub(crate) mod home;
pub(crate) mod password;
pub(crate) mod registration;
pub(crate) mod rules;

use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::paths;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};

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
pub(crate) fn page<T: Template>(t: &T) -> Result<Response, PageError> {
    page_with(StatusCode::OK, t)
}

/// Renders a template with a status other than 200.
pub(crate) fn page_with<T: Template>(status: StatusCode, t: &T) -> Result<Response, PageError> {
    let html = t
        .render()
        .map_err(|e| kabinet_app::Error::Internal(format!("template: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// A 303 redirect (the answer to a successful form).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A page of a few paragraphs and an optional link.
#[derive(Template)]
#[template(path = "layout/message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<Link>,
}

/// A link on a page.
pub(crate) struct Link {
    pub text: String,
    pub href: String,
}

/// Renders a [`MessagePage`].
pub(crate) fn message(
    state: &AppState,
    ctx: &Ctx,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Result<Response, PageError> {
    page(&MessagePage {
        layout: Layout::new(state, ctx),
        title: title.to_string(),
        paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
        link: link.map(|(text, href)| Link {
            text: text.to_string(),
            href: href.to_string(),
        }),
    })
}

/// `DD.MM.YYYY`.
pub(crate) fn date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// `GET /assets/style.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/style.css"),
    )
        .into_response()
}

/// Pages anyone can open.
pub(crate) fn public_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (paths::HOME, get(home::show)),
        (paths::HEALTHZ, get(health::healthz)),
        (paths::READYZ, get(health::readyz)),
        (paths::STYLESHEET, get(stylesheet)),
        (paths::LOGIN, get(auth::login_page).post(auth::login)),
        (paths::LOGOUT, post(auth::logout)),
        (
            paths::REGISTER,
            get(registration::form).post(registration::submit),
        ),
        (paths::REGISTER_SENT, get(registration::sent)),
        (
            paths::PASSWORD_RESET,
            get(password::reset_request_page).post(password::reset_request),
        ),
        (paths::PASSWORD_RESET_SENT, get(password::reset_sent)),
        (
            paths::PASSWORD_RESET_TOKEN,
            get(password::reset_form_page).post(password::reset_complete),
        ),
        (paths::RULES, get(rules::current)),
        (paths::RULES_VERSION, get(rules::version)),
    ]
}

/// The steps a signed-in resident may have to take before the cabinet opens;
/// each checks its own state.
pub(crate) fn step_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (
            paths::PASSWORD_NEW,
            get(password::first_page).post(password::first),
        ),
        (paths::RULES_ACCEPT, get(rules::accept_page).post(rules::accept)),
    ]
}

/// The resident group: every route here is behind
/// [`crate::http::guard::require_resident`].
pub(crate) fn resident_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (paths::CABINET, get(cabinet::overview)),
        (paths::RECEIPT, get(cabinet::receipt)),
        (
            paths::PASSWORD_CHANGE,
            get(password::change_page).post(password::change),
        ),
    ]
}
