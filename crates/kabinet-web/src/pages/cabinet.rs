//! The overview of a resident's account (R3) and receipt downloads (R8);
//! both in the resident route group, both scoped to the linked accounts.

use super::{Layout, Section, account_param, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kabinet_app::Error;
use kabinet_domain::{InvoiceStatus, Kopecks, WindowState};
use serde::Deserialize;

/// `?account=`: which of the resident's accounts a page is about.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AccountQuery {
    /// The account number; the sign-in account when absent.
    #[serde(default)]
    pub account: Option<String>,
}

/// A receipt to download.
pub(crate) struct ReceiptLink {
    pub href: String,
    pub period: String,
    pub total: String,
}

/// The current invoice on the overview.
pub(crate) struct CurrentInvoice {
    pub title: String,
    pub href: String,
    pub total: String,
    pub due: String,
    pub status: InvoiceStatus,
}

/// The overview page.
#[derive(Template)]
#[template(path = "cabinet/overview.html")]
pub(crate) struct OverviewPage {
    pub layout: Layout,
    pub account: String,
    pub holder: String,
    pub balance_label: String,
    pub balance: String,
    pub invoice: Option<CurrentInvoice>,
    pub last_payment: Option<String>,
    pub window: String,
    pub receipts: Vec<ReceiptLink>,
    pub invoices_href: String,
    pub meters_href: String,
    pub pay_href: String,
    pub in_progress: Vec<String>,
    /// While autopay is on: that it is, and its latest debit.
    pub autopay: Option<String>,
    /// The resident's requests not yet finished, newest first.
    pub requests: Vec<super::requests::Row>,
    /// More of them than are shown.
    pub more_requests: bool,
}

/// The label of a status.
pub(crate) fn status_text(tr: &Tr, s: InvoiceStatus) -> String {
    tr.t(&format!("status-{}", s.code()))
}

/// How many unfinished requests the overview lists.
const OVERVIEW_REQUESTS: u64 = 5;

/// `GET /cabinet`: balance, current invoice and its status, last payment,
/// readings window, receipts, the requests not yet finished.
pub(crate) async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let o = crate::http::replica::replica_read!(state, ctx, accounts.overview(&r, q.account.as_deref()))?;
    let tr = Tr::current();
    let mut requests = state.app.requests.unfinished(&r, OVERVIEW_REQUESTS + 1).await?;
    let more_requests = requests.len() as u64 > OVERVIEW_REQUESTS;
    requests.truncate(OVERVIEW_REQUESTS as usize);
    let requests = requests
        .iter()
        .map(|x| super::requests::row(&state, &tr, x, paths::request(x.id)))
        .collect();
    let number = o.account.account.number.to_string();
    let (balance_label, balance) = if o.account.balance < Kopecks::ZERO {
        (tr.t("balance-advance"), tr.money(-o.account.balance))
    } else if o.account.balance == Kopecks::ZERO {
        (tr.t("balance-zero"), tr.money(Kopecks::ZERO))
    } else {
        (tr.t("balance-debt"), tr.money(o.account.balance))
    };
    let window = match o.window {
        WindowState::Open { until } => tr.a("window-open", "date", &tr.date(until)),
        WindowState::Closed { opens } => tr.a("window-closed", "date", &tr.date(opens)),
    };
    page(&OverviewPage {
        layout: Layout::resident(&state, &ctx, &o.scope, Section::Overview, paths::CABINET),
        holder: tr.a2(
            "holder-address",
            ("holder", &o.account.account.holder_name),
            ("address", &o.account.premises.full_address()),
        ),
        balance_label,
        balance,
        invoice: o.current.as_ref().map(|c| CurrentInvoice {
            title: tr.a("current-invoice", "month", &tr.month(c.invoice.period)),
            href: paths::invoice(&number, &c.invoice.period.to_string()),
            total: tr.money(c.invoice.total_due),
            due: tr.date(c.invoice.due_date),
            status: c.status,
        }),
        last_payment: o.account.last_payment.as_ref().map(|p| {
            tr.a2(
                "last-payment-text",
                ("amount", &tr.money(p.amount)),
                ("date", &tr.date(state.app.accounts.clock().today(p.paid_at))),
            )
        }),
        window,
        receipts: o
            .account
            .recent_invoices
            .iter()
            .map(|i| ReceiptLink {
                href: paths::receipt(&number, &i.period.to_string()),
                period: tr.a("receipt-for", "month", &tr.month(i.period)),
                total: tr.money(i.total_due),
            })
            .collect(),
        invoices_href: paths::for_account(paths::INVOICES, account_param(&o.scope).as_deref()),
        meters_href: paths::for_account(paths::METERS, account_param(&o.scope).as_deref()),
        pay_href: paths::for_account(paths::PAY, account_param(&o.scope).as_deref()),
        requests,
        more_requests,
        autopay: o.autopay.as_ref().map(|last| match last {
            Some(d) => tr.args(
                &format!("autopay-debit-{}", d.status.as_str()),
                &[
                    ("period", &tr.month(d.period)),
                    ("amount", &tr.money(d.amount)),
                    ("date", &tr.date(d.debit_on)),
                ],
            ),
            None => tr.t("overview-autopay-on"),
        }),
        in_progress: o
            .in_progress
            .iter()
            .map(|c| {
                tr.a2(
                    "card-in-progress",
                    ("amount", &tr.money(c.amount)),
                    ("status", &crate::pages::pay::status_text(&tr, c.status)),
                )
            })
            .collect(),
        account: number,
    })
}

/// `GET /accounts/{number}/receipts/{period}.pdf`: the receipt PDF; an
/// account not linked to the resident, a bad period or one without an
/// invoice is a 404 page.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    ResidentPage(r): ResidentPage,
    Path((number, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let period = file.strip_suffix(".pdf").unwrap_or(&file);
    match state.app.receipts.pdf(&r, &number, period).await {
        Ok(pdf) => Ok(crate::http::files::pdf(pdf)),
        Err(Error::NotFound) => Err(PageError::NotFound("error-receipt-not-found-long")),
        Err(e) => Err(e.into()),
    }
}
