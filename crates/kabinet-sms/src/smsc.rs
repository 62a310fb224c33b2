//! SMSC.ru's HTTP API (`https://smsc.ru/api/http/`): `POST /sys/send.php`
//! and `POST /sys/status.php` with the account's `login` and `psw`,
//! `fmt=3` (JSON) and `charset=utf-8`.
//!
//! A message is sent with our own `id` (the outbox row) and `cost=3`, so
//! the answer tells the price and the balance left; an error comes as
//! `{"error": …, "error_code": N}`. Delivery statuses: -1 and 0 on the
//! way, 1 delivered, 3 and 20–25 not delivered.

use crate::{Sent, SmsError, json_of, number};
use kabinet_domain::notify::DeliveryState;
use serde_json::Value;

/// The error an SMSC `error_code` stands for (its documented codes).
pub fn error_of(code: i64, text: &str) -> SmsError {
    let what = format!("{code} {text}");
    match code {
        3 => SmsError::NoMoney(what),
        7 | 8 => SmsError::BadNumber(what),
        6 => SmsError::Refused(what),
        2 | 4 => SmsError::Auth(what),
        9 => SmsError::Throttled(what),
        _ => SmsError::Protocol(what),
    }
}

fn error_in(v: &Value) -> Option<SmsError> {
    let code = v.get("error_code").and_then(Value::as_i64)?;
    let text = v.get("error").and_then(Value::as_str).unwrap_or("");
    Some(error_of(code, text))
}

/// Sends `text` to `digits` (`79…`) as our message `reference`.
pub async fn send(
    http: &reqwest::Client,
    base_url: &str,
    (login, password): (&str, &str),
    sender: Option<&str>,
    digits: &str,
    text: &str,
    reference: i64,
) -> Result<Sent, SmsError> {
    let id = reference.to_string();
    let mut form = vec![
        ("login", login),
        ("psw", password),
        ("phones", digits),
        ("mes", text),
        ("fmt", "3"),
        ("charset", "utf-8"),
        ("cost", "3"),
        ("id", id.as_str()),
    ];
    if let Some(s) = sender {
        form.push(("sender", s));
    }
    let url = format!("{}/sys/send.php", base_url.trim_end_matches('/'));
    let v = json_of(http.post(url).form(&form).send().await).await?;
    if let Some(e) = error_in(&v) {
        return Err(e);
    }
    let Some(id) = v.get("id").and_then(|i| {
        i.as_i64()
            .map(|n| n.to_string())
            .or_else(|| i.as_str().map(str::to_string))
    }) else {
        return Err(SmsError::Protocol(format!("no id: {v}")));
    };
    Ok(Sent {
        provider_ref: id,
        cost: v.get("cost").and_then(number),
        balance: v.get("balance").and_then(number),
    })
}

/// The delivery state an SMSC status stands for.
pub fn state_of(status: i64) -> Option<DeliveryState> {
    match status {
        -1 | 0 | 2 => Some(DeliveryState::Accepted),
        1 | 4 => Some(DeliveryState::Delivered),
        3 | 20..=25 => Some(DeliveryState::Undelivered),
        _ => None,
    }
}

/// What became of message `id` sent to `digits`.
pub async fn status(
    http: &reqwest::Client,
    base_url: &str,
    (login, password): (&str, &str),
    digits: &str,
    id: &str,
) -> Result<DeliveryState, SmsError> {
    let url = format!("{}/sys/status.php", base_url.trim_end_matches('/'));
    let form = [
        ("login", login),
        ("psw", password),
        ("phone", digits),
        ("id", id),
        ("fmt", "3"),
    ];
    let v = json_of(http.post(url).form(&form).send().await).await?;
    if let Some(e) = error_in(&v) {
        return Err(e);
    }
    let code = v
        .get("status")
        .and_then(Value::as_i64)
        .ok_or_else(|| SmsError::Protocol(format!("no status: {v}")))?;
    state_of(code).ok_or_else(|| SmsError::Protocol(format!("status {code}")))
}
