//! What every request carries once it is in: the client's address and agent,
//! the browser's CSRF cookie, and the signed-in resident (from the session
//! cookie) when there is one. One middleware works them out, once.

use crate::AppState;
use crate::paths;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use kabinet_app::auth::{Client, Principal};
use kabinet_domain::SessionKind;
use std::net::{IpAddr, SocketAddr};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "kabinet_session";
/// The CSRF cookie's name.
pub(crate) const CSRF_COOKIE: &str = "kabinet_csrf";

/// The value of cookie `name`, if sent.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when the
/// portal is served over TLS; `max_age` 0 deletes the cookie, `None` makes it
/// last until the browser closes.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Per-request facts, in the request's extensions.
#[derive(Clone)]
pub(crate) struct Ctx {
    /// Address and agent for the audit log and throttling.
    pub client: Client,
    /// The browser's CSRF cookie value.
    pub csrf_cookie: String,
    /// The signed-in resident, if any.
    pub principal: Option<Principal>,
}

impl Ctx {
    /// The CSRF token for forms on this page.
    pub fn csrf(&self, state: &AppState) -> String {
        state.app.auth.key().csrf_token(
            &self.csrf_cookie,
            self.principal.as_ref().map(|p| p.token_hash.as_str()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| {
            crate::http::errors::PageError::from(kabinet_app::Error::Internal(
                "request context missing".into(),
            ))
            .into_response()
        })
    }
}

/// The client's address: the peer, or — only when the peer is a configured
/// proxy — the last address in `X-Forwarded-For`.
fn client_ip(state: &AppState, parts: &HeaderMap, peer: Option<IpAddr>) -> String {
    if let Some(peer) = peer
        && state.web.trusted_proxies.contains(&peer)
        && let Some(forwarded) = parts
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return forwarded.to_string();
    }
    peer.map_or_else(|| "unknown".to_string(), |p| p.to_string())
}

/// Works out the [`Ctx`] of a browser request and sets the CSRF cookie when the
/// browser has none yet.
pub(crate) async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let headers = req.headers();
    let client = Client {
        ip: client_ip(&state, headers, peer),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
    };
    let existing = cookie(headers, CSRF_COOKIE)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_string);
    let csrf_cookie = existing
        .clone()
        .unwrap_or_else(kabinet_app::auth::secrets::new_token);
    // The API and the probes use no cookies.
    let path = req.uri().path();
    let browser = !(path.starts_with(paths::API) || path == paths::HEALTHZ || path == paths::READYZ);
    let principal = match cookie(headers, SESSION_COOKIE) {
        Some(token) if browser => match state.app.auth.authenticate(token, SessionKind::Web).await {
            Ok(p) => p,
            Err(e) => return crate::http::errors::PageError::from(e).into_response(),
        },
        _ => None,
    };
    req.extensions_mut().insert(Ctx {
        client,
        csrf_cookie: csrf_cookie.clone(),
        principal,
    });
    let mut res = next.run(req).await;
    if existing.is_none() && browser {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &csrf_cookie, None, state.web.cookie_secure),
        );
    }
    res
}
