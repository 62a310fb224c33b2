//! What every request carries once it is in: the client's address and agent,
//! the browser's CSRF cookie, and the signed-in resident (from the session
//! cookie) when there is one. One middleware works them out, once.

use crate::AppState;
use crate::i18n;
use crate::paths;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use kabinet_app::auth::{Client, Principal};
use kabinet_app::staff::StaffPrincipal;
use kabinet_domain::SessionKind;
use kabinet_domain::{Suspension, SuspensionPhase};
use std::net::{IpAddr, SocketAddr};
use time::OffsetDateTime;

/// The answer while the portal is closed (R14): 503 with `Retry-After` and
/// the organization's message, as a page or a problem document.
fn suspended(
    s: &Suspension,
    api: bool,
    clock: kabinet_domain::OrgClock,
    org: Option<&kabinet_domain::Organization>,
) -> Response {
    let tr = i18n::Tr::current();
    let retry = s.retry_after(OffsetDateTime::now_utc());
    let until = s
        .ends_at
        .map(|e| tr.a("suspended-until", "when", &tr.date_time(clock.local(e))))
        .unwrap_or_default();
    // An emergency does not wait for the portal: the dispatch phone is on
    // the closed page.
    let dispatch = org
        .filter(|o| !o.dispatch_phone.trim().is_empty())
        .map(|o| tr.a("suspended-dispatch", "phone", &o.dispatch_phone))
        .unwrap_or_default();
    let detail = format!("{} {} {} {}", tr.t("suspended-title"), s.message, until, dispatch);
    let status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    let mut res = if api {
        crate::http::errors::problem_said(status, detail.trim(), None)
    } else {
        crate::http::errors::error_page_said(status, detail.trim())
    };
    if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// Whether a request is a page reloading itself (`refresh.js` adds
/// `auto=1`), which is not the member's activity.
pub(crate) fn self_refresh(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|kv| kv == "auto=1"))
}

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "kabinet_session";
/// The staff session cookie's name (sent only to `/staff`).
pub(crate) const STAFF_COOKIE: &str = "kabinet_staff";
/// The CSRF cookie's name.
pub(crate) const CSRF_COOKIE: &str = "kabinet_csrf";
/// Set for [`FRESH_SECONDS`] after a browser's write when a replica is
/// configured: while it is there, its pages read from the primary, so a
/// resident sees what they just did.
pub(crate) const WROTE_COOKIE: &str = "kabinet_wrote";
/// How long after a write a browser reads from the primary.
pub(crate) const FRESH_SECONDS: i64 = 10;

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

/// The staff session cookie: only sent to `/staff`, SameSite=Strict, gone
/// when the browser closes (`max_age` 0 deletes it).
pub(crate) fn staff_cookie(value: &str, delete: bool, secure: bool) -> HeaderValue {
    let mut c = format!(
        "{STAFF_COOKIE}={value}; Path={}; HttpOnly; SameSite=Strict",
        paths::STAFF
    );
    if delete {
        c.push_str("; Max-Age=0");
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
    /// The staff member of a `/staff` request, at whatever sign-in stage.
    pub staff: Option<StaffPrincipal>,
    /// The organization (cached), for the header and footer.
    pub org: Option<kabinet_domain::Organization>,
    /// A closing announced for later, for the banner.
    pub announced: Option<kabinet_domain::Suspension>,
    /// Emergencies and outages in force for the signed-in resident (the
    /// pinned banner of their pages).
    pub pinned: Vec<kabinet_domain::announcements::Announcement>,
    /// This browser wrote in the last [`FRESH_SECONDS`]: read from the primary.
    pub fresh: bool,
}

impl Ctx {
    /// The CSRF token for forms on this page.
    pub fn csrf(&self, state: &AppState) -> String {
        state
            .app
            .auth
            .key()
            .csrf_token(&self.csrf_cookie, self.csrf_binding())
    }

    /// The session a form's CSRF token is bound to: the staff session on
    /// staff pages, else the resident's.
    pub fn csrf_binding(&self) -> Option<&str> {
        match &self.staff {
            Some(s) => Some(s.token_hash.as_str()),
            None => self.principal.as_ref().map(|p| p.token_hash.as_str()),
        }
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
pub(crate) fn client_ip(state: &AppState, parts: &HeaderMap, peer: Option<IpAddr>) -> String {
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
    // A closing shuts the residents' pages and API only: the probes, the
    // staff console (staff work through it), the status operation that tells
    // apps about it, and the assets stay.
    let exempt = path == paths::HEALTHZ
        || path == paths::READYZ
        || path == paths::STYLESHEET
        || path == paths::REFRESH_SCRIPT
        || path == paths::API_STATUS
        || path == paths::STAFF
        || path.starts_with(paths::STAFF_PREFIX);
    let api = path.starts_with(paths::API);
    let mut announced = None;
    if !exempt {
        match state.app.site.suspension().await {
            Ok(Some(s)) => match s.phase(OffsetDateTime::now_utc()) {
                SuspensionPhase::Closed => {
                    let org = state.app.organization().await.ok().flatten();
                    return suspended(&s, api, state.app.accounts.clock(), org.as_ref());
                }
                SuspensionPhase::Announced => announced = Some(s),
                SuspensionPhase::Open => {}
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the suspension"),
        }
    }
    let principal = match cookie(headers, SESSION_COOKIE) {
        Some(token) if browser => match state.app.auth.authenticate(token, SessionKind::Web).await {
            Ok(p) => p,
            Err(e) => return crate::http::errors::PageError::from(e).into_response(),
        },
        _ => None,
    };
    let staff = match cookie(headers, STAFF_COOKIE) {
        Some(token) if path.starts_with(paths::STAFF) => match state
            .app
            .staff
            .authenticate(token, !self_refresh(req.uri().query()))
            .await
        {
            Ok(p) => p,
            Err(e) => return crate::http::errors::PageError::from(e).into_response(),
        },
        _ => None,
    };
    let org = if browser {
        state.app.organization().await.ok().flatten()
    } else {
        None
    };
    let pinned = match &principal {
        Some(p) if !path.starts_with(paths::STAFF_PREFIX) => state
            .app
            .announcements
            .pinned_for(p.user.id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the announcements");
                Vec::new()
            }),
        _ => Vec::new(),
    };
    // The resident's own choice beats the cookie and the browser, not `?lang=`.
    let chosen = principal.as_ref().and_then(|p| p.user.language);
    let lang = match (i18n::from_query(req.uri().query()), chosen) {
        (None, Some(l)) => l,
        _ => i18n::current(),
    };
    let fresh = cookie(req.headers(), WROTE_COOKIE).is_some();
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    req.extensions_mut().insert(Ctx {
        client,
        csrf_cookie: csrf_cookie.clone(),
        principal,
        staff,
        org,
        announced,
        pinned,
        fresh,
    });
    let mut res = i18n::scope(lang, next.run(req)).await;
    if browser && writes && res.status().as_u16() < 400 && state.app.replica(false).is_some() {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(WROTE_COOKIE, "1", Some(FRESH_SECONDS), state.web.cookie_secure),
        );
    }
    if existing.is_none() && browser {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &csrf_cookie, None, state.web.cookie_secure),
        );
    }
    res
}
