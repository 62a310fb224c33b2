//! Invoices of a resident's account (R4): the list by month with statuses,
//! and one invoice with its services, payments and receipt.

use super::cabinet::{AccountQuery, status_text};
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
use kabinet_app::account::ChargeLine;
use kabinet_domain::{InvoiceStatus, Kopecks};

/// A row of the invoice list.
pub(crate) struct Row {
    pub period: String,
    pub href: String,
    pub receipt: String,
    pub charged: String,
    pub paid: String,
    pub total: String,
    pub status: InvoiceStatus,
    pub status_text: String,
}

/// The invoice list.
#[derive(Template)]
#[template(path = "cabinet/invoices.html")]
pub(crate) struct InvoicesPage {
    pub layout: Layout,
    pub account: String,
    pub rows: Vec<Row>,
}

/// `GET /invoices`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let (scope, rows) =
        crate::http::replica::replica_read!(state, ctx, accounts.invoices(&r, q.account.as_deref()))?;
    let tr = Tr::current();
    let number = scope.current().account.number.to_string();
    page(&InvoicesPage {
        layout: Layout::resident(&state, &ctx, &scope, Section::Invoices, paths::INVOICES),
        rows: rows
            .iter()
            .map(|row| {
                let p = row.invoice.period.to_string();
                Row {
                    period: tr.month(row.invoice.period),
                    href: paths::invoice(&number, &p),
                    receipt: paths::receipt(&number, &p),
                    charged: tr.money(row.invoice.charged),
                    paid: tr.money(row.paid_towards),
                    total: tr.money(row.invoice.total_due),
                    status: row.status,
                    status_text: status_text(&tr, row.status),
                }
            })
            .collect(),
        account: number,
    })
}

/// A charge line as shown.
pub(crate) struct Line {
    pub service: String,
    pub volume: String,
    pub unit: String,
    pub tariff: String,
    pub charged: String,
    pub recalculation: String,
    pub benefits: String,
    pub total: String,
}

/// A charge line in the page's language.
pub(crate) fn line(tr: &Tr, l: &ChargeLine) -> Line {
    let c = &l.charge;
    let volume = c.volume.map(|v| v.to_string()).unwrap_or_default();
    Line {
        service: l.service_name.clone(),
        volume: if tr.lang == kabinet_domain::Language::Ru {
            volume
        } else {
            volume.replace(',', ".")
        },
        unit: c.unit.clone(),
        tariff: c.tariff.map(|t| tr.money(t)).unwrap_or_default(),
        charged: tr.money(c.charged),
        recalculation: if c.recalculation == Kopecks::ZERO {
            String::new()
        } else {
            tr.money(c.recalculation)
        },
        benefits: if c.benefits == Kopecks::ZERO {
            String::new()
        } else {
            tr.money(c.benefits)
        },
        total: tr.money(c.total),
    }
}

/// One invoice.
#[derive(Template)]
#[template(path = "cabinet/invoice.html")]
pub(crate) struct InvoicePage {
    pub layout: Layout,
    pub title: String,
    pub account: String,
    pub opening_label: String,
    pub opening: String,
    pub charged: String,
    pub penalties: String,
    pub paid_in_period: String,
    pub total: String,
    pub due: String,
    pub status: InvoiceStatus,
    pub status_text: String,
    pub lines: Vec<Line>,
    pub payments: Vec<(String, String)>,
    pub receipt: String,
    pub back: String,
    pub pay_href: String,
}

/// `GET /accounts/{number}/invoices/{period}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path((number, period)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let d = match crate::http::replica::replica_read!(state, ctx, accounts.invoice(&r, &number, &period)) {
        Err(Error::NotFound) => return Err(PageError::NotFound("error-invoice-not-found")),
        other => other?,
    };
    let tr = Tr::current();
    let i = &d.row.invoice;
    let number = d.scope.current().account.number.to_string();
    let clock = state.app.accounts.clock();
    page(&InvoicePage {
        pay_href: paths::for_account(paths::PAY, account_param(&d.scope).as_deref()),
        layout: Layout::resident(&state, &ctx, &d.scope, Section::Invoices, paths::INVOICES),
        title: tr.a("invoice-title", "month", &tr.month(i.period)),
        opening_label: tr.t(if i.opening_balance < Kopecks::ZERO {
            "opening-advance"
        } else {
            "opening-debt"
        }),
        opening: tr.money(if i.opening_balance < Kopecks::ZERO {
            -i.opening_balance
        } else {
            i.opening_balance
        }),
        charged: tr.money(i.charged),
        penalties: tr.money(i.penalties),
        paid_in_period: tr.money(i.paid),
        total: tr.money(i.total_due),
        due: tr.a("due-by", "date", &tr.date(i.due_date)),
        status: d.row.status,
        status_text: status_text(&tr, d.row.status),
        lines: d.lines.iter().map(|l| line(&tr, l)).collect(),
        payments: d
            .payments
            .iter()
            .map(|p| (tr.date(clock.today(p.paid_at)), tr.money(p.amount)))
            .collect(),
        receipt: paths::receipt(&number, &i.period.to_string()),
        back: paths::for_account(paths::INVOICES, account_param(&d.scope).as_deref()),
        account: number,
    })
}
