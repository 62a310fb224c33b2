//! The organization's details (S4): the names, numbers and contacts residents
//! see on every page and receipt. Until the fields residents need are set,
//! the resident pages say the portal is being set up.

use super::super::page_with;
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::staff::StaffUser;
use kabinet_domain::Organization;
use serde::Deserialize;

/// A field of the form.
pub(crate) struct Field {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub max: usize,
    pub kind: &'static str,
}

/// The form.
#[derive(Template)]
#[template(path = "office/organization.html")]
pub(crate) struct OrganizationPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub fields: Vec<Field>,
    pub has_errors: bool,
    pub payees: Vec<PayeeRow>,
}

/// A payee as the page lists it.
pub(crate) struct PayeeRow {
    pub name: String,
    pub inn_kpp: String,
    pub bank: String,
    pub accounts: String,
    /// What does not check, in words; `None`: all checks.
    pub problem: Option<String>,
}

/// The payees with their checks, for the page.
async fn payees(state: &AppState, ctx: &Ctx, s: &StaffUser) -> Result<Vec<PayeeRow>, PageError> {
    let tr = Tr::current();
    Ok(state
        .app
        .office
        .payees(by(s, ctx))
        .await?
        .into_iter()
        .map(|(p, problems)| PayeeRow {
            inn_kpp: if p.kpp.is_empty() {
                p.inn.clone()
            } else {
                format!("{} / {}", p.inn, p.kpp)
            },
            bank: format!("{}, {} {}", p.bank_name, tr.t("payee-bic"), p.bic),
            accounts: format!(
                "{} {}; {} {}",
                tr.t("payee-settlement"),
                p.settlement_account,
                tr.t("payee-correspondent"),
                p.correspondent_account
            ),
            problem: (!problems.is_empty()).then(|| {
                let fields: Vec<String> = problems
                    .iter()
                    .map(|f| tr.t(&format!("payee-field-{}", f.replace('_', "-"))))
                    .collect();
                tr.a("payee-check-failed", "fields", &fields.join(", "))
            }),
            name: p.name,
        })
        .collect())
}

/// The form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OrganizationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    short_name: String,
    #[serde(default)]
    inn: String,
    #[serde(default)]
    kpp: String,
    #[serde(default)]
    ogrn: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    dispatch_phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    website: String,
}

impl OrganizationForm {
    fn of(o: &Organization) -> OrganizationForm {
        OrganizationForm {
            name: o.name.clone(),
            short_name: o.short_name.clone(),
            inn: o.inn.clone(),
            kpp: o.kpp.clone(),
            ogrn: o.ogrn.clone(),
            address: o.address.clone(),
            phone: o.phone.clone(),
            dispatch_phone: o.dispatch_phone.clone(),
            email: o.email.clone(),
            website: o.website.clone(),
        }
    }

    fn organization(&self) -> Organization {
        Organization {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            inn: self.inn.clone(),
            kpp: self.kpp.clone(),
            ogrn: self.ogrn.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            dispatch_phone: self.dispatch_phone.clone(),
            email: self.email.clone(),
            website: self.website.clone(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    f: &OrganizationForm,
    errors: Option<&kabinet_app::FieldErrors>,
    saved: bool,
    payees: Vec<PayeeRow>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let field = |name: &'static str, value: &str, required: bool, max: usize, kind: &'static str| Field {
        name,
        label: tr.t(&format!("org-{}", name.replace('_', "-"))),
        value: value.to_string(),
        error: errors.and_then(|e| e.get(name)).map(say),
        required,
        max,
        kind,
    };
    let fields = vec![
        field("name", &f.name, true, 500, "text"),
        field("short_name", &f.short_name, true, 500, "text"),
        field("inn", &f.inn, true, 12, "text"),
        field("kpp", &f.kpp, false, 9, "text"),
        field("ogrn", &f.ogrn, false, 15, "text"),
        field("address", &f.address, true, 500, "text"),
        field("phone", &f.phone, true, 500, "tel"),
        field("dispatch_phone", &f.dispatch_phone, true, 500, "tel"),
        field("email", &f.email, false, 500, "email"),
        field("website", &f.website, false, 500, "url"),
    ];
    page_with(
        status,
        &OrganizationPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_ORGANIZATION),
            saved,
            has_errors: fields.iter().any(|f| f.error.is_some()),
            fields,
            payees,
        },
    )
}

/// `GET /staff/organization`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<super::SavedQuery>,
) -> Result<Response, PageError> {
    let o = state.app.office.organization(by(&s, &ctx)).await?;
    let f = o.as_ref().map(OrganizationForm::of).unwrap_or_default();
    let payees = payees(&state, &ctx, &s).await?;
    render(&state, &ctx, StatusCode::OK, &f, None, q.saved(), payees)
}

/// `POST /staff/organization`.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<OrganizationForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .office
        .save_organization(by(&s, &ctx), &f.organization())
        .await
    {
        Ok(()) => Ok(super::SavedQuery::back_to(paths::STAFF_ORGANIZATION)),
        Err(Error::Invalid(fe)) => render(
            &state,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f,
            Some(&fe),
            false,
            payees(&state, &ctx, &s).await?,
        ),
        Err(e) => Err(e.into()),
    }
}
