//! The JSON API for the mobile app (`/api/v1`, R12): bearer tokens issued for
//! an account number and password, the same rules and throttling as the pages,
//! errors as JSON problems (RFC 9457), and an OpenAPI document generated from
//! this code at `/api/v1/openapi.json`.

use crate::AppState;
use crate::context::Ctx;
use crate::error::{AppError, problem};
use crate::receipts::{self, ReceiptRefusal};
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kabinet_auth::{AuthError, FieldErrors, Principal, RegistrationInput};
use kabinet_domain::SessionKind;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The API's routes, mounted under `/api/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/auth/token", post(issue_token))
        .route("/auth/token", delete(revoke_token))
        .route("/auth/register", post(register))
        .route("/auth/password", post(set_password))
        .route("/auth/password-reset", post(request_reset))
        .route("/auth/password-reset/confirm", post(confirm_reset))
        .route("/rules", get(rules))
        .route("/rules/accept", post(accept_rules))
        .route("/me", get(me))
        .route("/accounts/{number}/receipts/{period}", get(receipt))
        .fallback(|| async { AppError::NotFound.into_problem() })
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
}

fn auth_problem(e: AuthError) -> Response {
    match e {
        AuthError::Invalid(f) => invalid(&f),
        AuthError::InvalidCredentials | AuthError::OneTimePasswordExpired => problem(
            StatusCode::UNAUTHORIZED,
            &crate::auth_pages::capitalize(&e.to_string()),
            None,
        ),
        AuthError::InvalidResetToken => problem(
            StatusCode::GONE,
            &crate::auth_pages::capitalize(&e.to_string()),
            None,
        ),
        AuthError::StaleRules => problem(
            StatusCode::CONFLICT,
            &crate::auth_pages::capitalize(&e.to_string()),
            None,
        ),
        AuthError::Db(e) => AppError::Db(e).into_problem(),
        AuthError::Hash(e) => AppError::from(e).into_problem(),
    }
}

fn invalid(f: &FieldErrors) -> Response {
    let errors: serde_json::Map<String, serde_json::Value> =
        f.0.iter()
            .map(|(field, msg)| {
                let key = serde_json::to_value(field)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                (key, serde_json::Value::String(crate::auth_pages::capitalize(msg)))
            })
            .collect();
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Проверьте заполнение полей",
        Some(serde_json::Value::Object(errors)),
    )
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
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let status = e.status();
                let detail = match &e {
                    JsonRejection::MissingJsonContentType(_) => {
                        "Нужен заголовок Content-Type: application/json".to_string()
                    }
                    JsonRejection::JsonSyntaxError(_) => {
                        format!("Тело запроса — не JSON: {}", e.body_text())
                    }
                    JsonRejection::JsonDataError(_) => {
                        format!("Поля запроса не разобраны: {}", e.body_text())
                    }
                    _ if status == StatusCode::PAYLOAD_TOO_LARGE => "Тело запроса больше 2 МБ".to_string(),
                    _ => "Тело запроса не прочитано".to_string(),
                };
                Err(problem(status, &detail, None))
            }
        }
    }
}

/// An integer in a JSON body written either way JSON allows: `3` or `3.0`
/// (JSON Schema counts both as integers). A fraction or a number beyond
/// `i32` is refused.
fn lenient_i32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).map_err(|_| serde::de::Error::custom("число вне допустимого диапазона"));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX) => Ok(f as i32),
        _ => Err(serde::de::Error::custom("ожидается целое число")),
    }
}

/// A request with a valid bearer token (any state).
pub(crate) struct Bearer(Principal);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        match state.auth.authenticate(token, SessionKind::Api).await {
            Ok(Some(p)) => Ok(Bearer(p)),
            Ok(None) => {
                let mut r = AppError::Unauthorized.into_problem();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                Err(r)
            }
            Err(e) => Err(AppError::Db(e).into_problem()),
        }
    }
}

/// A request with a bearer token whose resident may use the API fully: own
/// password set and the Rules in force accepted.
pub(crate) struct Resident(Principal);

impl FromRequestParts<AppState> for Resident {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Bearer(p) = Bearer::from_request_parts(parts, state).await?;
        if p.must_set_password() {
            return Err(AppError::Forbidden(
                "Сначала задайте свой пароль: POST /api/v1/auth/password".into(),
            )
            .into_problem());
        }
        if p.rules_pending.is_some() {
            return Err(AppError::Forbidden(
                "Правила изменились: примите их, POST /api/v1/rules/accept".into(),
            )
            .into_problem());
        }
        Ok(Resident(p))
    }
}

fn limited(state: &AppState, ctx: &Ctx) -> Option<Response> {
    (!state.limiter.allow(&ctx.client.ip)).then(|| AppError::TooManyRequests.into_problem())
}

/// Account number and password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenRequest {
    /// Personal account number.
    #[schema(max_length = 64)]
    account: String,
    /// Password (a one-time password gives a token that can only set a new one).
    #[schema(max_length = 1024)]
    password: String,
}

/// A new bearer token.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// The token; send it as `Authorization: Bearer <token>`. Shown once.
    token: String,
    /// Always `Bearer`.
    token_type: String,
    /// When it stops working (RFC 3339).
    expires_at: String,
    /// The resident signed in with a one-time password and must set their own
    /// (`POST /api/v1/auth/password`) before anything else.
    must_set_password: bool,
    /// A Rules version to accept first (`POST /api/v1/rules/accept`), if any.
    rules_version_to_accept: Option<i32>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Issues a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong account or password, or sign-in refused for now (one answer for all)", body = Problem),
        (status = 429, description = "Too many requests from this address", body = Problem)))]
pub(crate) async fn issue_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Response {
    if let Some(r) = limited(&state, &ctx) {
        return r;
    }
    match state
        .auth
        .sign_in(&req.account, &req.password, SessionKind::Api, &ctx.client)
        .await
    {
        Ok(s) => Json(TokenResponse {
            token: s.token,
            token_type: "Bearer".into(),
            expires_at: rfc3339(s.principal.session.expires_at),
            must_set_password: s.principal.must_set_password(),
            rules_version_to_accept: s.principal.rules_pending,
        })
        .into_response(),
        Err(e) => auth_problem(e),
    }
}

/// Revokes the token used for this request.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The token no longer works"),
        (status = 401, description = "No valid bearer token", body = Problem)))]
pub(crate) async fn revoke_token(State(state): State<AppState>, ctx: Ctx, Bearer(p): Bearer) -> Response {
    match state.auth.sign_out(&p, &ctx.client).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_problem(e),
    }
}

/// Registration data (R1).
#[derive(Deserialize, ToSchema)]
pub(crate) struct RegisterRequest {
    /// Personal account number: letters, digits and `- / _ .`, at most 32
    /// of them (spaces are ignored).
    #[schema(min_length = 1, max_length = 64, example = "7100000001")]
    account: String,
    /// E-mail for the one-time password.
    #[schema(format = IdnEmail, min_length = 3, max_length = 254, example = "ivanova@example.ru")]
    email: String,
    /// The amount to pay on the latest receipt (`1234,56`) or the passport
    /// series and number (10 digits), as the Organization chose.
    #[schema(min_length = 1, max_length = 40, example = "1234,56")]
    check: String,
    /// The current Rules are accepted.
    accept_rules: bool,
    /// Consent to informational e-mails and SMS.
    consent: bool,
}

/// A request was taken; what follows arrives by e-mail.
#[derive(Serialize, ToSchema)]
pub(crate) struct Accepted {
    /// What to expect.
    message: String,
}

/// Registers a resident; the answer is the same whether or not the data matched.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 202, description = "Taken; the same answer whatever the account", body = Accepted),
        (status = 422, description = "Mistakes in the fields, by field", body = Problem),
        (status = 429, description = "Too many requests from this address", body = Problem)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Response {
    if let Some(r) = limited(&state, &ctx) {
        return r;
    }
    let input = RegistrationInput {
        account: req.account,
        email: req.email,
        check: req.check,
        accept_rules: req.accept_rules,
        consent: req.consent,
    };
    match state.auth.register(&input, &ctx.client).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(Accepted {
                message: "Если данные совпали с данными лицевого счёта, временный пароль отправлен на указанную почту.".into(),
            }),
        )
            .into_response(),
        Err(e) => auth_problem(e),
    }
}

/// A new password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PasswordRequest {
    /// The current password (not needed right after a one-time password).
    #[serde(default)]
    #[schema(max_length = 1024)]
    current: Option<String>,
    /// The new password (8–128 characters, not a common one).
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// The new password again.
    #[schema(min_length = 8, max_length = 128)]
    password_again: String,
}

/// Sets the resident's own password after a one-time one, or changes it
/// (the current one is required); other sessions and tokens end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordRequest, security(("bearer" = [])),
    responses((status = 204, description = "Saved; other sessions and tokens ended"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 422, description = "Wrong current password or an unacceptable new one, by field", body = Problem)))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Bearer(p): Bearer,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Response {
    let result = if p.must_set_password() {
        state
            .auth
            .set_own_password(&p, &req.password, &req.password_again, &ctx.client)
            .await
    } else {
        state
            .auth
            .change_password(
                &p,
                req.current.as_deref().unwrap_or(""),
                &req.password,
                &req.password_again,
                &ctx.client,
            )
            .await
    };
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_problem(e),
    }
}

/// The account whose password to reset.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ResetRequest {
    /// Personal account number.
    #[schema(min_length = 1, max_length = 64, example = "7100000001")]
    account: String,
}

/// Sends a reset link to the e-mail of the account's user, if it has one;
/// the same answer either way.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = ResetRequest,
    responses((status = 202, description = "Taken; the same answer whatever the account", body = Accepted),
        (status = 422, description = "Not an account number", body = Problem),
        (status = 429, description = "Too many requests from this address", body = Problem)))]
pub(crate) async fn request_reset(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Response {
    if let Some(r) = limited(&state, &ctx) {
        return r;
    }
    match state.auth.request_reset(&req.account, &ctx.client).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(Accepted {
                message: "Если к лицевому счёту привязан пользователь, ссылка для смены пароля отправлена на его почту.".into(),
            }),
        )
            .into_response(),
        Err(e) => auth_problem(e),
    }
}

/// The token from the reset link and the new password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ResetConfirmRequest {
    /// The last part of the link from the e-mail.
    #[schema(min_length = 1, max_length = 128)]
    token: String,
    /// The new password (8–128 characters, not a common one).
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// The new password again.
    #[schema(min_length = 8, max_length = 128)]
    password_again: String,
}

/// Sets a new password with a reset token; every session and token ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = ResetConfirmRequest,
    responses((status = 204, description = "Saved; every session and token ended"),
        (status = 410, description = "The link is unknown, used or expired", body = Problem),
        (status = 422, description = "An unacceptable new password, by field", body = Problem),
        (status = 429, description = "Too many requests from this address", body = Problem)))]
pub(crate) async fn confirm_reset(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<ResetConfirmRequest>,
) -> Response {
    if let Some(r) = limited(&state, &ctx) {
        return r;
    }
    match state
        .auth
        .complete_reset(&req.token, &req.password, &req.password_again, &ctx.client)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_problem(e),
    }
}

/// A version of the Rules of service.
#[derive(Serialize, ToSchema)]
pub(crate) struct Rules {
    /// Version number.
    version: i32,
    /// Heading.
    title: String,
    /// Text; paragraphs separated by blank lines.
    body: String,
    /// When it took effect (RFC 3339).
    published_at: String,
}

/// The Rules in force.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, description = "The Rules in force", body = Rules),
        (status = 404, description = "No Rules were published yet", body = Problem)))]
pub(crate) async fn rules(State(state): State<AppState>) -> Response {
    match state.db.current_rules().await {
        Ok(Some(r)) => Json(Rules {
            version: r.version,
            title: r.title,
            body: r.body,
            published_at: rfc3339(r.published_at),
        })
        .into_response(),
        Ok(None) => AppError::NotFound.into_problem(),
        Err(e) => AppError::Db(e).into_problem(),
    }
}

/// The version being accepted.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AcceptRequest {
    /// Must be the version in force.
    #[serde(deserialize_with = "lenient_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    version: i32,
}

/// Accepts the Rules in force.
#[utoipa::path(post, path = "/api/v1/rules/accept", tag = "rules", request_body = AcceptRequest, security(("bearer" = [])),
    responses((status = 204, description = "Accepted"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "The resident must set their own password first", body = Problem),
        (status = 409, description = "Not the version in force", body = Problem)))]
pub(crate) async fn accept_rules(
    State(state): State<AppState>,
    ctx: Ctx,
    Bearer(p): Bearer,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Response {
    if p.must_set_password() {
        return AppError::Forbidden("Сначала задайте свой пароль".into()).into_problem();
    }
    match state.auth.accept_rules(&p, req.version, &ctx.client).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_problem(e),
    }
}

/// The signed-in resident's account at a glance (R3).
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    /// Personal account number.
    account: String,
    /// E-mail on file.
    email: String,
    /// Account holder.
    holder_name: String,
    /// Address of the premises.
    address: String,
    /// Owed now in kopecks (negative: an advance).
    balance_kopecks: i64,
    /// The newest invoice's period (`2026-10`), if any.
    current_period: Option<String>,
    /// Its total to pay, kopecks.
    current_total_kopecks: Option<i64>,
    /// Its due date (`YYYY-MM-DD`).
    current_due_date: Option<String>,
}

/// The signed-in resident's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The resident's account", body = Me),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn me(State(state): State<AppState>, Resident(p): Resident) -> Response {
    let o = match state.db.account_overview(p.user.account_id).await {
        Ok(Some(o)) => o,
        Ok(None) => return AppError::NotFound.into_problem(),
        Err(e) => return AppError::Db(e).into_problem(),
    };
    Json(Me {
        account: o.account.number.to_string(),
        email: p.user.email.to_string(),
        holder_name: o.account.holder_name.clone(),
        address: o.premises.full_address(),
        balance_kopecks: o.balance.get(),
        current_period: o.current_invoice.as_ref().map(|i| i.period.to_string()),
        current_total_kopecks: o.current_invoice.as_ref().map(|i| i.total_due.get()),
        current_due_date: o.current_invoice.as_ref().map(|i| i.due_date.to_string()),
    })
    .into_response()
}

/// The receipt PDF of one of the resident's accounts for a period (`2026-10`).
#[utoipa::path(get, path = "/api/v1/accounts/{number}/receipts/{period}", tag = "account", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number"), ("period" = String, Path, description = "Period, 2026-10")),
    responses((status = 200, description = "The receipt", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not the resident's account, or no invoice for the period", body = Problem)))]
pub(crate) async fn receipt(
    State(state): State<AppState>,
    Resident(p): Resident,
    Path((number, period)): Path<(String, String)>,
) -> Response {
    let period = period.strip_suffix(".pdf").unwrap_or(&period);
    match receipts::pdf(&state, &p, &number, period).await {
        Ok(r) => r,
        Err(e @ ReceiptRefusal::NotFound) => problem(
            StatusCode::NOT_FOUND,
            &crate::auth_pages::capitalize(&e.to_string()),
            None,
        ),
        Err(ReceiptRefusal::App(e)) => e.into_problem(),
    }
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
    paths(issue_token, revoke_token, register, set_password, request_reset, confirm_reset, rules, accept_rules, me, receipt),
    components(schemas(Problem, TokenRequest, TokenResponse, RegisterRequest, Accepted, PasswordRequest, ResetRequest, ResetConfirmRequest, Rules, AcceptRequest, Me)),
    modifiers(&BearerScheme, &ErrorResponses)
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
