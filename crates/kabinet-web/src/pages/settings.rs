//! Settings (R10): contacts (e-mail change with the password and a link to
//! the new address; phone), e-mail notifications, paper receipts, language,
//! linked accounts, and the download of everything Kabinet holds (R16).

use super::{Layout, Section, page, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kabinet_app::auth::Resident;
use kabinet_app::auth::fields as auth_fields;
use kabinet_app::auth::profile::{AccessAction, LinkOutcome};
use kabinet_app::profile::{PreferencesInput, fields};
use kabinet_app::{Error, FieldErrors};
use kabinet_domain::{Language, NotificationKind, Preferences};
use serde::Deserialize;

/// A kind of notification and whether it is wanted by e-mail and by SMS.
pub(crate) struct Notify {
    pub code: &'static str,
    pub label: String,
    pub on: bool,
    /// Offered by SMS, and wanted.
    pub sms: Option<bool>,
    /// Offered in MAX, and wanted (`None` too when MAX is not offered).
    pub max: Option<bool>,
}

/// The MAX section: the bot, whether it is linked, and a link just made.
pub(crate) struct MaxState {
    pub bot: String,
    pub linked: bool,
    pub link: Option<kabinet_app::max::MaxLink>,
    pub until: String,
    /// How to link by writing the code to the bot instead.
    pub by_code: String,
}

/// A linked account row.
pub(crate) struct Linked {
    pub number: String,
    pub address: String,
    pub primary: bool,
}

/// A line of the resident's consents and acceptances: what, which version
/// (a link to its text), when and from where.
pub(crate) struct Consent {
    pub what: String,
    pub version: Option<(i32, String)>,
    pub when: String,
    pub ip: String,
}

/// Something the organization's staff did on the resident's account.
pub(crate) struct StaffAction {
    pub when: String,
    pub what: String,
}

/// A request to see the resident's account, or one of theirs to another.
pub(crate) struct AccessRequest {
    pub id: i64,
    pub who: String,
    pub account: String,
    pub date: String,
    /// The line the owner reads about it.
    pub line: String,
}

/// Someone who sees the resident's account.
pub(crate) struct AccessViewer {
    pub id: i64,
    pub who: String,
    /// The line the owner reads about them.
    pub line: String,
}

/// The settings page.
#[derive(Template)]
#[template(path = "settings/settings.html")]
pub(crate) struct SettingsPage {
    pub layout: Layout,
    pub notice: Option<String>,
    pub email: String,
    pub phone: String,
    /// The stored phone as shown, and whether it is verified.
    pub saved_phone: Option<(String, bool)>,
    pub language: String,
    pub paperless: bool,
    pub notify: Vec<Notify>,
    pub linked: Vec<Linked>,
    pub check_label: &'static str,
    pub errors: FieldErrors,
    pub new_email: String,
    pub link_account: String,
    pub own_account: String,
    pub awaiting: Vec<AccessRequest>,
    pub viewers: Vec<AccessViewer>,
    pub asked: Vec<AccessRequest>,
    pub consents: Vec<Consent>,
    pub staff_actions: Vec<StaffAction>,
    /// MAX, when the organization offers it.
    pub max: Option<MaxState>,
}

impl SettingsPage {
    /// The message for `field` in the page's language.
    pub fn error(&self, field: &str) -> Option<String> {
        self.errors.get(field).map(say)
    }
}

/// `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// What the resident typed into a form that came back with errors.
#[derive(Default)]
struct Typed<'a> {
    prefs: Option<&'a Preferences>,
    phone: Option<&'a str>,
    new_email: Option<&'a str>,
    link_account: Option<&'a str>,
    max_link: Option<kabinet_app::max::MaxLink>,
}

/// Keeps at most `n` characters of what was typed.
fn kept(v: Option<&str>, n: usize) -> String {
    v.unwrap_or("").chars().take(n).collect()
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    r: &Resident,
    notice: Option<&str>,
    errors: FieldErrors,
    typed: Typed<'_>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let scope = state.app.accounts.scope(r, None).await?;
    let stored = state.app.profiles.preferences(r).await?;
    let prefs = typed.prefs.cloned().unwrap_or_else(|| stored.clone());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let access = state.app.auth.access(r).await?;
    let clock = state.app.accounts.clock();
    let request = |q: &kabinet_db::links::LinkRequest| access_request(&tr, clock, q);
    let check_label = match state.app.auth.registration_mode().await? {
        kabinet_app::auth::RegistrationMode::Amount => "check-amount-label",
        kabinet_app::auth::RegistrationMode::Passport => "check-passport-label",
    };
    page_with(
        status,
        &SettingsPage {
            layout: Layout::section(state, ctx, Section::Settings),
            notice: notice.map(|n| tr.t(n)),
            email: r.user.email.to_string(),
            phone: match typed.phone {
                Some(p) => kept(Some(p), 32),
                None => prefs.phone.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            },
            saved_phone: stored
                .phone
                .as_ref()
                .map(|p| (p.to_string(), stored.phone_verified)),
            language: prefs.language.map(|l| l.code().to_string()).unwrap_or_default(),
            paperless: prefs.paperless,
            notify: NotificationKind::ALL
                .into_iter()
                .map(|k| Notify {
                    code: k.code(),
                    label: tr.t(&format!("notify-{}", k.code())),
                    on: prefs.email_notifications.contains(&k),
                    sms: kabinet_domain::notify::offered(k, kabinet_domain::notify::Channel::Sms)
                        .then(|| prefs.sms_notifications.contains(&k)),
                    max: (state.app.max.enabled()
                        && kabinet_domain::notify::offered(k, kabinet_domain::notify::Channel::Max))
                    .then(|| prefs.max_notifications.contains(&k)),
                })
                .collect(),
            linked: scope
                .linked
                .iter()
                .map(|l| Linked {
                    number: l.account.number.to_string(),
                    address: l.premises.full_address(),
                    primary: l.primary,
                })
                .collect(),
            max: state.app.max.bot_name().map(|bot| MaxState {
                bot: bot.to_string(),
                linked: stored.max_linked,
                until: typed
                    .max_link
                    .as_ref()
                    .map(|l| tr.date_time(clock.local(l.expires_at)))
                    .unwrap_or_default(),
                by_code: typed
                    .max_link
                    .as_ref()
                    .map(|l| tr.a2("max-settings-code", ("bot", bot), ("code", &l.code)))
                    .unwrap_or_default(),
                link: typed.max_link.clone(),
            }),
            check_label,
            errors,
            new_email: kept(typed.new_email, 254),
            link_account: kept(typed.link_account, 32),
            own_account: r.user.account_number.to_string(),
            awaiting: access.awaiting.iter().map(request).collect(),
            viewers: access
                .viewers
                .iter()
                .map(|v| {
                    let who = masked(&v.email);
                    AccessViewer {
                        id: v.user_id.0,
                        line: tr.a2(
                            "access-viewer-line",
                            ("who", &who),
                            ("date", &tr.date(clock.today(v.linked_at))),
                        ),
                        who,
                    }
                })
                .collect(),
            asked: access.asked.iter().map(request).collect(),
            staff_actions: state
                .app
                .profiles
                .staff_actions(r)
                .await?
                .into_iter()
                .map(|a| StaffAction {
                    when: tr.date_time(clock.local(a.at)),
                    what: tr.t(&format!("audit-event-{}", a.event.replace('_', "-"))),
                })
                .collect(),
            consents: state
                .app
                .profiles
                .acceptances(r)
                .await?
                .into_iter()
                .rev()
                .map(|a| Consent {
                    version: match a.kind.as_str() {
                        "rules" if a.version > 0 => Some((a.version, paths::rules_version(a.version))),
                        "personal_data" if a.version > 0 => {
                            Some((a.version, paths::consent_version(a.version)))
                        }
                        _ => None,
                    },
                    what: tr.t(match a.kind.as_str() {
                        "rules" => "acceptance-rules",
                        "personal_data" => "acceptance-personal-data",
                        _ => "acceptance-consent",
                    }),
                    when: tr.date_time(clock.local(a.accepted_at)),
                    ip: a.ip,
                })
                .collect(),
        },
    )
}

/// `GET /settings`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match done.done.as_deref() {
        Some("saved") => Some("saved"),
        Some("email") => Some("email-change-sent"),
        Some("linked") => Some("linked-added"),
        Some("removed") => Some("linked-removed"),
        Some("asked") => Some("link-asked"),
        Some("approved") => Some("access-approved"),
        Some("declined") => Some("access-declined"),
        Some("revoked") => Some("access-removed"),
        Some("code") => Some("phone-code-sent"),
        Some("phone") => Some("phone-verified-notice"),
        Some("max-unlinked") => Some("max-unlinked-notice"),
        _ => None,
    };
    render(&state, &ctx, &r, notice, FieldErrors::default(), Typed::default()).await
}

/// The preferences form (checkboxes arrive only when ticked).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PreferencesForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    paperless: Option<String>,
    /// The ticked `notify_<code>` boxes, one for each kind of message the
    /// page offers (and the CSRF token).
    #[serde(flatten)]
    ticked: std::collections::HashMap<String, String>,
}

/// `POST /settings`.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<PreferencesForm>,
) -> Result<Response, PageError> {
    let ticked = |prefix: &str| -> Vec<String> {
        NotificationKind::ALL
            .into_iter()
            .filter(|k| form.ticked.contains_key(&format!("{prefix}{}", k.code())))
            .map(|k| k.code().to_string())
            .collect()
    };
    let input = PreferencesInput {
        phone: form.phone.clone(),
        language: form.language.clone(),
        paperless: form.paperless.is_some(),
        notifications: ticked("notify_"),
        sms_notifications: ticked("sms_"),
        // The MAX column is on the page only when MAX is offered.
        max_notifications: form.ticked.contains_key("max_shown").then(|| ticked("max_")),
    };
    match state.app.profiles.update(&r, &input, &ctx.client).await {
        Ok(p) => {
            let mut to = format!("{}?done=saved", paths::SETTINGS);
            if let Some(l) = p.language {
                to.push_str(&format!("&lang={}", l.code()));
            }
            Ok(see_other(&to))
        }
        Err(Error::Invalid(errors)) => {
            let kinds = |codes: &[String]| {
                codes
                    .iter()
                    .filter_map(|c| NotificationKind::from_code(c))
                    .collect()
            };
            let typed = Preferences {
                phone: None,
                phone_verified: false,
                language: Language::from_tag(&form.language),
                paperless: input.paperless,
                email_notifications: kinds(&input.notifications),
                sms_notifications: kinds(&input.sms_notifications),
                max_linked: r.user.max_user.is_some(),
                max_notifications: input
                    .max_notifications
                    .as_deref()
                    .map_or_else(|| r.user.max_notifications.clone(), kinds),
            };
            let typed = Typed {
                prefs: Some(&typed),
                phone: Some(&form.phone),
                ..Typed::default()
            };
            render(&state, &ctx, &r, None, errors, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The e-mail change form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    current: String,
}

/// `POST /settings/email`: a link goes to the new address.
pub(crate) async fn change_email(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .auth
        .request_email_change(&r, &form.current, &form.email, &ctx.client)
        .await
    {
        Ok(()) => Ok(see_other(&format!("{}?done=email", paths::SETTINGS))),
        Err(Error::Invalid(errors)) => {
            let typed = Typed {
                new_email: Some(&form.email),
                ..Typed::default()
            };
            render(&state, &ctx, &r, None, errors, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/phone/code`: a code goes to the phone in the settings.
pub(crate) async fn phone_code(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    state.app.notify.send_phone_code(&r, &ctx.client).await?;
    Ok(see_other(&format!("{}?done=code#sms-h", paths::SETTINGS)))
}

/// The code typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /settings/phone/verify`.
pub(crate) async fn verify_phone(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    match state.app.notify.verify_phone(&r, &form.code, &ctx.client).await {
        Ok(()) => Ok(see_other(&format!("{}?done=phone#sms-h", paths::SETTINGS))),
        Err(Error::Invalid(errors)) => render(&state, &ctx, &r, None, errors, Typed::default()).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/max/link`: a one-time link to the bot, shown on the page.
pub(crate) async fn max_link(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let link = state.app.max.link(&r).await?;
    let typed = Typed {
        max_link: Some(link),
        ..Typed::default()
    };
    render(&state, &ctx, &r, None, FieldErrors::default(), typed).await
}

/// `POST /settings/max/unlink`.
pub(crate) async fn max_unlink(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    state.app.max.unlink(&r, &ctx.client).await?;
    Ok(see_other(&format!("{}?done=max-unlinked#max-h", paths::SETTINGS)))
}

/// The page behind the confirmation link.
#[derive(Template)]
#[template(path = "settings/confirm_email.html")]
pub(crate) struct ConfirmPage {
    pub layout: Layout,
    pub action: String,
}

/// `GET /settings/email/{token}`: a button, so a mail scanner opening the
/// link changes nothing.
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    page(&ConfirmPage {
        layout: Layout::new(&state, &ctx),
        action: format!(
            "{}/{}",
            paths::SETTINGS_EMAIL,
            token.chars().take(128).collect::<String>()
        ),
    })
}

/// An empty form (only the CSRF token).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Empty {}

/// `POST /settings/email/{token}`.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    match state.app.auth.confirm_email_change(&token, &ctx.client).await {
        Ok(email) => {
            let tr = Tr::current();
            page(&super::MessagePage {
                layout: Layout::new(&state, &ctx),
                title: tr.t("email-confirm-title"),
                paragraphs: vec![tr.a("email-confirmed", "email", email.as_str())],
                link: Some(super::Link {
                    text: tr.t("to-account"),
                    href: paths::CABINET.to_string(),
                }),
            })
        }
        Err(Error::InvalidResetToken) => super::message(
            &state,
            &ctx,
            "reset-invalid-title",
            &["reset-invalid-text"],
            Some(("nav-settings", paths::SETTINGS)),
        ),
        Err(e) => Err(e.into()),
    }
}

/// The linking form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    check: String,
}

/// `POST /settings/accounts`.
pub(crate) async fn link(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    crate::pages::auth::within_limit(&state, &ctx).await?;
    match state
        .app
        .auth
        .link_account(&r, &form.account, &form.check, &ctx.client)
        .await
    {
        Ok(LinkOutcome::Linked) => Ok(see_other(&format!("{}?done=linked", paths::SETTINGS))),
        Ok(LinkOutcome::AwaitingConsent) => Ok(see_other(&format!("{}?done=asked", paths::SETTINGS))),
        Err(Error::Invalid(errors)) => {
            let typed = Typed {
                link_account: Some(&form.account),
                ..Typed::default()
            };
            render(&state, &ctx, &r, None, errors, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/accounts/remove`.
pub(crate) async fn unlink(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .auth
        .unlink_account(&r, &form.account, &ctx.client)
        .await
    {
        Ok(()) => Ok(see_other(&format!("{}?done=removed", paths::SETTINGS))),
        Err(Error::Invalid(errors)) => render(&state, &ctx, &r, None, errors, Typed::default()).await,
        Err(e) => Err(e.into()),
    }
}

/// An e-mail address as others see it (`iv***@example.ru`).
fn masked(email: &str) -> String {
    kabinet_domain::EmailAddress::parse(email).map_or_else(|_| "***".to_string(), |e| e.masked())
}

/// A link request as the page shows it.
fn access_request(
    tr: &Tr,
    clock: kabinet_domain::OrgClock,
    q: &kabinet_db::links::LinkRequest,
) -> AccessRequest {
    let who = masked(&q.user_email);
    let date = tr.date(clock.today(q.created_at));
    AccessRequest {
        id: q.id.0,
        line: tr.a2("access-request-line", ("who", &who), ("date", &date)),
        who,
        account: q.account_number.clone(),
        date,
    }
}

/// The page behind the link the owner of an account is e-mailed.
#[derive(Template)]
#[template(path = "settings/access.html")]
pub(crate) struct AccessPage {
    pub layout: Layout,
    pub request: AccessRequest,
    pub text: String,
}

/// `GET /settings/access/{token}`: who asks to see the resident's account,
/// with the buttons to let them or not (only the account's resident may
/// open it; a used or expired link is not found).
pub(crate) async fn access_page(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let q = state.app.auth.link_request(&r, &token).await?;
    let tr = Tr::current();
    let request = access_request(&tr, state.app.accounts.clock(), &q);
    page(&AccessPage {
        layout: Layout::section(&state, &ctx, Section::Settings),
        text: tr.a2(
            "access-page-text",
            ("who", &request.who),
            ("account", &request.account),
        ),
        request,
    })
}

/// The owner's answer: `action=approve|decline` a request `id`, or
/// `action=remove` the link of user `id`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AccessForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    id: String,
}

/// `POST /settings/access`.
pub(crate) async fn access(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(form): CsrfForm<AccessForm>,
) -> Result<Response, PageError> {
    let (action, done) = match form.action.as_str() {
        "approve" => (AccessAction::Approve, "approved"),
        "decline" => (AccessAction::Decline, "declined"),
        "remove" => (AccessAction::Remove, "revoked"),
        _ => return Err(PageError::BadRequest("error-form-malformed")),
    };
    let id: i64 = form
        .id
        .trim()
        .parse()
        .map_err(|_| PageError::NotFound("error-page-not-found"))?;
    state.app.auth.decide_access(&r, action, id, &ctx.client).await?;
    Ok(see_other(&format!("{}?done={done}", paths::SETTINGS)))
}

/// `GET /settings/data.json`: everything Kabinet holds about the resident.
pub(crate) async fn my_data(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
) -> Result<Response, PageError> {
    let data = state.app.profiles.my_data(&r, &ctx.client).await?;
    let body = serde_json::to_vec_pretty(&data).map_err(|e| Error::Internal(e.to_string()))?;
    let name = data_file_name(&r, "json");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The download's file name: `kabinet-data-<sign-in account>.<ext>`.
fn data_file_name(r: &kabinet_app::auth::Resident, ext: &str) -> String {
    format!(
        "kabinet-data-{}.{ext}",
        r.user
            .account_number
            .as_str()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

/// `GET /settings/data.zip`: the same data with the photos of the
/// resident's requests as files, written while it is sent.
pub(crate) async fn my_data_zip(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
) -> Result<Response, PageError> {
    let chunks =
        kabinet_app::archive::my_data(&state.app.profiles, &state.app.requests, &r, &ctx.client).await?;
    let stream = futures::stream::unfold(chunks, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map_err(|e| std::io::Error::other(e.to_string())), rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", data_file_name(&r, "zip")),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// Field names the settings page shows errors for.
pub(crate) mod names {
    pub use super::auth_fields::{ACCOUNT, CHECK, CURRENT, EMAIL};
    pub use super::fields::{LANGUAGE, PHONE};
    pub use kabinet_app::phones::fields::CODE;
}
