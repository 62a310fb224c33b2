//! The payment history of a resident's account, newest first, paged.

use super::{Layout, Section, account_param, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kabinet_domain::payment_source;
use serde::Deserialize;

/// `?account=&page=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PaymentsQuery {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub page: Option<String>,
}

/// A payment as shown.
pub(crate) struct Row {
    pub date: String,
    pub amount: String,
    pub source: String,
    pub status: String,
}

/// The history page.
#[derive(Template)]
#[template(path = "cabinet/payments.html")]
pub(crate) struct PaymentsPage {
    pub layout: Layout,
    pub account: String,
    pub count: String,
    pub rows: Vec<Row>,
    pub page_of: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// The translation id of a payment channel.
pub(crate) fn source_id(source: &str) -> &'static str {
    match source {
        payment_source::BANK => "source-bank",
        payment_source::CASH => "source-cash",
        payment_source::POST => "source-post",
        payment_source::PORTAL => "source-portal",
        _ => "source-other",
    }
}

/// `GET /payments?page=2`; a page that is not a number or past the end is
/// not found.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<PaymentsQuery>,
) -> Result<Response, PageError> {
    let n = match q.page.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(p) => p
            .parse::<u64>()
            .map_err(|_| PageError::NotFound("error-page-not-found"))?,
    };
    let p = state.app.accounts.payments(&r, q.account.as_deref(), n).await?;
    let tr = Tr::current();
    let clock = state.app.accounts.clock();
    let account = account_param(&p.scope);
    let link = |page: u64| {
        let base = paths::for_account(paths::PAYMENTS, account.as_deref());
        let sep = if account.is_some() { '&' } else { '?' };
        format!("{base}{sep}page={page}")
    };
    page(&PaymentsPage {
        layout: Layout::resident(&state, &ctx, &p.scope, Section::Payments, paths::PAYMENTS),
        account: p.scope.current().account.number.to_string(),
        count: tr.n("payments-count", i64::try_from(p.total).unwrap_or(i64::MAX)),
        rows: p
            .in_progress
            .iter()
            .map(|c| Row {
                date: tr.date(clock.today(c.created_at)),
                amount: tr.money(
                    c.shares
                        .iter()
                        .find(|s| s.account_id == p.scope.current().account.id)
                        .map_or(c.amount, |s| s.amount),
                ),
                source: tr.t(source_id(payment_source::PORTAL)),
                status: crate::pages::pay::status_text(&tr, c.status),
            })
            .chain(p.payments.iter().map(|x| Row {
                date: tr.date(clock.today(x.paid_at)),
                amount: tr.money(x.amount),
                source: tr.t(source_id(&x.source)),
                status: tr.t(if x.amount.is_negative() {
                    "payment-refund"
                } else if x.confirmed {
                    "payment-credited"
                } else {
                    "payment-unconfirmed"
                }),
            }))
            .collect(),
        page_of: tr.args(
            "page-of",
            &[("page", &p.page.to_string()), ("pages", &p.pages.to_string())],
        ),
        prev: (p.page > 1).then(|| link(p.page - 1)),
        next: (p.page < p.pages).then(|| link(p.page + 1)),
    })
}
