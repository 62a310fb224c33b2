//! Card payments in the browser: the form (one or several accounts), the
//! return page that follows the payment until it settles (while it is
//! pending, a link to refresh it and a small script that reloads it every
//! 5 s — a meta refresh would fail WCAG 2.2.1), the sandbox gateway's test
//! page, and the endpoint the gateway notifies.

use super::{Layout, Section, page, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{ApiError, PageError, say};
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_app::payments::{Notified, PayForm, Review, SandboxAction, ShareInput};
use kabinet_domain::CardPaymentStatus;
use kabinet_domain::payment_methods::PayMethod;
use kabinet_domain::payments::CardPayment;
use serde::Deserialize;

/// `?account=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PayQuery {
    #[serde(default)]
    pub account: Option<String>,
}

/// An amount field, one per linked account.
pub(crate) struct AmountField {
    pub name: String,
    pub account: String,
    pub address: String,
    pub value: String,
    pub hint: String,
    pub invalid: bool,
}

/// The payment form.
#[derive(Template)]
#[template(path = "pay/pay.html")]
pub(crate) struct PayPage {
    pub layout: Layout,
    pub errors: Vec<String>,
    pub sandbox: bool,
    pub fields: Vec<AmountField>,
    pub max_note: String,
    pub methods_note: Vec<String>,
}

/// One method on the review page.
pub(crate) struct MethodRow {
    pub value: &'static str,
    pub name: String,
    pub fee: String,
    pub total: String,
    pub button: String,
}

/// The review page: what each method costs before the resident leaves.
#[derive(Template)]
#[template(path = "pay/review.html")]
pub(crate) struct ReviewPage {
    pub layout: Layout,
    pub sandbox: bool,
    pub amount: String,
    pub shares: Vec<(String, String)>,
    pub hidden: Vec<(String, String)>,
    pub methods: Vec<MethodRow>,
}

const FIELD_PREFIX: &str = "amount_";

/// The name of a method, in the reader's language.
pub(crate) fn method_name(tr: &Tr, m: PayMethod) -> String {
    tr.t(&format!("pay-method-{}", m.as_str().replace('_', "-")))
}

/// The fee of each method offered, in words (the form's note).
fn methods_note(state: &AppState, tr: &Tr) -> Vec<String> {
    state
        .app
        .payments
        .methods()
        .iter()
        .map(|m| {
            let name = method_name(tr, m.method);
            if m.fee.is_free() {
                tr.a("pay-fee-none", "method", &name)
            } else {
                let percent = format!(
                    "{},{:02}",
                    m.fee.percent_hundredths / 100,
                    m.fee.percent_hundredths % 100
                );
                if m.fee.min == kabinet_domain::Kopecks::ZERO {
                    tr.args("pay-fee-percent", &[("method", &name), ("percent", &percent)])
                } else {
                    tr.args(
                        "pay-fee-some",
                        &[
                            ("method", &name),
                            ("percent", &percent),
                            ("min", &tr.money(m.fee.min)),
                        ],
                    )
                }
            }
        })
        .collect()
}

fn form_page(
    state: &AppState,
    ctx: &Ctx,
    form: &PayForm,
    typed: Option<&[(String, String)]>,
    errors: Vec<String>,
) -> PayPage {
    let tr = Tr::current();
    let current = form.scope.current().account.id;
    let fields = form
        .scope
        .linked
        .iter()
        .map(|l| {
            let number = l.account.number.to_string();
            let name = format!("{FIELD_PREFIX}{number}");
            let value = match typed {
                Some(t) => t
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                None if l.account.id == current => form
                    .suggested
                    .map(|k| k.to_plain_string().replace('\u{a0}', " "))
                    .unwrap_or_default(),
                None => String::new(),
            };
            let invalid = errors.iter().any(|e| e.contains(&number));
            AmountField {
                hint: tr.t(match (l.account.id == current, form.suggested.is_some()) {
                    (true, true) => "pay-hint-current",
                    (true, false) => "pay-hint-advance",
                    _ => "pay-hint-other",
                }),
                name,
                account: number,
                address: l.premises.full_address(),
                value,
                invalid,
            }
        })
        .collect();
    PayPage {
        layout: Layout::resident(state, ctx, &form.scope, Section::Overview, paths::PAY),
        errors,
        sandbox: state.app.payments.is_test(),
        fields,
        max_note: tr.a("pay-max", "amount", &tr.money(state.app.payments.max_amount())),
        methods_note: methods_note(state, &tr),
    }
}

fn review_page(state: &AppState, ctx: &Ctx, review: &Review, typed: &[(String, String)]) -> ReviewPage {
    let tr = Tr::current();
    let amount = review.quotes.first().map(|q| q.amount).unwrap_or_default();
    ReviewPage {
        layout: Layout::section(state, ctx, Section::Overview),
        sandbox: state.app.payments.is_test(),
        amount: tr.money(amount),
        shares: review
            .shares
            .iter()
            .map(|s| (s.number.to_string(), tr.money(s.amount)))
            .collect(),
        hidden: typed
            .iter()
            .filter(|(k, _)| k.starts_with(FIELD_PREFIX) || k == "save")
            .cloned()
            .collect(),
        methods: review
            .quotes
            .iter()
            .map(|q| {
                let name = method_name(&tr, q.method);
                MethodRow {
                    value: q.method.as_str(),
                    fee: if q.fee == kabinet_domain::Kopecks::ZERO {
                        tr.t("pay-fee-free")
                    } else {
                        tr.money(q.fee)
                    },
                    total: tr.money(q.total),
                    button: tr.args("pay-by", &[("method", &name), ("total", &tr.money(q.total))]),
                    name,
                }
            })
            .collect(),
    }
}

/// `GET /pay?account=`: the form, the chosen account's debt filled in.
pub(crate) async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<PayQuery>,
) -> Result<Response, PageError> {
    match state.app.payments.form(&r, q.account.as_deref()).await {
        Ok(form) => page(&form_page(&state, &ctx, &form, None, Vec::new())),
        // No gateway set up: the receipt's QR code is the way to pay.
        Err(Error::CardPaymentsOff) => super::message(
            &state,
            &ctx,
            "pay-off-title",
            &["pay-off-text", "pay-off-qr"],
            Some(("pay-off-link", paths::INVOICES)),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /pay`: starts the payment and sends the browser to the gateway; a
/// refused form comes back with what was typed and why.
pub(crate) async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(typed): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let input: Vec<ShareInput> = typed
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(FIELD_PREFIX).map(|n| ShareInput {
                account: n.to_string(),
                amount: v.clone(),
            })
        })
        .collect();
    let asked = typed.iter().find(|(k, _)| k == "method").map(|(_, v)| v.as_str());
    let methods = state.app.payments.methods();
    let straight = methods.len() == 1 && methods.iter().all(|m| m.fee.is_free());
    let method = match asked {
        Some(m) => Some(PayMethod::parse(m).ok_or(PageError::BadRequest("error-form-malformed"))?),
        // One method and no fee: nothing to choose, nothing to show first.
        None if straight => None,
        None => {
            return match state.app.payments.review(&r, &input).await {
                Ok(review) => page(&review_page(&state, &ctx, &review, &typed)),
                Err(Error::Invalid(f)) => {
                    let errors = f.iter().map(|(_, m)| say(m)).collect::<Vec<_>>();
                    let form = state.app.payments.form(&r, None).await?;
                    page_with(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &form_page(&state, &ctx, &form, Some(&typed), errors),
                    )
                }
                Err(e) => Err(e.into()),
            };
        }
    };
    let save = typed.iter().any(|(k, v)| k == "save" && v == "1");
    let (status, errors) = match state
        .app
        .payments
        .start(&r, &input, method, save, &ctx.client)
        .await
    {
        Ok(s) => return Ok(see_other(&s.confirmation_url)),
        Err(Error::Invalid(f)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            f.iter().map(|(_, m)| say(m)).collect::<Vec<_>>(),
        ),
        Err(e @ (Error::GatewayUnavailable | Error::PaymentRefused | Error::TooManyPayments)) => (
            match e {
                Error::PaymentRefused => StatusCode::BAD_GATEWAY,
                Error::TooManyPayments => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            },
            vec![say(&e.text())],
        ),
        Err(e) => return Err(e.into()),
    };
    let form = state.app.payments.form(&r, None).await?;
    page_with(status, &form_page(&state, &ctx, &form, Some(&typed), errors))
}

/// The return page.
#[derive(Template)]
#[template(path = "pay/card.html")]
pub(crate) struct CardPage {
    pub layout: Layout,
    pub refresh: bool,
    pub status: String,
    pub status_code: &'static str,
    pub explanation: String,
    pub amount: String,
    pub shares: Vec<(String, String)>,
    pub started: String,
    pub card: Option<String>,
    pub continue_url: Option<String>,
    pub self_href: String,
    pub test: bool,
    pub method: Option<String>,
    pub fee: Option<String>,
    pub refunded: Option<String>,
    pub kept: bool,
}

/// The label of a card payment's status.
pub(crate) fn status_text(tr: &Tr, s: CardPaymentStatus) -> String {
    tr.t(&format!("card-status-{}", s.as_str()))
}

/// `GET /payments/card/{id}`: where the gateway sends the payer back; the
/// payment is read again at the gateway while it is unsettled.
pub(crate) async fn card(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let p: CardPayment = state.app.payments.status(&r, &id).await?;
    let tr = Tr::current();
    let clock = state.app.accounts.clock();
    page(&CardPage {
        layout: Layout::section(&state, &ctx, Section::Payments),
        refresh: !p.status.is_final(),
        status: status_text(&tr, p.status),
        status_code: p.status.as_str(),
        explanation: match (p.status, p.cancellation_reason()) {
            (CardPaymentStatus::Canceled, Some(reason)) => {
                tr.t(&format!("card-cancel-{}", reason.replace('_', "-")))
            }
            _ => tr.t(&format!("card-explain-{}", p.status.as_str())),
        },
        kept: p.save_method && p.status == CardPaymentStatus::Succeeded,
        method: p.method.map(|m| method_name(&tr, m)),
        fee: (p.fee > kabinet_domain::Kopecks::ZERO).then(|| tr.money(p.fee)),
        refunded: (p.refunded > kabinet_domain::Kopecks::ZERO).then(|| {
            tr.a(
                if p.refunded >= p.amount {
                    "card-refunded-full"
                } else {
                    "card-refunded-part"
                },
                "amount",
                &tr.money(p.refunded),
            )
        }),
        amount: tr.money(p.amount),
        shares: p
            .shares
            .iter()
            .map(|s| (s.account.clone(), tr.money(s.amount)))
            .collect(),
        started: tr.date_time(clock.local(p.created_at)),
        card: p.card.clone(),
        continue_url: (p.status == CardPaymentStatus::Pending)
            .then(|| p.confirmation_url.clone())
            .flatten(),
        self_href: paths::card_payment(&p.public_id),
        test: p.test,
    })
}

/// The sandbox gateway's page.
#[derive(Template)]
#[template(path = "pay/sandbox.html")]
pub(crate) struct SandboxPage {
    pub layout: Layout,
    pub amount: String,
    pub description: String,
    pub status: String,
    pub pending: bool,
    pub action: String,
    pub back: String,
    pub sbp: bool,
    pub qr: Option<String>,
}

/// `GET /sandbox/pay/{id}`: the test payment page (only while the sandbox
/// is the gateway, and only for the resident who started the payment).
pub(crate) async fn sandbox(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let p = state.app.payments.sandbox_payment(&r, &id).await?;
    let tr = Tr::current();
    let sbp = p.method.as_deref() == Some(PayMethod::Sbp.as_str());
    // What a bank's СБП QR code would carry: here, this very page.
    let qr = if sbp && p.status == "pending" {
        Some(super::staff::qr_svg(&state.app.payments.sandbox_url(&p.id))?)
    } else {
        None
    };
    page(&SandboxPage {
        sbp,
        qr,
        layout: Layout::new(&state, &ctx),
        amount: tr.money(p.amount),
        description: p.description.clone(),
        status: tr.t(&format!("sandbox-status-{}", p.status)),
        pending: p.status == "pending",
        action: kabinet_app::payments::sandbox_page_path(&p.id),
        back: paths::card_payment(&p.reference),
    })
}

/// The sandbox form: `action=pay|decline|pending`.
#[derive(Deserialize)]
pub(crate) struct SandboxForm {
    #[serde(default)]
    action: String,
}

/// `POST /sandbox/pay/{id}`: pays, declines or leaves the test payment, then
/// sends the browser back as a gateway would.
pub(crate) async fn sandbox_act(
    State(state): State<AppState>,
    ResidentPage(r): ResidentPage,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SandboxForm>,
) -> Result<Response, PageError> {
    let action = match f.action.as_str() {
        "pay" => SandboxAction::Pay,
        "decline" => SandboxAction::Decline,
        "pending" => SandboxAction::LeavePending,
        _ => return Err(PageError::BadRequest("error-form-malformed")),
    };
    let back = state.app.payments.sandbox_act(&r, &id, action).await?;
    Ok(see_other(&back))
}

/// `POST /payments/notifications`: the gateway's notification, in the
/// machine-to-machine group (no session, CSRF or closing; a small body
/// limit). Answered 200 once handled (or when it is about no payment of
/// ours), 503 when the gateway could not be asked about it (it sends it
/// again later), 429 past the per-address limit.
pub(crate) async fn notification(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = crate::http::context::client_ip(&state, &headers, peer);
    if !state.machine_limiter.allow(&ip).await {
        tracing::warn!(%ip, "gateway notifications over the per-address limit");
        return Err(ApiError::TooManyRequests);
    }
    let done = state.app.payments.notify(&body, ip.parse().ok()).await?;
    let text = match done {
        Notified::Applied => "ok",
        Notified::Unknown => "ignored",
    };
    Ok((StatusCode::OK, text).into_response())
}
