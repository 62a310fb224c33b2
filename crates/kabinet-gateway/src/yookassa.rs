//! The YooKassa API v3 client: `POST /payments` with Basic auth
//! `shopId:secretKey` and an `Idempotence-Key`, `GET /payments/{id}`,
//! `POST /refunds` and `GET /refunds/{id}`.
//!
//! A 5xx, a 202 ("accepted, result unknown"), a timeout or a dropped
//! connection is retried with the **same** key, so the gateway makes one
//! payment however many times it is asked; a 4xx is final.

use crate::{Gateway, GatewayError, GatewayPayment, GatewayRefund, NewPayment, NewRefund, Receipt};
use futures::future::BoxFuture;
use kabinet_domain::refunds::RefundStatus;
use kabinet_domain::{GatewayState, Kopecks};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// YooKassa's production API.
pub const PRODUCTION_URL: &str = "https://api.yookassa.ru/v3";

/// How to reach a shop's account.
#[derive(Clone)]
pub struct YooKassaConfig {
    /// The API base, without a trailing slash (default [`PRODUCTION_URL`]).
    pub api_url: String,
    /// The shop's id.
    pub shop_id: String,
    /// The shop's secret key.
    pub secret_key: String,
    /// How long one request may take.
    pub timeout: Duration,
    /// How many times a request is sent before its outcome is called unknown.
    pub attempts: u32,
    /// The wait before the first retry; it doubles with each.
    pub retry_delay: Duration,
}

impl std::fmt::Debug for YooKassaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YooKassaConfig")
            .field("api_url", &self.api_url)
            .field("shop_id", &self.shop_id)
            .field("secret_key", &"(hidden)")
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl YooKassaConfig {
    /// A shop on the production API with the default timeouts: 3 attempts of
    /// at most 7 s each, so a resident's request ends within the web timeout.
    pub fn new(shop_id: impl Into<String>, secret_key: impl Into<String>) -> YooKassaConfig {
        YooKassaConfig {
            api_url: PRODUCTION_URL.into(),
            shop_id: shop_id.into(),
            secret_key: secret_key.into(),
            timeout: Duration::from_secs(7),
            attempts: 3,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// The YooKassa provider.
pub struct YooKassa {
    http: reqwest::Client,
    config: YooKassaConfig,
}

impl YooKassa {
    /// A client for `config`.
    pub fn new(config: YooKassaConfig) -> Result<YooKassa, GatewayError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        Ok(YooKassa { http, config })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_url.trim_end_matches('/'))
    }

    /// Sends a request built by `build` until it gets a final answer: a 2xx
    /// other than 202 (parsed), a 4xx other than 429 (refused); retries the
    /// rest with a doubling delay. A 202 (`"type": "processing"`) is retried
    /// after its `retry_after` (milliseconds, at most [`MAX_RETRY_AFTER`]); a
    /// 429 means "too many requests", never that the payment failed, so it
    /// ends as unavailable and the payment is asked about again later.
    async fn send<T>(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        parse: fn(&[u8]) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        let mut delay = self.config.retry_delay;
        let mut last = String::new();
        let mut asked_wait: Option<Duration> = None;
        for attempt in 1..=self.config.attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(asked_wait.take().unwrap_or(delay)).await;
                delay *= 2;
            }
            let response = build()
                .basic_auth(&self.config.shop_id, Some(&self.config.secret_key))
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    last = e.without_url().to_string();
                    tracing::warn!(attempt, error = %last, "YooKassa did not answer");
                    continue;
                }
            };
            let status = response.status();
            let body = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    last = e.without_url().to_string();
                    continue;
                }
            };
            if status.as_u16() == 202 {
                asked_wait = retry_after(&body);
            }
            if status.as_u16() == 202 || status.as_u16() == 429 || status.is_server_error() {
                last = format!("HTTP {status}");
                tracing::warn!(attempt, %status, "YooKassa answered without a result");
                continue;
            }
            if status.as_u16() == 404 {
                return Err(GatewayError::NotFound);
            }
            if status.is_client_error() {
                return Err(GatewayError::Refused {
                    status: status.as_u16(),
                    message: error_description(&body),
                });
            }
            if !status.is_success() {
                return Err(GatewayError::Malformed(format!("HTTP {status}")));
            }
            return parse(&body);
        }
        Err(GatewayError::Unavailable(last))
    }
}

impl Gateway for YooKassa {
    fn name(&self) -> &'static str {
        "yookassa"
    }

    fn page_origins(&self) -> &'static [&'static str] {
        &["https://yoomoney.ru"]
    }

    fn create<'a>(&'a self, p: &'a NewPayment) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>> {
        Box::pin(async move {
            let body = create_body(p);
            self.send(
                || {
                    self.http
                        .post(self.url("/payments"))
                        .header("Idempotence-Key", &p.idempotence_key)
                        .json(&body)
                },
                parse_payment,
            )
            .await
        })
    }

    fn refund<'a>(&'a self, r: &'a NewRefund) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>> {
        Box::pin(async move {
            let body = refund_body(r);
            self.send(
                || {
                    self.http
                        .post(self.url("/refunds"))
                        .header("Idempotence-Key", &r.idempotence_key)
                        .json(&body)
                },
                parse_refund,
            )
            .await
        })
    }

    fn get_refund<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>> {
        Box::pin(async move {
            if !safe_id(id) {
                return Err(GatewayError::NotFound);
            }
            self.send(
                || self.http.get(self.url(&format!("/refunds/{id}"))),
                parse_refund,
            )
            .await
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>> {
        Box::pin(async move {
            if !safe_id(id) {
                return Err(GatewayError::NotFound);
            }
            self.send(
                || self.http.get(self.url(&format!("/payments/{id}"))),
                parse_payment,
            )
            .await
        })
    }
}

/// The addresses YooKassa sends notifications from, as its documentation
/// publishes them; the default allow-list when none is configured.
pub const NOTIFICATION_SOURCES: &[&str] = &[
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
];

/// The longest wait a 202's `retry_after` is honoured with inside one call;
/// a longer one ends the call as unavailable (reconciliation asks later).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The `retry_after` of a 202 answer (`{"type":"processing","retry_after":1800}`,
/// milliseconds), capped at [`MAX_RETRY_AFTER`].
fn retry_after(body: &[u8]) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let ms = v.get("retry_after")?.as_u64()?;
    Some(Duration::from_millis(ms).min(MAX_RETRY_AFTER))
}

/// An id safe to put in a path.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The documented values of a receipt line's `payment_subject`.
pub const PAYMENT_SUBJECTS: &[&str] = &[
    "commodity",
    "excise",
    "job",
    "service",
    "gambling_bet",
    "gambling_prize",
    "lottery",
    "lottery_prize",
    "intellectual_activity",
    "payment",
    "agent_commission",
    "property_right",
    "non_operating_gain",
    "insurance_premium",
    "sales_tax",
    "resort_fee",
    "composite",
    "another",
    "fine",
    "tax",
    "lien",
    "cost",
    "pension_insurance_without_payouts",
    "pension_insurance_with_payouts",
    "health_insurance_without_payouts",
    "health_insurance_with_payouts",
    "health_insurance",
    "casino",
    "agent_withdrawals",
    "non_marked_excise",
    "marked_excise",
    "marked",
    "non_marked",
];

/// The documented values of a receipt line's `payment_mode`.
pub const PAYMENT_MODES: &[&str] = &[
    "full_prepayment",
    "partial_prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
];

/// The documented values of a receipt line's `measure` (ФФД 1.2).
pub const MEASURES: &[&str] = &[
    "piece",
    "gram",
    "kilogram",
    "ton",
    "centimeter",
    "decimeter",
    "meter",
    "square_centimeter",
    "square_decimeter",
    "square_meter",
    "milliliter",
    "liter",
    "cubic_meter",
    "kilowatt_hour",
    "gigacalorie",
    "day",
    "hour",
    "minute",
    "second",
    "kilobyte",
    "megabyte",
    "gigabyte",
    "terabyte",
    "another",
];

/// The documented VAT codes (1: no VAT … 12: 22/122).
pub const VAT_CODES: std::ops::RangeInclusive<u8> = 1..=12;

/// The documented tax system codes (1: ОСН … 6: ПСН).
pub const TAX_SYSTEM_CODES: std::ops::RangeInclusive<u8> = 1..=6;

/// A receipt as the API takes it.
fn receipt_json(r: &Receipt) -> serde_json::Value {
    let mut customer = serde_json::Map::new();
    if let Some(e) = &r.email {
        customer.insert("email".into(), json!(e));
    }
    if let Some(ph) = &r.phone {
        customer.insert("phone".into(), json!(ph));
    }
    let items: Vec<serde_json::Value> = r
        .items
        .iter()
        .map(|i| {
            json!({
                "description": truncate(&i.description, 128),
                "quantity": "1.00",
                "measure": i.measure,
                "amount": { "value": i.amount.to_decimal_string(), "currency": "RUB" },
                "vat_code": i.vat_code,
                "payment_subject": i.payment_subject,
                "payment_mode": i.payment_mode,
            })
        })
        .collect();
    let mut receipt = json!({ "customer": customer, "items": items });
    if let Some(t) = r.tax_system_code {
        receipt["tax_system_code"] = json!(t);
    }
    receipt
}

/// The body of `POST /payments`.
pub fn create_body(p: &NewPayment) -> serde_json::Value {
    let mut body = json!({
        "amount": { "value": p.amount.to_decimal_string(), "currency": "RUB" },
        "capture": true,
        "description": truncate(&p.description, 128),
        "metadata": { "payment": p.reference },
    });
    match &p.payment_method_id {
        // A kept method pays without the payer: no page to confirm on.
        Some(id) => body["payment_method_id"] = json!(id),
        None => {
            body["confirmation"] = json!({ "type": "redirect", "return_url": p.return_url });
            if let Some(m) = p.method {
                body["payment_method_data"] = json!({ "type": m.as_str() });
            }
            if p.save_method {
                body["save_payment_method"] = json!(true);
            }
        }
    }
    if let Some(r) = &p.receipt {
        body["receipt"] = receipt_json(r);
    }
    body
}

/// The body of `POST /refunds`.
pub fn refund_body(r: &NewRefund) -> serde_json::Value {
    let mut body = json!({
        "payment_id": r.payment_id,
        "amount": { "value": r.amount.to_decimal_string(), "currency": "RUB" },
        "description": truncate(&r.description, 250),
    });
    if let Some(receipt) = &r.receipt {
        body["receipt"] = receipt_json(receipt);
    }
    body
}

/// An amount object (`{"value": "10.00", "currency": "RUB"}`).
#[derive(Deserialize)]
struct Amount {
    value: String,
    currency: String,
}

impl Amount {
    /// The amount in roubles, at least `min`.
    fn rubles(&self, min: Kopecks) -> Result<Kopecks, GatewayError> {
        if self.currency != "RUB" {
            return Err(GatewayError::Malformed(format!("currency {:?}", self.currency)));
        }
        Kopecks::parse(&self.value)
            .ok()
            .filter(|k| *k >= min)
            .ok_or_else(|| GatewayError::Malformed(format!("amount {:?}", self.value)))
    }
}

/// `cancellation_details`, kept as `party: reason`.
#[derive(Deserialize)]
struct Cancellation {
    #[serde(default)]
    party: String,
    #[serde(default)]
    reason: String,
}

impl Cancellation {
    fn text(&self) -> String {
        format!("{}: {}", self.party, self.reason)
    }
}

/// Reads a refund object of YooKassa's API.
pub fn parse_refund(body: &[u8]) -> Result<GatewayRefund, GatewayError> {
    #[derive(Deserialize)]
    struct Refund {
        id: String,
        payment_id: String,
        status: String,
        amount: Amount,
        #[serde(default)]
        cancellation_details: Option<Cancellation>,
    }
    let r: Refund = serde_json::from_slice(body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
    let state = match r.status.as_str() {
        "pending" => RefundStatus::Pending,
        "succeeded" => RefundStatus::Succeeded,
        "canceled" => RefundStatus::Canceled,
        other => return Err(GatewayError::Malformed(format!("refund status {other:?}"))),
    };
    let amount = r.amount.rubles(Kopecks(1))?;
    Ok(GatewayRefund {
        id: r.id,
        payment_id: r.payment_id,
        state,
        amount,
        cancellation: r.cancellation_details.as_ref().map(Cancellation::text),
    })
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn error_description(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct E {
        #[serde(default)]
        code: String,
        #[serde(default)]
        description: String,
    }
    match serde_json::from_slice::<E>(body) {
        Ok(e) => format!("{}: {}", e.code, e.description),
        Err(_) => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

/// Reads a payment object of YooKassa's API.
pub fn parse_payment(body: &[u8]) -> Result<GatewayPayment, GatewayError> {
    #[derive(Deserialize)]
    struct Confirmation {
        #[serde(default)]
        confirmation_url: Option<String>,
    }
    #[derive(Deserialize)]
    struct Card {
        #[serde(default)]
        last4: String,
        #[serde(default)]
        card_type: String,
    }
    #[derive(Deserialize)]
    struct Method {
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        saved: bool,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        card: Option<Card>,
    }
    #[derive(Deserialize)]
    struct Payment {
        id: String,
        status: String,
        amount: Amount,
        #[serde(default)]
        confirmation: Option<Confirmation>,
        #[serde(default)]
        metadata: Option<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        payment_method: Option<Method>,
        #[serde(default)]
        cancellation_details: Option<Cancellation>,
        #[serde(default)]
        test: bool,
        #[serde(default)]
        captured_at: Option<String>,
    }
    let p: Payment = serde_json::from_slice(body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
    let state = match p.status.as_str() {
        "pending" => GatewayState::Pending,
        "waiting_for_capture" => GatewayState::WaitingForCapture,
        "succeeded" => GatewayState::Succeeded,
        "canceled" => GatewayState::Canceled,
        other => return Err(GatewayError::Malformed(format!("status {other:?}"))),
    };
    let amount = p.amount.rubles(Kopecks::ZERO)?;
    Ok(GatewayPayment {
        id: p.id,
        state,
        amount,
        reference: p
            .metadata
            .and_then(|m| m.get("payment").and_then(|v| v.as_str()).map(str::to_string)),
        confirmation_url: p.confirmation.and_then(|c| c.confirmation_url),
        method: p.payment_method.as_ref().and_then(|m| m.kind.clone()),
        saved_method: p.payment_method.as_ref().filter(|m| m.saved).and_then(|m| {
            let card = m
                .card
                .as_ref()
                .map(|c| format!("{} *{}", c.card_type, c.last4).trim().to_string());
            Some(crate::SavedMethod {
                id: m.id.clone()?,
                title: card.or_else(|| m.title.clone()).unwrap_or_else(|| "SBP".into()),
            })
        }),
        card: p
            .payment_method
            .and_then(|m| m.card)
            .map(|c| format!("{} *{}", c.card_type, c.last4).trim().to_string()),
        cancellation: p.cancellation_details.as_ref().map(Cancellation::text),
        test: p.test,
        captured_at: p.captured_at.as_deref().and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Receipt, ReceiptItem};

    #[test]
    fn the_create_body_has_what_the_api_asks_for() {
        let p = NewPayment {
            amount: Kopecks(123_456),
            description: "Оплата по счёту".into(),
            return_url: "https://lk.example/payments/card/x".into(),
            idempotence_key: "k".into(),
            reference: "x".into(),
            method: Some(kabinet_domain::payment_methods::PayMethod::Sbp),
            save_method: true,
            payment_method_id: None,
            receipt: Some(Receipt {
                email: Some("a@b.ru".into()),
                phone: None,
                tax_system_code: Some(2),
                items: vec![ReceiptItem {
                    description: "ЛС 100".into(),
                    amount: Kopecks(123_456),
                    vat_code: 1,
                    payment_subject: "service".into(),
                    payment_mode: "full_payment".into(),
                    measure: "piece".into(),
                }],
            }),
        };
        let b = create_body(&p);
        assert_eq!(b["amount"]["value"], "1234.56");
        assert_eq!(b["capture"], true);
        assert_eq!(b["confirmation"]["type"], "redirect");
        assert_eq!(b["metadata"]["payment"], "x");
        assert_eq!(b["receipt"]["customer"]["email"], "a@b.ru");
        assert_eq!(b["receipt"]["items"][0]["amount"]["value"], "1234.56");
        assert_eq!(b["receipt"]["items"][0]["vat_code"], 1);
        assert_eq!(b["receipt"]["items"][0]["measure"], "piece");
        assert_eq!(b["receipt"]["tax_system_code"], 2);
        assert_eq!(b["payment_method_data"]["type"], "sbp");
        assert_eq!(b["save_payment_method"], true);
        let kept = create_body(&NewPayment {
            payment_method_id: Some("pm-1".into()),
            ..p.clone()
        });
        assert_eq!(kept["payment_method_id"], "pm-1");
        assert!(kept.get("confirmation").is_none() && kept.get("payment_method_data").is_none());
        let bare = create_body(&NewPayment {
            method: None,
            receipt: None,
            ..p
        });
        assert!(bare.get("receipt").is_none() && bare.get("payment_method_data").is_none());
    }

    #[test]
    fn refunds_are_read_strictly() {
        let ok = br#"{"id":"r1","payment_id":"p1","status":"succeeded","amount":{"value":"5.00","currency":"RUB"}}"#;
        let r = parse_refund(ok).unwrap();
        assert_eq!((r.state, r.amount), (RefundStatus::Succeeded, Kopecks(500)));
        let canceled =
            br#"{"id":"r1","payment_id":"p1","status":"canceled","amount":{"value":"5.00","currency":"RUB"},
            "cancellation_details":{"party":"yoo_money","reason":"insufficient_funds"}}"#;
        assert_eq!(
            parse_refund(canceled).unwrap().cancellation.as_deref(),
            Some("yoo_money: insufficient_funds")
        );
        assert!(parse_refund(br#"{"id":"r1","payment_id":"p1","status":"done","amount":{"value":"5.00","currency":"RUB"}}"#).is_err());
    }

    #[test]
    fn payments_are_read_strictly() {
        let ok = br#"{"id":"2f","status":"succeeded","paid":true,"amount":{"value":"10.00","currency":"RUB"},
            "metadata":{"payment":"abc"},"payment_method":{"type":"bank_card","card":{"last4":"4444","card_type":"MasterCard"}}}"#;
        let p = parse_payment(ok).unwrap();
        assert_eq!(p.state, GatewayState::Succeeded);
        assert_eq!(p.amount, Kopecks(1000));
        assert_eq!(p.reference.as_deref(), Some("abc"));
        assert_eq!(p.card.as_deref(), Some("MasterCard *4444"));
        let usd = br#"{"id":"2f","status":"succeeded","amount":{"value":"10.00","currency":"USD"}}"#;
        assert!(parse_payment(usd).is_err());
        let odd = br#"{"id":"2f","status":"paid","amount":{"value":"10.00","currency":"RUB"}}"#;
        assert!(parse_payment(odd).is_err());
        assert!(!p.test && p.captured_at.is_none());
        let test = br#"{"id":"2f","status":"succeeded","test":true,"captured_at":"2026-11-30T21:30:00.000Z",
            "amount":{"value":"10.00","currency":"RUB"}}"#;
        let t = parse_payment(test).unwrap();
        assert!(t.test);
        assert_eq!(
            t.captured_at.map(|c| c.unix_timestamp()),
            Some(time::macros::datetime!(2026-11-30 21:30 UTC).unix_timestamp())
        );
    }

    #[test]
    fn a_202_says_how_long_to_wait() {
        assert_eq!(
            retry_after(br#"{"type":"processing","retry_after":1800}"#),
            Some(Duration::from_millis(1800))
        );
        assert_eq!(retry_after(br#"{"retry_after":3600000}"#), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(b"{}"), None);
    }
}
