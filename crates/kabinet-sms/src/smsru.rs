//! SMS.ru's HTTP API (`https://sms.ru/api`): `POST /sms/send` and
//! `POST /sms/status` with the account's `api_id` and `json=1`.
//!
//! The answer carries a request-wide `status`/`status_code` (100 is OK)
//! and one entry per number under `sms`, each with its own code and the
//! message's `sms_id`. Delivery statuses: 100–102 on the way, 103
//! delivered, 104–108 and 150 not delivered.

use crate::{Sent, SmsError, json_of, number};
use kabinet_domain::notify::DeliveryState;
use serde_json::Value;

/// The error a request-wide or per-number code stands for (SMS.ru's
/// documented codes; any other is kept with its text).
pub fn error_of(code: i64, text: &str) -> SmsError {
    let what = format!("{code} {text}");
    match code {
        201 => SmsError::NoMoney(what),
        202 | 207 | 209 | 150 => SmsError::BadNumber(what),
        203 | 204 | 205 | 208 => SmsError::Refused(what),
        200 | 300 | 301 | 302 | 303 | 304 => SmsError::Auth(what),
        206 | 230 | 231 | 232 | 233 => SmsError::Throttled(what),
        220 | 500 | 501 | 502 | 503 => SmsError::Unavailable(what),
        _ => SmsError::Protocol(what),
    }
}

fn code_of(v: &Value) -> i64 {
    v.get("status_code").and_then(Value::as_i64).unwrap_or(0)
}

fn text_of(v: &Value) -> String {
    v.get("status_text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Sends `text` to `digits` (`79…`).
pub async fn send(
    http: &reqwest::Client,
    base_url: &str,
    api_id: &str,
    sender: Option<&str>,
    digits: &str,
    text: &str,
) -> Result<Sent, SmsError> {
    let mut form = vec![("api_id", api_id), ("to", digits), ("msg", text), ("json", "1")];
    if let Some(s) = sender {
        form.push(("from", s));
    }
    let url = format!("{}/sms/send", base_url.trim_end_matches('/'));
    let v = json_of(http.post(url).form(&form).send().await).await?;
    if v.get("status").and_then(Value::as_str) != Some("OK") {
        return Err(error_of(code_of(&v), &text_of(&v)));
    }
    let Some(one) = v.get("sms").and_then(|s| s.get(digits)) else {
        return Err(SmsError::Protocol(format!("no entry for the number: {v}")));
    };
    if one.get("status").and_then(Value::as_str) != Some("OK") {
        return Err(error_of(code_of(one), &text_of(one)));
    }
    let Some(id) = one.get("sms_id").and_then(Value::as_str) else {
        return Err(SmsError::Protocol(format!("no sms_id: {v}")));
    };
    Ok(Sent {
        provider_ref: id.to_string(),
        cost: one.get("cost").and_then(number),
        balance: v.get("balance").and_then(number),
    })
}

/// The delivery state an SMS.ru status code stands for.
pub fn state_of(code: i64) -> Option<DeliveryState> {
    match code {
        100..=102 => Some(DeliveryState::Accepted),
        103 | 110 => Some(DeliveryState::Delivered),
        104..=108 | 150 => Some(DeliveryState::Undelivered),
        _ => None,
    }
}

/// What became of message `id`.
pub async fn status(
    http: &reqwest::Client,
    base_url: &str,
    api_id: &str,
    id: &str,
) -> Result<DeliveryState, SmsError> {
    let url = format!("{}/sms/status", base_url.trim_end_matches('/'));
    let form = [("api_id", api_id), ("sms_id", id), ("json", "1")];
    let v = json_of(http.post(url).form(&form).send().await).await?;
    if v.get("status").and_then(Value::as_str) != Some("OK") {
        return Err(error_of(code_of(&v), &text_of(&v)));
    }
    let Some(one) = v.get("sms").and_then(|s| s.get(id)) else {
        return Err(SmsError::Protocol(format!("no entry for the message: {v}")));
    };
    let code = code_of(one);
    state_of(code).ok_or_else(|| error_of(code, &text_of(one)))
}
