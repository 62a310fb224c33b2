//! Registration (R1): the form, its mistakes by field, and the one answer
//! every accepted form gets whatever the account.

use super::auth::within_limit;
use super::{Layout, message, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::paths;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::auth::fields;
use kabinet_app::auth::{RegistrationInput, RegistrationMode};
use kabinet_app::{Error, FieldErrors};
use serde::Deserialize;

/// The registration page.
#[derive(Template)]
#[template(path = "auth/register.html")]
pub(crate) struct RegisterPage {
    pub layout: Layout,
    pub check_label: &'static str,
    pub check_hint: &'static str,
    pub check_example: &'static str,
    pub check_inputmode: &'static str,
    pub rules_version: Option<i32>,
    pub consent_version: Option<i32>,
    pub account: String,
    pub email: String,
    pub check: String,
    pub accept_rules: bool,
    pub personal_data: bool,
    pub consent: bool,
    pub has_errors: bool,
    pub account_error: Option<String>,
    pub email_error: Option<String>,
    pub check_error: Option<String>,
    pub rules_error: Option<String>,
    pub personal_data_error: Option<String>,
    pub consent_error: Option<String>,
}

/// The registration form's fields.
#[derive(Deserialize, Default)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    check: String,
    accept_rules: Option<String>,
    personal_data: Option<String>,
    consent: Option<String>,
}

impl RegisterForm {
    fn input(&self) -> RegistrationInput {
        RegistrationInput {
            account: self.account.clone(),
            email: self.email.clone(),
            check: self.check.clone(),
            accept_rules: self.accept_rules.is_some(),
            personal_data: self.personal_data.is_some(),
            consent: self.consent.is_some(),
        }
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    form: &RegisterForm,
    errors: &FieldErrors,
) -> Result<Response, PageError> {
    let rules_version = state.app.rules.current().await?.map(|r| r.version);
    let consent_version = state.app.consent.current().await?.map(|r| r.version);
    let (check_label, check_hint, check_example, check_inputmode) =
        match state.app.auth.registration_mode().await? {
            RegistrationMode::Amount => (
                "check-amount-label",
                "check-amount-hint",
                "check-amount-example",
                "decimal",
            ),
            RegistrationMode::Passport => (
                "check-passport-label",
                "check-passport-hint",
                "check-passport-example",
                "numeric",
            ),
        };
    let err = |f| errors.get(f).map(say);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page_with(
        status,
        &RegisterPage {
            layout: Layout::new(state, ctx),
            check_label,
            check_hint,
            check_example,
            check_inputmode,
            rules_version,
            consent_version,
            account: form.account.chars().take(32).collect(),
            email: form.email.chars().take(254).collect(),
            check: form.check.chars().take(40).collect(),
            accept_rules: form.accept_rules.is_some(),
            personal_data: form.personal_data.is_some(),
            consent: form.consent.is_some(),
            has_errors: !errors.is_empty(),
            account_error: err(fields::ACCOUNT),
            email_error: err(fields::EMAIL),
            check_error: err(fields::CHECK),
            rules_error: err(fields::RULES),
            personal_data_error: err(fields::PERSONAL_DATA),
            consent_error: err(fields::CONSENT),
        },
    )
}

/// `GET /register`.
pub(crate) async fn form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    render(&state, &ctx, &RegisterForm::default(), &FieldErrors::default()).await
}

/// `POST /register`: mistakes are shown on the form; otherwise the same
/// answer whatever the outcome.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, PageError> {
    within_limit(&state, &ctx).await?;
    match state.app.auth.register(&form.input(), &ctx.client).await {
        Ok(()) => Ok(see_other(paths::REGISTER_SENT)),
        Err(Error::Invalid(errors)) => render(&state, &ctx, &form, &errors).await,
        Err(e) => Err(e.into()),
    }
}

/// `GET /register/sent`: what happens next.
pub(crate) async fn sent(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    message(
        &state,
        &ctx,
        "check-mail",
        &["register-sent-1", "register-sent-2"],
        Some(("login-submit", paths::LOGIN)),
    )
}
