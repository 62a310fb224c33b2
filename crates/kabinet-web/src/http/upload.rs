//! Forms with files (`multipart/form-data`): a request with its photos. The
//! page form must carry its CSRF token like any other; the API's takes the
//! bearer token instead. At most [`MAX_PARTS`] parts are read, and the route's
//! body limit ([`crate::MAX_UPLOAD_BYTES`]) bounds the whole.

use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::response::{IntoResponse, Response};
use kabinet_app::requests::Upload;

/// The most parts a form may have (fields and files together).
pub(crate) const MAX_PARTS: usize = 32;

/// A multipart form's text fields and files.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// Text fields, in order.
    pub fields: Vec<(String, String)>,
    /// Files (empty file inputs are left out).
    pub files: Vec<Upload>,
}

impl Parts {
    /// The request the form describes (pages and API send the same fields).
    pub fn request_input(self) -> kabinet_app::requests::RequestInput {
        use kabinet_app::requests::fields;
        let account = self.get(fields::ACCOUNT);
        kabinet_app::requests::RequestInput {
            account: (!account.trim().is_empty()).then_some(account),
            category: self.get(fields::CATEGORY),
            text: self.get(fields::TEXT),
            phone: self.get(fields::PHONE),
            visit_time: self.get(fields::VISIT),
            photos: self.files,
        }
    }

    /// The first value of field `name`, or empty.
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// The answer to a form with more photos than the route takes.
pub(crate) const TOO_BIG: &str = "error-upload-too-big";
const BROKEN: &str = "error-upload-broken";

async fn read(req: Request, state: &AppState) -> Result<Parts, (axum::http::StatusCode, &'static str)> {
    use axum::http::StatusCode as S;
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|_| (S::BAD_REQUEST, "error-upload-not-multipart"))?;
    let mut parts = Parts::default();
    let mut count = 0;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == S::PAYLOAD_TOO_LARGE => return Err((S::PAYLOAD_TOO_LARGE, TOO_BIG)),
            Err(_) => return Err((S::BAD_REQUEST, BROKEN)),
        };
        count += 1;
        if count > MAX_PARTS {
            return Err((S::BAD_REQUEST, "error-upload-too-many-fields"));
        }
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file) => {
                let data = field.bytes().await.map_err(|e| {
                    if e.status() == S::PAYLOAD_TOO_LARGE {
                        (S::PAYLOAD_TOO_LARGE, TOO_BIG)
                    } else {
                        (S::BAD_REQUEST, BROKEN)
                    }
                })?;
                if !data.is_empty() {
                    parts.files.push(Upload {
                        name: file,
                        data: data.to_vec(),
                    });
                }
            }
            None => {
                let text = field.text().await.map_err(|_| (S::BAD_REQUEST, BROKEN))?;
                parts.fields.push((name, text));
            }
        }
    }
    Ok(parts)
}

/// A page's multipart form that passed the CSRF check.
pub(crate) struct CsrfMultipart(pub Parts);

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
            return Err(
                PageError::from(kabinet_app::Error::Internal("request context missing".into()))
                    .into_response(),
            );
        };
        let ok_origin = crate::http::csrf::same_origin(req.headers());
        let parts = read(req, state)
            .await
            .map_err(|(status, m)| crate::http::errors::error_page(status, &kabinet_domain::Text::new(m)))?;
        if !ok_origin
            || !state
                .app
                .auth
                .key()
                .csrf_valid(&parts.get("csrf"), &ctx.csrf_cookie, ctx.csrf_binding())
        {
            tracing::warn!(ip = %ctx.client.ip, "CSRF check failed");
            return Err(PageError::Csrf.into_response());
        }
        Ok(CsrfMultipart(parts))
    }
}

/// An API multipart body.
pub(crate) struct ApiMultipart(pub Parts);

impl FromRequest<AppState> for ApiMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read(req, state)
            .await
            .map(ApiMultipart)
            .map_err(|(status, m)| crate::http::errors::problem(status, &kabinet_domain::Text::new(m), None))
    }
}
