//! The signed-in resident's account page and receipt downloads (R3, R8).
//! Both are in the resident route group.

use super::{Layout, date, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::ResidentPage;
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;

/// What is owed now, or paid ahead.
pub(crate) struct Balance {
    pub label: &'static str,
    pub amount: String,
}

/// The current invoice in one line.
pub(crate) struct CurrentInvoice {
    pub period: String,
    pub total: String,
    pub due: String,
}

/// A receipt to download.
pub(crate) struct ReceiptLink {
    pub href: String,
    pub period: String,
    pub total: String,
}

/// The account overview.
#[derive(Template)]
#[template(path = "cabinet/overview.html")]
pub(crate) struct CabinetPage {
    pub layout: Layout,
    pub account: String,
    pub holder: String,
    pub address: String,
    pub balance: Balance,
    pub invoice: Option<CurrentInvoice>,
    pub last_payment: Option<String>,
    pub receipts: Vec<ReceiptLink>,
}

/// `GET /cabinet`: balance, the current invoice, the last payment, receipts.
pub(crate) async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
) -> Result<Response, PageError> {
    let o = state.app.accounts.overview(&r).await?;
    let number = o.account.number.to_string();
    let balance = if o.balance.is_negative() {
        Balance {
            label: "Аванс (переплата)",
            amount: (-o.balance).to_string(),
        }
    } else {
        Balance {
            label: "К оплате",
            amount: o.balance.to_string(),
        }
    };
    page(&CabinetPage {
        layout: Layout::new(&state, &ctx),
        holder: o.account.holder_name.clone(),
        address: o.premises.full_address(),
        balance,
        invoice: o.current_invoice().map(|i| CurrentInvoice {
            period: i.period.to_russian(),
            total: i.total_due.to_string(),
            due: date(i.due_date),
        }),
        last_payment: o
            .last_payment
            .as_ref()
            .map(|p| format!("{} от {}", p.amount, date(p.paid_at.date()))),
        receipts: o
            .recent_invoices
            .iter()
            .map(|i| ReceiptLink {
                href: paths::receipt(&number, &i.period.to_string()),
                period: i.period.to_russian(),
                total: i.total_due.to_string(),
            })
            .collect(),
        account: number,
    })
}

/// `GET /accounts/{number}/receipts/{period}.pdf`: the receipt PDF; another
/// resident's account, a bad period or one without an invoice is a 404 page.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    ResidentPage(r): ResidentPage,
    Path((number, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let period = file.strip_suffix(".pdf").unwrap_or(&file);
    match state.app.receipts.pdf(&r, &number, period).await {
        Ok(pdf) => Ok(pdf_response(pdf)),
        Err(Error::NotFound) => Err(PageError::NotFound(
            "Квитанция за этот период не найдена. Квитанции есть только за периоды, за которые выставлен счёт.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A PDF download.
pub(crate) fn pdf_response(pdf: kabinet_app::receipts::ReceiptPdf) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", pdf.file_name),
            ),
        ],
        pdf.bytes,
    )
        .into_response()
}
