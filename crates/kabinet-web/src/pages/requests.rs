//! The resident's requests (R9): the list, the form with photos (works
//! without JavaScript: a plain multipart form), one request with its
//! status, deadline, photos and the conversation, and the resident's own
//! actions — cancel while new, accept with a rating or return when done,
//! write a message. Internal notes never reach these pages: the use case
//! does not read them for residents.

use super::{Layout, Section, page, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::ResidentPage;
use crate::http::upload::CsrfMultipart;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::requests::{RequestForm, RequestInput, RequestView, Viewer};
use kabinet_domain::requests::{
    Change, Desk, EventKind, Request, RequestEvent, RequestStatus, SharedRequest,
};
use serde::Deserialize;

/// A line of a request list.
pub(crate) struct Row {
    pub number: i64,
    pub href: String,
    pub category: String,
    pub emergency: bool,
    pub status: String,
    pub status_code: &'static str,
    pub filed: String,
    pub due: String,
    pub overdue: bool,
}

/// The label of a request's status.
pub(crate) fn status_text(tr: &Tr, s: RequestStatus) -> String {
    tr.t(&format!("request-status-{}", s.as_str()))
}

/// An open request's deadline in the organization's time; empty once it
/// is no longer open.
fn due_text(state: &AppState, tr: &Tr, status: RequestStatus, due_at: time::OffsetDateTime) -> String {
    if status.is_open() {
        tr.date_time(state.app.requests.clock().local(due_at))
    } else {
        String::new()
    }
}

pub(crate) fn row(state: &AppState, tr: &Tr, r: &Request, href: String) -> Row {
    let clock = state.app.requests.clock();
    let now = time::OffsetDateTime::now_utc();
    Row {
        number: r.id.0,
        href,
        category: r.category_name.clone(),
        emergency: r.emergency,
        status: status_text(tr, r.status),
        status_code: r.status.as_str(),
        filed: tr.date_time(clock.local(r.created_at)),
        due: due_text(state, tr, r.status, r.due_at),
        overdue: r.overdue(now),
    }
}

/// A neighbour's request about common property, as a line of the lists
/// of requests to join and joined (no text, phone or flat of its author).
pub(crate) struct SharedRow {
    pub number: i64,
    pub category: String,
    pub emergency: bool,
    pub status: String,
    pub status_code: &'static str,
    pub filed: String,
    pub due: String,
    /// How many residents joined it.
    pub joined: i32,
    /// The reader joined it.
    pub mine: bool,
    /// Still open: it may be joined.
    pub open: bool,
    pub join: String,
    pub leave: String,
}

/// Neighbours' requests of one building.
pub(crate) struct SharedGroup {
    pub building: String,
    pub rows: Vec<SharedRow>,
}

/// `list` grouped by building, each building where its newest request
/// stands.
pub(crate) fn shared_groups(state: &AppState, tr: &Tr, list: &[SharedRequest]) -> Vec<SharedGroup> {
    let mut groups: Vec<SharedGroup> = Vec::new();
    for s in list {
        let row = shared_row(state, tr, s);
        match groups.iter_mut().find(|g| g.building == s.building) {
            Some(g) => g.rows.push(row),
            None => groups.push(SharedGroup {
                building: s.building.clone(),
                rows: vec![row],
            }),
        }
    }
    groups
}

fn shared_row(state: &AppState, tr: &Tr, s: &SharedRequest) -> SharedRow {
    let clock = state.app.requests.clock();
    SharedRow {
        number: s.id.0,
        category: s.category_name.clone(),
        emergency: s.emergency,
        status: status_text(tr, s.status),
        status_code: s.status.as_str(),
        filed: tr.date_time(clock.local(s.created_at)),
        due: due_text(state, tr, s.status, s.due_at),
        joined: s.joined,
        mine: s.joined_at.is_some(),
        open: s.status.is_open(),
        join: paths::request_action(s.id, "join"),
        leave: paths::request_action(s.id, "leave"),
    }
}

/// `?page=`, and the notice after joining or leaving a request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(default)]
    pub joined: Option<i64>,
    #[serde(default)]
    pub left: Option<i64>,
}

/// The list.
#[derive(Template)]
#[template(path = "requests/list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub notice: Option<String>,
    pub rows: Vec<Row>,
    pub pager: Option<super::Pager>,
    /// Neighbours' requests the resident joined, by building.
    pub joined: Vec<SharedGroup>,
}

/// `GET /requests`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let list = state
        .app
        .requests
        .list(&r, q.page.unwrap_or(1).min(10_000))
        .await?;
    let joined = state.app.requests.joined(&r).await?;
    let notice = match (q.joined, q.left) {
        (Some(n), _) => Some(tr.a("request-joined-notice", "number", &n.to_string())),
        (None, Some(n)) => Some(tr.a("request-left-notice", "number", &n.to_string())),
        _ => None,
    };
    page(&ListPage {
        layout: Layout::section(&state, &ctx, Section::Requests),
        notice,
        joined: shared_groups(&state, &tr, &joined),
        rows: list
            .items
            .iter()
            .map(|x| row(&state, &tr, x, paths::request(x.id)))
            .collect(),
        pager: super::pager(&tr, list.page, list.pages, |n| {
            format!("{}?page={n}", paths::REQUESTS)
        }),
    })
}

/// A category in the form.
pub(crate) struct CategoryOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// The form.
#[derive(Template)]
#[template(path = "requests/new.html")]
pub(crate) struct NewPage {
    pub layout: Layout,
    pub summary: Vec<String>,
    pub accounts: Vec<(String, String, bool)>,
    pub emergencies: Vec<CategoryOption>,
    pub questions: Vec<CategoryOption>,
    pub text: String,
    pub phone: String,
    pub visit_time: String,
    pub errors: Vec<(String, String)>,
    /// Neighbours' open requests about common property the resident may
    /// join instead, by building.
    pub shared: Vec<SharedGroup>,
}

impl NewPage {
    /// The message about `field`, if any.
    pub fn err(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
    }
}

fn new_page(
    state: &AppState,
    ctx: &Ctx,
    form: &RequestForm,
    shared: &[SharedRequest],
    typed: Option<&RequestInput>,
    errors: Vec<(String, String)>,
) -> NewPage {
    let tr = Tr::current();
    let chosen = typed.map(|t| t.category.as_str()).unwrap_or("");
    let current = typed
        .and_then(|t| t.account.clone())
        .unwrap_or_else(|| form.scope.current().account.number.to_string());
    let options = |desk: Desk| {
        form.categories
            .iter()
            .filter(|c| c.desk == desk)
            .map(|c| CategoryOption {
                code: c.code.clone(),
                name: c.name.clone(),
                selected: c.code == chosen,
            })
            .collect()
    };
    NewPage {
        layout: Layout::section(state, ctx, Section::Requests),
        summary: errors.iter().map(|(_, m)| m.clone()).collect(),
        accounts: form
            .scope
            .linked
            .iter()
            .map(|l| {
                let n = l.account.number.to_string();
                let selected = n == current;
                (n, l.premises.full_address(), selected)
            })
            .collect(),
        emergencies: options(Desk::Dispatch),
        questions: options(Desk::Office),
        text: typed.map(|t| t.text.clone()).unwrap_or_default(),
        phone: typed.map_or_else(|| form.phone.clone(), |t| t.phone.clone()),
        visit_time: typed.map(|t| t.visit_time.clone()).unwrap_or_default(),
        errors,
        shared: shared_groups(state, &tr, shared),
    }
}

/// `?account=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AccountQuery {
    #[serde(default)]
    pub account: Option<String>,
}

/// `GET /requests/new`.
pub(crate) async fn new(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let form = state.app.requests.form(&r, q.account.as_deref()).await?;
    let shared = state.app.requests.shared(&r).await?;
    page(&new_page(&state, &ctx, &form, &shared, None, Vec::new()))
}

/// `POST /requests`: files the request, then shows it; a refused form
/// comes back with what was typed (photos must be chosen again) and why.
pub(crate) async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfMultipart(parts): CsrfMultipart,
) -> Result<Response, PageError> {
    let input = parts.request_input();
    let typed = RequestInput {
        photos: Vec::new(),
        ..input.clone()
    };
    let (status, errors) = match state.app.requests.file(&r, input, &ctx.client).await {
        Ok(id) => return Ok(see_other(&format!("{}?filed=1", paths::request(id)))),
        Err(Error::Invalid(f)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            f.iter().map(|(k, m)| (k.to_string(), say(m))).collect(),
        ),
        Err(e @ Error::TooManyRequests(_)) => (
            StatusCode::TOO_MANY_REQUESTS,
            vec![("limit".to_string(), say(&e.text()))],
        ),
        Err(e) => return Err(e.into()),
    };
    let form = state.app.requests.form(&r, None).await?;
    let shared = state.app.requests.shared(&r).await?;
    page_with(
        status,
        &new_page(&state, &ctx, &form, &shared, Some(&typed), errors),
    )
}

/// A history line as shown.
pub(crate) struct EventLine {
    pub when: String,
    pub who: String,
    pub text: String,
    pub body: String,
    pub internal: bool,
}

pub(crate) fn event_line(state: &AppState, tr: &Tr, e: &RequestEvent, staff_names: bool) -> EventLine {
    let clock = state.app.requests.clock();
    // Staff read the resident's own lines as the resident's, not "You".
    let resident = || {
        tr.t(if staff_names {
            "request-who-applicant"
        } else {
            "request-who-resident"
        })
    };
    let who = match (e.kind, &e.staff_name) {
        (EventKind::Comment, _) => resident(),
        (_, Some(n)) if staff_names => n.clone(),
        (_, Some(_)) => tr.t("request-who-staff"),
        (EventKind::Filed, None) => resident(),
        (_, None) => {
            if e.staff_id.is_none() && e.kind == EventKind::Status {
                resident()
            } else {
                tr.t("request-who-staff")
            }
        }
    };
    let text = match e.kind {
        EventKind::Filed => tr.t("request-event-filed"),
        EventKind::Status => tr.a(
            "request-event-status",
            "status",
            &e.to_status.map(|s| status_text(tr, s)).unwrap_or_default(),
        ),
        EventKind::Reply => tr.t("request-event-reply"),
        EventKind::Note => tr.t("request-event-note"),
        EventKind::Assigned => tr.t("request-event-assigned"),
        EventKind::Comment => tr.t("request-event-comment"),
    };
    EventLine {
        when: tr.date_time(clock.local(e.at)),
        who,
        text,
        body: e.body.clone(),
        internal: !e.kind.visible_to_resident(),
    }
}

/// One request.
#[derive(Template)]
#[template(path = "requests/show.html")]
pub(crate) struct ShowPage {
    pub layout: Layout,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    pub number: i64,
    pub action_base: String,
    pub status: String,
    pub status_code: &'static str,
    pub emergency: bool,
    pub category: String,
    pub filed: String,
    pub due: String,
    pub overdue: bool,
    pub deferred: String,
    pub text: String,
    pub phone: String,
    pub visit_time: String,
    pub reason: String,
    pub rating: Option<i16>,
    pub photos: Vec<(String, String)>,
    pub events: Vec<EventLine>,
    pub can_cancel: bool,
    pub can_answer: bool,
    pub can_write: bool,
    /// How many neighbours joined it.
    pub joined: i32,
}

fn show_page(
    state: &AppState,
    ctx: &Ctx,
    v: &RequestView,
    notice: Option<String>,
    errors: Vec<String>,
) -> ShowPage {
    let tr = Tr::current();
    let clock = state.app.requests.clock();
    let r = &v.request;
    ShowPage {
        layout: Layout::section(state, ctx, Section::Requests),
        notice,
        errors,
        number: r.id.0,
        action_base: paths::request(r.id),
        status: status_text(&tr, r.status),
        status_code: r.status.as_str(),
        emergency: r.emergency,
        category: r.category_name.clone(),
        filed: tr.date_time(clock.local(r.created_at)),
        due: due_text(state, &tr, r.status, r.due_at),
        overdue: v.overdue,
        deferred: r.deferred_until.map(|d| tr.date(d)).unwrap_or_default(),
        text: r.text.clone(),
        phone: r.phone.clone(),
        visit_time: r.visit_time.clone(),
        reason: r.reason.clone().unwrap_or_default(),
        rating: r.rating,
        photos: v
            .photos
            .iter()
            .map(|p| {
                (
                    paths::request_photo(&p.public_id, false),
                    paths::request_photo(&p.public_id, true),
                )
            })
            .collect(),
        events: v
            .events
            .iter()
            .map(|e| event_line(state, &tr, e, false))
            .collect(),
        can_cancel: r.status == RequestStatus::New,
        can_answer: r.status == RequestStatus::Done,
        can_write: !r.status.is_final(),
        joined: r.joined,
    }
}

/// `?filed=1` after filing.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    pub filed: Option<String>,
}

/// `GET /requests/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let id = kabinet_domain::RequestId(id.parse().map_err(|_| Error::NotFound)?);
    let v = state.app.requests.show(&r, id).await?;
    let tr = Tr::current();
    let notice = q
        .filed
        .is_some()
        .then(|| tr.a("request-filed-notice", "number", &id.to_string()));
    page(&show_page(&state, &ctx, &v, notice, Vec::new()))
}

/// The resident's action forms.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    rating: Option<String>,
    #[serde(default)]
    body: String,
}

/// `POST /requests/{id}/{action}`: `cancel`, `accept` (rating), `return`
/// (comment) or `comment` on the resident's own request; `join` or `leave`
/// a neighbour's.
pub(crate) async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> Result<Response, PageError> {
    let id = kabinet_domain::RequestId(id.parse().map_err(|_| Error::NotFound)?);
    let requests = &state.app.requests;
    match action.as_str() {
        "join" => {
            requests.join(&r, id, &ctx.client).await?;
            return Ok(see_other(&format!("{}?joined={id}#joined", paths::REQUESTS)));
        }
        "leave" => {
            requests.leave(&r, id, &ctx.client).await?;
            return Ok(see_other(&format!("{}?left={id}#joined", paths::REQUESTS)));
        }
        _ => {}
    }
    let done = match action.as_str() {
        "cancel" => {
            requests
                .resident_change(&r, id, Change::Cancel, &ctx.client)
                .await
        }
        "accept" => {
            let rating = f
                .rating
                .as_deref()
                .and_then(|x| x.trim().parse::<u8>().ok())
                .unwrap_or(0);
            requests
                .resident_change(&r, id, Change::Accept { rating }, &ctx.client)
                .await
        }
        "return" => {
            requests
                .resident_change(
                    &r,
                    id,
                    Change::Return {
                        comment: f.body.clone(),
                    },
                    &ctx.client,
                )
                .await
        }
        "comment" => requests.comment(&r, id, &f.body, &ctx.client).await,
        _ => return Err(Error::NotFound.into()),
    };
    let (status, errors) = match done {
        Ok(()) => return Ok(see_other(&paths::request(id))),
        Err(Error::Invalid(f)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            f.iter().map(|(_, m)| say(m)).collect::<Vec<_>>(),
        ),
        Err(e @ Error::Conflict(_)) => (StatusCode::CONFLICT, vec![say(&e.text())]),
        Err(e) => return Err(e.into()),
    };
    let v = requests.show(&r, id).await?;
    page_with(status, &show_page(&state, &ctx, &v, None, errors))
}

/// `?size=thumb`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PhotoQuery {
    #[serde(default)]
    pub size: Option<String>,
}

/// `GET /requests/photos/{id}`: a photo of the resident's own request.
pub(crate) async fn photo(
    State(state): State<AppState>,
    ResidentPage(r): ResidentPage,
    Path(id): Path<String>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, PageError> {
    let thumb = q.size.as_deref() == Some("thumb");
    let bytes = state.app.requests.photo(Viewer::Resident(&r), &id, thumb).await?;
    Ok(crate::http::files::jpeg(bytes))
}
