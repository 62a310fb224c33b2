//! Sign-in over the API: tokens, registration, passwords and their reset.

use super::{Accepted, ApiJson, Bearer, Problem, accepted, rfc3339, within_limit};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kabinet_app::auth::RegistrationInput;
use kabinet_domain::SessionKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// A personal-data consent version to give first
    /// (`POST /api/v1/consent/accept`), if any.
    consent_version_to_accept: Option<i32>,
}

/// Issues a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong account or password, or sign-in refused for now (one answer for all)", body = Problem),
        (status = 403, description = "The password is right but the organization blocked the resident's access: they are to contact it", body = Problem),
        (status = 429, description = "Too many requests from this address", body = Problem)))]
pub(crate) async fn issue_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    within_limit(&state, &ctx).await?;
    let s = state
        .app
        .auth
        .sign_in(&req.account, &req.password, SessionKind::Api, &ctx.client)
        .await?;
    Ok(Json(TokenResponse {
        token: s.token,
        token_type: "Bearer".into(),
        expires_at: rfc3339(s.principal.session.expires_at),
        must_set_password: s.principal.must_set_password(),
        rules_version_to_accept: s.principal.rules_pending,
        consent_version_to_accept: s.principal.consent_pending,
    }))
}

/// Revokes the token used for this request.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The token no longer works"),
        (status = 401, description = "No valid bearer token", body = Problem)))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Bearer(p): Bearer,
) -> Result<StatusCode, ApiError> {
    state.app.auth.sign_out(&p, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
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
    /// Consent to the processing of personal data, as published at
    /// `GET /api/v1/consent` (a document of its own, given separately).
    accept_personal_data: bool,
    /// Consent to informational e-mails and SMS.
    consent: bool,
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
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    within_limit(&state, &ctx).await?;
    let input = RegistrationInput {
        account: req.account,
        email: req.email,
        check: req.check,
        accept_rules: req.accept_rules,
        personal_data: req.accept_personal_data,
        consent: req.consent,
    };
    state.app.auth.register(&input, &ctx.client).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: crate::http::errors::say(&kabinet_domain::Text::new("api-registration-accepted")),
        }),
    ))
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
) -> Result<StatusCode, ApiError> {
    let auth = &state.app.auth;
    if p.must_set_password() {
        auth.set_own_password(&p, &req.password, &req.password_again, &ctx.client)
            .await?;
    } else {
        auth.change_password(
            &p,
            req.current.as_deref().unwrap_or(""),
            &req.password,
            &req.password_again,
            &ctx.client,
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The account whose password to reset.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ResetRequest {
    /// Personal account number: up to 32 letters, digits or `- / _ .`;
    /// spaces are ignored.
    #[schema(
        pattern = "^[ \\t\\u00a0\\u202f]*([0-9A-Za-z\\u0410-\\u044f\\u0401\\u0451/_.-][ \\t\\u00a0\\u202f]*){1,32}$",
        example = "7100000001"
    )]
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
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    within_limit(&state, &ctx).await?;
    state.app.auth.request_reset(&req.account, &ctx.client).await?;
    Ok(accepted(&kabinet_domain::Text::new("api-reset-accepted")))
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
) -> Result<StatusCode, ApiError> {
    within_limit(&state, &ctx).await?;
    state
        .app
        .auth
        .complete_reset(&req.token, &req.password, &req.password_again, &ctx.client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
