//! The resident portal over the API (R3, R4, R5, R10, R16): linked accounts,
//! each account's overview, invoices, charges and payments, settings and the
//! data download. Amounts are kopecks; months are `YYYY-MM`. An account that
//! is not one of the resident's linked accounts is a 404 like any unknown one.

use super::{ApiJson, ApiResident, Problem};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_app::account::{ChargeLine, InvoiceRow, LinkedAccount, RangeInput};
use kabinet_app::profile::PreferencesInput;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One of the resident's accounts.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccountItem {
    /// Personal account number.
    account: String,
    /// Address of the premises.
    address: String,
    /// Account holder.
    holder_name: String,
    /// The account the resident signs in with.
    primary: bool,
}

fn item(l: &LinkedAccount) -> AccountItem {
    AccountItem {
        account: l.account.number.to_string(),
        address: l.premises.full_address(),
        holder_name: l.account.holder_name.clone(),
        primary: l.primary,
    }
}

/// The resident's accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "portal", security(("bearer" = [])),
    responses((status = 200, description = "Linked accounts, the sign-in one first", body = Vec<AccountItem>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn accounts(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<Vec<AccountItem>>, ApiError> {
    let scope = state.app.accounts.scope(&r, None).await?;
    Ok(Json(scope.linked.iter().map(item).collect()))
}

/// Linking another account.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LinkRequest {
    /// Its number.
    #[serde(default)]
    account: String,
    /// The check value of the organization's registration mode (the amount
    /// on the latest receipt, or the passport series and number).
    #[serde(default)]
    check: String,
}

/// Links another personal account, proved like registration.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "portal", security(("bearer" = [])), request_body = LinkRequest,
    responses((status = 202, description = "Another resident signs in with this account: they were asked to approve, and the account appears once they do"),
        (status = 204, description = "Linked"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 422, description = "Malformed, a zero amount, or the account and check value do not match (the same answer whether the account exists or not)", body = Problem),
        (status = 429, description = "Too many requests from this address, or too many failed link attempts today", body = Problem)))]
pub(crate) async fn link(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<StatusCode, ApiError> {
    super::within_limit(&state, &ctx).await?;
    match state
        .app
        .auth
        .link_account(&r, &req.account, &req.check, &ctx.client)
        .await?
    {
        kabinet_app::auth::profile::LinkOutcome::Linked => Ok(StatusCode::NO_CONTENT),
        kabinet_app::auth::profile::LinkOutcome::AwaitingConsent => Ok(StatusCode::ACCEPTED),
    }
}

/// Removes a linked account (not the sign-in one).
#[utoipa::path(delete, path = "/api/v1/accounts/{number}", tag = "portal", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number")),
    responses((status = 204, description = "Removed"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's linked accounts", body = Problem),
        (status = 422, description = "The sign-in account cannot be removed", body = Problem)))]
pub(crate) async fn unlink(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.auth.unlink_account(&r, &number, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An invoice with its status.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvoiceItem {
    /// Month billed, `2026-10`.
    period: String,
    /// Receipt number.
    number: String,
    /// Debt (+) or advance (−) at the start of the month, kopecks.
    opening_balance_kopecks: i64,
    /// Charged, kopecks.
    charged_kopecks: i64,
    /// Paid during the month, kopecks.
    paid_kopecks: i64,
    /// Penalties, kopecks.
    penalties_kopecks: i64,
    /// Total to pay, kopecks.
    total_due_kopecks: i64,
    /// Paid since the month ended, towards this invoice, kopecks.
    paid_towards_kopecks: i64,
    /// Due date, `YYYY-MM-DD`.
    due_date: String,
    /// `unpaid`, `partly_paid`, `paid` or `overdue` (the organization's day).
    status: String,
}

fn invoice_item(row: &InvoiceRow) -> InvoiceItem {
    let i = &row.invoice;
    InvoiceItem {
        period: i.period.to_string(),
        number: i.number.clone(),
        opening_balance_kopecks: i.opening_balance.get(),
        charged_kopecks: i.charged.get(),
        paid_kopecks: i.paid.get(),
        penalties_kopecks: i.penalties.get(),
        total_due_kopecks: i.total_due.get(),
        paid_towards_kopecks: row.paid_towards.get(),
        due_date: i.due_date.to_string(),
        status: row.status.code().to_string(),
    }
}

/// A payment.
#[derive(Serialize, ToSchema)]
pub(crate) struct PaymentItem {
    /// When, RFC 3339.
    paid_at: String,
    /// Amount, kopecks.
    amount_kopecks: i64,
    /// `bank`, `cash`, `post`, `portal`, …
    source: String,
    /// `credited` (imported from the billing system), or `paid` (a card
    /// payment made here that the billing system has not reported back yet).
    status: String,
}

fn payment_item(p: &kabinet_domain::Payment) -> PaymentItem {
    PaymentItem {
        paid_at: super::rfc3339(p.paid_at),
        amount_kopecks: p.amount.get(),
        source: p.source.clone(),
        status: if p.confirmed { "credited" } else { "paid" }.into(),
    }
}

/// An account at a glance.
#[derive(Serialize, ToSchema)]
pub(crate) struct OverviewResponse {
    /// The account.
    account: AccountItem,
    /// Owed now, kopecks (negative: an advance).
    balance_kopecks: i64,
    /// The current invoice.
    current_invoice: Option<InvoiceItem>,
    /// The latest payment.
    last_payment: Option<PaymentItem>,
    /// Whether readings are accepted today.
    readings_open: bool,
    /// The last day of the open window, or the day it opens (`YYYY-MM-DD`).
    readings_date: String,
    /// Card payments for the account still in progress, newest first.
    payments_in_progress: Vec<super::payments::CardPaymentItem>,
}

/// The overview of one of the resident's accounts.
#[utoipa::path(get, path = "/api/v1/accounts/{number}/overview", tag = "portal", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number")),
    responses((status = 200, description = "The overview", body = OverviewResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem)))]
pub(crate) async fn overview(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
) -> Result<Json<OverviewResponse>, ApiError> {
    let o = state.app.accounts.overview(&r, Some(&number)).await?;
    let (readings_open, date) = match o.window {
        kabinet_domain::WindowState::Open { until } => (true, until),
        kabinet_domain::WindowState::Closed { opens } => (false, opens),
    };
    Ok(Json(OverviewResponse {
        account: item(o.scope.current()),
        balance_kopecks: o.account.balance.get(),
        current_invoice: o.current.as_ref().map(invoice_item),
        last_payment: o.account.last_payment.as_ref().map(payment_item),
        readings_open,
        readings_date: date.to_string(),
        payments_in_progress: o.in_progress.iter().map(super::payments::item).collect(),
    }))
}

/// Every invoice of one of the resident's accounts, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{number}/invoices", tag = "portal", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number")),
    responses((status = 200, description = "Invoices", body = Vec<InvoiceItem>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem)))]
pub(crate) async fn invoices(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
) -> Result<Json<Vec<InvoiceItem>>, ApiError> {
    let (_, rows) = state.app.accounts.invoices(&r, Some(&number)).await?;
    Ok(Json(rows.iter().map(invoice_item).collect()))
}

/// A charge line.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChargeItem {
    /// Month, `2026-10`.
    period: String,
    /// Service code.
    service_code: String,
    /// Service name.
    service: String,
    /// Volume as a decimal string, if measured.
    volume: Option<String>,
    /// Unit.
    unit: String,
    /// Tariff, kopecks per unit.
    tariff_kopecks: Option<i64>,
    /// Charged, kopecks.
    charged_kopecks: i64,
    /// Recalculation, kopecks.
    recalculation_kopecks: i64,
    /// Benefits, kopecks.
    benefits_kopecks: i64,
    /// Line total, kopecks.
    total_kopecks: i64,
}

fn charge_item(l: &ChargeLine) -> ChargeItem {
    let c = &l.charge;
    ChargeItem {
        period: c.period.to_string(),
        service_code: l.service_code.clone(),
        service: l.service_name.clone(),
        volume: c.volume.map(|v| v.to_decimal_string()),
        unit: c.unit.clone(),
        tariff_kopecks: c.tariff.map(|t| t.get()),
        charged_kopecks: c.charged.get(),
        recalculation_kopecks: c.recalculation.get(),
        benefits_kopecks: c.benefits.get(),
        total_kopecks: c.total.get(),
    }
}

/// One invoice with its lines and payments.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvoiceDetailResponse {
    /// The invoice.
    invoice: InvoiceItem,
    /// Its lines.
    lines: Vec<ChargeItem>,
    /// Payments towards it.
    payments: Vec<PaymentItem>,
}

/// One invoice of one of the resident's accounts.
#[utoipa::path(get, path = "/api/v1/accounts/{number}/invoices/{period}", tag = "portal", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number"), ("period" = String, Path, description = "Month, 2026-10")),
    responses((status = 200, description = "The invoice", body = InvoiceDetailResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts, or no invoice for the month", body = Problem)))]
pub(crate) async fn invoice(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path((number, period)): Path<(String, String)>,
) -> Result<Json<InvoiceDetailResponse>, ApiError> {
    let d = state.app.accounts.invoice(&r, &number, &period).await?;
    Ok(Json(InvoiceDetailResponse {
        invoice: invoice_item(&d.row),
        lines: d.lines.iter().map(charge_item).collect(),
        payments: d.payments.iter().map(payment_item).collect(),
    }))
}

/// The months of a charges request.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeQuery {
    /// First month, `2026-01` (default: 11 months before `to`).
    from: Option<String>,
    /// Last month (default: the newest billing month).
    to: Option<String>,
}

/// Charges by service for a range of months.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChargesResponse {
    /// First month.
    from: String,
    /// Last month.
    to: String,
    /// Every line, by month then receipt order.
    lines: Vec<ChargeItem>,
    /// Total per month (months with charges).
    months: Vec<MonthTotal>,
    /// Total of the range, kopecks.
    total_kopecks: i64,
}

/// A month's total.
#[derive(Serialize, ToSchema)]
pub(crate) struct MonthTotal {
    /// Month.
    period: String,
    /// Total, kopecks.
    total_kopecks: i64,
}

/// Charges by service of one of the resident's accounts (at most 60 months).
#[utoipa::path(get, path = "/api/v1/accounts/{number}/charges", tag = "portal", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number"), RangeQuery),
    responses((status = 200, description = "The charges", body = ChargesResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem),
        (status = 422, description = "A malformed month, an end before the start, or over 60 months", body = Problem)))]
pub(crate) async fn charges(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<ChargesResponse>, ApiError> {
    let range = RangeInput {
        from: q.from,
        to: q.to,
    };
    let report = state.app.accounts.charges(&r, Some(&number), &range).await?;
    Ok(Json(ChargesResponse {
        from: report.from.to_string(),
        to: report.to.to_string(),
        lines: report
            .months
            .iter()
            .flat_map(|m| m.lines.iter().map(charge_item))
            .collect(),
        months: report
            .months
            .iter()
            .map(|m| MonthTotal {
                period: m.period.to_string(),
                total_kopecks: m.total.get(),
            })
            .collect(),
        total_kopecks: report.total.get(),
    }))
}

/// A page of payments.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page from 1 (20 payments each).
    page: Option<String>,
}

/// One page of payments.
#[derive(Serialize, ToSchema)]
pub(crate) struct PaymentsResponse {
    /// Payments, newest first.
    payments: Vec<PaymentItem>,
    /// This page.
    page: u64,
    /// Pages in all.
    pages: u64,
    /// Payments in all.
    total: u64,
}

/// The payments of one of the resident's accounts, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{number}/payments", tag = "portal", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number"), PageQuery),
    responses((status = 200, description = "A page of payments", body = PaymentsResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts, or no such page", body = Problem)))]
pub(crate) async fn payments(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PaymentsResponse>, ApiError> {
    let page = match q.page.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(p) => p.parse::<u64>().map_err(|_| ApiError::App(Error::NotFound))?,
    };
    let p = state.app.accounts.payments(&r, Some(&number), page).await?;
    Ok(Json(PaymentsResponse {
        payments: p.payments.iter().map(payment_item).collect(),
        page: p.page,
        pages: p.pages,
        total: p.total,
    }))
}

/// The resident's settings.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct SettingsBody {
    /// E-mail (read only here; change it with `POST /api/v1/settings/email`).
    #[serde(default, skip_deserializing)]
    email: String,
    /// Phone, `+79123456789` (typed as `+7 912 345-67-89`, `8 912 3456789`,
    /// …), or empty.
    #[serde(default)]
    #[schema(
        pattern = "^(?: *| *(?:[()-][ +()-]*)?(?:[78][ +()-]*)?(?:[0-9][ +()-]*){10}| *\\+[ +()-]*7[ +()-]*(?:[0-9][ +()-]*){9,10})$"
    )]
    phone: String,
    /// `ru`, `en`, or empty for the device's language.
    #[serde(default)]
    #[schema(pattern = "^(?:|ru|en)$")]
    language: String,
    /// No paper receipts.
    #[serde(default)]
    paperless: bool,
    /// Messages wanted by e-mail.
    #[serde(default)]
    #[schema(value_type = Vec<NotificationCode>)]
    notifications: Vec<String>,
    /// Messages wanted by SMS: `new_invoice`, `payment_received`,
    /// `meter_verification`, `readings_reminder` and `announcements` are
    /// sent by SMS (others are not kept); they go once the phone is
    /// verified.
    #[serde(default)]
    #[schema(value_type = Vec<NotificationCode>)]
    sms_notifications: Vec<String>,
    /// The phone was verified with a code (read only; `POST
    /// /api/v1/settings/phone/code`, then `/verify`).
    #[serde(default, skip_deserializing)]
    phone_verified: bool,
    /// Messages wanted in MAX (the kinds SMS offers; sent while MAX is
    /// linked). Absent or null: kept as they are.
    #[serde(default)]
    #[schema(value_type = Option<Vec<NotificationCode>>)]
    max_notifications: Option<Vec<String>>,
    /// A MAX account is linked to the bot (read only; `POST
    /// /api/v1/settings/max/link`, `DELETE /api/v1/settings/max`).
    #[serde(default, skip_deserializing)]
    max_linked: bool,
}

/// A kind of message a resident may want by e-mail (the codes of
/// [`kabinet_domain::NotificationKind`]).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum NotificationCode {
    /// A new invoice.
    NewInvoice,
    /// A payment was received.
    PaymentReceived,
    /// Readings are due.
    ReadingsReminder,
    /// A meter's verification is due or has run out.
    MeterVerification,
    /// Readings were taken.
    ReadingsAccepted,
    /// News of one's requests.
    RequestUpdates,
    /// Announcements and outages for one's building.
    Announcements,
}

fn settings_body(email: &str, p: &kabinet_domain::Preferences) -> SettingsBody {
    SettingsBody {
        email: email.to_string(),
        phone: p
            .phone
            .as_ref()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        language: p.language.map(|l| l.code().to_string()).unwrap_or_default(),
        paperless: p.paperless,
        notifications: p
            .email_notifications
            .iter()
            .map(|k| k.code().to_string())
            .collect(),
        sms_notifications: p.sms_notifications.iter().map(|k| k.code().to_string()).collect(),
        phone_verified: p.phone_verified,
        max_notifications: Some(p.max_notifications.iter().map(|k| k.code().to_string()).collect()),
        max_linked: p.max_linked,
    }
}

/// The resident's settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "portal", security(("bearer" = [])),
    responses((status = 200, description = "Settings", body = SettingsBody),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn settings(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<SettingsBody>, ApiError> {
    let p = state.app.profiles.preferences(&r).await?;
    Ok(Json(settings_body(r.user.email.as_str(), &p)))
}

/// Replaces the resident's settings.
#[utoipa::path(put, path = "/api/v1/settings", tag = "portal", security(("bearer" = [])), request_body = SettingsBody,
    responses((status = 200, description = "Saved", body = SettingsBody),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 422, description = "A field is not valid", body = Problem)))]
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<SettingsBody>, ApiError> {
    let input = PreferencesInput {
        phone: body.phone,
        language: body.language,
        paperless: body.paperless,
        notifications: body.notifications,
        sms_notifications: body.sms_notifications,
        max_notifications: body.max_notifications,
    };
    let p = state.app.profiles.update(&r, &input, &ctx.client).await?;
    Ok(Json(settings_body(r.user.email.as_str(), &p)))
}

/// Sends a code to verify the phone in the settings.
#[utoipa::path(post, path = "/api/v1/settings/phone/code", tag = "portal", security(("bearer" = [])),
    responses((status = 202, description = "A code was sent by SMS", body = super::Accepted),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 409, description = "No phone in the settings, or it is verified already", body = Problem),
        (status = 429, description = "Five codes were sent in the last day", body = Problem)))]
pub(crate) async fn phone_code(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
) -> Result<Response, ApiError> {
    state.app.notify.send_phone_code(&r, &ctx.client).await?;
    Ok(super::accepted(&kabinet_domain::Text::new("phone-code-sent")).into_response())
}

/// The code from the SMS.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PhoneCodeRequest {
    /// Six digits.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{6}$")]
    code: String,
}

/// Verifies the phone with the code sent to it.
#[utoipa::path(post, path = "/api/v1/settings/phone/verify", tag = "portal", security(("bearer" = [])), request_body = PhoneCodeRequest,
    responses((status = 204, description = "The phone is verified"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 422, description = "The code is wrong or out of date", body = Problem)))]
pub(crate) async fn verify_phone(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    ApiJson(req): ApiJson<PhoneCodeRequest>,
) -> Result<StatusCode, ApiError> {
    state.app.notify.verify_phone(&r, &req.code, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time link to the MAX bot.
#[derive(Serialize, ToSchema)]
pub(crate) struct MaxLinkBody {
    /// Opens the bot's chat in MAX and starts it with the code.
    url: String,
    /// The code, to write to the bot as `/start CODE` instead.
    code: String,
    /// When the link stops working (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: time::OffsetDateTime,
}

/// Makes a one-time link that links the resident's MAX account to the
/// organization's bot (the earlier link stops working).
#[utoipa::path(post, path = "/api/v1/settings/max/link", tag = "portal", security(("bearer" = [])),
    responses((status = 201, description = "The link", body = MaxLinkBody),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "The organization does not offer MAX", body = Problem)))]
pub(crate) async fn max_link(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Response, ApiError> {
    let link = state.app.max.link(&r).await?;
    let body = MaxLinkBody {
        url: link.url,
        code: link.code,
        expires_at: link.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Unlinks the resident's MAX account (nothing when none is linked).
#[utoipa::path(delete, path = "/api/v1/settings/max", tag = "portal", security(("bearer" = [])),
    responses((status = 204, description = "Not linked (any more)"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn max_unlink(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
) -> Result<StatusCode, ApiError> {
    state.app.max.unlink(&r, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changing the e-mail.
#[derive(Deserialize, ToSchema)]
pub(crate) struct EmailRequest {
    /// The new address.
    #[serde(default)]
    email: String,
    /// The current password.
    #[serde(default)]
    password: String,
}

/// Starts changing the e-mail: a confirmation link goes to the new address.
#[utoipa::path(post, path = "/api/v1/settings/email", tag = "portal", security(("bearer" = [])), request_body = EmailRequest,
    responses((status = 202, description = "A link was sent to the new address", body = super::Accepted),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 422, description = "A wrong password or a malformed address", body = Problem)))]
pub(crate) async fn change_email(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<Response, ApiError> {
    state
        .app
        .auth
        .request_email_change(&r, &req.password, &req.email, &ctx.client)
        .await?;
    Ok(super::accepted(&kabinet_domain::Text::new("api-email-change-accepted")).into_response())
}

/// Everything Kabinet holds about the resident (R16).
#[utoipa::path(get, path = "/api/v1/my-data", tag = "portal", security(("bearer" = [])),
    responses((status = 200, description = "Profile, settings, linked accounts with who linked each, acceptances, activity with staff actions, e-mails sent, readings given, card payments, requests with their history and photo ids, requests joined (the photos themselves: the archive at /settings/data.zip)", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn my_data(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
) -> Result<Json<kabinet_app::profile::MyData>, ApiError> {
    Ok(Json(state.app.profiles.my_data(&r, &ctx.client).await?))
}
