//! The one page error and the one API error. A use case's [`kabinet_app::Error`]
//! becomes a status and a message in the request's language here, once, for both: an HTML page
//! for browsers, an RFC 9457 problem document for the API.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kabinet_app::{Error, FieldErrors};
use kabinet_domain::Text;

/// A message in the request's language.
pub(crate) fn say(message: &Text) -> String {
    crate::i18n::Tr::current().text(message)
}

/// The status a use case's error answers with.
fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid(_) | Error::Readings(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::InvalidCredentials | Error::OneTimePasswordExpired | Error::StaffPasswordExpired => {
            StatusCode::UNAUTHORIZED
        }
        Error::InvalidResetToken => StatusCode::GONE,
        Error::StaleRules | Error::StaleConsent => StatusCode::CONFLICT,
        Error::PasswordNotSet | Error::Blocked => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::PaymentRefused | Error::RefundRefused => StatusCode::BAD_GATEWAY,
        Error::GatewayUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Error::Forbidden => StatusCode::FORBIDDEN,
        Error::InvalidCode => StatusCode::UNAUTHORIZED,
        Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::Photo(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::TooManyPayments => StatusCode::TOO_MANY_REQUESTS,
        Error::CardPaymentsOff => StatusCode::NOT_IMPLEMENTED,
        Error::Busy => StatusCode::SERVICE_UNAVAILABLE,
        Error::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Hash(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What the visitor reads for a use case's error; failures inside are logged
/// and described without their details.
fn detail_of(e: &Error) -> Text {
    match e {
        Error::Invalid(_) => Text::new("error-fields"),
        Error::NotFound => Text::new("error-page-not-found"),
        Error::Db(inner) => {
            tracing::error!(error = %inner, "database error");
            Text::new("error-unavailable")
        }
        Error::Hash(inner) => {
            tracing::error!(error = %inner, "password hashing failed");
            Text::new("error-internal")
        }
        Error::Internal(inner) => {
            tracing::error!(error = %inner, "internal error");
            Text::new("error-internal")
        }
        other => other.text(),
    }
}

/// How many seconds a client asked to come back later should wait.
const RETRY_AFTER_SECONDS: &str = "30";

/// Adds `Retry-After` to the answer of an error that passes by itself.
fn with_retry_after(e: &Error, mut res: Response) -> Response {
    if matches!(e, Error::Busy) {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    res
}

/// What a page shows for a refused form: 422 with the fields' messages, 409
/// with the conflict's; any other error fails the page.
pub(crate) fn refusal(e: Error) -> Result<(StatusCode, Vec<String>), PageError> {
    match e {
        Error::Invalid(fe) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            fe.iter().map(|(_, m)| say(m)).collect(),
        )),
        e @ Error::Conflict(_) => Ok((StatusCode::CONFLICT, vec![say(&e.text())])),
        e => Err(e.into()),
    }
}

/// What a page handler fails with.
#[derive(Debug)]
pub(crate) enum PageError {
    /// A use case refused or failed.
    App(Error),
    /// A form came without a valid CSRF token or from another site.
    Csrf,
    /// Too many requests from this address.
    TooManyRequests,
    /// Not found, with the message id of what to tell the visitor.
    NotFound(&'static str),
    /// The request cannot be understood (a message id).
    BadRequest(&'static str),
}

impl From<Error> for PageError {
    fn from(e: Error) -> PageError {
        PageError::App(e)
    }
}

impl From<kabinet_db::DbError> for PageError {
    fn from(e: kabinet_db::DbError) -> PageError {
        PageError::App(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::App(e) => with_retry_after(&e, error_page(status_of(&e), &detail_of(&e))),
            PageError::Csrf => error_page(StatusCode::FORBIDDEN, &Text::new("error-csrf")),
            PageError::TooManyRequests => error_page(
                StatusCode::TOO_MANY_REQUESTS,
                &Text::new("error-too-many-from-address"),
            ),
            PageError::NotFound(id) => error_page(StatusCode::NOT_FOUND, &Text::new(id)),
            PageError::BadRequest(id) => error_page(StatusCode::BAD_REQUEST, &Text::new(id)),
        }
    }
}

/// What an API handler fails with.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// A use case refused or failed.
    App(Error),
    /// No valid bearer token.
    Unauthorized,
    /// The token's resident must first do something else (a message id).
    Forbidden(&'static str),
    /// Too many requests from this address.
    TooManyRequests,
    /// Not found, with the message id of what to tell the client.
    NotFound(&'static str),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::App(e)
    }
}

impl From<kabinet_db::DbError> for ApiError {
    fn from(e: kabinet_db::DbError) -> ApiError {
        ApiError::App(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::App(Error::Invalid(fields)) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                &Text::new("error-fields"),
                Some(field_errors(&fields)),
            ),
            ApiError::App(e) => with_retry_after(&e, problem(status_of(&e), &detail_of(&e), None)),
            ApiError::Unauthorized => {
                let mut r = problem(StatusCode::UNAUTHORIZED, &Text::new("error-sign-in-needed"), None);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                r
            }
            ApiError::Forbidden(id) => problem(StatusCode::FORBIDDEN, &Text::new(id), None),
            ApiError::TooManyRequests => problem(
                StatusCode::TOO_MANY_REQUESTS,
                &Text::new("error-too-many-from-address"),
                None,
            ),
            ApiError::NotFound(id) => problem(StatusCode::NOT_FOUND, &Text::new(id), None),
        }
    }
}

/// Field errors as the API's `errors` member: field → message.
fn field_errors(f: &FieldErrors) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (field, msg) in f.iter() {
        map.entry(field.to_string())
            .or_insert_with(|| serde_json::Value::String(say(msg)));
    }
    serde_json::Value::Object(map)
}

/// A JSON problem document with an optional `errors` member (field → message).
pub(crate) fn problem(status: StatusCode, detail: &Text, errors: Option<serde_json::Value>) -> Response {
    problem_with(status, detail, errors.map(|e| ("errors", e)))
}

/// A JSON problem document with an optional extension member.
pub(crate) fn problem_with(
    status: StatusCode,
    detail: &Text,
    member: Option<(&str, serde_json::Value)>,
) -> Response {
    problem_said(status, &say(detail), member)
}

/// A JSON problem document whose detail is already in the reader's language.
pub(crate) fn problem_said(
    status: StatusCode,
    detail: &str,
    member: Option<(&str, serde_json::Value)>,
) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some((name, value)) = member {
            obj.insert(name.into(), value);
        }
        if let Some(id) = crate::http::request_id::current() {
            obj.insert("request_id".into(), id.into());
        }
    }
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    res
}

/// A small HTML error page in the request's language.
pub(crate) fn error_page(status: StatusCode, message: &Text) -> Response {
    error_page_said(status, &say(message))
}

/// An error page whose message is already in the reader's language.
pub(crate) fn error_page_said(status: StatusCode, message: &str) -> Response {
    let tr = crate::i18n::Tr::current();
    // The request's id, to quote when telling the organization.
    let trace = crate::http::request_id::current().map_or_else(String::new, |id| {
        let line = tr.text(&Text::new("request-id-line").with("id", id));
        format!(
            "<p class=\"request-id\">{}</p>",
            kabinet_notify::html::escape(&line)
        )
    });
    let body = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{code} — {site}</title><link rel=\"stylesheet\" href=\"{css}\"></head><body><main id=\"main\"><h1>{msg}</h1><p><a href=\"{home}\">{to_home}</a></p>{trace}</main></body></html>",
        lang = tr.code(),
        code = status.as_u16(),
        site = kabinet_notify::html::escape(&tr.t("site-name")),
        msg = kabinet_notify::html::escape(message),
        css = crate::paths::STYLESHEET,
        home = crate::paths::HOME,
        to_home = kabinet_notify::html::escape(&tr.t("to-home")),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The fallback for unknown paths.
pub(crate) async fn not_found() -> PageError {
    PageError::NotFound("error-page-not-found")
}

/// The API's fallback for unknown paths.
pub(crate) async fn api_not_found() -> ApiError {
    ApiError::NotFound("error-page-not-found")
}

/// Turns a panic inside a handler into a 500 page; the panic is logged.
pub(crate) fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = detail, "handler panicked");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, &Text::new("error-internal"))
}
