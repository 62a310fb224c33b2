//! The texts of SMS, short (one or two parts in Cyrillic): who writes, what
//! happened, the figure, and the portal's address.

use kabinet_domain::Kopecks;
use kabinet_i18n::Tr;

/// The phone verification code.
pub fn code(tr: Tr, org: &str, code: &str) -> String {
    tr.args("sms-code", &[("org", org), ("code", code)])
}

/// A new invoice: account, period, amount and due day.
pub fn new_invoice(
    tr: Tr,
    org: &str,
    account: &str,
    period: &str,
    due: Kopecks,
    due_date: Option<time::Date>,
    url: &str,
) -> String {
    let amount = tr.money(due);
    let date = due_date.map(|d| tr.date(d)).unwrap_or_default();
    let id = if due_date.is_some() {
        "sms-invoice-due"
    } else {
        "sms-invoice"
    };
    tr.args(
        id,
        &[
            ("org", org),
            ("account", account),
            ("period", period),
            ("amount", &amount),
            ("date", &date),
            ("url", url),
        ],
    )
}

/// A payment that arrived: account, amount and day.
pub fn payment(tr: Tr, org: &str, account: &str, amount: Kopecks, paid: time::Date) -> String {
    tr.args(
        "sms-payment",
        &[
            ("org", org),
            ("account", account),
            ("amount", &tr.money(amount)),
            ("date", &tr.date(paid)),
        ],
    )
}

/// A card payment made in the portal: its total and the accounts paid.
pub fn card_payment(tr: Tr, org: &str, total: Kopecks, accounts: &str) -> String {
    tr.args(
        "sms-card-payment",
        &[("org", org), ("amount", &tr.money(total)), ("accounts", accounts)],
    )
}

/// A new version of the Rules or the consent, and where to read it.
pub fn document(tr: Tr, org: &str, title: &str, url: &str) -> String {
    tr.args("sms-document", &[("org", org), ("title", title), ("url", url)])
}

/// News of a request: its number and what happened.
pub fn request_update(
    tr: Tr,
    org: &str,
    number: &str,
    news: crate::messages::RequestNews,
    url: &str,
) -> String {
    tr.args(
        "sms-request",
        &[
            ("org", org),
            ("number", number),
            ("news", &crate::messages::news_text(tr, news)),
            ("url", url),
        ],
    )
}

/// A meter's verification due (or run out): account, meter and day.
pub fn meter_verification(
    tr: Tr,
    org: &str,
    account: &str,
    serial: &str,
    due: time::Date,
    expired: bool,
) -> String {
    tr.args(
        if expired {
            "sms-verification-expired"
        } else {
            "sms-verification-soon"
        },
        &[
            ("org", org),
            ("account", account),
            ("number", serial),
            ("date", &tr.date(due)),
        ],
    )
}

/// The readings window is open (or closes soon, and not every meter has
/// its reading): account and last day.
pub fn readings_window(
    tr: Tr,
    org: &str,
    account: &str,
    until: time::Date,
    closing: bool,
    url: &str,
) -> String {
    tr.args(
        if closing {
            "sms-readings-closing"
        } else {
            "sms-readings-open"
        },
        &[
            ("org", org),
            ("account", account),
            ("date", &tr.date(until)),
            ("url", url),
        ],
    )
}

/// An announcement or an emergency for the resident's building: its title
/// and where to read it.
pub fn announcement(tr: Tr, org: &str, title: &str, url: &str) -> String {
    tr.args(
        "sms-announcement",
        &[("org", org), ("title", title), ("url", url)],
    )
}

/// Autopay's news by SMS (and in MAX): its sentence and where to see it.
pub fn autopay(tr: Tr, org: &str, news: &str, url: &str) -> String {
    tr.args("sms-autopay", &[("org", org), ("news", news), ("url", url)])
}
