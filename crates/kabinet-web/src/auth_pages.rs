//! Registration, sign-in, sign-out and password pages for browsers (R1, R2).
//! Every form carries a CSRF token; every POST that guesses at a secret is
//! limited per client address.

use crate::AppState;
use crate::context::{Ctx, SESSION_COOKIE, set_cookie};
use crate::csrf::CsrfForm;
use crate::error::AppError;
use crate::views::{
    Layout, LoginPage, MessagePage, PasswordPage, RegisterPage, ResetRequestPage, next_step, page, page_with,
    see_other,
};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use kabinet_auth::{AuthError, Field, FieldErrors, RegistrationInput, RegistrationMode};
use kabinet_domain::SessionKind;
use serde::Deserialize;

/// The refusal page when this address is over its limit.
fn limit(state: &AppState, ctx: &Ctx) -> Option<Response> {
    if state.limiter.allow(&ctx.client.ip) {
        None
    } else {
        tracing::warn!(ip = %ctx.client.ip, "per-address limit reached");
        Some(AppError::TooManyRequests.into_page())
    }
}

fn message(
    state: &AppState,
    ctx: &Ctx,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Response {
    page(&MessagePage {
        layout: Layout::new(state, ctx),
        title: title.to_string(),
        paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
        link: link.map(|(t, h)| (t.to_string(), h.to_string())),
    })
}

// ---- sign-in ----

/// The sign-in form's fields.
#[derive(Deserialize, Default)]
pub(crate) struct LoginForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
}

/// `GET /login`.
pub(crate) async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Some(p) = &ctx.principal {
        return see_other(next_step(p));
    }
    page(&LoginPage {
        layout: Layout::new(&state, &ctx),
        account: String::new(),
        error: None,
    })
}

/// `POST /login`: on success a new session cookie (the old session, if any,
/// ends) and the next step.
pub(crate) async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    if let Some(r) = limit(&state, &ctx) {
        return r;
    }
    if let Some(old) = &ctx.principal
        && let Err(e) = state.auth.sign_out(old, &ctx.client).await
    {
        return auth_failure(e);
    }
    match state
        .auth
        .sign_in(&form.account, &form.password, SessionKind::Web, &ctx.client)
        .await
    {
        Ok(signed) => {
            let mut res = see_other(next_step(&signed.principal));
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &signed.token, None, state.web.cookie_secure),
            );
            res
        }
        Err(e @ (AuthError::InvalidCredentials | AuthError::OneTimePasswordExpired)) => {
            let ctx = Ctx {
                principal: None,
                ..ctx
            };
            page_with(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    layout: Layout::new(&state, &ctx),
                    account: form.account.chars().take(32).collect(),
                    error: Some(capitalize(&e.to_string())),
                },
            )
        }
        Err(e) => auth_failure(e),
    }
}

/// `POST /logout`: ends the session and forgets the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<LoginForm>,
) -> Response {
    if let Some(p) = &ctx.principal
        && let Err(e) = state.auth.sign_out(p, &ctx.client).await
    {
        return auth_failure(e);
    }
    let mut res = see_other("/login");
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), state.web.cookie_secure),
    );
    res
}

/// Turns an unexpected failure into an error page.
fn auth_failure(e: AuthError) -> Response {
    match e {
        AuthError::Db(e) => AppError::Db(e).into_page(),
        AuthError::Hash(e) => AppError::from(e).into_page(),
        other => AppError::BadRequest(capitalize(&other.to_string())).into_page(),
    }
}

/// Upper-cases the first letter of a message that is shown on its own.
pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---- registration ----

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
    consent: Option<String>,
}

async fn register_page_with(
    state: &AppState,
    ctx: &Ctx,
    form: &RegisterForm,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let rules_version = state.db.current_rules().await?.map(|r| r.version);
    let (check_label, check_hint, check_example, check_inputmode) =
        match state.auth.settings().registration_mode {
            RegistrationMode::Amount => (
                "Сумма к оплате по последней квитанции, ₽",
                "сумму к оплате из последней квитанции",
                "Например: 3 456,78 — как напечатано в строке «Итого к оплате».",
                "decimal",
            ),
            RegistrationMode::Passport => (
                "Серия и номер паспорта владельца счёта",
                "серию и номер паспорта владельца счёта",
                "10 цифр, например 28 15 123456. Паспорт используется только для проверки и не хранится.",
                "numeric",
            ),
        };
    let err = |f| errors.get(f).map(capitalize);
    let status = if errors.0.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page_with(
        status,
        &RegisterPage {
            layout: Layout::new(state, ctx),
            check_label,
            check_hint,
            check_example,
            check_inputmode,
            rules_version,
            account: form.account.chars().take(32).collect(),
            email: form.email.chars().take(254).collect(),
            check: form.check.chars().take(40).collect(),
            accept_rules: form.accept_rules.is_some(),
            consent: form.consent.is_some(),
            has_errors: !errors.0.is_empty(),
            account_error: err(Field::Account),
            email_error: err(Field::Email),
            check_error: err(Field::Check),
            rules_error: err(Field::Rules),
            consent_error: err(Field::Consent),
        },
    ))
}

/// `GET /register`.
pub(crate) async fn register_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    register_page_with(&state, &ctx, &RegisterForm::default(), &FieldErrors::default()).await
}

/// `POST /register`: mistakes are shown on the form; otherwise the same
/// answer whatever the outcome.
pub(crate) async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, AppError> {
    if let Some(r) = limit(&state, &ctx) {
        return Ok(r);
    }
    let input = RegistrationInput {
        account: form.account.clone(),
        email: form.email.clone(),
        check: form.check.clone(),
        accept_rules: form.accept_rules.is_some(),
        consent: form.consent.is_some(),
    };
    match state.auth.register(&input, &ctx.client).await {
        Ok(()) => Ok(see_other("/register/sent")),
        Err(AuthError::Invalid(errors)) => register_page_with(&state, &ctx, &form, &errors).await,
        Err(e) => Ok(auth_failure(e)),
    }
}

/// `GET /register/sent`: what happens next.
pub(crate) async fn register_sent(State(state): State<AppState>, ctx: Ctx) -> Response {
    message(
        &state,
        &ctx,
        "Проверьте почту",
        &[
            "Если указанные данные совпали с данными лицевого счёта, мы отправили временный пароль на указанный адрес электронной почты. Если счёт уже зарегистрирован, письмо об этом получит тот, кто его зарегистрировал, — на свой адрес.",
            "Письмо обычно приходит за несколько минут; проверьте также папку «Спам». Если письма нет, проверьте номер счёта и данные из квитанции и попробуйте ещё раз. После нескольких неверных попыток регистрация счёта на время ограничивается; если не получается, обратитесь в организацию.",
        ],
        Some(("Войти", "/login")),
    )
}

// ---- passwords ----

/// Fields of the password forms.
#[derive(Deserialize, Default)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

fn password_page(state: &AppState, ctx: &Ctx, kind: PasswordKind, errors: Option<&AuthError>) -> Response {
    let (title, intro, action, ask_current) = match &kind {
        PasswordKind::First => (
            "Придумайте пароль",
            Some(
                "Временный пароль из письма больше не действует. Придумайте свой пароль для входа в личный кабинет.",
            ),
            "/password/new".to_string(),
            false,
        ),
        PasswordKind::Change => ("Смена пароля", None, "/password/change".to_string(), true),
        PasswordKind::Reset(token) => (
            "Новый пароль",
            Some("Придумайте новый пароль. После сохранения все открытые сеансы завершатся."),
            format!("/password/reset/{token}"),
            false,
        ),
    };
    let fields = match errors {
        Some(AuthError::Invalid(f)) => f.clone(),
        _ => FieldErrors::default(),
    };
    let error = match errors {
        Some(AuthError::Invalid(_)) => Some("Пароль не сохранён — исправьте ошибки ниже.".to_string()),
        Some(e) => Some(capitalize(&e.to_string())),
        None => None,
    };
    let status = if errors.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page_with(
        status,
        &PasswordPage {
            layout: Layout::new(state, ctx),
            title,
            intro,
            action,
            ask_current,
            error,
            current_error: fields.get(Field::Current).map(capitalize),
            password_error: fields.get(Field::Password).map(capitalize),
            again_error: fields.get(Field::PasswordAgain).map(capitalize),
        },
    )
}

enum PasswordKind {
    First,
    Change,
    Reset(String),
}

/// `GET /password/new`: after signing in with a one-time password.
pub(crate) async fn first_password_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    match &ctx.principal {
        None => see_other("/login"),
        Some(p) if !p.must_set_password() => see_other(next_step(p)),
        Some(_) => password_page(&state, &ctx, PasswordKind::First, None),
    }
}

/// `POST /password/new`.
pub(crate) async fn first_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let Some(p) = ctx.principal.clone().filter(|p| p.must_set_password()) else {
        return see_other("/login");
    };
    match state
        .auth
        .set_own_password(&p, &form.password, &form.password_again, &ctx.client)
        .await
    {
        Ok(()) => see_other(if p.rules_pending.is_some() {
            "/rules/accept"
        } else {
            "/cabinet"
        }),
        Err(e @ AuthError::Invalid(_)) => password_page(&state, &ctx, PasswordKind::First, Some(&e)),
        Err(e) => auth_failure(e),
    }
}

/// `GET /password/change`.
pub(crate) async fn change_password_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    match crate::views::resident(&ctx) {
        Ok(_) => password_page(&state, &ctx, PasswordKind::Change, None),
        Err(to) => see_other(to),
    }
}

/// `POST /password/change`: the other sessions end; this one stays.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let p = match crate::views::resident(&ctx) {
        Ok(p) => p.clone(),
        Err(to) => return see_other(to),
    };
    match state
        .auth
        .change_password(
            &p,
            &form.current,
            &form.password,
            &form.password_again,
            &ctx.client,
        )
        .await
    {
        Ok(()) => message(
            &state,
            &ctx,
            "Пароль изменён",
            &["Новый пароль сохранён. Сеансы на других устройствах завершены."],
            Some(("К лицевому счёту", "/cabinet")),
        ),
        Err(e @ AuthError::Invalid(_)) => password_page(&state, &ctx, PasswordKind::Change, Some(&e)),
        Err(e) => auth_failure(e),
    }
}

/// The reset request form's field.
#[derive(Deserialize, Default)]
pub(crate) struct ResetForm {
    #[serde(default)]
    account: String,
}

/// `GET /password/reset`.
pub(crate) async fn reset_request_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    page(&ResetRequestPage {
        layout: Layout::new(&state, &ctx),
        account: String::new(),
        error: None,
    })
}

/// `POST /password/reset`: the same answer whether or not the account has a user.
pub(crate) async fn reset_request(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Response {
    if let Some(r) = limit(&state, &ctx) {
        return r;
    }
    match state.auth.request_reset(&form.account, &ctx.client).await {
        Ok(()) => see_other("/password/reset/sent"),
        Err(AuthError::Invalid(f)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetRequestPage {
                layout: Layout::new(&state, &ctx),
                account: form.account.chars().take(32).collect(),
                error: f.get(Field::Account).map(capitalize),
            },
        ),
        Err(e) => auth_failure(e),
    }
}

/// `GET /password/reset/sent`.
pub(crate) async fn reset_sent(State(state): State<AppState>, ctx: Ctx) -> Response {
    message(
        &state,
        &ctx,
        "Проверьте почту",
        &[
            "Если к лицевому счёту привязан пользователь, на его адрес электронной почты отправлена ссылка для смены пароля. Ссылка действует один час.",
            "Чтобы почтовый ящик не засыпали письмами, по одному счёту отправляется не больше трёх писем в час. Если письма нет, подождите и проверьте папку «Спам».",
        ],
        Some(("Вход", "/login")),
    )
}

/// `GET /password/reset/{token}`: the form for a valid link.
pub(crate) async fn reset_form_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !state.auth.reset_token_valid(&token).await? {
        return Ok(invalid_link(&state, &ctx));
    }
    Ok(password_page(&state, &ctx, PasswordKind::Reset(token), None))
}

fn invalid_link(state: &AppState, ctx: &Ctx) -> Response {
    let mut res = message(
        state,
        ctx,
        "Ссылка недействительна",
        &["Ссылка для восстановления пароля уже использована или устарела. Запросите новую."],
        Some(("Восстановить пароль", "/password/reset")),
    );
    *res.status_mut() = StatusCode::GONE;
    res
}

/// `POST /password/reset/{token}`: sets the password and sends to sign-in.
pub(crate) async fn reset_complete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    if let Some(r) = limit(&state, &ctx) {
        return r;
    }
    match state
        .auth
        .complete_reset(&token, &form.password, &form.password_again, &ctx.client)
        .await
    {
        Ok(()) => {
            let mut res = message(
                &state,
                &ctx,
                "Пароль изменён",
                &["Новый пароль сохранён, все сеансы завершены. Войдите с новым паролем."],
                Some(("Войти", "/login")),
            );
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, "", Some(0), state.web.cookie_secure),
            );
            res
        }
        Err(AuthError::InvalidResetToken) => invalid_link(&state, &ctx),
        Err(e @ AuthError::Invalid(_)) => password_page(&state, &ctx, PasswordKind::Reset(token), Some(&e)),
        Err(e) => auth_failure(e),
    }
}
