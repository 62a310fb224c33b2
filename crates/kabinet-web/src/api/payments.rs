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
use kabinet_domain::payment_methods::PayMethod;
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
    /// `sbp` or `bank_card`, one of the methods `POST /api/v1/payments/quote`
    /// lists; absent: the first of them.
    #[serde(default)]
    method: Option<String>,
    /// Ask the gateway to keep the method for autopay (it is kept once the
    /// payment succeeds).
    #[serde(default)]
    save_method: bool,
}

/// Amounts to price.
#[derive(Deserialize, ToSchema)]
pub(crate) struct QuoteRequest {
    /// The accounts and amounts (1 to 20), as for a payment.
    shares: Vec<ShareRequest>,
}

/// What one method costs.
#[derive(Serialize, ToSchema)]
pub(crate) struct MethodQuote {
    /// `sbp` or `bank_card`.
    method: String,
    /// The accounts' amounts together, kopecks.
    amount_kopecks: i64,
    /// The fee on top, kopecks (0: the organization pays it).
    fee_kopecks: i64,
    /// What the payer pays, kopecks.
    total_kopecks: i64,
}

/// The methods offered for these amounts, in the order to show them.
#[derive(Serialize, ToSchema)]
pub(crate) struct QuoteResponse {
    /// Each method with its fee and total.
    methods: Vec<MethodQuote>,
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
    /// `sbp` or `bank_card`, as chosen.
    method: Option<String>,
    /// The fee paid on top of the shares, kopecks (part of `amount_kopecks`).
    fee_kopecks: i64,
    /// How much was refunded, kopecks.
    refunded_kopecks: i64,
    /// Why a canceled payment was canceled, as the gateway's documented
    /// reason (`insufficient_funds`, …).
    cancellation_reason: Option<String>,
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
        method: p.method.map(|m| m.as_str().to_string()),
        fee_kopecks: p.fee.get(),
        refunded_kopecks: p.refunded.get(),
        cancellation_reason: p.cancellation_reason().map(str::to_string),
    }
}

fn too_many(n: usize) -> Result<(), ApiError> {
    if n > 20 {
        return Err(ApiError::App(Error::Invalid(kabinet_app::FieldErrors::single(
            kabinet_app::payments::fields::AMOUNTS,
            kabinet_domain::Text::new("error-pay-too-many-accounts"),
        ))));
    }
    Ok(())
}

fn inputs(shares: Vec<ShareRequest>) -> Vec<ShareInput> {
    shares
        .into_iter()
        .map(|s| ShareInput {
            account: s.account,
            amount: s.amount,
        })
        .collect()
}

/// What each payment method costs for these amounts, before paying.
#[utoipa::path(post, path = "/api/v1/payments/quote", operation_id = "quote_payment", tag = "payments", security(("bearer" = [])), request_body = QuoteRequest,
    responses((status = 200, description = "The methods offered, each with its fee and total", body = QuoteResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem),
        (status = 422, description = "An amount is not taken; `errors.amounts` says why", body = Problem),
        (status = 501, description = "Card payments are not set up on this installation: pay by the receipt's QR code", body = Problem)))]
pub(crate) async fn quote(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<QuoteResponse>, ApiError> {
    too_many(req.shares.len())?;
    let review = state.app.payments.review(&r, &inputs(req.shares)).await?;
    Ok(Json(QuoteResponse {
        methods: review
            .quotes
            .iter()
            .map(|q| MethodQuote {
                method: q.method.as_str().into(),
                amount_kopecks: q.amount.get(),
                fee_kopecks: q.fee.get(),
                total_kopecks: q.total.get(),
            })
            .collect(),
    }))
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
        (status = 422, description = "An amount is not taken (`errors.amounts` says why), or the method is not offered (`errors.method`)", body = Problem),
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
    too_many(req.shares.len())?;
    let method = match req.method.as_deref() {
        None => None,
        Some(m) => Some(PayMethod::parse(m).ok_or_else(|| {
            ApiError::App(Error::Invalid(kabinet_app::FieldErrors::single(
                kabinet_app::payments::fields::METHOD,
                kabinet_domain::Text::new("error-pay-method"),
            )))
        })?),
    };
    let started = state
        .app
        .payments
        .start(&r, &inputs(req.shares), method, req.save_method, &ctx.client)
        .await?;
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
