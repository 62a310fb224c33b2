//! CSRF protection for browser forms: a token bound to the browser's CSRF
//! cookie and its session must come back in the `csrf` field, and requests from
//! other sites (by `Sec-Fetch-Site` or `Origin`) are refused outright.

use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// A form that passed the CSRF check, with its fields parsed into `T`.
pub(crate) struct CsrfForm<T>(pub T);

pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

#[derive(serde::Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = req.extensions().get::<Ctx>().cloned();
        let ok_origin = same_origin(req.headers());
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(ctx) = ctx else {
            return Err(
                PageError::from(kabinet_app::Error::Internal("request context missing".into()))
                    .into_response(),
            );
        };
        let token: Token = serde_urlencoded::from_bytes(&bytes).unwrap_or(Token { csrf: String::new() });
        let bound = ctx.csrf_binding();
        if !ok_origin
            || !state
                .app
                .auth
                .key()
                .csrf_valid(&token.csrf, &ctx.csrf_cookie, bound)
        {
            tracing::warn!(ip = %ctx.client.ip, "CSRF check failed");
            return Err(PageError::Csrf.into_response());
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|_| PageError::BadRequest("error-form-malformed").into_response())
    }
}
