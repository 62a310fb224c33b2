//! Kabinet's e-mails to residents, each as plain text and HTML, in the
//! recipient's language: every sentence is a Fluent message (`mail-…` in
//! `kabinet-i18n/locales`), values are HTML-escaped in the HTML part.

use crate::html::escape as esc;
use kabinet_domain::{AccountNumber, Email, EmailAddress, Kopecks, Language, Period, RequestId};
use kabinet_i18n::Tr;

/// Wraps paragraphs (each may hold a link or a code) into both bodies.
fn compose(tr: Tr, to: &EmailAddress, subject: String, org: &str, paragraphs: &[Paragraph]) -> Email {
    let hello = tr.t("mail-hello");
    let mut text = format!("{hello}\n\n");
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\"><p>{}</p>",
        tr.code(),
        esc(&hello)
    );
    for p in paragraphs {
        match p {
            Paragraph::Text(t) => {
                text.push_str(t);
                text.push_str("\n\n");
                html.push_str(&format!("<p>{}</p>", esc(t)));
            }
            Paragraph::Code(label, code) => {
                text.push_str(&format!("{label}: {code}\n\n"));
                html.push_str(&format!(
                    "<p>{}: <strong style=\"font-family:monospace;font-size:1.2em\">{}</strong></p>",
                    esc(label),
                    esc(code)
                ));
            }
            Paragraph::Link(label, url) => {
                text.push_str(&format!("{label}:\n{url}\n\n"));
                html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", esc(url), esc(label)));
            }
        }
    }
    let footer = format!("{}\n{org}", tr.t("mail-footer"));
    text.push_str("-- \n");
    text.push_str(&footer);
    text.push('\n');
    html.push_str(&format!(
        "<hr><p style=\"color:#555;font-size:0.9em\">{}</p></body></html>",
        esc(&footer).replace('\n', "<br>")
    ));
    Email {
        to: to.clone(),
        subject,
        text,
        html,
    }
}

enum Paragraph {
    Text(String),
    Code(String, String),
    Link(String, String),
}

/// The texts of one language, for the recipient's choice (Russian when
/// they made none).
pub fn tr(lang: Option<Language>) -> Tr {
    Tr {
        lang: lang.unwrap_or_default(),
    }
}

/// The one-time password after a successful registration.
pub fn registration_password(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    password: &str,
    valid_hours: i64,
    sign_in_url: &str,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-registration-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a("mail-registration-done", "account", &a)),
            Paragraph::Code(tr.t("mail-registration-password"), password.to_string()),
            Paragraph::Text(tr.n("mail-registration-once", valid_hours)),
            Paragraph::Link(tr.t("mail-sign-in"), sign_in_url.to_string()),
        ],
    )
}

/// Someone proved an account that already has a user: sent to that user's
/// own address, never to the one typed on the form.
pub fn already_registered(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    reset_url: &str,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-again-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a("mail-again-what", "account", &a)),
            Paragraph::Text(tr.t("mail-again-forgot")),
            Paragraph::Link(tr.t("mail-reset-link"), reset_url.to_string()),
            Paragraph::Text(tr.t("mail-again-not-you")),
        ],
    )
}

/// A link to set a new password.
pub fn password_reset(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    link: &str,
    valid_minutes: i64,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-reset-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a("mail-reset-asked", "account", &a)),
            Paragraph::Link(tr.t("mail-reset-set"), link.to_string()),
            Paragraph::Text(tr.n("mail-reset-valid", valid_minutes)),
        ],
    )
}

/// Notice that the password was changed.
pub fn password_changed(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    reset_url: &str,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-password-changed-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a("mail-password-changed", "account", &a)),
            Paragraph::Text(tr.t("mail-password-changed-not-you")),
            Paragraph::Link(tr.t("mail-reset-link"), reset_url.to_string()),
        ],
    )
}

/// A staff alert about an emergency: a new one for the dispatchers, or
/// (`waited_minutes` given) one nobody took in time, for the
/// administrators. Always in Russian: the office's language.
pub fn emergency_alert(
    org: &str,
    to: &EmailAddress,
    number: RequestId,
    category: &str,
    address: &str,
    waited_minutes: Option<i64>,
    url: &str,
) -> Email {
    let tr = tr(None);
    let n = number.to_string();
    let subject = match waited_minutes {
        None => tr.args("mail-emergency-new", &[("number", &n), ("name", category)]),
        Some(m) => tr.args(
            "mail-emergency-escalated",
            &[("number", &n), ("name", category), ("n", &m.to_string())],
        ),
    };
    compose(
        tr,
        to,
        subject.clone(),
        org,
        &[
            Paragraph::Text(format!("{subject}.")),
            Paragraph::Text(address.to_string()),
            Paragraph::Link(tr.t("mail-emergency-open"), url.to_string()),
        ],
    )
}

/// An announcement or outage of the organization, with a link to all of
/// them; the text is the office's own.
pub fn announcement(tr: Tr, org: &str, to: &EmailAddress, title: &str, body: &str, url: &str) -> Email {
    let mut paragraphs: Vec<Paragraph> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Paragraph::Text(p.to_string()))
        .collect();
    paragraphs.push(Paragraph::Link(tr.t("mail-announcement-more"), url.to_string()));
    compose(
        tr,
        to,
        tr.a("mail-announcement-subject", "name", title),
        org,
        &paragraphs,
    )
}

/// A new version of the Rules or of the personal-data consent: its
/// title, and that it is to be read and accepted at the next sign-in.
pub fn document_changed(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    doc: kabinet_domain::Document,
    title: &str,
    url: &str,
    unsubscribe: &str,
) -> Email {
    let (subject, text) = match doc {
        kabinet_domain::Document::Rules => ("mail-rules-subject", "mail-rules-changed"),
        kabinet_domain::Document::Consent => ("mail-consent-subject", "mail-consent-changed"),
    };
    let paragraphs = vec![
        Paragraph::Text(tr.a(text, "title", title)),
        Paragraph::Link(tr.t("mail-document-read"), url.to_string()),
        Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()),
    ];
    compose(tr, to, tr.t(subject), org, &paragraphs)
}

/// A notification in the organization's own words: the subject and the
/// body (paragraphs split by a blank line) as filled in, and the
/// unsubscribe link when the message may be turned off.
pub fn custom(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    subject: &str,
    body: &str,
    unsubscribe: Option<&str>,
) -> Email {
    let mut paragraphs: Vec<Paragraph> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Paragraph::Text(p.to_string()))
        .collect();
    if let Some(u) = unsubscribe {
        paragraphs.push(Paragraph::Link(tr.t("mail-unsubscribe"), u.to_string()));
    }
    compose(tr, to, subject.to_string(), org, &paragraphs)
}

/// The link that confirms a new e-mail address, sent to that address.
pub fn email_change_confirm(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    confirm_url: &str,
    valid_hours: i64,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-confirm-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a("mail-confirm-what", "account", &a)),
            Paragraph::Link(tr.t("mail-confirm-link"), confirm_url.to_string()),
            Paragraph::Text(tr.n("mail-confirm-valid", valid_hours)),
        ],
    )
}

/// The notice to the old address that the e-mail was changed.
pub fn email_changed(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    new_masked: &str,
    reset_url: &str,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-email-changed-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a2("mail-email-changed", ("account", &a), ("address", new_masked))),
            Paragraph::Text(tr.t("mail-email-changed-not-you")),
            Paragraph::Link(tr.t("mail-reset-link"), reset_url.to_string()),
        ],
    )
}

/// Someone asks to see the account the recipient signs in with: they
/// proved it with the receipt, and only the recipient can let them in.
pub fn link_request(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    asker_masked: &str,
    decide_url: &str,
    valid_days: i64,
) -> Email {
    let a = account.to_string();
    compose(
        tr,
        to,
        tr.a("mail-link-subject", "account", &a),
        org,
        &[
            Paragraph::Text(tr.a2("mail-link-who", ("account", &a), ("address", asker_masked))),
            Paragraph::Text(tr.n("mail-link-decide", valid_days)),
            Paragraph::Link(tr.t("mail-link-answer"), decide_url.to_string()),
            Paragraph::Text(tr.t("mail-link-stranger")),
        ],
    )
}

/// One meter zone's accepted reading.
#[derive(Debug, Clone)]
pub struct ReadingLine {
    /// The resource's code (`cold_water`), which names it and its unit.
    pub resource: &'static str,
    /// The meter's serial number.
    pub serial: String,
    /// The tariff zone, when the meter has several.
    pub zone: Option<i16>,
    /// The value as written.
    pub value: String,
}

/// A receipt for readings the resident handed in: one line per meter zone
/// and the period they count for.
pub fn readings_accepted(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    period: Period,
    lines: &[ReadingLine],
    meters_url: &str,
) -> Email {
    let a = account.to_string();
    let mut paragraphs = vec![Paragraph::Text(tr.a2(
        "mail-readings-taken",
        ("account", &a),
        ("period", &tr.month(period)),
    ))];
    paragraphs.extend(lines.iter().map(|l| {
        let meter = tr.a2(
            "mail-readings-meter",
            ("resource", &tr.t(&format!("resource-{}", l.resource))),
            ("serial", &l.serial),
        );
        let meter = match l.zone {
            Some(z) => tr.a2("mail-readings-zone", ("meter", &meter), ("zone", &z.to_string())),
            None => meter,
        };
        Paragraph::Text(format!(
            "{meter}: {} {}",
            l.value,
            tr.t(&format!("unit-{}", l.resource))
        ))
    }));
    paragraphs.push(Paragraph::Text(tr.t("mail-readings-fix")));
    paragraphs.push(Paragraph::Link(
        tr.t("mail-readings-link"),
        meters_url.to_string(),
    ));
    compose(
        tr,
        to,
        tr.a("mail-readings-subject", "account", &a),
        org,
        &paragraphs,
    )
}

/// A card payment was received: the amount per account and where to see it.
pub fn payment_received(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    total: Kopecks,
    shares: &[(String, Kopecks)],
    payments_url: &str,
    unsubscribe: &str,
) -> Email {
    let total = tr.money(total);
    let mut paragraphs = vec![Paragraph::Text(tr.a("mail-payment-received", "total", &total))];
    paragraphs.extend(shares.iter().map(|(account, amount)| {
        Paragraph::Text(tr.a2(
            "mail-payment-share",
            ("account", account),
            ("amount", &tr.money(*amount)),
        ))
    }));
    paragraphs.push(Paragraph::Text(tr.t("mail-payment-next")));
    paragraphs.push(Paragraph::Link(
        tr.t("mail-payment-link"),
        payments_url.to_string(),
    ));
    paragraphs.push(Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()));
    compose(
        tr,
        to,
        tr.a("mail-payment-subject", "total", &total),
        org,
        &paragraphs,
    )
}

/// "A new invoice": the account, the month, the amount due and the day it
/// is due, with a link to it and a line to unsubscribe.
#[allow(clippy::too_many_arguments)]
pub fn new_invoice(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &str,
    period: &str,
    due: Kopecks,
    due_date: Option<time::Date>,
    url: &str,
    unsubscribe: &str,
) -> Email {
    let amount = tr.money(due);
    let mut paragraphs = vec![Paragraph::Text(tr.args(
        "mail-invoice-line",
        &[("account", account), ("period", period), ("amount", &amount)],
    ))];
    if let Some(d) = due_date {
        paragraphs.push(Paragraph::Text(tr.a("mail-invoice-due", "date", &tr.date(d))));
    }
    paragraphs.push(Paragraph::Link(tr.t("mail-invoice-link"), url.to_string()));
    paragraphs.push(Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()));
    compose(
        tr,
        to,
        tr.a2("mail-invoice-subject", ("period", period), ("amount", &amount)),
        org,
        &paragraphs,
    )
}

/// "Your meter's verification is due" (or "has run out"): the account, the
/// meter and the day, and what to do.
#[allow(clippy::too_many_arguments)]
pub fn meter_verification(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &str,
    resource: &str,
    serial: &str,
    due: time::Date,
    expired: bool,
    url: &str,
    unsubscribe: &str,
) -> Email {
    let date = tr.date(due);
    let pairs = [
        ("account", account),
        ("name", resource),
        ("number", serial),
        ("date", date.as_str()),
    ];
    let (subject, line, next) = if expired {
        (
            "mail-verification-expired-subject",
            "mail-verification-expired",
            "mail-verification-expired-next",
        )
    } else {
        (
            "mail-verification-soon-subject",
            "mail-verification-soon",
            "mail-verification-soon-next",
        )
    };
    let paragraphs = vec![
        Paragraph::Text(tr.args(line, &pairs)),
        Paragraph::Text(tr.t(next)),
        Paragraph::Link(tr.t("mail-verification-link"), url.to_string()),
        Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()),
    ];
    compose(tr, to, tr.args(subject, &pairs), org, &paragraphs)
}

/// "Readings are taken until …" when the window opens, or "… close on …,
/// not every meter has its reading" near its end: the account and the last
/// day.
#[allow(clippy::too_many_arguments)]
pub fn readings_window(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &str,
    until: time::Date,
    closing: bool,
    url: &str,
    unsubscribe: &str,
) -> Email {
    let date = tr.date(until);
    let (line, subject) = if closing {
        ("mail-readings-closing", "mail-readings-closing-subject")
    } else {
        ("mail-readings-open", "mail-readings-open-subject")
    };
    let paragraphs = vec![
        Paragraph::Text(tr.a2(line, ("account", account), ("date", &date))),
        Paragraph::Link(tr.t("mail-readings-hand-in"), url.to_string()),
        Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()),
    ];
    compose(tr, to, tr.a(subject, "date", &date), org, &paragraphs)
}

/// "A payment arrived" for a payment that came with the billing data (a
/// bank, the cash desk, the post): the account, the amount and the day.
#[allow(clippy::too_many_arguments)]
pub fn payment_imported(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    account: &str,
    amount: Kopecks,
    paid_on: time::Date,
    url: &str,
    unsubscribe: &str,
) -> Email {
    let amount = tr.money(amount);
    let paragraphs = vec![
        Paragraph::Text(tr.args(
            "mail-payment-imported",
            &[
                ("account", account),
                ("amount", &amount),
                ("date", &tr.date(paid_on)),
            ],
        )),
        Paragraph::Link(tr.t("mail-payment-link"), url.to_string()),
        Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()),
    ];
    compose(
        tr,
        to,
        tr.a("mail-payment-subject", "total", &amount),
        org,
        &paragraphs,
    )
}

/// What happened to a request, for [`request_update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestNews {
    /// Taken into work.
    Taken,
    /// Done: to confirm or return.
    Done,
    /// Declined.
    Declined,
    /// Deferred: back in the queue on this day.
    Deferred(time::Date),
    /// Staff answered.
    Answered,
}

/// What happened to a request, as a mail's line (or an SMS) says it.
pub fn news_text(tr: Tr, news: RequestNews) -> String {
    match news {
        RequestNews::Deferred(until) => tr.a("mail-request-deferred-until", "date", &tr.date(until)),
        other => tr.t(match other {
            RequestNews::Taken => "mail-request-taken",
            RequestNews::Done => "mail-request-done",
            RequestNews::Declined => "mail-request-declined",
            _ => "mail-request-answered",
        }),
    }
}

/// "A request you joined changed": to a neighbour who joined a request
/// about the building's common property — its number, category and what
/// happened, nothing its author wrote; the link opens their requests.
pub fn joined_request_update(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    number: RequestId,
    category: &str,
    news: RequestNews,
    url: &str,
) -> Email {
    // Only whoever filed it confirms the work or returns it.
    let what = match news {
        RequestNews::Done => tr.t("mail-request-joined-done"),
        other => news_text(tr, other),
    };
    let n = number.to_string();
    let line = tr.args(
        "mail-request-joined-line",
        &[("number", &n), ("name", category), ("what", &what)],
    );
    let paragraphs = vec![
        Paragraph::Text(format!("{line}.")),
        Paragraph::Link(tr.t("mail-request-joined-link"), url.to_string()),
    ];
    compose(tr, to, line, org, &paragraphs)
}

/// "Your request changed": taken into work, done, declined, deferred or
/// answered; `text` is the reply or the reason, if any (never an internal
/// note).
pub fn request_update(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    number: RequestId,
    news: RequestNews,
    text: &str,
    url: &str,
) -> Email {
    let what = news_text(tr, news);
    let n = number.to_string();
    let line = tr.a2("mail-request-line", ("number", &n), ("what", &what));
    let mut paragraphs = vec![Paragraph::Text(format!("{line}."))];
    if !text.is_empty() {
        paragraphs.push(Paragraph::Text(text.to_string()));
    }
    paragraphs.push(Paragraph::Link(tr.t("mail-request-link"), url.to_string()));
    compose(tr, to, line, org, &paragraphs)
}

/// Autopay's sentence for `stage` (`notice`, `failed`, `off`, `over`): the
/// account, the amount and the day of the debit.
pub fn autopay_news(tr: Tr, stage: &str, account: &str, amount: Kopecks, date: time::Date) -> String {
    tr.args(
        &format!("autopay-news-{stage}"),
        &[
            ("account", account),
            ("amount", &tr.money(amount)),
            ("date", &tr.date(date)),
        ],
    )
}

/// Autopay's news by e-mail: a debit coming, failed, an invoice over the
/// maximum, autopay turned off; with a link to the autopay page.
#[allow(clippy::too_many_arguments)]
pub fn autopay(
    tr: Tr,
    org: &str,
    to: &EmailAddress,
    stage: &str,
    account: &str,
    amount: Kopecks,
    date: time::Date,
    url: &str,
    unsubscribe: &str,
) -> Email {
    let paragraphs = [
        Paragraph::Text(autopay_news(tr, stage, account, amount, date)),
        Paragraph::Link(tr.t("mail-autopay-link"), url.to_string()),
        Paragraph::Link(tr.t("mail-unsubscribe"), unsubscribe.to_string()),
    ];
    compose(
        tr,
        to,
        tr.a(&format!("mail-autopay-subject-{stage}"), "account", account),
        org,
        &paragraphs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(tr: Tr) -> Vec<Email> {
        let to = EmailAddress::parse("ivan@example.ru").unwrap_or_else(|e| panic!("{e}"));
        let acc = AccountNumber::parse("1001").unwrap_or_else(|e| panic!("{e}"));
        let period = Period::parse("2026-11").unwrap_or_else(|e| panic!("{e}"));
        let line = ReadingLine {
            resource: "cold_water",
            serial: "A1".into(),
            zone: Some(2),
            value: "45,6".into(),
        };
        vec![
            registration_password(
                tr,
                "УК <Север>",
                &to,
                &acc,
                "abcd-efgh-jkmn",
                72,
                "https://lk.example.ru/login",
            ),
            already_registered(tr, "УК", &to, &acc, "https://x/r"),
            password_reset(tr, "УК", &to, &acc, "https://x/r", 30),
            password_changed(tr, "УК", &to, &acc, "https://x/r"),
            email_change_confirm(tr, "УК", &to, &acc, "https://x/c", 24),
            email_changed(tr, "УК", &to, &acc, "i***@example.ru", "https://x/r"),
            link_request(tr, "УК", &to, &acc, "p***@example.ru", "https://x/d", 7),
            readings_accepted(tr, "УК", &to, &acc, period, &[line], "https://x/meters"),
            payment_received(
                tr,
                "УК",
                &to,
                Kopecks(150_000),
                &[("1001".into(), Kopecks(150_000))],
                "https://x/p",
                "https://x/u",
            ),
            request_update(tr, "УК", &to, RequestId(42), RequestNews::Done, "", "https://x/q"),
            new_invoice(
                tr,
                "УК",
                &to,
                "1001",
                "2026-11",
                Kopecks(345_600),
                Some(time::macros::date!(2026 - 12 - 10)),
                "https://x/i",
                "https://x/u",
            ),
            meter_verification(
                tr,
                "УК",
                &to,
                "1001",
                "Cold water",
                "A1",
                time::macros::date!(2027 - 01 - 10),
                false,
                "https://x/m",
                "https://x/u",
            ),
            payment_imported(
                tr,
                "УК",
                &to,
                "1001",
                Kopecks(100_000),
                time::macros::date!(2026 - 12 - 05),
                "https://x/p",
                "https://x/u",
            ),
            joined_request_update(
                tr,
                "УК",
                &to,
                RequestId(42),
                "Lift",
                RequestNews::Taken,
                "https://x/r",
            ),
        ]
    }

    #[test]
    fn bodies_carry_the_password_and_escape_html() {
        let m = samples(tr(None)).remove(0);
        assert!(m.text.contains("abcd-efgh-jkmn") && m.html.contains("abcd-efgh-jkmn"));
        assert!(m.text.contains("не дольше 72 часов"), "{}", m.text);
        assert!(m.html.contains("УК &lt;Север&gt;") && !m.html.contains("<Север>"));
        assert!(m.subject.contains("1001"));
    }

    #[test]
    fn every_mail_is_written_in_the_recipients_language() {
        let is_russian = |s: &str| s.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я'));
        for m in samples(tr(Some(Language::En))) {
            // Only the organization's name (the sender) is Russian.
            let body = m.text.replace("УК <Север>", "").replace("УК", "");
            assert!(
                !is_russian(&body) && !is_russian(&m.subject),
                "{}\n{}",
                m.subject,
                m.text
            );
            assert!(!body.contains('{') && m.html.starts_with("<!doctype html><html lang=\"en\">"));
        }
        for m in samples(tr(None)) {
            assert!(
                is_russian(&m.subject) && m.text.starts_with("Здравствуйте!"),
                "{}",
                m.text
            );
            assert!(!m.text.contains('{'));
        }
        let en = samples(tr(Some(Language::En)));
        assert!(en[8].text.contains("₽1,500.00") && en[8].subject.contains("₽1,500.00"));
        assert!(
            en[7].text.contains("Cold water No. A1, zone 2: 45,6 m³"),
            "{}",
            en[7].text
        );
        assert!(en[9].subject.contains("Request No. 42"));
    }
}
