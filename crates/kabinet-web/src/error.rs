//! One error type for every handler, rendered as an HTML page or, for API
//! requests, as a JSON problem (RFC 9457).

use axum::Json;
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
    /// Something else inside failed; details go to the log.
    #[error("внутренняя ошибка, попробуйте позже")]
    Internal(String),
    /// A form came without a valid CSRF token or from another site.
    #[error("форма устарела или отправлена с другого сайта. Обновите страницу и попробуйте снова")]
    Csrf,
    /// The request cannot be understood.
    #[error("{0}")]
    BadRequest(String),
    /// Too many requests from this address.
    #[error("слишком много запросов с вашего адреса. Подождите минуту и попробуйте снова")]
    TooManyRequests,
    /// Signing in is needed.
    #[error("нужно войти в личный кабинет")]
    Unauthorized,
    /// The resident must first set a password or accept the Rules.
    #[error("{0}")]
    Forbidden(String),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Csrf | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }

    fn log(&self) {
        match self {
            AppError::Db(e) => tracing::error!(error = %e, "database error"),
            AppError::Internal(e) => tracing::error!(error = %e, "internal error"),
            _ => {}
        }
    }

    /// The error as an HTML page.
    pub fn into_page(self) -> Response {
        self.log();
        error_page(self.status(), &self.to_string())
    }

    /// The error as a JSON problem document (`application/problem+json`).
    pub fn into_problem(self) -> Response {
        self.log();
        problem(self.status(), &self.to_string(), None)
    }
}

impl From<kabinet_auth::HashError> for AppError {
    fn from(e: kabinet_auth::HashError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.into_page()
    }
}

/// A JSON problem document with an optional `errors` member (field → message).
pub(crate) fn problem(status: StatusCode, detail: &str, errors: Option<serde_json::Value>) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(errors), Some(obj)) = (errors, body.as_object_mut()) {
        obj.insert("errors".into(), errors);
    }
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    res
}

/// A small HTML error page.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{code} — Личный кабинет</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main><h1>{msg}</h1><p><a href=\"/\">На главную</a></p></main></body></html>",
        code = status.as_u16(),
        msg = kabinet_notify::html::escape(message),
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
