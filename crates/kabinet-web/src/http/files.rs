//! Files the pages and the API answer with: receipts (PDF), photos (JPEG)
//! and the pages' UTF-8 CSV downloads.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A receipt as a download.
pub(crate) fn pdf(pdf: kabinet_app::receipts::ReceiptPdf) -> Response {
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

/// A photo, never cached (it is a resident's private picture).
pub(crate) fn jpeg(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// A UTF-8 CSV download named `name` (the caller builds the text, with its
/// BOM and formula-safe cells).
pub(crate) fn csv(name: &str, text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response()
}
