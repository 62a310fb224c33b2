//! The texts of Kabinet's e-mails to residents, in Russian, each as plain text
//! and HTML. Values are HTML-escaped in the HTML part.

use crate::html::escape as esc;
use kabinet_domain::{AccountNumber, Email, EmailAddress};

/// Wraps paragraphs (each may hold a link given as `(text, url)`) into both bodies.
fn compose(to: &EmailAddress, subject: String, org: &str, paragraphs: &[Paragraph]) -> Email {
    let mut text = String::from("Здравствуйте!\n\n");
    let mut html = String::from(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\"><p>Здравствуйте!</p>",
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
    let footer = format!(
        "Это письмо отправлено автоматически, отвечать на него не нужно. Если вы не обращались в личный кабинет, просто удалите письмо.\n{org}"
    );
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
    Code(&'static str, String),
    Link(&'static str, String),
}

/// The one-time password after a successful registration.
pub fn registration_password(
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    password: &str,
    valid_hours: i64,
    sign_in_url: &str,
) -> Email {
    compose(
        to,
        format!("Регистрация в личном кабинете — лицевой счёт {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "Вы зарегистрировались в личном кабинете абонента по лицевому счёту {account}."
            )),
            Paragraph::Code("Временный пароль", password.to_string()),
            Paragraph::Text(format!(
                "Пароль действует один раз и не дольше {valid_hours} часов. При первом входе придумайте свой пароль."
            )),
            Paragraph::Link("Войти в личный кабинет", sign_in_url.to_string()),
        ],
    )
}

/// Someone proved an account that already has a user: sent to that user's
/// own address, never to the one typed on the form.
pub fn already_registered(org: &str, to: &EmailAddress, account: &AccountNumber, reset_url: &str) -> Email {
    compose(
        to,
        format!("Повторная регистрация лицевого счёта {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "Кто-то пытался заново зарегистрировать в личном кабинете ваш лицевой счёт {account} и указал верные данные из квитанции. Счёт уже зарегистрирован на ваш адрес, поэтому ничего не изменилось: новый пароль не создавался и никуда не отправлялся."
            )),
            Paragraph::Text(
                "Если это были вы и вы забыли пароль, восстановите его — ссылка придёт на этот адрес."
                    .into(),
            ),
            Paragraph::Link("Восстановить пароль", reset_url.to_string()),
            Paragraph::Text(
                "Если это были не вы, просто не обращайте внимания на письмо: войти в кабинет по-прежнему можно только с вашим паролем."
                    .into(),
            ),
        ],
    )
}

/// A link to set a new password.
pub fn password_reset(
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    link: &str,
    valid_minutes: i64,
) -> Email {
    compose(
        to,
        format!("Восстановление пароля — лицевой счёт {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "Для лицевого счёта {account} запрошено восстановление пароля в личном кабинете."
            )),
            Paragraph::Link("Задать новый пароль", link.to_string()),
            Paragraph::Text(format!(
                "Ссылка действует {valid_minutes} минут и только один раз. Если вы не запрашивали восстановление, ничего делать не нужно: пароль останется прежним."
            )),
        ],
    )
}

/// Notice that the password was changed.
pub fn password_changed(org: &str, to: &EmailAddress, account: &AccountNumber, reset_url: &str) -> Email {
    compose(
        to,
        format!("Пароль изменён — лицевой счёт {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "Пароль от личного кабинета по лицевому счёту {account} изменён, все другие сеансы завершены."
            )),
            Paragraph::Text(
                "Если это сделали не вы, немедленно восстановите пароль и сообщите в организацию.".into(),
            ),
            Paragraph::Link("Восстановить пароль", reset_url.to_string()),
        ],
    )
}

/// The link that confirms a new e-mail address, sent to that address.
pub fn email_change_confirm(
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    confirm_url: &str,
    valid_hours: i64,
) -> Email {
    compose(
        to,
        format!("Подтвердите адрес почты — лицевой счёт {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "В личном кабинете по лицевому счёту {account} указали этот адрес для писем."
            )),
            Paragraph::Link("Подтвердить адрес", confirm_url.to_string()),
            Paragraph::Text(format!(
                "Ссылка действует {valid_hours} ч. Пока адрес не подтверждён, письма приходят на прежний."
            )),
        ],
    )
}

/// The notice to the old address that the e-mail was changed.
pub fn email_changed(
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    new_masked: &str,
    reset_url: &str,
) -> Email {
    compose(
        to,
        format!("Адрес почты изменён — лицевой счёт {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "Адрес почты в личном кабинете по лицевому счёту {account} изменён на {new_masked}. Письма теперь приходят туда."
            )),
            Paragraph::Text(
                "Если это сделали не вы, восстановите пароль и обратитесь в организацию.".to_string(),
            ),
            Paragraph::Link("Восстановить пароль", reset_url.to_string()),
        ],
    )
}

/// Someone asks to see the account the recipient signs in with: they
/// proved it with the receipt, and only the recipient can let them in.
pub fn link_request(
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    asker_masked: &str,
    decide_url: &str,
    valid_days: i64,
) -> Email {
    compose(
        to,
        format!("Запрос доступа к лицевому счёту {account}"),
        org,
        &[
            Paragraph::Text(format!(
                "Пользователь с адресом почты {asker_masked} хочет видеть в своём личном кабинете ваш лицевой счёт {account}: начисления, счета, показания счётчиков и заявки. Он указал данные из квитанции."
            )),
            Paragraph::Text(format!(
                "Доступ откроется, только если вы его разрешите. Ссылка действует {valid_days} дней; ответить можно и в разделе «Настройки» личного кабинета, где видно, кто видит ваш счёт, и любой доступ можно отозвать."
            )),
            Paragraph::Link("Разрешить или отклонить", decide_url.to_string()),
            Paragraph::Text(
                "Если вы не знаете этого человека, отклоните запрос и сообщите в организацию.".to_string(),
            ),
        ],
    )
}

/// A receipt for readings the resident handed in: one line per meter zone
/// (`Холодная вода № 123: 45,6 м³`), and the period they count for.
pub fn readings_accepted(
    org: &str,
    to: &EmailAddress,
    account: &AccountNumber,
    period: &str,
    lines: &[String],
    meters_url: &str,
) -> Email {
    let mut paragraphs = vec![Paragraph::Text(format!(
        "Показания счётчиков по лицевому счёту {account} приняты. Они учитываются за {period}."
    ))];
    paragraphs.extend(lines.iter().map(|l| Paragraph::Text(l.clone())));
    paragraphs.push(Paragraph::Text(
        "До передачи в расчёт показания можно исправить, отправив их ещё раз.".to_string(),
    ));
    paragraphs.push(Paragraph::Link(
        "Счётчики в личном кабинете",
        meters_url.to_string(),
    ));
    compose(
        to,
        format!("Показания приняты — лицевой счёт {account}"),
        org,
        &paragraphs,
    )
}

/// A card payment was received: the amount per account and where to see it.
pub fn payment_received(
    org: &str,
    to: &EmailAddress,
    total: &str,
    lines: &[String],
    payments_url: &str,
) -> Email {
    let mut paragraphs = vec![Paragraph::Text(format!(
        "Мы получили ваш платёж картой на {total}."
    ))];
    paragraphs.extend(lines.iter().map(|l| Paragraph::Text(l.clone())));
    paragraphs.push(Paragraph::Text(
        "Платёж уже виден в личном кабинете. В расчётах он отразится, когда его учтёт расчётный центр. \
         Кассовый чек пришлёт платёжный сервис."
            .to_string(),
    ));
    paragraphs.push(Paragraph::Link(
        "Платежи в личном кабинете",
        payments_url.to_string(),
    ));
    compose(to, format!("Платёж получен — {total}"), org, &paragraphs)
}

/// "Your request changed": taken into work, done, declined or answered.
/// `what` says what happened; `text` is the reply or the reason, if any
/// (never an internal note).
pub fn request_update(
    org: &str,
    to: &EmailAddress,
    number: kabinet_domain::RequestId,
    what: &str,
    text: &str,
    url: &str,
) -> Email {
    let mut paragraphs = vec![Paragraph::Text(format!("Заявка № {number}: {what}."))];
    if !text.is_empty() {
        paragraphs.push(Paragraph::Text(text.to_string()));
    }
    paragraphs.push(Paragraph::Link("Заявка в личном кабинете", url.to_string()));
    compose(to, format!("Заявка № {number}: {what}"), org, &paragraphs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_password_and_escape_html() {
        let to = EmailAddress::parse("ivan@example.ru").unwrap_or_else(|e| panic!("{e}"));
        let acc = AccountNumber::parse("1001").unwrap_or_else(|e| panic!("{e}"));
        let m = registration_password(
            "УК <Север>",
            &to,
            &acc,
            "abcd-efgh-jkmn",
            72,
            "https://lk.example.ru/login",
        );
        assert!(m.text.contains("abcd-efgh-jkmn") && m.html.contains("abcd-efgh-jkmn"));
        assert!(m.text.contains("72 часов"));
        assert!(m.html.contains("УК &lt;Север&gt;") && !m.html.contains("<Север>"));
        assert!(m.subject.contains("1001"));
    }
}
