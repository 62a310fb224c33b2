//! Receipt PDFs for the signed-in resident (R8): only their own account,
//! rendered on the blocking pool with at most one render per core at a time.

use crate::Error;
use crate::auth::Resident;
use kabinet_db::{Db, Repos};
use kabinet_domain::qr::QrCharset;
use kabinet_domain::{AccountNumber, Period};
use kabinet_receipt::{ReceiptView, Renderer};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// A rendered receipt.
#[derive(Debug, Clone)]
pub struct ReceiptPdf {
    /// `receipt-<period>-<account>.pdf`, ASCII only (for a download header).
    pub file_name: String,
    /// The PDF.
    pub bytes: Vec<u8>,
}

/// The receipt use cases: one renderer shared by all requests.
#[derive(Clone)]
pub struct Receipts {
    db: Db,
    renderer: Arc<Renderer>,
    permits: Arc<Semaphore>,
    charset: QrCharset,
}

impl Receipts {
    /// Renders with `renderer`, one receipt per core at a time, with payment
    /// QR codes in `charset`.
    pub fn new(db: Db, renderer: Arc<Renderer>, charset: QrCharset) -> Receipts {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Receipts {
            db,
            renderer,
            permits: Arc::new(Semaphore::new(cores)),
            charset,
        }
    }

    /// The receipt of account `number` for `period` (`2026-10`), when the
    /// account is the resident's and the period has an invoice; anything else
    /// is [`Error::NotFound`], the same for every reason.
    pub async fn pdf(&self, r: &Resident, number: &str, period: &str) -> Result<ReceiptPdf, Error> {
        if number.trim().is_empty() {
            return Err(Error::NotFound);
        }
        let scope = crate::account::scope(&self.db, r, Some(number)).await?;
        let account = &scope.current().account;
        let number: AccountNumber = account.number.clone();
        let period = Period::parse(period).map_err(|_| Error::NotFound)?;
        let missing =
            kabinet_domain::organization::missing_details(self.db.organization().current().await?.as_ref());
        if !missing.is_empty() {
            tracing::warn!(
                missing = %missing.join(", "),
                "a receipt was asked for before the organization's details are complete"
            );
            return Err(Error::Conflict(kabinet_domain::Text::new(
                "error-portal-setting-up",
            )));
        }
        let input = match kabinet_receipt::load::load(&self.db, account.id, period).await {
            Ok(Some(input)) => input,
            Ok(None) => return Err(Error::NotFound),
            Err(kabinet_db::DbError::NotFound) => {
                tracing::warn!(%period, "a receipt's billing period or payee is missing from the imported data");
                return Err(Error::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let view = ReceiptView::build(&input, self.charset).map_err(|e| Error::Internal(e.to_string()))?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let renderer = self.renderer.clone();
        let started = std::time::Instant::now();
        let rendered = tokio::task::spawn_blocking(move || renderer.render(&view))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| Error::Internal(e.to_string()));
        crate::ops::receipt_rendered(started.elapsed(), rendered.is_ok());
        let (bytes, fallback) = rendered?;
        if let Some(e) = fallback {
            tracing::error!(error = %e, "the custom receipt template failed; the built-in one was used");
        }
        let file_name = kabinet_receipt::file_name(period, &number)
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        Ok(ReceiptPdf { file_name, bytes })
    }
}
