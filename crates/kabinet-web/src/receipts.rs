//! Receipt PDFs for the signed-in resident (R8), for the pages and the API:
//! only the resident's own account, rendered on the blocking pool with at most
//! one render per core at a time.

use crate::AppState;
use crate::error::AppError;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kabinet_auth::Principal;
use kabinet_domain::qr::QrCharset;
use kabinet_domain::{AccountNumber, Period};
use kabinet_receipt::{ReceiptView, Renderer};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The renderer shared by all requests, with its concurrency bound.
#[derive(Clone)]
pub struct Receipts {
    renderer: Arc<Renderer>,
    permits: Arc<Semaphore>,
    charset: QrCharset,
}

impl Receipts {
    /// Renders with `renderer`, one receipt per core at a time, with payment
    /// QR codes in `charset`.
    pub fn new(renderer: Arc<Renderer>, charset: QrCharset) -> Receipts {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Receipts {
            renderer,
            permits: Arc::new(Semaphore::new(cores)),
            charset,
        }
    }
}

/// Why a receipt is not given out.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReceiptRefusal {
    /// Not the resident's account, a bad period, or no invoice for it.
    #[error("квитанция за этот период не найдена")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    App(#[from] AppError),
}

/// The PDF of `number`'s receipt for `period`, when `number` is the resident's
/// own account and the period has an invoice.
pub(crate) async fn pdf(
    state: &AppState,
    p: &Principal,
    number: &str,
    period: &str,
) -> Result<Response, ReceiptRefusal> {
    let number = AccountNumber::parse(number).map_err(|_| ReceiptRefusal::NotFound)?;
    if number != p.user.account_number {
        return Err(ReceiptRefusal::NotFound);
    }
    let period = Period::parse(period).map_err(|_| ReceiptRefusal::NotFound)?;
    let input = kabinet_receipt::load::load(&state.db, p.user.account_id, period)
        .await
        .map_err(AppError::from)?
        .ok_or(ReceiptRefusal::NotFound)?;
    let view =
        ReceiptView::build(&input, state.receipts.charset).map_err(|e| AppError::Internal(e.to_string()))?;
    let _permit = state
        .receipts
        .permits
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let renderer = state.receipts.renderer.clone();
    let (bytes, fallback) = tokio::task::spawn_blocking(move || renderer.render(&view))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(e) = fallback {
        tracing::error!(error = %e, "the custom receipt template failed; the built-in one was used");
    }
    let name: String = kabinet_receipt::file_name(period, &number)
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
