//! The last word on every response (DOMAIN.md §Security): the outermost layer,
//! so what the body limit, the timeout, the panic catcher and axum's own
//! rejections answer passes through it too.
//!
//! - Security headers on everything: a Content-Security-Policy without inline
//!   scripts, no framing, no MIME sniffing, no cross-site referrers,
//!   `Cache-Control: no-store` unless a handler chose its caching (pages hold
//!   personal data), HSTS when served over TLS.
//! - Errors in one shape: an error status under `/api/` that is not a problem
//!   document (RFC 9457) becomes one, and an error page that is not HTML
//!   (plain text from a rejection, an empty 413 or 503) becomes our error
//!   page, in the request's language (chosen here, see [`crate::i18n`]). The health probes keep their JSON.

use crate::AppState;
use crate::http::errors::{error_page, problem};
use crate::i18n;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use kabinet_domain::Language;

/// The Content-Security-Policy: no inline scripts, no framing; forms post
/// only here, and redirect only here or to the payment gateway's pages
/// (`gateway_origins`), which is where the payment form sends the payer.
pub(crate) fn content_security_policy(gateway_origins: &[&str]) -> HeaderValue {
    let mut form_action = String::from("'self'");
    for o in gateway_origins {
        form_action.push(' ');
        form_action.push_str(o);
    }
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; form-action 'self'; frame-ancestors 'none'"))
}

const HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// The message id of what a visitor is told for an error status nobody described.
fn generic_detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "http-400",
        401 => "error-sign-in-needed",
        403 => "error-forbidden",
        404 => "error-page-not-found",
        405 => "http-405",
        406 => "http-406",
        408 => "http-408",
        413 => "http-413",
        414 => "http-414",
        415 => "http-415",
        422 => "http-422",
        429 => "http-429",
        503 => "http-503",
        s if s >= 500 => "error-internal",
        _ => "http-failed",
    }
}

/// Puts a proper error body in place of one that is not; the status and the
/// other headers (`Allow`, `WWW-Authenticate`, cookies) stay.
fn reshape(res: Response, api: bool, upload: bool) -> Response {
    let status = res.status();
    let detail = if upload && status == StatusCode::PAYLOAD_TOO_LARGE {
        // The routes that take photos have a limit of their own.
        crate::http::upload::TOO_BIG
    } else {
        generic_detail(status)
    };
    let mut shaped = if api {
        problem(status, &kabinet_domain::Text::new(detail), None)
    } else {
        error_page(status, &kabinet_domain::Text::new(detail))
    };
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().append(name.clone(), value.clone());
        }
    }
    shaped
}

/// The outermost middleware: see the module documentation.
pub(crate) async fn finish(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let api = path.starts_with(crate::paths::API);
    let probe = path == crate::paths::HEALTHZ || path == crate::paths::READYZ;
    let upload = path == crate::paths::REQUESTS || path == crate::paths::API_REQUESTS;
    let asked = i18n::from_query(req.uri().query());
    let lang = asked
        .or_else(|| {
            crate::http::context::cookie(req.headers(), i18n::LANG_COOKIE).and_then(Language::from_tag)
        })
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::from_accept)
        })
        .unwrap_or_default();
    let mut res = i18n::scope(lang, async move {
        let res = next.run(req).await;
        shape(res, api, probe, upload)
    })
    .await;
    if let (Some(l), false) = (asked, api) {
        res.headers_mut().append(
            header::SET_COOKIE,
            crate::http::context::set_cookie(
                i18n::LANG_COOKIE,
                l.code(),
                Some(365 * 86400),
                state.web.cookie_secure,
            ),
        );
    }
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(state.csp.clone());
    for (name, value) in HEADERS {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if state.web.cookie_secure {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    res
}

/// An error status's body in our shape (see the module documentation).
fn shape(mut res: Response, api: bool, probe: bool, upload: bool) -> Response {
    let status = res.status();
    if (status.is_client_error() || status.is_server_error()) && !probe {
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let shaped = if api {
            content_type.starts_with("application/problem+json")
        } else {
            content_type.starts_with("text/html")
        };
        if !shaped {
            res = reshape(res, api, upload);
        }
    }
    res
}
