//! Card payments over the API (R6): start a payment for one or several of the
//! resident's accounts (the answer carries the gateway's page to open), list
//! them, and read one — reading an unsettled payment asks the gateway again.

use super::{ApiJson, ApiResident, Problem};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_app::payments::ShareInput;
use kabinet_domain::payments::CardPayment;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One account's part of a payment to start.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ShareRequest {
    /// Personal account number.
    account: String,
    /// Amount in roubles, `"1234.56"` (a comma and spaces are taken too); at
    /// least 1 ₽.
    amount: String,
}

/// A payment to start.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CreateRequest {
    /// The accounts and amounts (1 to 20).
    shares: Vec<ShareRequest>,
}

/// One account's part of a payment.
#[derive(Serialize, ToSchema)]
pub(crate) struct ShareItem {
    /// Personal account number.
    account: String,
    /// Amount, kopecks.
    amount_kopecks: i64,
}

/// A card payment.
#[derive(Serialize, ToSchema)]
pub(crate) struct CardPaymentItem {
    /// Its id.
    id: String,
    /// `created`, `pending`, `succeeded`, `canceled`, `failed` or `expired`.
    status: String,
    /// Whether nothing more will change.
    settled: bool,
    /// The whole amount, kopecks.
    amount_kopecks: i64,
    /// The accounts paid for.
    shares: Vec<ShareItem>,
    /// When it was started, RFC 3339.
    created_at: String,
    /// When it settled, RFC 3339.
    settled_at: Option<String>,
    /// The card, masked, once paid.
    card: Option<String>,
    /// The gateway's page to pay on, while it is pending.
    confirmation_url: Option<String>,
    /// A test payment (the sandbox or the gateway's test mode): no money
    /// moved and nothing is credited.
    test: bool,
}

pub(crate) fn item(p: &CardPayment) -> CardPaymentItem {
    CardPaymentItem {
        id: p.public_id.clone(),
        status: p.status.as_str().into(),
        settled: p.status.is_final(),
        amount_kopecks: p.amount.get(),
        shares: p
            .shares
            .iter()
            .map(|s| ShareItem {
                account: s.account.clone(),
                amount_kopecks: s.amount.get(),
            })
            .collect(),
        created_at: super::rfc3339(p.created_at),
        settled_at: p.settled_at.map(super::rfc3339),
        card: p.card.clone(),
        confirmation_url: (!p.status.is_final())
            .then(|| p.confirmation_url.clone())
            .flatten(),
        test: p.test,
    }
}

/// A payment started.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreateResponse {
    /// The payment.
    payment: CardPaymentItem,
    /// Open this page for the payer.
    confirmation_url: String,
}

/// Starts a card payment; the payer pays on the gateway's page.
#[utoipa::path(post, path = "/api/v1/payments", operation_id = "create_payment", tag = "payments", security(("bearer" = [])), request_body = CreateRequest,
    responses((status = 201, description = "Started: open `confirmation_url`", body = CreateResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem),
        (status = 422, description = "An amount is not taken; `errors.amounts` says why", body = Problem),
        (status = 429, description = "Too many payments started in the last hour (`payment_starts_per_hour`)", body = Problem),
        (status = 501, description = "Card payments are not set up on this installation: pay by the receipt's QR code", body = Problem),
        (status = 502, description = "The gateway refused the payment", body = Problem),
        (status = 503, description = "The gateway did not answer; try again later", body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    ApiJson(req): ApiJson<CreateRequest>,
) -> Result<Response, ApiError> {
    if req.shares.len() > 20 {
        return Err(ApiError::App(Error::Invalid(kabinet_app::FieldErrors::single(
            kabinet_app::payments::fields::AMOUNTS,
            kabinet_domain::Text::new("error-pay-too-many-accounts"),
        ))));
    }
    let input: Vec<ShareInput> = req
        .shares
        .into_iter()
        .map(|s| ShareInput {
            account: s.account,
            amount: s.amount,
        })
        .collect();
    let started = state.app.payments.start(&r, &input, &ctx.client).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateResponse {
            payment: item(&started.payment),
            confirmation_url: started.confirmation_url,
        }),
    )
        .into_response())
}

/// A page of card payments.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Page from 1 (20 payments each).
    page: Option<u64>,
}

/// The resident's card payments.
#[derive(Serialize, ToSchema)]
pub(crate) struct ListResponse {
    /// Newest first.
    payments: Vec<CardPaymentItem>,
    /// How many there are in all.
    total: u64,
}

/// The resident's card payments, newest first.
#[utoipa::path(get, path = "/api/v1/payments", operation_id = "list_payments", tag = "payments", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "A page of card payments", body = ListResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "A page number no list can reach", body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse>, ApiError> {
    let (list, total) = state.app.payments.list(&r, q.page.unwrap_or(1)).await?;
    Ok(Json(ListResponse {
        payments: list.iter().map(item).collect(),
        total,
    }))
}

/// One card payment; an unsettled one is read again at the gateway.
#[utoipa::path(get, path = "/api/v1/payments/{id}", operation_id = "get_payment", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The payment's id")),
    responses((status = 200, description = "The payment", body = CardPaymentItem),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's payments", body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(id): Path<String>,
) -> Result<Json<CardPaymentItem>, ApiError> {
    let p = state.app.payments.status(&r, &id).await?;
    Ok(Json(item(&p)))
}
