//! The signed-in resident's account page and receipt downloads.

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::receipts::{self, ReceiptRefusal};
use crate::views::{CabinetPage, Layout, date, page, resident, see_other};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /cabinet`: balance, the current invoice, the last payment, receipts.
pub(crate) async fn overview(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = match resident(&ctx) {
        Ok(p) => p,
        Err(to) => return Ok(see_other(to)),
    };
    let o = state
        .db
        .account_overview(p.user.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let invoices = state.db.invoices(p.user.account_id).await?;
    let mut receipts: Vec<_> = invoices
        .iter()
        .map(|i| {
            (
                i.period.to_string(),
                i.period.to_russian(),
                i.total_due.to_string(),
            )
        })
        .collect();
    receipts.sort_by(|a, b| b.0.cmp(&a.0));
    receipts.truncate(12);
    let (balance_label, balance) = if o.balance.is_negative() {
        ("Аванс (переплата)", (-o.balance).to_string())
    } else {
        ("К оплате", o.balance.to_string())
    };
    Ok(page(&CabinetPage {
        layout: Layout::new(&state, &ctx),
        account: o.account.number.to_string(),
        holder: o.account.holder_name.clone(),
        address: o.premises.full_address(),
        balance_label,
        balance,
        invoice: o
            .current_invoice
            .as_ref()
            .map(|i| (i.period.to_russian(), i.total_due.to_string(), date(i.due_date))),
        last_payment: o
            .last_payment
            .as_ref()
            .map(|p| format!("{} от {}", p.amount, date(p.paid_at.date()))),
        receipts,
    }))
}

/// `GET /accounts/{number}/receipts/{period}.pdf`: the receipt PDF; another
/// resident's account, a bad period or one without an invoice is a 404 page.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, file)): Path<(String, String)>,
) -> Response {
    let p = match resident(&ctx) {
        Ok(p) => p,
        Err(to) => return see_other(to),
    };
    let period = file.strip_suffix(".pdf").unwrap_or(&file);
    match receipts::pdf(&state, p, &number, period).await {
        Ok(r) => r,
        Err(ReceiptRefusal::NotFound) => crate::error::error_page(
            StatusCode::NOT_FOUND,
            "Квитанция за этот период не найдена. Квитанции есть только за периоды, за которые выставлен счёт.",
        ),
        Err(ReceiptRefusal::App(e)) => e.into_page(),
    }
}
