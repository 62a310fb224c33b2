//! The JSON API for the mobile app (`/api/v1`, R12): bearer tokens issued for
//! an account number and password, the same use cases and throttling as the
//! pages, errors as JSON problems (RFC 9457), and an OpenAPI document
//! generated from this code at `/api/v1/openapi.json`. One module per group
//! of operations; the resident group is guarded like the pages' one.

pub(crate) mod account;
pub(crate) mod announcements;
pub(crate) mod auth;
pub(crate) mod autopay;
pub(crate) mod cabinet;
pub(crate) mod payments;
pub(crate) mod readings;
pub(crate) mod requests;
pub(crate) mod rules;
pub(crate) mod status;

use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::{ApiError, api_not_found, problem};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use kabinet_app::auth::{Principal, Resident, Step};
use kabinet_domain::SessionKind;
use kabinet_domain::Text;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

/// The API's routes in their groups (paths are whole, `/api/v1/…`) and
/// the OpenAPI document made from the same list: every route of the
/// resident group is behind [`require_resident`]. Any other path under
/// `/api/v1` is a 404 problem.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    // The guard wraps each route's methods, so a method the route does not
    // have is still a plain 405.
    let guard = axum::middleware::from_fn_with_state(state.clone(), require_resident);
    let guarded = |(schemas, paths, methods): UtoipaMethodRouter<AppState>| {
        (schemas, paths, methods.route_layer(guard.clone()))
    };
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public_routes())
        .merge(resident_routes(guarded))
        .split_for_parts();
    ErrorResponses.modify(&mut doc);
    let body = axum::body::Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
    router
        .route("/api/v1/openapi.json", get(move || openapi(body.clone())))
        .route("/api/v1", any(api_not_found))
        .route("/api/v1/{*rest}", any(api_not_found))
}

/// Operations without a token, or with a token in any state.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status::status))
        .routes(routes!(auth::issue_token, auth::revoke_token))
        .routes(routes!(auth::register))
        .routes(routes!(auth::set_password))
        .routes(routes!(auth::request_reset))
        .routes(routes!(auth::confirm_reset))
        .routes(routes!(rules::current))
        .routes(routes!(rules::accept))
        .routes(routes!(rules::current_consent))
        .routes(routes!(rules::accept_consent))
}

/// Operations of a resident who may use the API fully, each passed through
/// `guard`.
fn resident_routes(
    guard: impl Fn(UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    // A new request carries photos: its own body limit.
    let (schemas, paths, methods) = guard(routes!(requests::list, requests::create));
    let methods = methods.layer(axum::extract::DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES));
    let filing = OpenApiRouter::new().routes((schemas, paths, methods));
    let list = [
        routes!(account::me),
        routes!(account::receipt),
        routes!(cabinet::accounts, cabinet::link),
        routes!(cabinet::unlink),
        routes!(cabinet::overview),
        routes!(cabinet::invoices),
        routes!(cabinet::invoice),
        routes!(cabinet::charges),
        routes!(cabinet::payments),
        routes!(cabinet::settings, cabinet::update_settings),
        routes!(cabinet::change_email),
        routes!(cabinet::phone_code),
        routes!(cabinet::verify_phone),
        routes!(cabinet::max_link),
        routes!(cabinet::max_unlink),
        routes!(cabinet::my_data),
        routes!(announcements::list),
        routes!(readings::meters),
        routes!(readings::history),
        routes!(readings::submit),
        routes!(payments::list, payments::create),
        routes!(payments::get),
        routes!(payments::quote),
        routes!(autopay::get),
        routes!(autopay::set, autopay::delete),
        routes!(autopay::forget),
        routes!(requests::categories),
        routes!(requests::get),
        routes!(requests::cancel),
        routes!(requests::comment),
        routes!(requests::give_back),
        routes!(requests::accept),
        routes!(requests::photo),
        routes!(requests::shared),
        routes!(requests::joined),
        routes!(requests::join, requests::leave),
    ];
    list.into_iter()
        .fold(OpenApiRouter::new(), |r, route| r.routes(guard(route)))
        .merge(filing)
}

/// The path patterns of the resident group, as documented.
pub(crate) fn resident_paths() -> Vec<String> {
    resident_routes(|r| r)
        .into_openapi()
        .paths
        .paths
        .into_keys()
        .collect()
}

/// An RFC 9457 problem document.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    kind: String,
    /// The HTTP status text.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What went wrong, in Russian.
    detail: String,
    /// Messages by field, for invalid input.
    #[schema(value_type = Option<Object>)]
    errors: Option<serde_json::Value>,
    /// Why readings were not taken, each with a code.
    issues: Option<Vec<readings::IssueItem>>,
    /// The request's id (also in `X-Request-Id`), to quote to support.
    request_id: Option<String>,
}

/// A JSON body. What axum would answer in plain text is a problem document
/// with the same status: 415 without `Content-Type: application/json`, 400
/// for text that is not JSON, 422 for JSON of the wrong shape, 413 for a body
/// over [`crate::MAX_BODY_BYTES`].
pub(crate) struct ApiJson<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match Json::<serde_json::Value>::from_request(req, state).await {
            // Every body is an object: serde would take a struct from an
            // array too, and an empty one would be all defaults.
            Ok(Json(v)) if !v.is_object() => Err(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                &Text::new("error-api-body-not-object"),
                None,
            )),
            Ok(Json(v)) => serde_json::from_value::<T>(v).map(ApiJson).map_err(|e| {
                problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &Text::new("error-api-fields").with("reason", e.to_string()),
                    None,
                )
            }),
            Err(e) => {
                let status = e.status();
                let detail = match &e {
                    JsonRejection::MissingJsonContentType(_) => Text::new("error-api-content-type"),
                    JsonRejection::JsonSyntaxError(_) => {
                        Text::new("error-api-not-json").with("reason", e.body_text())
                    }
                    JsonRejection::JsonDataError(_) => {
                        Text::new("error-api-fields").with("reason", e.body_text())
                    }
                    _ if status == StatusCode::PAYLOAD_TOO_LARGE => Text::new("error-api-body-too-large"),
                    _ => Text::new("error-api-body-unread"),
                };
                Err(problem(status, &detail, None))
            }
        }
    }
}

/// An integer in a JSON body written either way JSON allows: `3` or `3.0`
/// (JSON Schema counts both as integers). A fraction or a number beyond
/// `T` is refused.
pub(crate) fn lenient_int<'de, D: serde::Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        // 2^63 as f64: every whole f64 below it fits an i64.
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0 => Some(f as i64),
        _ => None,
    };
    let whole = whole.ok_or_else(|| serde::de::Error::custom("an integer expected"))?;
    T::try_from(whole).map_err(|_| serde::de::Error::custom("number out of range"))
}

/// A request with a valid bearer token (any state).
pub(crate) struct Bearer(pub Principal);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        match state.app.auth.authenticate(token, SessionKind::Api).await? {
            Some(p) => Ok(Bearer(p)),
            None => Err(ApiError::Unauthorized),
        }
    }
}

/// A bearer token's resident who may use the API fully: own password set,
/// the Rules in force accepted and the consent in force given.
pub(crate) struct ApiResident(pub Resident);

impl FromRequestParts<AppState> for ApiResident {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(r) = parts.extensions.get::<Resident>() {
            return Ok(ApiResident(r.clone()));
        }
        let Bearer(p) = Bearer::from_request_parts(parts, state).await?;
        p.resident().map(ApiResident).map_err(|step| match step {
            Step::SetPassword => ApiError::Forbidden("error-api-password-not-set"),
            Step::AcceptRules | Step::Ready => ApiError::Forbidden("error-api-stale-rules"),
            Step::AcceptConsent => ApiError::Forbidden("error-api-stale-consent"),
        })
    }
}

/// The layer of the API's resident group: the token is checked once, before
/// any handler in the group, and the resident handed on.
async fn require_resident(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    match ApiResident::from_request_parts(&mut parts, &state).await {
        Ok(ApiResident(r)) => {
            parts.extensions.insert(r);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

/// Refuses when this address is over its limit.
pub(crate) async fn within_limit(state: &AppState, ctx: &Ctx) -> Result<(), ApiError> {
    if state.limiter.allow(&ctx.client.ip).await {
        Ok(())
    } else {
        Err(ApiError::TooManyRequests)
    }
}

/// A request was taken; what follows arrives by e-mail.
#[derive(Serialize, ToSchema)]
pub(crate) struct Accepted {
    /// What to expect.
    pub message: String,
}

/// 202 with what to expect.
pub(crate) fn accepted(message: &Text) -> (StatusCode, Json<Accepted>) {
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: crate::http::errors::say(message),
        }),
    )
}

/// RFC 3339.
pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every error an operation can answer, as a problem document: what each
/// operation lists itself, plus what any request can meet — 400 (a request
/// or path that cannot be read), 500 and 503 — and, for operations with a JSON
/// body, 413 (over 2 MB), 415 (not `application/json`) and 422 (fields of the
/// wrong shape). Error bodies are `application/problem+json`.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let mut common = vec![
                    ("400", "The request or its path cannot be read"),
                    ("500", "Internal error"),
                    ("503", "The database is unavailable or the request took over 30 s"),
                ];
                if op.request_body.is_some() {
                    common.extend([
                        ("413", "The body is over 2 MB"),
                        ("415", "The body is not application/json"),
                        ("422", "The body's fields are not of the documented types"),
                    ]);
                }
                for (status, description) in common {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(description)
                                    .content("application/problem+json", problem())
                                    .build(),
                            )
                        });
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if status.as_str() >= "400"
                        && let RefOr::T(r) = response
                        && let Some(json) = r.content.shift_remove("application/json")
                    {
                        r.content.insert("application/problem+json".to_string(), json);
                    }
                }
            }
        }
    }
}

/// The OpenAPI document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Kabinet resident API", version = "1", description = "Личный кабинет абонента: API для мобильного приложения."),
    components(schemas(Problem, status::Status, status::Closing, auth::TokenRequest, auth::TokenResponse, auth::RegisterRequest, Accepted, auth::PasswordRequest, auth::ResetRequest, auth::ResetConfirmRequest, rules::Rules, rules::AcceptRequest, account::Me, cabinet::AccountItem, cabinet::LinkRequest, cabinet::InvoiceItem, cabinet::PaymentItem, cabinet::OverviewResponse, cabinet::ChargeItem, cabinet::InvoiceDetailResponse, cabinet::ChargesResponse, cabinet::MonthTotal, cabinet::PaymentsResponse, cabinet::SettingsBody, cabinet::EmailRequest, readings::ReadingItem, readings::ZoneItem, readings::MeterItem, readings::WindowItem, readings::MetersResponse, readings::HistoryItem, readings::MonthUseItem, readings::HistoryResponse, readings::MeterReadings, readings::SubmitRequest, readings::StoredItem, readings::SubmitResponse, readings::IssueItem, payments::ShareRequest, payments::CreateRequest, payments::ShareItem, payments::CardPaymentItem, payments::CreateResponse, payments::ListResponse, requests::CategoryItem, requests::RequestItem, requests::CreateForm, requests::RequestListResponse, requests::EventItem, requests::PhotoItem, requests::RequestDetail, requests::TextBody, requests::RatingBody, requests::SharedItem)),
    modifiers(&BearerScheme)
)]
pub(crate) struct ApiDoc;

/// `GET /api/v1/openapi.json`: the document [`routes`] made, serialized once.
async fn openapi(body: axum::body::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
