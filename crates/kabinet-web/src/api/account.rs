//! The resident's account over the API: the overview and receipt PDFs. Both
//! are in the API's resident group.

use super::{ApiResident, Problem};
use crate::AppState;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use kabinet_app::Error;
use serde::Serialize;
use utoipa::ToSchema;

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
pub(crate) async fn me(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<Me>, ApiError> {
    let o = state.app.accounts.overview(&r, None).await?.account;
    let current = o.current_invoice();
    Ok(Json(Me {
        account: o.account.number.to_string(),
        email: r.user.email.to_string(),
        holder_name: o.account.holder_name.clone(),
        address: o.premises.full_address(),
        balance_kopecks: o.balance.get(),
        current_period: current.map(|i| i.period.to_string()),
        current_total_kopecks: current.map(|i| i.total_due.get()),
        current_due_date: current.map(|i| i.due_date.to_string()),
    }))
}

/// The receipt PDF of one of the resident's accounts for a period (`2026-10`).
#[utoipa::path(get, path = "/api/v1/accounts/{number}/receipts/{period}", tag = "account", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number"), ("period" = String, Path, description = "Period, 2026-10")),
    responses((status = 200, description = "The receipt", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not the resident's account, or no invoice for the period", body = Problem),
        (status = 409, description = "The portal is still being set up: the organization's details are incomplete", body = Problem)))]
pub(crate) async fn receipt(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path((number, period)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let period = period.strip_suffix(".pdf").unwrap_or(&period);
    match state.app.receipts.pdf(&r, &number, period).await {
        Ok(pdf) => Ok(crate::http::files::pdf(pdf)),
        Err(Error::NotFound) => Err(ApiError::NotFound("error-receipt-not-found")),
        Err(e) => Err(e.into()),
    }
}
