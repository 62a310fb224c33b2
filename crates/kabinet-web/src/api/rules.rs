//! The documents residents accept over the API — the Rules of service and
//! the personal-data consent: the version in force and accepting it.

use super::{ApiJson, Bearer, Problem, lenient_int, rfc3339};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kabinet_domain::Document;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A version of the Rules of service or of the personal-data consent.
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

/// The version of `doc` in force; `missing` when none was published.
async fn in_force(state: &AppState, doc: Document, missing: &'static str) -> Result<Json<Rules>, ApiError> {
    let r = state
        .app
        .document(doc)
        .current()
        .await?
        .ok_or(ApiError::NotFound(missing))?;
    Ok(Json(Rules {
        version: r.version,
        title: r.title,
        body: r.body,
        published_at: rfc3339(r.published_at),
    }))
}

/// The Rules in force.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", operation_id = "rules",
    responses((status = 200, description = "The Rules in force", body = Rules),
        (status = 404, description = "No Rules were published yet", body = Problem)))]
pub(crate) async fn current(State(state): State<AppState>) -> Result<Json<Rules>, ApiError> {
    in_force(&state, Document::Rules, "error-rules-not-published").await
}

/// The personal-data consent in force.
#[utoipa::path(get, path = "/api/v1/consent", tag = "rules", operation_id = "consent",
    responses((status = 200, description = "The personal-data consent in force", body = Rules),
        (status = 404, description = "No consent text was published yet", body = Problem)))]
pub(crate) async fn current_consent(State(state): State<AppState>) -> Result<Json<Rules>, ApiError> {
    in_force(&state, Document::Consent, "error-consent-not-published").await
}

/// The version being accepted.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AcceptRequest {
    /// Must be the version in force.
    #[serde(deserialize_with = "lenient_int")]
    #[schema(minimum = 1, maximum = 2147483647)]
    version: i32,
}

/// Accepts the Rules in force.
#[utoipa::path(post, path = "/api/v1/rules/accept", tag = "rules", operation_id = "accept_rules", request_body = AcceptRequest, security(("bearer" = [])),
    responses((status = 204, description = "Accepted"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "The resident must set their own password first", body = Problem),
        (status = 409, description = "Not the version in force", body = Problem)))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Bearer(p): Bearer,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.rules.accept(&p, req.version, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the personal-data consent in force.
#[utoipa::path(post, path = "/api/v1/consent/accept", tag = "rules", operation_id = "accept_consent", request_body = AcceptRequest, security(("bearer" = [])),
    responses((status = 204, description = "Given"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "The resident must set their own password first", body = Problem),
        (status = 409, description = "Not the version in force", body = Problem)))]
pub(crate) async fn accept_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Bearer(p): Bearer,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.consent.accept(&p, req.version, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}
