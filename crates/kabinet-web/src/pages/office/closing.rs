//! A closing of the portal from the office (R14): schedule one (from, until,
//! message) with a preview of the banner residents see before it, or lift
//! it — what `kabinet suspend` and `kabinet resume` do. Times are typed in
//! the organization's local time.

use super::super::{banner_text, page_with, see_other};
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
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::{Error, FieldErrors};
use kabinet_domain::{Suspension, SuspensionPhase, Text};
use serde::Deserialize;
use time::OffsetDateTime;

/// The page.
#[derive(Template)]
#[template(path = "office/closing.html")]
pub(crate) struct ClosingPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub current: Option<String>,
    pub preview: Option<String>,
    pub from: String,
    pub until: String,
    pub message: String,
    pub max_message: usize,
}

/// The form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ClosingForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    message: String,
    /// `preview`, `save` or `lift`.
    #[serde(default)]
    intent: String,
}

/// Reads the form into a closing; every problem at once.
fn parse(state: &AppState, f: &ClosingForm) -> Result<Suspension, Error> {
    let at = |v: &str| super::parse_local(state, v);
    let mut problems = FieldErrors::default();
    let starts_at = at(&f.from);
    if starts_at.is_none() {
        problems.add("from", Text::new("error-closing-time"));
    }
    let ends_at = if f.until.trim().is_empty() {
        None
    } else {
        let e = at(&f.until);
        if e.is_none() {
            problems.add("until", Text::new("error-closing-time"));
        }
        e
    };
    problems.check()?;
    Ok(Suspension {
        starts_at: starts_at.unwrap_or_else(OffsetDateTime::now_utc),
        ends_at,
        message: f.message.trim().chars().take(Suspension::MAX_MESSAGE).collect(),
    })
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    errors: Vec<String>,
    f: &ClosingForm,
    preview: Option<String>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let now = OffsetDateTime::now_utc();
    let clock = state.app.accounts.clock();
    let current = state.app.site.suspension().await?.and_then(|s| {
        let when = tr.date_time(clock.local(s.starts_at));
        match s.phase(now) {
            SuspensionPhase::Closed => Some(tr.a("closing-now", "when", &when)),
            SuspensionPhase::Announced => Some(banner_text(state, &tr, &s)),
            SuspensionPhase::Open if s.starts_at > now => Some(tr.a("closing-planned", "when", &when)),
            SuspensionPhase::Open => None,
        }
    });
    page_with(
        status,
        &ClosingPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_CLOSING),
            errors,
            current,
            preview,
            from: f.from.clone(),
            until: f.until.clone(),
            message: f.message.clone(),
            max_message: Suspension::MAX_MESSAGE,
        },
    )
}

/// `GET /staff/closing`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(_): StaffPage,
) -> Result<Response, PageError> {
    let f = match state.app.site.suspension().await? {
        Some(s)
            if s.phase(OffsetDateTime::now_utc()) != SuspensionPhase::Open
                || s.starts_at > OffsetDateTime::now_utc() =>
        {
            ClosingForm {
                from: super::local_input(&state, s.starts_at),
                until: s
                    .ends_at
                    .map(|e| super::local_input(&state, e))
                    .unwrap_or_default(),
                message: s.message,
                intent: String::new(),
            }
        }
        _ => ClosingForm::default(),
    };
    render(&state, &ctx, StatusCode::OK, Vec::new(), &f, None).await
}

/// `POST /staff/closing`: `intent=preview` shows the banner (nothing is
/// stored), `save` schedules the closing, `lift` lifts any closing.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<ClosingForm>,
) -> Result<Response, PageError> {
    let done = match f.intent.as_str() {
        "lift" => state.app.site.resume(by(&s, &ctx)).await,
        "preview" => match parse(&state, &f) {
            Ok(x) => {
                let tr = Tr::current();
                let text = banner_text(&state, &tr, &x);
                return render(&state, &ctx, StatusCode::OK, Vec::new(), &f, Some(text)).await;
            }
            Err(e) => Err(e),
        },
        "save" => match parse(&state, &f) {
            Ok(x) => state.app.site.suspend(by(&s, &ctx), &x).await,
            Err(e) => Err(e),
        },
        _ => return Err(PageError::BadRequest("error-form-malformed")),
    };
    match done {
        Ok(()) => Ok(see_other(paths::STAFF_CLOSING)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            render(&state, &ctx, status, errors, &f, None).await
        }
    }
}
