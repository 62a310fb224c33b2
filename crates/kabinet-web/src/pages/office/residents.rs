//! Residents' support (S6) in the console: the search by the start of an
//! account number, e-mail, phone or address; the resident's card; and the
//! actions taken for them (reset link, registration unlock, ending sessions,
//! blocking, removing a linked user). The use cases check the permission
//! and audit each action on the resident.

use super::super::{page_with, see_other};
use super::by;
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
use kabinet_app::support::{Card, ResetSent};
use kabinet_domain::support::{MAX_RESULTS, SearchField};
use kabinet_domain::{AccountId, UserId};
use serde::Deserialize;

/// A row of the search's results.
pub(crate) struct FoundRow {
    pub number: String,
    pub address: String,
    /// The card's link and the resident's e-mail; none: nobody registered.
    pub resident: Option<(String, String)>,
    pub state: String,
    /// The form that clears the account's registration checks (nobody
    /// registered).
    pub unlock: Option<String>,
}

/// The search page.
#[derive(Template)]
#[template(path = "office/residents.html")]
pub(crate) struct ResidentsPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub q: String,
    pub fields: Vec<Choice>,
    pub searched: bool,
    pub rows: Vec<FoundRow>,
    pub summary: String,
}

/// A table on the card: its heading, column names and rows of cells.
pub(crate) struct Table {
    pub id: String,
    pub heading: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: String,
}

/// A cell: text, a link, or a button posting to an action with hidden fields.
pub(crate) enum Cell {
    Text(String),
    Link(String, String),
    Button {
        action: String,
        fields: Vec<(&'static str, String)>,
        label: String,
        text: String,
    },
}

/// An account on the card.
pub(crate) struct AccountBlock {
    pub heading: String,
    pub facts: Vec<(String, String)>,
    pub unlock: bool,
    pub account_id: i64,
    pub others: Table,
}

/// The resident's card.
#[derive(Template)]
#[template(path = "office/resident.html")]
pub(crate) struct ResidentPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub heading: String,
    pub back: String,
    pub action_base: String,
    pub facts: Vec<(String, String)>,
    pub blocked: bool,
    pub accounts: Vec<AccountBlock>,
    pub tables: Vec<Table>,
    pub has_sessions: bool,
}

/// The search's query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    done: String,
}

fn field_text(tr: &Tr, f: SearchField) -> String {
    tr.t(&format!("support-by-{}", f.as_str()))
}

fn notice(tr: &Tr, done: &str) -> Option<String> {
    const DONE: [&str; 7] = [
        "reset",
        "limited",
        "sessions",
        "blocked",
        "unblocked",
        "unlocked",
        "unlinked",
    ];
    DONE.contains(&done)
        .then(|| tr.t(&format!("support-done-{done}")))
}

/// `GET /staff/residents`: the form, and the results when something was
/// typed.
pub(crate) async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let chosen = SearchField::from_code(&query.by);
    let mut fields = vec![Choice {
        value: String::new(),
        label: tr.t("support-by-any"),
        selected: chosen.is_none(),
    }];
    fields.extend(SearchField::ALL.into_iter().map(|f| Choice {
        value: f.as_str().to_string(),
        label: field_text(&tr, f),
        selected: chosen == Some(f),
    }));
    let mut view = ResidentsPage {
        layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_RESIDENTS),
        errors: Vec::new(),
        notice: notice(&tr, &query.done),
        q: query.q.chars().take(200).collect(),
        fields,
        searched: false,
        rows: Vec::new(),
        summary: String::new(),
    };
    let mut status = StatusCode::OK;
    if !query.q.trim().is_empty() {
        match state.app.support.find(by(&s, &ctx), chosen, &query.q).await {
            Ok(found) => {
                view.searched = true;
                view.summary = if found.more {
                    tr.a2(
                        "support-found-more",
                        ("max", &MAX_RESULTS.to_string()),
                        ("name", &field_text(&tr, found.field)),
                    )
                } else {
                    tr.a2(
                        "support-found",
                        ("n", &found.rows.len().to_string()),
                        ("name", &field_text(&tr, found.field)),
                    )
                };
                view.rows = found
                    .rows
                    .into_iter()
                    .map(|f| FoundRow {
                        state: match &f.user {
                            None => tr.t("support-not-registered"),
                            Some(u) if u.blocked => tr.t("support-blocked"),
                            Some(u) if !u.primary => tr.t("support-linked"),
                            Some(_) => tr.t("support-active"),
                        },
                        unlock: f
                            .user
                            .is_none()
                            .then(|| paths::staff_account_unlock(f.account_id)),
                        resident: f.user.map(|u| (paths::staff_resident(u.id), u.email)),
                        number: f.number,
                        address: f.address,
                    })
                    .collect();
            }
            Err(e) => {
                let (st, errors) = refusal(e)?;
                status = st;
                view.errors = errors;
            }
        }
    }
    page_with(status, &view)
}

fn user_id(id: &str) -> Result<UserId, PageError> {
    id.parse().map(UserId).map_err(|_| Error::NotFound.into())
}

fn tables(tr: &Tr, state: &AppState, c: &Card) -> Vec<Table> {
    let clock = state.app.accounts.clock();
    let at = |t| tr.date_time(clock.local(t));
    let text = Cell::Text;
    vec![
        Table {
            id: "sign-ins".into(),
            heading: tr.t("support-sign-ins"),
            columns: ["support-at", "support-event", "support-ip", "support-agent"]
                .map(|c| tr.t(c))
                .to_vec(),
            rows: c
                .sign_ins
                .iter()
                .map(|l| {
                    vec![
                        text(at(l.at)),
                        text(tr.t(&format!("audit-event-{}", l.event.as_str().replace('_', "-")))),
                        text(l.ip.clone()),
                        text(l.user_agent.clone()),
                    ]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
        Table {
            id: "sessions".into(),
            heading: tr.t("support-sessions"),
            columns: [
                "support-session-kind",
                "support-opened",
                "support-last-seen",
                "support-ip",
                "support-agent",
            ]
            .map(|c| tr.t(c))
            .to_vec(),
            rows: c
                .sessions
                .iter()
                .map(|s| {
                    vec![
                        text(tr.t(&format!("support-session-{}", s.kind))),
                        text(at(s.created_at)),
                        text(at(s.last_seen_at)),
                        text(s.ip.clone()),
                        text(s.user_agent.clone()),
                    ]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
        Table {
            id: "messages".into(),
            heading: tr.t("support-messages"),
            columns: ["support-at", "support-to", "support-subject", "support-delivery"]
                .map(|c| tr.t(c))
                .to_vec(),
            rows: c
                .messages
                .iter()
                .map(|m| {
                    let mut state = tr.t(&format!("support-delivery-{}", m.status.as_str()));
                    if !m.last_error.is_empty() {
                        state = format!("{state} ({}: {})", m.attempts, m.last_error);
                    }
                    // A notification not sent yet has no subject: its kind.
                    let subject = kabinet_domain::notify::EventKind::from_stored(&m.email.subject)
                        .map_or_else(
                            || m.email.subject.clone(),
                            |k| tr.t(&format!("notify-{}", k.preference().code())),
                        );
                    vec![
                        text(at(m.created_at)),
                        text(m.email.to.masked()),
                        text(subject),
                        text(state),
                    ]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
        Table {
            id: "sms".into(),
            heading: tr.t("support-sms"),
            columns: ["support-at", "support-to", "support-subject", "support-delivery"]
                .map(|c| tr.t(c))
                .to_vec(),
            rows: c
                .sms
                .iter()
                .map(|m| {
                    let mut state = match m.delivery {
                        Some(d) => tr.t(&format!("support-sms-{}", d.as_str())),
                        None => tr.t(&format!("support-delivery-{}", m.status.as_str())),
                    };
                    if !m.last_error.is_empty() {
                        state = format!("{state} ({}: {})", m.attempts, m.last_error);
                    }
                    let what = match m
                        .kind
                        .as_deref()
                        .and_then(kabinet_domain::notify::EventKind::from_stored)
                    {
                        Some(k) => tr.t(&format!("notify-{}", k.preference().code())),
                        None => tr.t("support-sms-code"),
                    };
                    let digits: String = m.phone.chars().filter(char::is_ascii_digit).collect();
                    let masked = format!("+7 *** ***-{}", &digits[digits.len().saturating_sub(4)..]);
                    vec![text(at(m.created_at)), text(masked), text(what), text(state)]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
        Table {
            id: "max".into(),
            heading: "MAX".into(),
            columns: [
                "support-at",
                "support-subject",
                "support-text",
                "support-delivery",
            ]
            .map(|c| tr.t(c))
            .to_vec(),
            rows: c
                .max
                .iter()
                .map(|m| {
                    let mut state = tr.t(&format!("support-delivery-{}", m.status.as_str()));
                    if !m.last_error.is_empty() {
                        state = format!("{state} ({}: {})", m.attempts, m.last_error);
                    }
                    let what = m
                        .kind
                        .as_deref()
                        .and_then(kabinet_domain::notify::EventKind::from_stored)
                        .map(|k| tr.t(&format!("notify-{}", k.preference().code())))
                        .unwrap_or_default();
                    vec![
                        text(at(m.created_at)),
                        text(what),
                        text(m.text.clone()),
                        text(state),
                    ]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
        Table {
            id: "requests".into(),
            heading: tr.t("support-requests"),
            columns: [
                "support-request",
                "support-at",
                "support-category",
                "support-status",
            ]
            .map(|c| tr.t(c))
            .to_vec(),
            rows: c
                .requests
                .iter()
                .map(|r| {
                    vec![
                        Cell::Link(paths::staff_request(r.id), format!("№ {}", r.id)),
                        text(at(r.created_at)),
                        text(r.category_name.clone()),
                        text(crate::pages::requests::status_text(tr, r.status)),
                    ]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
        Table {
            id: "payments".into(),
            heading: tr.t("support-payments"),
            columns: ["support-at", "support-amount", "support-status"]
                .map(|c| tr.t(c))
                .to_vec(),
            rows: c
                .payments
                .iter()
                .map(|p| {
                    vec![
                        text(at(p.created_at)),
                        text(tr.money(p.amount)),
                        text(crate::pages::pay::status_text(tr, p.status)),
                    ]
                })
                .collect(),
            empty: tr.t("support-none"),
        },
    ]
}

async fn card_page(
    state: &AppState,
    ctx: &Ctx,
    s: &kabinet_app::staff::StaffUser,
    id: UserId,
    status: StatusCode,
    errors: Vec<String>,
    done: &str,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let c = state.app.support.card(by(s, ctx), id).await?;
    let clock = state.app.accounts.clock();
    let at = |t| tr.date_time(clock.local(t));
    let base = paths::staff_resident(id);
    let u = &c.user;
    let password = if u.password_generated {
        tr.t("support-password-one-time")
    } else {
        tr.t("support-password-own")
    };
    let mut facts = vec![
        (tr.t("support-email"), u.email.to_string()),
        (tr.t("support-sign-in-account"), u.account_number.to_string()),
        (
            tr.t("support-phone"),
            c.phone.clone().unwrap_or_else(|| tr.t("support-none")),
        ),
        (
            tr.t("support-registered"),
            c.registered_at.map(at).unwrap_or_default(),
        ),
        (
            tr.t("support-state"),
            tr.t(if u.blocked {
                "support-blocked"
            } else {
                "support-active"
            }),
        ),
        (tr.t("support-password"), password),
    ];
    if let Some(until) = c.sign_in_locked_until {
        facts.push((tr.t("support-sign-in-locked"), at(until)));
    }
    let accounts = c
        .accounts
        .iter()
        .map(|a| {
            let l = &a.linked;
            let mut facts = vec![
                (tr.t("support-address"), l.premises.full_address()),
                (tr.t("support-linked-at"), at(l.linked_at)),
                (
                    tr.t("support-registration"),
                    match a.registration_locked_until {
                        Some(until) => tr.a("support-registration-locked", "name", &at(until)),
                        None => tr.a(
                            "support-registration-open",
                            "n",
                            &a.registration_failures.to_string(),
                        ),
                    },
                ),
            ];
            if !l.primary {
                facts.push((tr.t("support-sign-in-account"), tr.t("support-linked")));
            }
            let mut rows: Vec<Vec<Cell>> = a
                .viewers
                .iter()
                .map(|v| {
                    vec![
                        Cell::Link(paths::staff_resident(v.user_id), v.email.clone()),
                        Cell::Text(tr.t("support-link-approved")),
                        Cell::Text(at(v.linked_at)),
                        Cell::Button {
                            action: format!("{base}/unlink"),
                            fields: vec![
                                ("account", l.account.id.0.to_string()),
                                ("user", v.user_id.0.to_string()),
                            ],
                            label: tr.a("support-unlink-label", "name", &v.email),
                            text: tr.t("support-unlink"),
                        },
                    ]
                })
                .collect();
            rows.extend(a.pending.iter().map(|p| {
                vec![
                    Cell::Link(paths::staff_resident(p.user_id), p.user_email.clone()),
                    Cell::Text(tr.t("support-link-pending")),
                    Cell::Text(at(p.created_at)),
                    Cell::Text(String::new()),
                ]
            }));
            AccountBlock {
                heading: tr.a("support-account", "account", l.account.number.as_str()),
                facts,
                unlock: a.registration_failures > 0,
                account_id: l.account.id.0,
                others: Table {
                    id: format!("others-{}", l.account.id),
                    heading: tr.t("support-others"),
                    columns: [
                        "support-email",
                        "support-link-state",
                        "support-at",
                        "support-action",
                    ]
                    .map(|c| tr.t(c))
                    .to_vec(),
                    rows,
                    empty: tr.t("support-no-others"),
                },
            }
        })
        .collect();
    let mut tables = tables(&tr, state, &c);
    if !c.asked.is_empty() {
        tables.insert(
            0,
            Table {
                id: "asked".into(),
                heading: tr.t("support-asked"),
                columns: ["support-account-number", "support-at"].map(|c| tr.t(c)).to_vec(),
                rows: c
                    .asked
                    .iter()
                    .map(|r| vec![Cell::Text(r.account_number.clone()), Cell::Text(at(r.created_at))])
                    .collect(),
                empty: String::new(),
            },
        );
    }
    page_with(
        status,
        &ResidentPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_RESIDENTS),
            errors,
            notice: notice(&tr, done),
            heading: u.email.to_string(),
            back: paths::STAFF_RESIDENTS.to_string(),
            action_base: base,
            facts,
            blocked: u.blocked,
            has_sessions: !c.sessions.is_empty(),
            accounts,
            tables,
        },
    )
}

/// The card's query string (what was just done).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `GET /staff/residents/{id}`: the resident's card.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    card_page(
        &state,
        &ctx,
        &s,
        user_id(&id)?,
        StatusCode::OK,
        Vec::new(),
        &q.done,
    )
    .await
}

/// The actions' fields.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    reason: String,
}

fn id_field(s: &str) -> Result<i64, PageError> {
    s.trim()
        .parse()
        .map_err(|_| PageError::BadRequest("error-form-malformed"))
}

/// `POST /staff/residents/{id}/{action}`: `reset`, `sessions`, `block`,
/// `unblock`, `unlock` (field `account`) or `unlink` (fields `account`,
/// `user`).
pub(crate) async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ActForm>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    let support = &state.app.support;
    let who = by(&s, &ctx);
    let done = match action.as_str() {
        "reset" => support.send_reset(who, id).await.map(|sent| match sent {
            ResetSent::Sent => "reset",
            ResetSent::Limited => "limited",
        }),
        "sessions" => support.end_sessions(who, id).await.map(|()| "sessions"),
        "block" => support
            .set_blocked(who, id, true, &f.reason)
            .await
            .map(|()| "blocked"),
        "unblock" => support
            .set_blocked(who, id, false, &f.reason)
            .await
            .map(|()| "unblocked"),
        "unlock" => support
            .unlock_registration(who, AccountId(id_field(&f.account)?), Some(id))
            .await
            .map(|_| "unlocked"),
        "unlink" => support
            .remove_link(who, AccountId(id_field(&f.account)?), UserId(id_field(&f.user)?))
            .await
            .map(|()| "unlinked"),
        _ => return Err(Error::NotFound.into()),
    };
    match done {
        Ok(done) => Ok(see_other(&format!("{}?done={done}", paths::staff_resident(id)))),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            card_page(&state, &ctx, &s, id, status, errors, "").await
        }
    }
}

/// `POST /staff/accounts/{id}/unlock`: clears the registration checks of an
/// account nobody registered yet (from the search's results).
pub(crate) async fn unlock_account(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<ActForm>,
) -> Result<Response, PageError> {
    let account = AccountId(id.parse().map_err(|_| PageError::from(Error::NotFound))?);
    state
        .app
        .support
        .unlock_registration(by(&s, &ctx), account, None)
        .await?;
    Ok(see_other(&format!("{}?done=unlocked", paths::STAFF_RESIDENTS)))
}
