//! Autopay over the API (B1): the kept methods and each account's autopay,
//! setting or changing one, turning it off, and forgetting a method.

use super::{ApiJson, ApiResident, Problem};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kabinet_app::autopay::{AutopayInput, AutopayView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A kept payment method.
#[derive(Serialize, ToSchema)]
pub(crate) struct MethodItem {
    /// Its id (for `method_id`).
    id: i64,
    /// `sbp` or `bank_card`.
    kind: Option<String>,
    /// How it shows (`MasterCard *4444`).
    title: String,
}

/// A debit of an invoice.
#[derive(Serialize, ToSchema)]
pub(crate) struct DebitItem {
    /// The invoice's month, `YYYY-MM`.
    period: String,
    /// The invoice's total, kopecks.
    amount_kopecks: i64,
    /// The day it is (or was) paid.
    debit_on: String,
    /// `scheduled`, `charging`, `paid`, `failed` or `skipped`.
    status: String,
}

/// One account's autopay.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccountAutopayItem {
    /// Personal account number.
    account: String,
    /// Whether this resident's autopay of it is on.
    enabled: bool,
    /// Whether another resident's autopay of it is on (then it cannot be set here).
    someone_else: bool,
    /// The kept method that pays.
    method_id: Option<i64>,
    /// The largest invoice paid, kopecks.
    max_kopecks: Option<i64>,
    /// The day of the month it pays on (none: right after the notice).
    day: Option<u8>,
    /// Failed debits in a row (three turn it off).
    failures: i32,
    /// The latest debits, newest first.
    debits: Vec<DebitItem>,
}

/// The resident's autopay.
#[derive(Serialize, ToSchema)]
pub(crate) struct AutopayResponse {
    /// Kept methods.
    methods: Vec<MethodItem>,
    /// Each linked account.
    accounts: Vec<AccountAutopayItem>,
}

fn response(v: &AutopayView) -> AutopayResponse {
    AutopayResponse {
        methods: v
            .methods
            .iter()
            .map(|m| MethodItem {
                id: m.id,
                kind: m.kind.map(|k| k.as_str().to_string()),
                title: m.title.clone(),
            })
            .collect(),
        accounts: v
            .accounts
            .iter()
            .map(|a| AccountAutopayItem {
                account: a.account.account.number.to_string(),
                enabled: a.autopay.as_ref().is_some_and(|x| x.enabled),
                someone_else: a.someone_else,
                method_id: a.autopay.as_ref().map(|x| x.method_id),
                max_kopecks: a.autopay.as_ref().map(|x| x.max_amount.get()),
                day: a.autopay.as_ref().and_then(|x| x.day),
                failures: a.autopay.as_ref().map_or(0, |x| x.failures),
                debits: a
                    .debits
                    .iter()
                    .map(|d| DebitItem {
                        period: d.period.to_string(),
                        amount_kopecks: d.amount.get(),
                        debit_on: d.debit_on.to_string(),
                        status: d.status.as_str().into(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The resident's kept methods and each account's autopay.
#[utoipa::path(get, path = "/api/v1/autopay", operation_id = "get_autopay", tag = "payments", security(("bearer" = [])),
    responses((status = 200, description = "Kept methods and autopay per account", body = AutopayResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<AutopayResponse>, ApiError> {
    Ok(Json(response(&state.app.autopay.view(&r).await?)))
}

/// Autopay of an account as asked.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SetRequest {
    /// A kept method's id.
    method_id: i64,
    /// The largest invoice paid, `"5000"` or `"5000.00"` (at least 1 ₽).
    max_amount: String,
    /// The day of the month, 1–28 (absent or 0: right after the notice).
    #[serde(default)]
    #[schema(maximum = 28)]
    day: Option<u8>,
}

/// Sets or changes autopay of one of the resident's accounts.
#[utoipa::path(put, path = "/api/v1/autopay/{number}", operation_id = "set_autopay", tag = "payments", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number")), request_body = SetRequest,
    responses((status = 200, description = "Set: the resident's autopay now", body = AutopayResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem),
        (status = 409, description = "Another resident's autopay of the account is on", body = Problem),
        (status = 422, description = "`errors.method`, `errors.max` or `errors.day` says what is wrong", body = Problem),
        (status = 501, description = "Card payments are not set up on this installation", body = Problem)))]
pub(crate) async fn set(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<SetRequest>,
) -> Result<Json<AutopayResponse>, ApiError> {
    let input = AutopayInput {
        method: req.method_id.to_string(),
        max: req.max_amount,
        day: req.day.map(|d| d.to_string()).unwrap_or_default(),
    };
    state.app.autopay.enable(&r, &number, &input, &ctx.client).await?;
    Ok(Json(response(&state.app.autopay.view(&r).await?)))
}

/// Turns autopay of one of the resident's accounts off.
#[utoipa::path(delete, path = "/api/v1/autopay/{number}", operation_id = "delete_autopay", tag = "payments", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number")),
    responses((status = 204, description = "Off (or it was)"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.autopay.disable(&r, &number, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets a kept method; the autopays it paid turn off.
#[utoipa::path(delete, path = "/api/v1/payment-methods/{id}", operation_id = "forget_method", tag = "payments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The kept method's id")),
    responses((status = 204, description = "Forgotten"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's kept methods", body = Problem)))]
pub(crate) async fn forget(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.app.autopay.forget(&r, id, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}
