//! The pages for browsers (askama templates, no JavaScript needed): a
//! handler and its view struct per page, templates in `templates/<group>/`
//! sharing `templates/layout/base.html`. Routes come in groups — public,
//! signed-in steps, and the resident group guarded once by
//! [`crate::http::guard::require_resident`].

pub(crate) mod announcements;
pub(crate) mod assets;
pub(crate) mod auth;
pub(crate) mod autopay;
pub(crate) mod cabinet;
pub(crate) mod callbacks;
pub(crate) mod charges;
pub(crate) mod chart;
pub(crate) mod console;
pub(crate) mod health;
pub(crate) mod help;
pub(crate) mod home;
pub(crate) mod invoices;
pub(crate) mod meters;
pub(crate) mod office;
pub(crate) mod password;
pub(crate) mod pay;
pub(crate) mod payments;
pub(crate) mod registration;
pub(crate) mod requests;
pub(crate) mod rules;
pub(crate) mod settings;
pub(crate) mod staff;
pub(crate) mod unsubscribe;

use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::Need;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use kabinet_app::account::AccountScope;

/// What the shared layout needs: language, organization, whether someone is
/// signed in, the CSRF token for the sign-out form, and on resident pages the
/// navigation and the account switcher.
pub(crate) struct Layout {
    pub tr: Tr,
    pub signed_in: bool,
    pub csrf: String,
    pub org_name: String,
    pub org: Option<kabinet_domain::Organization>,
    pub banner: Option<String>,
    /// Emergencies and outages in force for the signed-in resident.
    pub pinned: Vec<Pinned>,
    /// The organization's details are incomplete: the portal is being set up.
    pub setting_up: bool,
    /// Card payments are the sandbox's tests: every page says so.
    pub test_payments: bool,
    pub nav: Vec<NavItem>,
    pub switcher: Option<Switcher>,
}

/// An emergency or outage pinned on a resident's pages: what, its title
/// and when.
pub(crate) struct Pinned {
    pub what: String,
    pub title: String,
    pub when: String,
}

/// A navigation link.
pub(crate) struct NavItem {
    pub text: String,
    pub href: String,
    pub current: bool,
}

/// The account switcher: a GET form to the same page.
pub(crate) struct Switcher {
    pub action: String,
    pub options: Vec<SwitchOption>,
}

/// One account in the switcher.
pub(crate) struct SwitchOption {
    pub number: String,
    pub address: String,
    pub current: bool,
}

/// The sections of the resident navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Overview,
    Invoices,
    Charges,
    Payments,
    Meters,
    Requests,
    Announcements,
    Settings,
    Help,
    Other,
}

impl Layout {
    pub fn new(state: &AppState, ctx: &Ctx) -> Layout {
        Layout::section(state, ctx, Section::Other)
    }

    /// The layout of a page in `section` (highlighted in the navigation,
    /// which only signed-in residents see).
    pub fn section(state: &AppState, ctx: &Ctx, section: Section) -> Layout {
        let tr = Tr::current();
        let banner = ctx.announced.as_ref().map(|s| banner_text(state, &tr, s));
        let signed_in = ctx.principal.as_ref().is_some_and(|p| !p.must_set_password());
        let mut layout = Layout {
            tr,
            signed_in,
            csrf: ctx.csrf(state),
            org_name: ctx
                .org
                .as_ref()
                .map_or_else(|| tr.t("site-name"), |o| o.short_name.clone()),
            org: ctx.org.clone(),
            setting_up: !kabinet_domain::organization::missing_details(ctx.org.as_ref()).is_empty(),
            banner,
            pinned: ctx
                .pinned
                .iter()
                .map(|a| {
                    let (what, when) = announcements::describe(state, &tr, a);
                    Pinned {
                        what,
                        title: a.title.clone(),
                        when,
                    }
                })
                .collect(),
            test_payments: state.app.payments.is_test(),
            nav: Vec::new(),
            switcher: None,
        };
        if signed_in {
            layout.nav = nav(&tr, None, section);
        }
        layout
    }

    /// The layout of a resident page about one of their accounts: the
    /// navigation keeps the chosen account, the switcher offers the others
    /// on `path`.
    pub fn resident(
        state: &AppState,
        ctx: &Ctx,
        scope: &AccountScope,
        section: Section,
        path: &str,
    ) -> Layout {
        let mut layout = Layout::new(state, ctx);
        let chosen = account_param(scope);
        layout.nav = nav(&layout.tr, chosen.as_deref(), section);
        layout.switcher = Some(Switcher {
            action: path.to_string(),
            options: scope
                .linked
                .iter()
                .map(|l| SwitchOption {
                    number: l.account.number.to_string(),
                    address: l.premises.full_address(),
                    current: l.account.id == scope.current().account.id,
                })
                .collect(),
        });
        layout
    }
}

/// The `?account=` a page's links carry: none for the sign-in account.
pub(crate) fn account_param(scope: &AccountScope) -> Option<String> {
    (!scope.is_primary()).then(|| scope.current().account.number.to_string())
}

fn nav(tr: &Tr, account: Option<&str>, section: Section) -> Vec<NavItem> {
    use Section as S;
    [
        (S::Overview, "nav-overview", paths::CABINET, true),
        (S::Invoices, "nav-invoices", paths::INVOICES, true),
        (S::Charges, "nav-charges", paths::CHARGES, true),
        (S::Payments, "nav-payments", paths::PAYMENTS, true),
        (S::Meters, "nav-meters", paths::METERS, true),
        (S::Requests, "nav-requests", paths::REQUESTS, false),
        (S::Announcements, "nav-announcements", paths::ANNOUNCEMENTS, false),
        (S::Settings, "nav-settings", paths::SETTINGS, false),
        (S::Help, "nav-help", paths::HELP, false),
    ]
    .into_iter()
    .map(|(s, id, path, per_account)| NavItem {
        text: tr.t(id),
        href: paths::for_account(path, if per_account { account } else { None }),
        current: s == section,
    })
    .collect()
}

/// Links to the pages before and after this one, when there is more than one.
pub(crate) struct Pager {
    pub page_of: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// The pager of page `page` of `pages`; `href` makes a page's link.
pub(crate) fn pager(tr: &Tr, page: u64, pages: u64, href: impl Fn(u64) -> String) -> Option<Pager> {
    (pages > 1).then(|| Pager {
        page_of: tr.a2(
            "page-of",
            ("page", &page.to_string()),
            ("pages", &pages.to_string()),
        ),
        prev: (page > 1).then(|| href(page - 1)),
        next: (page < pages).then(|| href(page + 1)),
    })
}

/// The banner residents see while a closing is announced (the office
/// previews it with the same words).
pub(crate) fn banner_text(state: &AppState, tr: &Tr, s: &kabinet_domain::Suspension) -> String {
    let clock = state.app.accounts.clock();
    let mut text = tr.a(
        "suspension-announced",
        "when",
        &tr.date_time(clock.local(s.starts_at)),
    );
    if let Some(e) = s.ends_at {
        text.push(' ');
        text.push_str(&tr.a("suspended-until", "when", &tr.date_time(clock.local(e))));
    }
    if !s.message.is_empty() {
        text.push(' ');
        text.push_str(&s.message);
    }
    text
}

/// Renders a template into a page response.
pub(crate) fn page<T: Template>(t: &T) -> Result<Response, PageError> {
    page_with(StatusCode::OK, t)
}

/// Renders a template with a status other than 200.
pub(crate) fn page_with<T: Template>(status: StatusCode, t: &T) -> Result<Response, PageError> {
    let html = t
        .render()
        .map_err(|e| kabinet_app::Error::Internal(format!("template: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// A 303 redirect (the answer to a successful form).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A page of a few paragraphs and an optional link.
#[derive(Template)]
#[template(path = "layout/message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<Link>,
}

/// A link on a page.
pub(crate) struct Link {
    pub text: String,
    pub href: String,
}

/// Renders a [`MessagePage`]; the title, paragraphs and link text are
/// translation ids.
pub(crate) fn message(
    state: &AppState,
    ctx: &Ctx,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    page(&MessagePage {
        layout: Layout::new(state, ctx),
        title: tr.t(title),
        paragraphs: paragraphs.iter().map(|p| tr.t(p)).collect(),
        link: link.map(|(text, href)| Link {
            text: tr.t(text),
            href: href.to_string(),
        }),
    })
}

/// Pages anyone can open.
pub(crate) fn public_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (paths::HOME, get(home::show)),
        (paths::HEALTHZ, get(health::healthz)),
        (paths::READYZ, get(health::readyz)),
        (paths::STYLESHEET, get(assets::stylesheet)),
        (paths::REFRESH_SCRIPT, get(assets::refresh_script)),
        (paths::LOGIN, get(auth::login_page).post(auth::login)),
        (paths::LOGOUT, post(auth::logout)),
        (
            paths::REGISTER,
            get(registration::form).post(registration::submit),
        ),
        (paths::REGISTER_SENT, get(registration::sent)),
        (
            paths::PASSWORD_RESET,
            get(password::reset_request_page).post(password::reset_request),
        ),
        (paths::PASSWORD_RESET_SENT, get(password::reset_sent)),
        (
            paths::PASSWORD_RESET_TOKEN,
            get(password::reset_form_page).post(password::reset_complete),
        ),
        (paths::RULES, get(rules::current::<rules::OfRules>)),
        (paths::RULES_VERSION, get(rules::version::<rules::OfRules>)),
        (paths::CONSENT, get(rules::current::<rules::OfConsent>)),
        (paths::CONSENT_VERSION, get(rules::version::<rules::OfConsent>)),
        (paths::HELP, get(help::show)),
        (
            paths::UNSUBSCRIBE,
            get(unsubscribe::offer).post(unsubscribe::confirm),
        ),
        (
            paths::EMAIL_CONFIRM,
            get(settings::confirm_page).post(settings::confirm),
        ),
        (paths::STAFF_LOGIN, get(staff::login_page).post(staff::login)),
        (
            paths::STAFF_SECOND_FACTOR,
            get(staff::second_factor_form).post(staff::second_factor),
        ),
        (
            paths::STAFF_PASSWORD,
            get(staff::password_form).post(staff::password),
        ),
        (paths::STAFF_LOGOUT, post(staff::logout)),
    ]
}

/// Machine-to-machine routes (the gateway's notifications, later the
/// messengers' webhooks): outside the browser context — no session or CSRF
/// cookie is read or set, a closing of the portal does not apply — each
/// with a small body limit of its own.
pub(crate) fn machine_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (paths::METRICS, get(health::metrics)),
        (
            paths::GATEWAY_NOTIFICATIONS,
            post(pay::notification).layer(axum::extract::DefaultBodyLimit::max(
                crate::MAX_MACHINE_BODY_BYTES,
            )),
        ),
        (
            paths::SMS_STATUS,
            post(callbacks::sms_status).layer(axum::extract::DefaultBodyLimit::max(
                crate::MAX_MACHINE_BODY_BYTES,
            )),
        ),
        (
            paths::MAX_WEBHOOK,
            post(callbacks::max_webhook).layer(axum::extract::DefaultBodyLimit::max(
                crate::MAX_MACHINE_BODY_BYTES,
            )),
        ),
    ]
}

/// The staff console: every route here is behind
/// [`crate::http::guard::require_staff`] and then
/// [`crate::http::guard::permit`] with the [`Need`] it declares.
pub(crate) fn staff_routes() -> Vec<(&'static str, Need, MethodRouter<AppState>)> {
    use kabinet_domain::staff::Permission as P;
    vec![
        (paths::STAFF, Need::Member, get(office::home::show)),
        (paths::STAFF_QUEUE, Need::AnyDesk, get(console::queue)),
        (paths::STAFF_REQUEST, Need::AnyDesk, get(console::request)),
        (paths::STAFF_REQUEST_ACTION, Need::AnyDesk, post(console::act)),
        (paths::STAFF_PHOTO, Need::AnyDesk, get(console::photo)),
        (
            paths::STAFF_MEMBERS,
            Need::To(P::Staff),
            get(office::members::list).post(office::members::add),
        ),
        (
            paths::STAFF_MEMBER,
            Need::To(P::Staff),
            get(office::members::show),
        ),
        (
            paths::STAFF_MEMBER_ACTION,
            Need::To(P::Staff),
            post(office::members::act),
        ),
        (
            paths::STAFF_ORGANIZATION,
            Need::To(P::Settings),
            get(office::organization::show).post(office::organization::save),
        ),
        (
            paths::STAFF_SETTINGS,
            Need::To(P::Settings),
            get(office::settings::show).post(office::settings::save),
        ),
        (
            paths::STAFF_TEXTS,
            Need::To(P::Settings),
            get(office::texts::list),
        ),
        (
            paths::STAFF_TEXT,
            Need::To(P::Settings),
            get(office::texts::show).post(office::texts::save),
        ),
        (
            paths::STAFF_TEXT_RESET,
            Need::To(P::Settings),
            post(office::texts::reset),
        ),
        (
            paths::STAFF_CATEGORIES,
            Need::To(P::Settings),
            get(office::categories::list).post(office::categories::add),
        ),
        (
            paths::STAFF_CATEGORY,
            Need::To(P::Settings),
            get(office::categories::show).post(office::categories::save),
        ),
        (
            paths::STAFF_RULES,
            Need::To(P::Settings),
            get(office::rules::show::<rules::OfRules>).post(office::rules::publish::<rules::OfRules>),
        ),
        (
            paths::STAFF_CONSENT,
            Need::To(P::Settings),
            get(office::rules::show::<rules::OfConsent>).post(office::rules::publish::<rules::OfConsent>),
        ),
        (
            paths::STAFF_HELP,
            Need::To(P::Settings),
            get(office::help::show).post(office::help::save),
        ),
        (
            paths::STAFF_CLOSING,
            Need::To(P::Settings),
            get(office::closing::show).post(office::closing::save),
        ),
        (
            paths::STAFF_IMPORTS,
            Need::To(P::Billing),
            get(office::imports::list),
        ),
        (
            paths::STAFF_PAYMENTS,
            Need::To(P::Payments),
            get(office::payments::list),
        ),
        (
            paths::STAFF_PAYMENT,
            Need::To(P::Payments),
            get(office::payments::show),
        ),
        (
            paths::STAFF_PAYMENT_REFUND,
            Need::To(P::Payments),
            post(office::payments::refund),
        ),
        (
            paths::STAFF_IMPORT_UPLOAD,
            Need::To(P::Billing),
            post(office::imports::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::MAX_PACKAGE_BODY_BYTES,
            )),
        ),
        (
            paths::STAFF_IMPORT,
            Need::To(P::Billing),
            get(office::imports::show),
        ),
        (
            paths::STAFF_IMPORT_CONFIRM,
            Need::To(P::Billing),
            post(office::imports::confirm),
        ),
        (
            paths::STAFF_IMPORT_PROBLEMS,
            Need::To(P::Billing),
            get(office::imports::problems_csv),
        ),
        (
            paths::STAFF_EXCHANGE,
            Need::To(P::Billing),
            get(office::exchange::show).post(office::exchange::export),
        ),
        (
            paths::STAFF_EXCHANGE_FILE,
            Need::To(P::Billing),
            get(office::exchange::file),
        ),
        (
            paths::STAFF_RESIDENTS,
            Need::To(P::Support),
            get(office::residents::search),
        ),
        (
            paths::STAFF_RESIDENT,
            Need::To(P::Support),
            get(office::residents::show),
        ),
        (
            paths::STAFF_RESIDENT_ACTION,
            Need::To(P::Support),
            post(office::residents::act),
        ),
        (
            paths::STAFF_ACCOUNT_UNLOCK,
            Need::To(P::Support),
            post(office::residents::unlock_account),
        ),
        (
            paths::STAFF_ANNOUNCEMENTS,
            Need::To(P::Announcements),
            get(office::announcements::list).post(office::announcements::publish),
        ),
        (
            paths::STAFF_ANNOUNCEMENT,
            Need::To(P::Announcements),
            get(office::announcements::show).post(office::announcements::update),
        ),
        (
            paths::STAFF_ANNOUNCEMENT_END,
            Need::To(P::Announcements),
            post(office::announcements::end),
        ),
        (
            paths::STAFF_CALENDAR,
            Need::To(P::Settings),
            get(office::calendar::show).post(office::calendar::save),
        ),
        (paths::STAFF_AUDIT, Need::To(P::Audit), get(office::audit::show)),
        (
            paths::STAFF_AUDIT_CSV,
            Need::To(P::Audit),
            get(office::audit::csv),
        ),
    ]
}

/// The steps a signed-in resident may have to take before the cabinet opens;
/// each checks its own state.
pub(crate) fn step_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (
            paths::PASSWORD_NEW,
            get(password::first_page).post(password::first),
        ),
        (
            paths::RULES_ACCEPT,
            get(rules::accept_page::<rules::OfRules>).post(rules::accept::<rules::OfRules>),
        ),
        (
            paths::CONSENT_ACCEPT,
            get(rules::accept_page::<rules::OfConsent>).post(rules::accept::<rules::OfConsent>),
        ),
    ]
}

/// The resident group: every route here is behind
/// [`crate::http::guard::require_resident`].
pub(crate) fn resident_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (paths::CABINET, get(cabinet::overview)),
        (paths::ANNOUNCEMENTS, get(announcements::list)),
        (paths::RECEIPT, get(cabinet::receipt)),
        (paths::INVOICES, get(invoices::list)),
        (paths::INVOICE, get(invoices::show)),
        (paths::CHARGES, get(charges::show)),
        (paths::CHARGES_CSV, get(charges::csv)),
        (paths::PAYMENTS, get(payments::show)),
        (paths::PAY, get(pay::form).post(pay::start)),
        (paths::CARD_PAYMENT, get(pay::card)),
        (paths::AUTOPAY, get(autopay::show).post(autopay::save)),
        (paths::AUTOPAY_FORGET, post(autopay::forget)),
        (paths::SANDBOX_PAY, get(pay::sandbox).post(pay::sandbox_act)),
        (paths::METERS, get(meters::show).post(meters::submit)),
        (paths::METER_HISTORY, get(meters::history)),
        (
            paths::REQUESTS,
            get(requests::list)
                .post(requests::file)
                .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        ),
        (paths::REQUEST_NEW, get(requests::new)),
        (paths::REQUEST, get(requests::show)),
        (paths::REQUEST_ACTION, post(requests::act)),
        (paths::REQUEST_PHOTO, get(requests::photo)),
        (paths::SETTINGS, get(settings::show).post(settings::save)),
        (paths::SETTINGS_EMAIL, post(settings::change_email)),
        (paths::SETTINGS_PHONE_CODE, post(settings::phone_code)),
        (paths::SETTINGS_PHONE_VERIFY, post(settings::verify_phone)),
        (paths::SETTINGS_MAX_LINK, post(settings::max_link)),
        (paths::SETTINGS_MAX_UNLINK, post(settings::max_unlink)),
        (paths::LINK_ACCOUNT, post(settings::link)),
        (paths::UNLINK_ACCOUNT, post(settings::unlink)),
        (paths::SETTINGS_ACCESS, post(settings::access)),
        (paths::SETTINGS_ACCESS_REQUEST, get(settings::access_page)),
        (paths::MY_DATA, get(settings::my_data)),
        (paths::MY_DATA_ZIP, get(settings::my_data_zip)),
        (
            paths::PASSWORD_CHANGE,
            get(password::change_page).post(password::change),
        ),
    ]
}
