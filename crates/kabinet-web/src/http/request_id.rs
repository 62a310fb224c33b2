//! Every request gets an id (`X-Request-Id`): taken from a trusted proxy
//! when it sent a sensible one, made here otherwise. It is in the request
//! span (so in every log line of the request), on the response, and on the
//! error page and problem document, so a resident's complaint can be traced
//! to the log.

use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// The header.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being answered, if any.
pub(crate) fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Whether a proxy's id is one we repeat: 1–64 letters, digits, `-`, `_`, `.`
/// (nothing that could forge a log line or break a page).
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A new id: 16 random hex digits.
fn new_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// The outermost layer: see the module documentation.
pub(crate) async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = peer.is_some_and(|p| state.web.trusted_proxies.contains(&p));
    let given = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| trusted && acceptable(v))
        .map(str::to_string);
    let id = given.unwrap_or_else(new_id);
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("-"));
    req.headers_mut().insert(X_REQUEST_ID, value.clone());
    let mut res = CURRENT.scope(id, next.run(req)).await;
    res.headers_mut().insert(X_REQUEST_ID, value);
    res
}

/// The span every request's log lines are in: its id, method and route
/// template (never the path itself, which may hold a link's secret).
pub(crate) fn span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str());
    tracing::info_span!("request", id = %id, method = %req.method(), route = %route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_repeated() {
        assert!(acceptable("a1-B2_c3.d4"));
        assert!(acceptable(&"x".repeat(64)));
        assert!(!acceptable(&"x".repeat(65)));
        assert!(!acceptable(""));
        assert!(!acceptable("id\nforged line"));
        assert!(!acceptable("<script>"));
        assert_eq!(new_id().len(), 16);
        assert_ne!(new_id(), new_id());
    }
}
