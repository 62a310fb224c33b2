//! What the organization's bot writes in MAX: answers to the resident's
//! commands (balance, the readings window and meters, readings given in
//! the chat, requests), the link and unlink, in the resident's language.
//! Notifications themselves read as their SMS do ([`crate::sms`]).

use kabinet_domain::readings::Admission;
use kabinet_domain::{Kopecks, Meter, ReadingValue};
use kabinet_i18n::Tr;
use kabinet_i18n::readings::{resource_name, unit, value_text};

/// The commands, one a line.
pub fn help(tr: Tr) -> String {
    tr.t("max-help")
}

/// To someone whose MAX is not linked: how to link it.
pub fn not_linked(tr: Tr, org: &str) -> String {
    tr.a("max-not-linked", "org", org)
}

/// The link worked: whose portal, and the commands.
pub fn linked(tr: Tr, org: &str, account: &str) -> String {
    format!(
        "{}\n\n{}",
        tr.args("max-linked", &[("org", org), ("account", account)]),
        help(tr)
    )
}

/// The link's code is wrong, used or old.
pub fn link_refused(tr: Tr) -> String {
    tr.t("max-link-refused")
}

/// MAX was unlinked.
pub fn unlinked(tr: Tr) -> String {
    tr.t("max-unlinked")
}

/// A message the bot does not understand.
pub fn unknown(tr: Tr) -> String {
    format!("{}\n\n{}", tr.t("max-unknown"), help(tr))
}

/// The resident must first accept the new Rules (or consent) in the portal.
pub fn must_accept(tr: Tr, url: &str) -> String {
    tr.a("max-must-accept", "url", url)
}

/// One account's balance: owed (with the due day), nothing, or ahead.
pub fn balance(tr: Tr, account: &str, address: &str, owed: Kopecks, due: Option<time::Date>) -> String {
    let amount = tr.money(Kopecks(owed.0.abs()));
    let date = due.map(|d| tr.date(d)).unwrap_or_default();
    let id = match owed.0.signum() {
        1 if due.is_some() => "max-balance-due",
        1 => "max-balance-owed",
        0 => "max-balance-none",
        _ => "max-balance-ahead",
    };
    tr.args(
        id,
        &[
            ("account", account),
            ("address", address),
            ("amount", &amount),
            ("date", &date),
        ],
    )
}

/// The readings window today.
pub fn window(tr: Tr, admission: Admission) -> String {
    match admission {
        Admission::Open { period, until } => tr.a2(
            "max-window-open",
            ("period", &tr.month(period)),
            ("date", &tr.date(until)),
        ),
        Admission::NextPeriod { period, opens } => tr.a2(
            "max-window-next",
            ("period", &tr.month(period)),
            ("date", &tr.date(opens)),
        ),
        Admission::Closed { opens } => tr.a("max-window-closed", "date", &tr.date(opens)),
    }
}

/// One meter of the list: its number in the chat, what it measures, its
/// serial, the account, and the last value of each zone.
pub fn meter(tr: Tr, n: usize, account: &str, meter: &Meter, last: &[Option<ReadingValue>]) -> String {
    let values: Vec<String> = last
        .iter()
        .map(|v| match v {
            Some(v) => format!("{} {}", value_text(&tr, *v), unit(&tr, meter.resource)),
            None => "—".into(),
        })
        .collect();
    tr.args(
        "max-meter",
        &[
            ("n", &n.to_string()),
            ("resource", &resource_name(&tr, meter.resource)),
            ("serial", &meter.serial),
            ("account", account),
            ("last", &values.join(" / ")),
        ],
    )
}

/// How to give a reading, after the list.
pub fn readings_how(tr: Tr) -> String {
    tr.t("max-readings-how")
}

/// No meter takes readings.
pub fn no_meters(tr: Tr) -> String {
    tr.t("max-no-meters")
}

/// No meter has that number in the list.
pub fn no_such_meter(tr: Tr, n: &str) -> String {
    tr.a("max-no-such-meter", "n", n)
}

/// Readings were taken: for which period, each meter and value.
pub fn readings_saved(tr: Tr, account: &str, period: &str, lines: &[(Meter, ReadingValue)]) -> String {
    let values: Vec<String> = lines
        .iter()
        .map(|(m, v)| {
            format!(
                "{} № {}: {} {}",
                resource_name(&tr, m.resource),
                m.serial,
                value_text(&tr, *v),
                unit(&tr, m.resource)
            )
        })
        .collect();
    tr.args(
        "max-readings-saved",
        &[
            ("account", account),
            ("period", period),
            ("values", &values.join("; ")),
        ],
    )
}

/// Readings were refused: every reason.
pub fn readings_refused(tr: Tr, reasons: &[String]) -> String {
    tr.a("max-readings-refused", "reasons", &reasons.join("\n"))
}

/// An unusual value: the page's warning and the question.
pub fn readings_confirm(tr: Tr, warnings: &[String]) -> String {
    tr.a("max-readings-confirm", "warnings", &warnings.join("\n"))
}

/// The buttons' words: send anyway, and do not.
pub fn yes_no(tr: Tr) -> (String, String) {
    (tr.t("max-yes"), tr.t("max-no"))
}

/// The resident said no.
pub fn cancelled(tr: Tr) -> String {
    tr.t("max-cancelled")
}

/// A yes or no with no question waiting.
pub fn nothing_asked(tr: Tr) -> String {
    tr.t("max-nothing-asked")
}

/// Too many submissions or another refusal told in words.
pub fn refused(tr: Tr, why: &str) -> String {
    tr.a("max-refused", "why", why)
}

/// No open request.
pub fn no_requests(tr: Tr) -> String {
    tr.t("max-no-requests")
}

/// One open request: number, day, category and status.
pub fn request(tr: Tr, number: &str, day: time::Date, category: &str, status: &str) -> String {
    tr.args(
        "max-request",
        &[
            ("number", number),
            ("date", &tr.date(day)),
            ("category", category),
            ("status", status),
        ],
    )
}
