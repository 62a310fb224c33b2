//! Announcements and outages (B2) in the office: the list with the form to
//! publish one, and a page to change one (extend or end it).

use super::super::page_with;
use super::{SavedQuery, by, local_input, parse_local};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::console::Choice;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::staff::StaffUser;
use kabinet_domain::Text;
use kabinet_domain::announcements::{Announcement, AnnouncementDraft, AnnouncementKind, Service};
use serde::Deserialize;
use time::OffsetDateTime;

/// The form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AnnouncementForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    buildings: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
}

/// The fields as shown.
pub(crate) struct Fields {
    pub kinds: Vec<Choice>,
    pub services: Vec<Choice>,
    pub title: String,
    pub body: String,
    pub buildings: String,
    pub starts_at: String,
    pub ends_at: String,
}

/// An announcement in the list.
pub(crate) struct Row {
    pub href: String,
    pub title: String,
    pub kind: String,
    pub target: String,
    pub shown: String,
    pub state: String,
}

/// The list with the form.
#[derive(Template)]
#[template(path = "office/announcements.html")]
pub(crate) struct ListPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub errors: Vec<String>,
    pub rows: Vec<Row>,
    pub form: Fields,
}

/// One announcement's page.
#[derive(Template)]
#[template(path = "office/announcement.html")]
pub(crate) struct EditPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub errors: Vec<String>,
    pub heading: String,
    pub action: String,
    pub in_force: bool,
    pub form: Fields,
}

/// A kind's name in the reader's language.
pub(crate) fn kind_text(tr: &Tr, k: AnnouncementKind) -> String {
    tr.t(&format!("announcement-kind-{}", k.as_str()))
}

/// A service's name in the reader's language.
pub(crate) fn service_text(tr: &Tr, s: Service) -> String {
    tr.t(&format!("service-{}", s.as_str().replace('_', "-")))
}

fn fields(tr: &Tr, f: &AnnouncementForm) -> Fields {
    let kind = AnnouncementKind::from_stored(&f.kind);
    let service = Service::from_stored(&f.service);
    let mut services = vec![Choice {
        value: String::new(),
        label: tr.t("announcement-no-service"),
        selected: service.is_none(),
    }];
    services.extend(Service::ALL.into_iter().map(|s| Choice {
        value: s.as_str().to_string(),
        label: service_text(tr, s),
        selected: Some(s) == service,
    }));
    Fields {
        kinds: AnnouncementKind::ALL
            .into_iter()
            .map(|k| Choice {
                value: k.as_str().to_string(),
                label: kind_text(tr, k),
                selected: Some(k) == kind,
            })
            .collect(),
        services,
        title: f.title.clone(),
        body: f.body.clone(),
        buildings: f.buildings.clone(),
        starts_at: f.starts_at.clone(),
        ends_at: f.ends_at.clone(),
    }
}

fn form_of(state: &AppState, a: &Announcement) -> AnnouncementForm {
    AnnouncementForm {
        kind: a.kind.as_str().to_string(),
        service: a.service.map(|s| s.as_str().to_string()).unwrap_or_default(),
        title: a.title.clone(),
        body: a.body.clone(),
        buildings: a.buildings.join("\n"),
        starts_at: local_input(state, a.starts_at),
        ends_at: a.ends_at.map(|e| local_input(state, e)).unwrap_or_default(),
    }
}

/// Reads the form into a draft; what cannot be read is reported at once.
fn draft(state: &AppState, f: &AnnouncementForm) -> Result<AnnouncementDraft, Error> {
    let mut problems = kabinet_app::FieldErrors::default();
    let kind = AnnouncementKind::from_stored(f.kind.trim());
    if kind.is_none() {
        problems.add("kind", Text::new("error-form-malformed"));
    }
    let service = match f.service.trim() {
        "" => None,
        s => {
            let service = Service::from_stored(s);
            if service.is_none() {
                problems.add("service", Text::new("error-form-malformed"));
            }
            service
        }
    };
    let starts_at = match f.starts_at.trim() {
        "" => Some(OffsetDateTime::now_utc()),
        v => parse_local(state, v),
    };
    if starts_at.is_none() {
        problems.add("starts_at", Text::new("error-closing-time"));
    }
    let ends_at = match f.ends_at.trim() {
        "" => None,
        v => {
            let e = parse_local(state, v);
            if e.is_none() {
                problems.add("ends_at", Text::new("error-closing-time"));
            }
            e
        }
    };
    let buildings = kabinet_domain::staff::parse_buildings(&f.buildings);
    if buildings.is_none() {
        problems.add("buildings", Text::new("error-announcement-buildings"));
    }
    problems.check()?;
    Ok(AnnouncementDraft {
        kind: kind.unwrap_or(AnnouncementKind::News),
        service,
        title: f.title.clone(),
        body: f.body.clone(),
        buildings: buildings.unwrap_or_default(),
        starts_at: starts_at.unwrap_or_else(OffsetDateTime::now_utc),
        ends_at,
    })
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    status: StatusCode,
    errors: Vec<String>,
    saved: bool,
    form: &AnnouncementForm,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let clock = state.app.accounts.clock();
    let now = OffsetDateTime::now_utc();
    let at = |t| tr.date_time(clock.local(t));
    let rows = state
        .app
        .announcements
        .newest(by(s, ctx))
        .await?
        .into_iter()
        .map(|a| Row {
            href: paths::staff_announcement(a.id),
            kind: match a.service {
                Some(sv) => format!("{} ({})", kind_text(&tr, a.kind), service_text(&tr, sv)),
                None => kind_text(&tr, a.kind),
            },
            target: if a.buildings.is_empty() {
                tr.t("announcement-everyone")
            } else {
                a.buildings.join("; ")
            },
            shown: match a.ends_at {
                Some(e) => format!("{} — {}", at(a.starts_at), at(e)),
                None => format!("{} —", at(a.starts_at)),
            },
            state: tr.t(if a.in_force(now) {
                "announcement-in-force"
            } else if a.starts_at > now {
                "announcement-scheduled"
            } else {
                "announcement-ended"
            }),
            title: a.title,
        })
        .collect();
    page_with(
        status,
        &ListPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_ANNOUNCEMENTS),
            saved,
            errors,
            rows,
            form: fields(&tr, form),
        },
    )
}

/// `GET /staff/announcements`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let blank = AnnouncementForm {
        kind: AnnouncementKind::Outage.as_str().into(),
        ..AnnouncementForm::default()
    };
    list_page(&state, &ctx, &s, StatusCode::OK, Vec::new(), q.saved(), &blank).await
}

/// `POST /staff/announcements`: publishes one.
pub(crate) async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<AnnouncementForm>,
) -> Result<Response, PageError> {
    let published = match draft(&state, &f) {
        Ok(d) => state.app.announcements.publish(by(&s, &ctx), &d).await,
        Err(e) => Err(e),
    };
    match published {
        Ok(_) => Ok(SavedQuery::back_to(paths::STAFF_ANNOUNCEMENTS)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            list_page(&state, &ctx, &s, status, errors, false, &f).await
        }
    }
}

fn announcement_id(id: &str) -> Result<i64, PageError> {
    id.parse().map_err(|_| Error::NotFound.into())
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    id: i64,
    (status, errors): (StatusCode, Vec<String>),
    saved: bool,
    form: Option<&AnnouncementForm>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let a = state.app.announcements.get(by(s, ctx), id).await?;
    let stored = form_of(state, &a);
    page_with(
        status,
        &EditPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_ANNOUNCEMENTS),
            saved,
            errors,
            heading: a.title.clone(),
            action: paths::staff_announcement(id),
            in_force: a.ends_at.is_none_or(|e| e > OffsetDateTime::now_utc()),
            form: fields(&tr, form.unwrap_or(&stored)),
        },
    )
}

/// `GET /staff/announcements/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id = announcement_id(&id)?;
    edit_page(
        &state,
        &ctx,
        &s,
        id,
        (StatusCode::OK, Vec::new()),
        q.saved(),
        None,
    )
    .await
}

/// `POST /staff/announcements/{id}`: saves a change.
pub(crate) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AnnouncementForm>,
) -> Result<Response, PageError> {
    let id = announcement_id(&id)?;
    let done = match draft(&state, &f) {
        Ok(d) => state.app.announcements.update(by(&s, &ctx), id, &d).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(SavedQuery::back_to(&paths::staff_announcement(id))),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            edit_page(&state, &ctx, &s, id, (status, errors), false, Some(&f)).await
        }
    }
}

/// `POST /staff/announcements/{id}/end`: ends it now.
pub(crate) async fn end(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<AnnouncementForm>,
) -> Result<Response, PageError> {
    let id = announcement_id(&id)?;
    match state.app.announcements.end_now(by(&s, &ctx), id).await {
        Ok(()) => Ok(SavedQuery::back_to(&paths::staff_announcement(id))),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            edit_page(&state, &ctx, &s, id, (status, errors), false, None).await
        }
    }
}
