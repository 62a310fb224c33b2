//! The production calendar in the office (settings): the days off and the
//! working weekend days that deadlines of requests to the office are counted
//! by, one a line, with the years it lists and a warning for a coming year
//! that is missing.

use super::super::page_with;
use super::{SavedQuery, by};
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
use serde::Deserialize;

/// The page.
#[derive(Template)]
#[template(path = "office/calendar.html")]
pub(crate) struct CalendarPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub errors: Vec<String>,
    pub years: String,
    pub missing: Option<String>,
    pub text: String,
}

/// The form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CalendarForm {
    #[serde(default)]
    days: String,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    errors: Vec<String>,
    saved: bool,
    typed: Option<&str>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let calendar = state.app.settings.calendar.current().await?;
    let years = calendar.years();
    let today = state.app.accounts.clock().today(time::OffsetDateTime::now_utc());
    // From October the next year's decree is usually out.
    let wanted: Vec<i32> = if u8::from(today.month()) >= 10 {
        vec![today.year(), today.year() + 1]
    } else {
        vec![today.year()]
    };
    let missing = wanted.into_iter().find(|y| !years.contains(y));
    page_with(
        status,
        &CalendarPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_CALENDAR),
            saved,
            errors,
            years: years.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
            missing: missing.map(|y| tr.a("calendar-missing", "name", &y.to_string())),
            text: typed.map_or_else(|| calendar.text(), str::to_string),
        },
    )
}

/// `GET /staff/calendar`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(_): StaffPage,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    render(&state, &ctx, StatusCode::OK, Vec::new(), q.saved(), None).await
}

/// `POST /staff/calendar`: checks and saves the calendar.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<CalendarForm>,
) -> Result<Response, PageError> {
    match state.app.settings.calendar.save(by(&s, &ctx), &f.days).await {
        Ok(_) => Ok(SavedQuery::back_to(paths::STAFF_CALENDAR)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            render(&state, &ctx, status, errors, false, Some(&f.days)).await
        }
    }
}
