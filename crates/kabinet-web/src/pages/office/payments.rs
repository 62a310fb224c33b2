//! Card payments in the office (B10): the newest payments, one payment with
//! its accounts and refunds, and the refund form — the amount and the reason,
//! checked against what is left to refund. Staff with the payments
//! permission (accountants, administrators) only.

use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::page_with;
use crate::pages::pay::{method_name, status_text};
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::payments::RefundInput;
use kabinet_app::staff::StaffUser;
use kabinet_domain::payments::CardPaymentStatus;
use serde::Deserialize;

/// A payment in the list.
pub(crate) struct Row {
    pub href: String,
    pub id: String,
    pub started: String,
    pub accounts: String,
    pub amount: String,
    pub status: String,
    pub refunded: String,
}

/// The list.
#[derive(Template)]
#[template(path = "office/payments.html")]
pub(crate) struct PaymentsPage {
    pub layout: StaffLayout,
    pub statuses: Vec<(&'static str, String, bool)>,
    pub rows: Vec<Row>,
}

/// A refund as shown.
pub(crate) struct RefundRow {
    pub started: String,
    pub amount: String,
    pub status: String,
    pub reason: String,
}

/// One payment.
#[derive(Template)]
#[template(path = "office/payment.html")]
pub(crate) struct PaymentPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub id: String,
    pub facts: Vec<(String, String)>,
    pub shares: Vec<(String, String)>,
    pub refunds: Vec<RefundRow>,
    pub can_refund: bool,
    pub left: String,
    pub action: String,
    pub errors: Vec<String>,
    pub amount: String,
    pub reason: String,
}

/// `?status=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
}

/// `GET /staff/payments`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let status = CardPaymentStatus::from_stored(&q.status);
    let list = state.app.payments.newest_for_office(by(&s, &ctx), status).await?;
    let clock = state.app.accounts.clock();
    let rows = list
        .iter()
        .map(|p| Row {
            href: paths::staff_payment(&p.public_id),
            id: p.public_id.clone(),
            started: tr.date_time(clock.local(p.created_at)),
            accounts: p
                .shares
                .iter()
                .map(|s| s.account.clone())
                .collect::<Vec<_>>()
                .join(", "),
            amount: tr.money(p.amount),
            status: status_text(&tr, p.status),
            refunded: if p.refunded > kabinet_domain::Kopecks::ZERO {
                tr.money(p.refunded)
            } else {
                String::new()
            },
        })
        .collect();
    page_with(
        StatusCode::OK,
        &PaymentsPage {
            layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_PAYMENTS),
            statuses: CardPaymentStatus::ALL
                .into_iter()
                .map(|x| (x.as_str(), status_text(&tr, x), Some(x) == status))
                .collect(),
            rows,
        },
    )
}

/// The refund form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RefundForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    id: &str,
    (status, errors): (StatusCode, Vec<String>),
    typed: Option<&RefundForm>,
    saved: bool,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let (p, refunds) = state.app.payments.for_office(by(s, ctx), id).await?;
    let clock = state.app.accounts.clock();
    let taken = kabinet_domain::Kopecks::sum(
        refunds
            .iter()
            .filter(|r| r.status != kabinet_domain::refunds::RefundStatus::Canceled)
            .map(|r| r.amount),
    );
    let left = p.amount - taken;
    let mut facts = vec![
        (tr.t("th-status"), status_text(&tr, p.status)),
        (tr.t("th-amount"), tr.money(p.amount)),
        (
            tr.t("card-payment-started"),
            tr.date_time(clock.local(p.created_at)),
        ),
    ];
    if p.fee > kabinet_domain::Kopecks::ZERO {
        facts.push((tr.t("pay-th-fee"), tr.money(p.fee)));
    }
    if let Some(m) = p.method {
        facts.push((tr.t("pay-th-method"), method_name(&tr, m)));
    }
    if let Some(g) = &p.gateway_id {
        facts.push((tr.t("office-payment-gateway-id"), g.clone()));
    }
    if let Some(c) = &p.card {
        facts.push((tr.t("card-payment-card"), c.clone()));
    }
    if let Some(f) = &p.failure {
        facts.push((tr.t("office-payment-failure"), f.clone()));
    }
    if p.test {
        facts.push((tr.t("office-payment-test"), tr.t("office-payment-test-value")));
    }
    let can_refund = p.status == CardPaymentStatus::Succeeded && left > kabinet_domain::Kopecks::ZERO;
    page_with(
        status,
        &PaymentPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_PAYMENTS),
            saved,
            id: p.public_id.clone(),
            facts,
            shares: p
                .shares
                .iter()
                .map(|s| (s.account.clone(), tr.money(s.amount)))
                .collect(),
            refunds: refunds
                .iter()
                .map(|r| RefundRow {
                    started: tr.date_time(clock.local(r.created_at)),
                    amount: tr.money(r.amount),
                    status: tr.t(&format!("refund-status-{}", r.status.as_str())),
                    reason: if r.staff_id.is_none() && r.reason.is_empty() {
                        tr.t("refund-at-gateway")
                    } else {
                        r.reason.clone()
                    },
                })
                .collect(),
            can_refund,
            left: tr.money(left.max(kabinet_domain::Kopecks::ZERO)),
            action: format!("{}/refund", paths::staff_payment(&p.public_id)),
            errors,
            amount: typed.map_or_else(
                || {
                    left.max(kabinet_domain::Kopecks::ZERO)
                        .to_plain_string()
                        .replace('\u{a0}', " ")
                },
                |f| f.amount.chars().take(30).collect(),
            ),
            reason: typed
                .map(|f| f.reason.chars().take(300).collect())
                .unwrap_or_default(),
        },
    )
}

/// `GET /staff/payments/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    Query(q): Query<super::SavedQuery>,
) -> Result<Response, PageError> {
    render(
        &state,
        &ctx,
        &s,
        &id,
        (StatusCode::OK, Vec::new()),
        None,
        q.saved(),
    )
    .await
}

/// `POST /staff/payments/{id}/refund`.
pub(crate) async fn refund(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RefundForm>,
) -> Result<Response, PageError> {
    let input = RefundInput {
        amount: f.amount.clone(),
        reason: f.reason.clone(),
    };
    match state.app.payments.refund(by(&s, &ctx), &id, &input).await {
        Ok(_) => Ok(super::SavedQuery::back_to(&paths::staff_payment(&id))),
        Err(e) => render(&state, &ctx, &s, &id, refusal(e)?, Some(&f), false).await,
    }
}
