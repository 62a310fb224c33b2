//! Autopay in the browser (B1): the kept payment methods (each can be
//! forgotten), and per linked account its autopay — the method, the largest
//! invoice paid, the day — with its latest debits; turned on, changed or off
//! with plain forms.

use super::{Layout, Section, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::auth::Resident;
use kabinet_app::autopay::{AutopayInput, AutopayView};
use kabinet_domain::payment_methods::PayMethod;
use serde::Deserialize;

/// A kept method as shown.
pub(crate) struct MethodRow {
    pub id: i64,
    pub title: String,
    pub forget: String,
}

/// One account's block.
pub(crate) struct AccountBlock {
    pub number: String,
    pub address: String,
    pub status: String,
    pub on: bool,
    pub someone_else: bool,
    pub method: i64,
    pub max: String,
    pub day: u8,
    pub debits: Vec<String>,
    pub errors: Vec<String>,
}

/// The page.
#[derive(Template)]
#[template(path = "pay/autopay.html")]
pub(crate) struct AutopayPage {
    pub layout: Layout,
    pub saved: bool,
    pub methods: Vec<MethodRow>,
    pub accounts: Vec<AccountBlock>,
    pub days: Vec<u8>,
}

/// `?saved=1`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// The form of one account.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AutopayForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    action: String,
}

fn render(
    state: &AppState,
    ctx: &Ctx,
    view: &AutopayView,
    status: StatusCode,
    saved: bool,
    failed: Option<(&AutopayForm, Vec<String>)>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let accounts = view
        .accounts
        .iter()
        .map(|a| {
            let number = a.account.account.number.to_string();
            let typed = failed.as_ref().filter(|(f, _)| f.account == number);
            let (on, method, max, day) = match &a.autopay {
                Some(x) => (
                    x.enabled,
                    x.method_id,
                    x.max_amount.to_plain_string().replace('\u{a0}', " "),
                    x.day.unwrap_or(0),
                ),
                None => (false, view.methods.first().map_or(0, |m| m.id), String::new(), 0),
            };
            AccountBlock {
                status: if a.someone_else {
                    tr.t("autopay-someone-else")
                } else if on {
                    let when = if day == 0 {
                        tr.t("autopay-day-arrival")
                    } else {
                        tr.a("autopay-day-n", "day", &day.to_string())
                    };
                    tr.args("autopay-on", &[("max", &max), ("when", &when)])
                } else {
                    tr.t("autopay-off")
                },
                on,
                someone_else: a.someone_else,
                method,
                max: typed.map_or(max, |(f, _)| f.max.chars().take(20).collect()),
                day,
                debits: a
                    .debits
                    .iter()
                    .map(|d| {
                        tr.args(
                            &format!("autopay-debit-{}", d.status.as_str()),
                            &[
                                ("period", &tr.month(d.period)),
                                ("amount", &tr.money(d.amount)),
                                ("date", &tr.date(d.debit_on)),
                            ],
                        )
                    })
                    .collect(),
                errors: typed.map(|(_, e)| e.clone()).unwrap_or_default(),
                address: a.account.premises.full_address(),
                number,
            }
        })
        .collect();
    page_with(
        status,
        &AutopayPage {
            layout: Layout::section(state, ctx, Section::Payments),
            saved,
            methods: view
                .methods
                .iter()
                .map(|m| MethodRow {
                    id: m.id,
                    // A card by its mask; СБП by its name in the reader's
                    // language (the gateway's title is in its own).
                    title: match m.kind {
                        Some(PayMethod::Sbp) => crate::pages::pay::method_name(&tr, PayMethod::Sbp),
                        _ => m.title.clone(),
                    },
                    forget: paths::autopay_forget(m.id),
                })
                .collect(),
            accounts,
            days: (1..=kabinet_domain::autopay::LAST_DAY).collect(),
        },
    )
}

/// `GET /autopay`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let view = state.app.autopay.view(&r).await?;
    render(&state, &ctx, &view, StatusCode::OK, !q.saved.is_empty(), None)
}

async fn back(
    state: &AppState,
    ctx: &Ctx,
    r: &Resident,
    f: &AutopayForm,
    e: kabinet_app::Error,
) -> Result<Response, PageError> {
    let (status, errors) = refusal(e)?;
    let view = state.app.autopay.view(r).await?;
    render(state, ctx, &view, status, false, Some((f, errors)))
}

/// `POST /autopay`: turns an account's autopay on (or changes it), or off
/// (`action=off`).
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(f): CsrfForm<AutopayForm>,
) -> Result<Response, PageError> {
    let done = if f.action == "off" {
        state.app.autopay.disable(&r, &f.account, &ctx.client).await
    } else {
        let input = AutopayInput {
            method: f.method.clone(),
            max: f.max.clone(),
            day: f.day.clone(),
        };
        state
            .app
            .autopay
            .enable(&r, &f.account, &input, &ctx.client)
            .await
            .map(|_| ())
    };
    match done {
        Ok(()) => Ok(see_other(&format!("{}?saved=1", paths::AUTOPAY))),
        Err(e) => back(&state, &ctx, &r, &f, e).await,
    }
}

/// `POST /autopay/methods/{id}/forget`.
pub(crate) async fn forget(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<super::settings::Empty>,
) -> Result<Response, PageError> {
    state.app.autopay.forget(&r, id, &ctx.client).await?;
    Ok(see_other(&format!("{}?saved=1", paths::AUTOPAY)))
}
