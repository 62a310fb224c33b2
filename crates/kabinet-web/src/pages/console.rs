//! The dispatcher's console (S3): the queue — emergencies first, then by
//! deadline — with filters by status, category, address, assignee and
//! "overdue"; a request with the account's address and contacts, photos and
//! the whole history; taking, completing, deferring, declining and closing
//! it, replying to the resident, internal notes and assignment. Plain forms;
//! the queue reloads itself every 30 s with the small refresh script.

use super::requests::{EventLine, PhotoQuery, Row, event_line, row, status_text};
use super::staff::StaffLayout;
use super::{page, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::files::jpeg;
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::requests::Viewer;
use kabinet_db::requests::QueueFilter;
use kabinet_domain::requests::{Change, RequestStatus};
use serde::Deserialize;

/// The queue's filters as the query string has them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    page: Option<u64>,
}

/// A choice in a filter.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A line of the queue.
pub(crate) struct QueueRow {
    pub row: Row,
    pub address: String,
    pub assignee: String,
    pub fresh: bool,
    /// Neighbours who joined it.
    pub joined: i32,
}

/// The queue.
#[derive(Template)]
#[template(path = "staff/queue.html")]
pub(crate) struct QueuePage {
    pub layout: StaffLayout,
    pub statuses: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub assignees: Vec<Choice>,
    pub address: String,
    pub overdue: bool,
    pub rows: Vec<QueueRow>,
    pub total: String,
    pub pager: Option<super::Pager>,
}

fn choice(value: &str, label: String, current: &str) -> Choice {
    Choice {
        selected: value == current,
        value: value.to_string(),
        label,
    }
}

/// `GET /staff/requests`: the queue of the desks the member works.
pub(crate) async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let me = s.member().id;
    let filter = QueueFilter {
        status: RequestStatus::from_stored(q.status.trim()),
        category: Some(q.category.trim().to_string()).filter(|c| !c.is_empty()),
        address: Some(q.address.trim().chars().take(100).collect::<String>()).filter(|a| !a.is_empty()),
        assignee: match q.assignee.trim() {
            "" => None,
            "none" => Some(None),
            "me" => Some(Some(me)),
            other => other
                .parse::<i64>()
                .ok()
                .map(|id| Some(kabinet_domain::StaffId(id))),
        },
        overdue_at: (!q.overdue.is_empty()).then(time::OffsetDateTime::now_utc),
        desks: Vec::new(),
        buildings: None,
    };
    let page_no = q.page.unwrap_or(1).clamp(1, 10_000);
    let list = state.app.requests.queue(&s, &filter, page_no).await?;
    let categories = state.app.requests.categories().await?;
    let staff = state.app.staff.active().await?;
    let now = time::OffsetDateTime::now_utc();
    let mut statuses = vec![choice("", tr.t("queue-open"), &q.status)];
    statuses.extend(
        RequestStatus::ALL
            .iter()
            .map(|st| choice(st.as_str(), status_text(&tr, *st), &q.status)),
    );
    let mut cats = vec![choice("", tr.t("queue-any"), &q.category)];
    cats.extend(
        categories
            .iter()
            .map(|c| choice(&c.code, c.name.clone(), &q.category)),
    );
    let mut assignees = vec![
        choice("", tr.t("queue-any"), &q.assignee),
        choice("me", tr.t("queue-mine"), &q.assignee),
        choice("none", tr.t("queue-nobody"), &q.assignee),
    ];
    assignees.extend(
        staff
            .iter()
            .map(|m| choice(&m.id.to_string(), m.name.clone(), &q.assignee)),
    );
    let query = |n: u64| {
        let pairs = [
            ("status", q.status.as_str()),
            ("category", q.category.as_str()),
            ("address", q.address.as_str()),
            ("assignee", q.assignee.as_str()),
            ("overdue", q.overdue.as_str()),
        ];
        let mut out =
            serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>())
                .unwrap_or_default();
        if !out.is_empty() {
            out.push('&');
        }
        format!("{}?{out}page={n}", paths::STAFF_QUEUE)
    };
    page(&QueuePage {
        layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_QUEUE),
        statuses,
        categories: cats,
        assignees,
        address: q.address.chars().take(100).collect(),
        overdue: !q.overdue.is_empty(),
        rows: list
            .items
            .iter()
            .map(|i| QueueRow {
                row: row(&state, &tr, &i.request, paths::staff_request(i.request.id)),
                address: i.address.clone(),
                assignee: i.request.assignee_name.clone().unwrap_or_default(),
                joined: i.request.joined,
                fresh: i.request.status == RequestStatus::New
                    && i.request.emergency
                    && now - i.request.created_at < time::Duration::hours(1),
            })
            .collect(),
        total: tr.n("queue-total", i64::try_from(list.total).unwrap_or(i64::MAX)),
        pager: super::pager(&tr, list.page, list.pages, query),
    })
}

/// A request in the console.
#[derive(Template)]
#[template(path = "staff/request.html")]
pub(crate) struct RequestPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub number: i64,
    pub action_base: String,
    pub status: String,
    pub status_code: &'static str,
    pub emergency: bool,
    pub overdue: bool,
    pub facts: Vec<(String, String)>,
    pub text: String,
    pub photos: Vec<(String, String)>,
    pub events: Vec<EventLine>,
    pub actions: Vec<(&'static str, String)>,
    pub can_defer: bool,
    pub can_reply: bool,
    pub assignees: Vec<Choice>,
    pub today: String,
    /// Residents of the building who joined it: account, address, when.
    pub joiners: Vec<(String, String, String)>,
}

async fn request_page(
    state: &AppState,
    ctx: &Ctx,
    s: &kabinet_app::staff::StaffUser,
    id: kabinet_domain::RequestId,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let v = state.app.requests.staff_view(s, id).await?;
    let tr = Tr::current();
    let clock = state.app.requests.clock();
    let r = &v.request;
    let mut facts = vec![
        (tr.t("th-request-category"), r.category_name.clone()),
        (tr.t("account"), v.account_number.clone()),
        (tr.t("address"), v.address.clone()),
        (tr.t("request-phone"), r.phone.clone()),
        (tr.t("email"), v.email.clone()),
        (tr.t("th-request-filed"), tr.date_time(clock.local(r.created_at))),
        (tr.t("th-request-due"), tr.date_time(clock.local(r.due_at))),
        (
            tr.t("queue-assignee"),
            r.assignee_name.clone().unwrap_or_else(|| tr.t("queue-nobody")),
        ),
    ];
    if !r.visit_time.is_empty() {
        facts.push((tr.t("request-visit"), r.visit_time.clone()));
    }
    if let Some(d) = r.deferred_until {
        facts.push((tr.t("request-deferred-until"), tr.date(d)));
    }
    if let Some(reason) = &r.reason {
        facts.push((tr.t("request-reason"), reason.clone()));
    }
    if let Some(x) = r.rating {
        facts.push((tr.t("request-rating"), format!("{x} / 5")));
    }
    if r.reopened > 0 {
        facts.push((tr.t("request-reopened"), r.reopened.to_string()));
    }
    let actions = match r.status {
        RequestStatus::New | RequestStatus::Deferred => vec![("take", tr.t("staff-take"))],
        RequestStatus::InWork => vec![("complete", tr.t("staff-complete"))],
        RequestStatus::Done => vec![("close", tr.t("staff-close"))],
        _ => Vec::new(),
    };
    let open = r.status.is_open();
    let mut assignees = vec![choice("", tr.t("queue-nobody"), "")];
    let current = r.assignee_id.map(|a| a.to_string()).unwrap_or_default();
    assignees.extend(
        v.staff
            .iter()
            .map(|m| choice(&m.id.to_string(), m.name.clone(), &current)),
    );
    if current.is_empty() {
        assignees[0].selected = true;
    }
    page_with(
        status,
        &RequestPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_QUEUE),
            errors,
            number: r.id.0,
            action_base: paths::staff_request(r.id),
            status: status_text(&tr, r.status),
            status_code: r.status.as_str(),
            emergency: r.emergency,
            overdue: v.overdue,
            facts,
            text: r.text.clone(),
            photos: v
                .photos
                .iter()
                .map(|p| {
                    (
                        paths::staff_photo(&p.public_id, false),
                        paths::staff_photo(&p.public_id, true),
                    )
                })
                .collect(),
            events: v.events.iter().map(|e| event_line(state, &tr, e, true)).collect(),
            actions,
            can_defer: open,
            can_reply: !r.status.is_final(),
            assignees,
            today: clock.today(time::OffsetDateTime::now_utc()).to_string(),
            joiners: v
                .joiners
                .iter()
                .map(|j| {
                    (
                        j.account_number.clone(),
                        j.address.clone(),
                        tr.date_time(clock.local(j.joined_at)),
                    )
                })
                .collect(),
        },
    )
}

fn number(id: &str) -> Result<kabinet_domain::RequestId, PageError> {
    id.parse()
        .map(kabinet_domain::RequestId)
        .map_err(|_| Error::NotFound.into())
}

/// `GET /staff/requests/{id}`.
pub(crate) async fn request(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    request_page(&state, &ctx, &s, number(&id)?, StatusCode::OK, Vec::new()).await
}

/// The action forms' fields.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    change: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    assignee: String,
}

/// `POST /staff/requests/{id}/{action}`: `status` (with `change` = take,
/// complete, defer, decline, close), `reply`, `note` or `assign`.
pub(crate) async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> Result<Response, PageError> {
    let id = number(&id)?;
    let requests = &state.app.requests;
    let done = match action.as_str() {
        "status" => {
            let change = match f.change.as_str() {
                "take" => Ok(Change::Take),
                "complete" => Ok(Change::Complete),
                "close" => Ok(Change::Close),
                "decline" => Ok(Change::Decline {
                    reason: f.body.clone(),
                }),
                "defer" => time::Date::parse(
                    f.until.trim(),
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .map(|until| Change::Defer { until })
                .map_err(|_| {
                    Error::Invalid(kabinet_app::FieldErrors::single(
                        kabinet_app::requests::fields::UNTIL,
                        kabinet_domain::Text::new("error-request-deferral-missing"),
                    ))
                }),
                _ => return Err(PageError::BadRequest("error-form-malformed")),
            };
            match change {
                Ok(c) => requests.staff_change(&s, id, c, &ctx.client).await,
                Err(e) => Err(e),
            }
        }
        "reply" => requests.write(&s, id, &f.body, false, &ctx.client).await,
        "note" => requests.write(&s, id, &f.body, true, &ctx.client).await,
        "assign" => {
            let to = match f.assignee.trim() {
                "" => None,
                "me" => Some(s.member().id),
                x => Some(
                    x.parse::<i64>()
                        .map(kabinet_domain::StaffId)
                        .map_err(|_| PageError::BadRequest("error-form-malformed"))?,
                ),
            };
            requests.assign(&s, id, to, &ctx.client).await
        }
        _ => return Err(Error::NotFound.into()),
    };
    let (status, errors) = match done {
        Ok(()) => return Ok(see_other(&paths::staff_request(id))),
        Err(e) => refusal(e)?,
    };
    request_page(&state, &ctx, &s, id, status, errors).await
}

/// `GET /staff/photos/{id}`.
pub(crate) async fn photo(
    State(state): State<AppState>,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, PageError> {
    let thumb = q.size.as_deref() == Some("thumb");
    Ok(jpeg(
        state.app.requests.photo(Viewer::Staff(&s), &id, thumb).await?,
    ))
}
