//! Every path of the site in one place: handlers redirect to these, templates
//! link to them (`{{ crate::paths::LOGIN }}`), and the router is built from
//! the patterns.

/// The start page.
pub const HOME: &str = "/";
/// Sign-in.
pub const LOGIN: &str = "/login";
/// Sign-out (POST).
pub const LOGOUT: &str = "/logout";
/// Registration.
pub const REGISTER: &str = "/register";
/// After registration.
pub const REGISTER_SENT: &str = "/register/sent";
/// The own password after a one-time one.
pub const PASSWORD_NEW: &str = "/password/new";
/// Changing the password.
pub const PASSWORD_CHANGE: &str = "/password/change";
/// Asking for a reset link.
pub const PASSWORD_RESET: &str = "/password/reset";
/// After asking for a reset link.
pub const PASSWORD_RESET_SENT: &str = "/password/reset/sent";
/// The form behind a reset link (pattern).
pub const PASSWORD_RESET_TOKEN: &str = "/password/reset/{token}";
/// The Rules in force.
pub const RULES: &str = "/rules";
/// Accepting a new version of the Rules.
pub const RULES_ACCEPT: &str = "/rules/accept";
/// An earlier version of the Rules (pattern).
pub const RULES_VERSION: &str = "/rules/{version}";
/// The personal-data consent in force.
pub const CONSENT: &str = "/consent";
/// Giving a new version of the consent.
pub const CONSENT_ACCEPT: &str = "/consent/accept";
/// An earlier version of the consent (pattern).
pub const CONSENT_VERSION: &str = "/consent/{version}";
/// The account overview.
pub const CABINET: &str = "/cabinet";
/// The resident's announcements and outages.
pub const ANNOUNCEMENTS: &str = "/announcements";
/// A receipt PDF (pattern; the file is `<period>.pdf`).
pub const RECEIPT: &str = "/accounts/{number}/receipts/{file}";
/// The stylesheet.
pub const STYLESHEET: &str = "/assets/style.css";
/// The script that reloads a page following something in progress.
pub const REFRESH_SCRIPT: &str = "/assets/refresh.js";
/// Liveness.
pub const HEALTHZ: &str = "/healthz";
/// Readiness.
pub const READYZ: &str = "/readyz";
/// Prometheus metrics (behind a token, or on a listener of their own).
pub const METRICS: &str = "/metrics";
/// The JSON API's prefix.
pub const API: &str = "/api/v1";
/// The API's status operation (answers while the portal is closed).
pub const API_STATUS: &str = "/api/v1/status";

/// The form behind a reset link.
pub fn password_reset_token(token: &str) -> String {
    format!("/password/reset/{token}")
}

/// One notification text in the office.
pub fn staff_text(kind: &str, channel: &str, lang: &str) -> String {
    format!("/staff/texts/{kind}/{channel}/{lang}")
}

/// An earlier version of the Rules.
pub fn rules_version(version: i32) -> String {
    format!("/rules/{version}")
}

/// An earlier version of the personal-data consent.
pub fn consent_version(version: i32) -> String {
    format!("/consent/{version}")
}

/// The receipt PDF of `account` for `period` (`2026-10`).
pub fn receipt(account: &str, period: &str) -> String {
    format!("/accounts/{account}/receipts/{period}.pdf")
}

/// The invoices of an account.
pub const INVOICES: &str = "/invoices";
/// One invoice (pattern).
pub const INVOICE: &str = "/accounts/{number}/invoices/{period}";
/// Charges by service for a range of months.
pub const CHARGES: &str = "/charges";
/// The same as CSV.
pub const CHARGES_CSV: &str = "/charges.csv";
/// Payment history.
pub const PAYMENTS: &str = "/payments";
/// The card payment form (GET, POST).
pub const PAY: &str = "/pay";
/// Autopay: kept methods and each account's autopay.
pub const AUTOPAY: &str = "/autopay";
/// Forgetting a kept method (POST).
pub const AUTOPAY_FORGET: &str = "/autopay/methods/{id}/forget";

/// The address that forgets kept method `id`.
pub fn autopay_forget(id: i64) -> String {
    format!("/autopay/methods/{id}/forget")
}
/// A card payment's return page (pattern).
pub const CARD_PAYMENT: &str = "/payments/card/{id}";
/// The sandbox gateway's test page (pattern).
pub const SANDBOX_PAY: &str = "/sandbox/pay/{id}";
/// Where the payment gateway sends its notifications (POST).
pub const GATEWAY_NOTIFICATIONS: &str = "/payments/notifications";

/// A card payment's return page.
pub fn card_payment(id: &str) -> String {
    kabinet_app::payments::return_path(id)
}

/// Meters and the readings form (GET, POST).
pub const METERS: &str = "/meters";
/// A meter's history (pattern).
pub const METER_HISTORY: &str = "/meters/{id}/history";
/// Requests (come later).
pub const REQUESTS: &str = "/requests";
/// The API's request filing (a multipart body with photos).
pub const API_REQUESTS: &str = "/api/v1/requests";
/// Settings.
pub const SETTINGS: &str = "/settings";
/// Asking to change the e-mail (POST).
pub const SETTINGS_EMAIL: &str = "/settings/email";
/// Sends a code to verify the resident's phone.
pub const SETTINGS_PHONE_CODE: &str = "/settings/phone/code";
/// Checks the code typed.
pub const SETTINGS_PHONE_VERIFY: &str = "/settings/phone/verify";
/// Makes a one-time link to the MAX bot (POST).
pub const SETTINGS_MAX_LINK: &str = "/settings/max/link";
/// Unlinks MAX (POST).
pub const SETTINGS_MAX_UNLINK: &str = "/settings/max/unlink";
/// Where the SMS providers post delivery reports.
pub const SMS_STATUS: &str = "/sms/status";
/// Where MAX posts the bot's updates.
pub const MAX_WEBHOOK: &str = "/max/webhook";
/// The link confirming a new e-mail (pattern).
pub const EMAIL_CONFIRM: &str = "/settings/email/{token}";
/// Linking an account (POST).
pub const LINK_ACCOUNT: &str = "/settings/accounts";
/// Removing a linked account (POST).
pub const UNLINK_ACCOUNT: &str = "/settings/accounts/remove";
/// The owner answers link requests and removes others' links.
pub const SETTINGS_ACCESS: &str = "/settings/access";
/// The page behind the link e-mailed to an account's owner.
pub const SETTINGS_ACCESS_REQUEST: &str = "/settings/access/{token}";
/// Everything Kabinet holds about the resident, as JSON.
pub const MY_DATA: &str = "/settings/data.json";
/// A notification's one-click unsubscribe link.
pub const UNSUBSCRIBE: &str = "/unsubscribe/{token}";

/// The unsubscribe link with `token`.
pub fn unsubscribe(token: &str) -> String {
    format!("/unsubscribe/{}", token.chars().take(64).collect::<String>())
}
/// The "my data" archive: `data.json` with the photos of the requests.
pub const MY_DATA_ZIP: &str = "/settings/data.zip";
/// The user guide, contacts and Rules.
pub const HELP: &str = "/help";

/// A meter's history.
pub fn meter_history(meter: i64) -> String {
    format!("/meters/{meter}/history")
}

/// One invoice of `account` for `period` (`2026-10`).
pub fn invoice(account: &str, period: &str) -> String {
    format!("/accounts/{account}/invoices/{period}")
}

/// `path` for `account`: the sign-in account needs no `?account=`.
pub fn for_account(path: &str, account: Option<&str>) -> String {
    match account {
        Some(a) => format!(
            "{path}?{}",
            serde_urlencoded::to_string([("account", a)]).unwrap_or_default()
        ),
        None => path.to_string(),
    }
}

/// A new request.
pub const REQUEST_NEW: &str = "/requests/new";
/// One request.
pub const REQUEST: &str = "/requests/{id}";
/// The resident's action on a request (`cancel`, `accept`, `return`, `comment`).
pub const REQUEST_ACTION: &str = "/requests/{id}/{action}";
/// A request's photo for its resident.
pub const REQUEST_PHOTO: &str = "/requests/photos/{id}";

/// The link to request `id`.
pub fn request(id: kabinet_domain::RequestId) -> String {
    format!("/requests/{id}")
}

/// The address of a resident's action on request `id` (`join`, `cancel`…).
pub fn request_action(id: kabinet_domain::RequestId, action: &str) -> String {
    format!("/requests/{id}/{action}")
}

/// The link to a resident's photo (`thumb`: its thumbnail).
pub fn request_photo(id: &str, thumb: bool) -> String {
    format!("/requests/photos/{id}{}", if thumb { "?size=thumb" } else { "" })
}

/// The office's home page; the staff cookie is sent only below it.
pub const STAFF: &str = "/staff";
/// Everything under the staff console.
pub const STAFF_PREFIX: &str = "/staff/";
/// Staff sign-in.
pub const STAFF_LOGIN: &str = "/staff/login";
/// Staff sign-out.
pub const STAFF_LOGOUT: &str = "/staff/logout";
/// The second factor (and its enrolment).
pub const STAFF_SECOND_FACTOR: &str = "/staff/second-factor";
/// A staff member's own password after a generated one.
pub const STAFF_PASSWORD: &str = "/staff/password";
/// The queue of requests.
pub const STAFF_QUEUE: &str = "/staff/requests";
/// A request in the console.
pub const STAFF_REQUEST: &str = "/staff/requests/{id}";
/// A staff action on a request (`status`, `reply`, `note`, `assign`).
pub const STAFF_REQUEST_ACTION: &str = "/staff/requests/{id}/{action}";
/// A photo for staff.
pub const STAFF_PHOTO: &str = "/staff/photos/{id}";

/// Staff members: the list and the form to add one.
pub const STAFF_MEMBERS: &str = "/staff/members";
/// A staff member.
pub const STAFF_MEMBER: &str = "/staff/members/{id}";
/// An action on a staff member (`reset`, `disable`, `enable`, `role`).
pub const STAFF_MEMBER_ACTION: &str = "/staff/members/{id}/{action}";
/// The organization's details.
pub const STAFF_ORGANIZATION: &str = "/staff/organization";
/// Settings the office changes at run time (the readings window).
pub const STAFF_SETTINGS: &str = "/staff/settings";
/// Request categories: the list and the form to add one.
pub const STAFF_CATEGORIES: &str = "/staff/categories";
/// The notifications' texts.
pub const STAFF_TEXTS: &str = "/staff/texts";
/// One text (pattern).
pub const STAFF_TEXT: &str = "/staff/texts/{kind}/{channel}/{lang}";
/// Returning one text to the built-in one (pattern).
pub const STAFF_TEXT_RESET: &str = "/staff/texts/{kind}/{channel}/{lang}/reset";
/// A request category.
pub const STAFF_CATEGORY: &str = "/staff/categories/{id}";
/// The Rules of service: versions and publishing.
pub const STAFF_RULES: &str = "/staff/rules";
/// The production calendar deadlines are counted by.
pub const STAFF_CALENDAR: &str = "/staff/calendar";
/// The personal-data consent: versions and publishing.
pub const STAFF_CONSENT: &str = "/staff/consent";
/// A closing of the portal: scheduling and lifting.
pub const STAFF_CLOSING: &str = "/staff/closing";
/// The residents' user guide in both languages.
pub const STAFF_HELP: &str = "/staff/help";
/// Exports to the billing system and their history.
pub const STAFF_EXCHANGE: &str = "/staff/exchange";
/// The file of a past export.
pub const STAFF_EXCHANGE_FILE: &str = "/staff/exchange/files/{id}";
/// Billing packages: the upload form and the history.
pub const STAFF_IMPORTS: &str = "/staff/import";
/// Where a package is uploaded (a long request: its own time limit).
pub const STAFF_IMPORT_UPLOAD: &str = "/staff/import/upload";
/// One package: its check, its problems, its confirmation.
pub const STAFF_IMPORT: &str = "/staff/import/{id}";
/// Confirms a checked package.
pub const STAFF_IMPORT_CONFIRM: &str = "/staff/import/{id}/confirm";
/// A package's problems as CSV.
pub const STAFF_IMPORT_PROBLEMS: &str = "/staff/import/{id}/problems.csv";
/// Residents' support: the search.
pub const STAFF_RESIDENTS: &str = "/staff/residents";
/// A resident's card.
pub const STAFF_RESIDENT: &str = "/staff/residents/{id}";
/// An action for a resident (`reset`, `sessions`, `block`, `unblock`,
/// `unlock`, `unlink`).
pub const STAFF_RESIDENT_ACTION: &str = "/staff/residents/{id}/{action}";
/// Clears the registration checks of an account nobody registered.
pub const STAFF_ACCOUNT_UNLOCK: &str = "/staff/accounts/{id}/unlock";
/// Announcements and outages: the list and the form to publish one.
pub const STAFF_ANNOUNCEMENTS: &str = "/staff/announcements";
/// An announcement: its page and the form that changes it.
pub const STAFF_ANNOUNCEMENT: &str = "/staff/announcements/{id}";
/// Ends an announcement now.
pub const STAFF_ANNOUNCEMENT_END: &str = "/staff/announcements/{id}/end";
/// The audit log.
pub const STAFF_AUDIT: &str = "/staff/audit";
/// The office's card payments.
pub const STAFF_PAYMENTS: &str = "/staff/payments";
/// One card payment in the office.
pub const STAFF_PAYMENT: &str = "/staff/payments/{id}";
/// A refund of it (POST).
pub const STAFF_PAYMENT_REFUND: &str = "/staff/payments/{id}/refund";

/// The office page of card payment `id`.
pub fn staff_payment(id: &str) -> String {
    format!("/staff/payments/{id}")
}
/// The audit log as CSV.
pub const STAFF_AUDIT_CSV: &str = "/staff/audit.csv";

/// The link to the file of export run `id`.
pub fn staff_exchange_file(id: kabinet_domain::ExchangeRunId) -> String {
    format!("/staff/exchange/files/{id}")
}

/// The page of package `id`.
pub fn staff_import(id: kabinet_domain::ImportId) -> String {
    format!("/staff/import/{id}")
}

/// The office's page of request category `id`.
pub fn staff_category(id: i64) -> String {
    format!("/staff/categories/{id}")
}

/// The office's page of announcement `id`.
pub fn staff_announcement(id: i64) -> String {
    format!("/staff/announcements/{id}")
}

/// The support card of resident `id`.
pub fn staff_resident(id: kabinet_domain::UserId) -> String {
    format!("/staff/residents/{id}")
}

/// The form that clears account `id`'s registration checks.
pub fn staff_account_unlock(id: kabinet_domain::AccountId) -> String {
    format!("/staff/accounts/{id}/unlock")
}

/// The console's link to staff member `id`.
pub fn staff_member(id: kabinet_domain::StaffId) -> String {
    format!("/staff/members/{id}")
}

/// The console's link to request `id`.
pub fn staff_request(id: kabinet_domain::RequestId) -> String {
    format!("/staff/requests/{id}")
}

/// The console's link to a photo.
pub fn staff_photo(id: &str, thumb: bool) -> String {
    format!("/staff/photos/{id}{}", if thumb { "?size=thumb" } else { "" })
}
