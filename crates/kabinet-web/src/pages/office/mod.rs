//! The organization's office in the staff console: the home page, staff
//! members, the organization's details, the settings and request
//! categories, the Rules and the personal-data consent, the help guide, the
//! closing and the audit log. Each page's route declares the permission it needs in
//! [`super::staff_routes`]; the navigation shows only what the member's
//! role may use.

pub(crate) mod announcements;
pub(crate) mod audit;
pub(crate) mod calendar;
pub(crate) mod categories;
pub(crate) mod closing;
pub(crate) mod exchange;
pub(crate) mod help;
pub(crate) mod home;
pub(crate) mod imports;
pub(crate) mod members;
pub(crate) mod organization;
pub(crate) mod payments;
pub(crate) mod residents;
pub(crate) mod rules;
pub(crate) mod settings;
pub(crate) mod texts;

use crate::http::context::Ctx;
use crate::http::guard::Need;
use crate::paths;
use kabinet_app::staff::{By, StaffUser};
use kabinet_domain::staff::Permission as P;

/// The console's sections in the navigation: where, who may, the label.
pub(crate) const NAV: [(&str, Need, &str); 18] = [
    (paths::STAFF, Need::Member, "office-home"),
    (paths::STAFF_QUEUE, Need::AnyDesk, "queue-title"),
    (paths::STAFF_RESIDENTS, Need::To(P::Support), "support-title"),
    (
        paths::STAFF_ANNOUNCEMENTS,
        Need::To(P::Announcements),
        "office-announcements",
    ),
    (paths::STAFF_IMPORTS, Need::To(P::Billing), "office-imports"),
    (paths::STAFF_EXCHANGE, Need::To(P::Billing), "office-exchange"),
    (paths::STAFF_PAYMENTS, Need::To(P::Payments), "office-payments"),
    (paths::STAFF_MEMBERS, Need::To(P::Staff), "office-members"),
    (
        paths::STAFF_ORGANIZATION,
        Need::To(P::Settings),
        "office-organization",
    ),
    (paths::STAFF_SETTINGS, Need::To(P::Settings), "office-settings"),
    (
        paths::STAFF_CATEGORIES,
        Need::To(P::Settings),
        "office-categories",
    ),
    (paths::STAFF_CALENDAR, Need::To(P::Settings), "office-calendar"),
    (paths::STAFF_TEXTS, Need::To(P::Settings), "office-texts"),
    (paths::STAFF_RULES, Need::To(P::Settings), "office-rules"),
    (paths::STAFF_CONSENT, Need::To(P::Settings), "office-consent"),
    (paths::STAFF_HELP, Need::To(P::Settings), "office-help"),
    (paths::STAFF_CLOSING, Need::To(P::Settings), "office-closing"),
    (paths::STAFF_AUDIT, Need::To(P::Audit), "office-audit"),
];

/// `?saved=1`, which an office form's page gets after a successful save.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    saved: String,
}

impl SavedQuery {
    /// Whether the page follows a save (it says so).
    pub(crate) fn saved(&self) -> bool {
        !self.saved.is_empty()
    }

    /// The answer to a successful save: back to `path`, saying it saved.
    pub(crate) fn back_to(path: &str) -> axum::response::Response {
        super::see_other(&format!("{path}?saved=1"))
    }
}

/// How a `datetime-local` field writes a moment (the organization's time).
const LOCAL: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");

/// `t` in the organization's time, as a `datetime-local` field shows it.
pub(crate) fn local_input(state: &crate::AppState, t: time::OffsetDateTime) -> String {
    state
        .app
        .accounts
        .clock()
        .local(t)
        .format(LOCAL)
        .unwrap_or_default()
}

/// Reads a `datetime-local` field's value in the organization's time.
pub(crate) fn parse_local(state: &crate::AppState, v: &str) -> Option<time::OffsetDateTime> {
    let offset = state
        .app
        .accounts
        .clock()
        .local(time::OffsetDateTime::now_utc())
        .offset();
    time::PrimitiveDateTime::parse(v.trim(), LOCAL)
        .ok()
        .map(|p| p.assume_offset(offset))
}

/// The member acting from this request's client.
pub(crate) fn by<'a>(s: &'a StaffUser, ctx: &'a Ctx) -> By<'a> {
    By::Staff(s, &ctx.client)
}
