//! One error type for every handler, rendered as an HTML page or, for API
//! requests, as a JSON problem (RFC 9457).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The page or record does not exist (or is not the resident's).
    #[error("страница не найдена")]
    NotFound,
    /// The database failed; details go to the log, not to the visitor.
    #[error("сервис временно недоступен")]
    Db(#[from] kabinet_db::DbError),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Db(e) = &self {
            tracing::error!(error = %e, "database error");
        }
        error_page(self.status(), &self.to_string())
    }
}

/// A small HTML error page.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{code} — Личный кабинет</title></head><body><main><h1>{msg}</h1><p><a href=\"/\">На главную</a></p></main></body></html>",
        code = status.as_u16(),
        msg = crate::escape::html(message),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The fallback for unknown paths.
pub(crate) async fn not_found() -> Response {
    AppError::NotFound.into_response()
}

/// Turns a panic inside a handler into a 500 page; the panic is logged.
pub(crate) fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = detail, "handler panicked");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Внутренняя ошибка. Попробуйте позже.",
    )
}
