//! English for the messages the use cases and the HTTP layer write in
//! Russian (field errors, error pages, problem documents). Keyed by the
//! Russian text, gettext-style: the use cases stay free of presentation, and
//! a message missing here is shown in Russian rather than not at all.

/// The English of a Russian message, if known. A trailing period and the
/// first letter's case are ignored when looking it up.
pub(crate) fn english(ru: &str) -> Option<&'static str> {
    let key = ru.trim().trim_end_matches('.');
    let lower = crate::http::errors::lowercase_first(key);
    MESSAGES.iter().find(|(r, _)| *r == lower).map(|(_, en)| *en)
}

const MESSAGES: &[(&str, &str)] = &[
    (
        "сегодня вы уже отправили 10 заявок — это предел на день. Если случилась авария, позвоните в аварийно-диспетчерскую службу",
        "you have sent 10 requests today — that is the limit for a day. In an emergency, call the emergency dispatch service",
    ),
    (
        "такую заявку вы сегодня уже отправили дважды — она у нас есть. Новые сообщения по ней можно написать в самой заявке",
        "you have sent this request twice today — we have it. Write anything new in the request itself",
    ),
    (
        "файлы слишком большие: не больше 5 фотографий по 10 МБ",
        "the files are too large: at most 5 photos of 10 MB each",
    ),
    (
        "срок действия временного пароля истёк — попросите администратора выдать новый",
        "the one-time password has expired — ask an administrator for a new one",
    ),
    (
        "показания отправляются слишком часто — подождите минуту и отправьте снова",
        "readings are being sent too often — wait a minute and send them again",
    ),
    (
        "сообщения отправляются слишком часто — подождите минуту",
        "messages are being sent too often — wait a minute",
    ),
    (
        "слишком много сообщений за минуту — подождите немного",
        "too many messages in a minute — wait a little",
    ),
    (
        "нулевая сумма не подтверждает лицевой счёт — укажите сумму к оплате из квитанции с начислениями, а если она нулевая, обратитесь в организацию с документом на квартиру",
        "a zero amount does not prove an account — enter the amount due from a receipt with charges; if it is zero, contact the organization with a document for the flat",
    ),
    (
        "слишком много неудачных попыток привязать лицевой счёт за сутки — попробуйте завтра или обратитесь в организацию",
        "too many failed attempts to link an account today — try again tomorrow or contact the organization",
    ),
    (
        "сейчас обрабатывается слишком много фотографий — отправьте заявку ещё раз через минуту",
        "too many photos are being processed right now — send the request again in a minute",
    ),
    (
        "заявки отправляются слишком часто — подождите минуту. Если случилась авария, позвоните в аварийно-диспетчерскую службу",
        "requests are being sent too often — wait a minute. In an emergency, call the emergency dispatch service",
    ),
    (
        "оплата картой в личном кабинете не подключена — оплатите по QR-коду на квитанции в приложении своего банка",
        "card payment is not set up in this portal — pay with your bank's app by scanning the QR code on the receipt",
    ),
    // Domain values.
    (
        "укажите номер лицевого счёта",
        "enter your personal account number",
    ),
    (
        "номер лицевого счёта слишком длинный",
        "the account number is too long",
    ),
    (
        "номер лицевого счёта может содержать только буквы, цифры и знаки - / _ ",
        "an account number holds only letters, digits and - / _ .",
    ),
    ("укажите адрес электронной почты", "enter an e-mail address"),
    (
        "адрес электронной почты указан неверно, например: ivanov@example.ru",
        "the e-mail address is not valid, e.g. ivanov@example.ru",
    ),
    (
        "пароль должен содержать не меньше 8 символов",
        "the password must be at least 8 characters long",
    ),
    (
        "пароль должен содержать не больше 128 символов",
        "the password must be at most 128 characters long",
    ),
    (
        "этот пароль слишком распространён, его легко подобрать — выберите другой",
        "this password is too common and easy to guess — choose another",
    ),
    (
        "пароль не должен совпадать с номером лицевого счёта или адресом электронной почты",
        "the password must differ from the account number and the e-mail address",
    ),
    ("пароли не совпадают", "the passwords do not match"),
    ("сумма не указана", "enter the amount"),
    (
        "сумма должна быть числом, например 1234,56",
        "the amount must be a number, e.g. 1234.56",
    ),
    (
        "в сумме не может быть больше двух знаков после запятой",
        "an amount has at most two digits after the decimal point",
    ),
    ("сумма слишком велика", "the amount is too large"),
    (
        "укажите серию и номер паспорта",
        "enter the passport series and number",
    ),
    (
        "серия и номер паспорта — это 10 цифр, например 28 15 123456",
        "the passport series and number are 10 digits, e.g. 28 15 123456",
    ),
    (
        "период должен быть указан как ГГГГ-ММ или ММ.ГГГГ, например 2026-10",
        "a month is written as YYYY-MM or MM.YYYY, e.g. 2026-10",
    ),
    ("такого месяца нет", "there is no such month"),
    (
        "номер телефона указан неверно, например: +7 912 345-67-89",
        "the phone number is not valid, e.g. +7 912 345-67-89",
    ),
    // Use cases.
    ("проверьте заполнение формы", "please check the form"),
    ("проверьте заполнение полей", "please check the fields"),
    (
        "неверный номер лицевого счёта или пароль. После нескольких неудачных попыток вход временно ограничивается — подождите и попробуйте снова",
        "wrong account number or password. After several failed attempts signing in is paused for a while — wait and try again",
    ),
    (
        "срок действия временного пароля истёк — восстановите пароль, и мы пришлём ссылку на почту",
        "the one-time password has expired — reset your password and we will e-mail you a link",
    ),
    (
        "ссылка для восстановления пароля недействительна или устарела — запросите новую",
        "the link is invalid or has expired — ask for a new one",
    ),
    (
        "правила изменились — прочитайте действующую редакцию",
        "the Rules have changed — read the version in force",
    ),
    ("сначала задайте свой пароль", "set your own password first"),
    ("не найдено", "not found"),
    (
        "чтобы зарегистрироваться, примите правила пользования личным кабинетом",
        "to register, accept the Rules of the portal",
    ),
    (
        "нужно согласие на получение информационных сообщений",
        "consent to informational messages is required",
    ),
    ("текущий пароль указан неверно", "the current password is wrong"),
    ("пароль указан неверно", "the password is wrong"),
    ("это и есть ваш текущий адрес", "this is already your address"),
    (
        "лицевой счёт, с которым вы входите, убрать нельзя",
        "the account you sign in with cannot be removed",
    ),
    (
        "лицевой счёт и проверочное значение не подходят друг к другу — проверьте номер и значение по последней квитанции",
        "the account number and the check value do not match — check both against your latest receipt",
    ),
    (
        "последний месяц раньше первого — поменяйте их местами",
        "the last month is before the first — swap them",
    ),
    (
        "можно выбрать не больше 60 месяцев сразу",
        "choose at most 60 months at once",
    ),
    (
        "такого языка нет — выберите русский или английский",
        "no such language — choose Russian or English",
    ),
    ("неизвестный вид уведомлений", "unknown kind of notification"),
    // HTTP layer.
    ("страница не найдена", "page not found"),
    (
        "сервис временно недоступен",
        "the service is temporarily unavailable",
    ),
    (
        "внутренняя ошибка, попробуйте позже",
        "internal error, please try later",
    ),
    (
        "форма устарела или отправлена с другого сайта. Обновите страницу и попробуйте снова",
        "the form has expired or was sent from another site. Reload the page and try again",
    ),
    (
        "слишком много запросов с вашего адреса. Подождите минуту и попробуйте снова",
        "too many requests from your address. Wait a minute and try again",
    ),
    ("нужно войти в личный кабинет", "please sign in"),
    ("форма заполнена неверно", "the form is not filled in correctly"),
    (
        "запрос не разобран: проверьте адрес и переданные данные",
        "the request could not be understood: check the address and the data",
    ),
    ("доступ запрещён", "access denied"),
    (
        "слишком много платежей за последний час — подождите немного и попробуйте снова",
        "too many payments in the last hour: wait a little and try again",
    ),
    (
        "этот метод запроса здесь не поддерживается",
        "this request method is not supported here",
    ),
    (
        "ответ в запрошенном формате недоступен",
        "no answer in the requested format",
    ),
    (
        "запрос передавался слишком долго",
        "the request took too long to arrive",
    ),
    (
        "запрос слишком большой: не больше 2 МБ",
        "the request is too large: at most 2 MB",
    ),
    ("адрес запроса слишком длинный", "the address is too long"),
    (
        "неподдерживаемый формат данных: для API нужен Content-Type: application/json",
        "unsupported data format: the API needs Content-Type: application/json",
    ),
    (
        "данные запроса не разобраны",
        "the request data could not be understood",
    ),
    (
        "слишком много запросов. Подождите минуту и попробуйте снова",
        "too many requests. Wait a minute and try again",
    ),
    (
        "сервис не ответил вовремя или временно недоступен. Попробуйте позже",
        "the service did not answer in time or is unavailable. Please try later",
    ),
    (
        "внутренняя ошибка. Попробуйте позже",
        "internal error. Please try later",
    ),
    ("запрос не выполнен", "the request failed"),
    (
        "квитанция за этот период не найдена. Квитанции есть только за периоды, за которые выставлен счёт",
        "no receipt for this month. Receipts exist only for months with an invoice",
    ),
    ("квитанция за этот период не найдена", "no receipt for this month"),
    ("счёт за этот период не найден", "no invoice for this month"),
    (
        "такой редакции правил нет",
        "there is no such version of the Rules",
    ),
    (
        "правила ещё не опубликованы",
        "the Rules have not been published yet",
    ),
    (
        "сначала задайте свой пароль: POST /api/v1/auth/password",
        "set your own password first: POST /api/v1/auth/password",
    ),
    (
        "правила изменились: примите их, POST /api/v1/rules/accept",
        "the Rules have changed: accept them, POST /api/v1/rules/accept",
    ),
    (
        "нужен заголовок Content-Type: application/json",
        "the Content-Type: application/json header is required",
    ),
    ("тело запроса больше 2 МБ", "the request body is larger than 2 MB"),
    ("тело запроса не прочитано", "the request body could not be read"),
    (
        "тело запроса должно быть объектом JSON",
        "the request body must be a JSON object",
    ),
    (
        "слишком много писем за последний час — попробуйте позже",
        "too many e-mails in the last hour — try again later",
    ),
    (
        "за выбранные месяцы начислений нет",
        "there are no charges for the chosen months",
    ),
    (
        "ссылка для подтверждения отправлена на новый адрес",
        "a confirmation link was sent to the new address",
    ),
    (
        "если данные совпали с данными лицевого счёта, временный пароль отправлен на указанную почту",
        "if the details matched the account, a one-time password was sent to the e-mail given",
    ),
    (
        "если к лицевому счёту привязан пользователь, ссылка для смены пароля отправлена на его почту",
        "if the account has a user, a link to set a new password was sent to their e-mail",
    ),
    // Card payments.
    (
        "платёжный сервис отклонил платёж — попробуйте другую сумму или повторите позже",
        "the payment service refused the payment: try another amount or again later",
    ),
    (
        "платёжный сервис сейчас не отвечает — попробуйте через несколько минут. Если деньги всё же списались, платёж зачтётся автоматически",
        "the payment service is not answering: try again in a few minutes. Should money have been taken, the payment is credited automatically",
    ),
    (
        "укажите сумму хотя бы для одного лицевого счёта",
        "enter an amount for at least one account",
    ),
    (
        "не больше 20 лицевых счетов в одном платеже",
        "at most 20 accounts in one payment",
    ),
    ("доступ запрещён", "access denied"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_the_domain_have_english() {
        use kabinet_domain as d;
        let samples = [
            d::AccountNumber::parse("").err().map(|e| e.to_string()),
            d::EmailAddress::parse("x").err().map(|e| e.to_string()),
            d::Kopecks::parse("abc").err().map(|e| e.to_string()),
            d::Passport::parse("12").err().map(|e| e.to_string()),
            d::Period::parse("2026-13").err().map(|e| e.to_string()),
            d::Phone::parse("1").err().map(|e| e.to_string()),
            d::NewPassword::parse("short", &[]).err().map(|e| e.to_string()),
        ];
        for s in samples.into_iter().flatten() {
            assert!(english(&s).is_some(), "no English for {s:?}");
        }
        assert_eq!(english("Страница не найдена."), Some("page not found"));
        assert_eq!(
            english(
                "Если к лицевому счёту привязан пользователь, ссылка для смены пароля отправлена на его почту."
            ),
            Some("if the account has a user, a link to set a new password was sent to their e-mail")
        );
        assert!(english(kabinet_app::auth::profile::LINK_REFUSED).is_some());
    }
}
