//! A local imitation of YooKassa's API v3 for tests: `POST /v3/payments` and
//! `GET /v3/payments/{id}` with the request and response shapes of YooKassa's
//! documentation. It checks what the real API checks (Basic auth, the
//! `Idempotence-Key`, amounts written `"1234.56"`, a 54-ФЗ receipt whose
//! lines add up) and can misbehave on demand: answer 500 after creating a
//! payment, or answer only after the client gave up.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kabinet_domain::{GatewayState, Kopecks};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A payment the fake holds.
#[derive(Debug, Clone)]
pub struct FakePayment {
    /// Its id.
    pub id: String,
    /// The idempotence key it was created with.
    pub key: String,
    /// The caller's reference (`metadata.payment`).
    pub reference: String,
    /// The amount.
    pub amount: Kopecks,
    /// Its state.
    pub state: GatewayState,
    /// The request body it was created from.
    pub request: Value,
    /// When the money was taken (set when it succeeds).
    pub captured_at: Option<time::OffsetDateTime>,
}

#[derive(Default)]
struct Book {
    payments: Vec<FakePayment>,
    by_key: HashMap<String, usize>,
    fail_next: u32,
    hang_next: u32,
    hang_for: Duration,
    lose_next: u32,
    create_calls: u64,
    rejected: Vec<String>,
    test_mode: bool,
    throttle_next: u32,
}

struct Shared {
    shop_id: String,
    secret: String,
    book: Mutex<Book>,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        // A test that panicked while holding the lock has failed already.
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The fake, serving on a local port until dropped with its runtime.
#[derive(Clone)]
pub struct FakeYooKassa {
    url: String,
    shared: Arc<Shared>,
}

impl FakeYooKassa {
    /// Starts the fake on 127.0.0.1 for a shop with these credentials.
    pub async fn start(shop_id: &str, secret: &str) -> std::io::Result<FakeYooKassa> {
        let shared = Arc::new(Shared {
            shop_id: shop_id.into(),
            secret: secret.into(),
            book: Mutex::new(Book::default()),
        });
        let app = axum::Router::new()
            .route("/v3/payments", post(create))
            .route("/v3/payments/{id}", get(read))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/v3", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeYooKassa { url, shared })
    }

    /// The API base URL to configure the client with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next `n` creates make the payment and then answer 500.
    pub fn fail_next_creates(&self, n: u32) {
        self.shared.book().fail_next = n;
    }

    /// The next `n` creates make the payment and answer only after `wait`
    /// (longer than the client's timeout: the caller never hears back).
    pub fn hang_next_creates(&self, n: u32, wait: Duration) {
        let mut b = self.shared.book();
        b.hang_next = n;
        b.hang_for = wait;
    }

    /// The next `n` creates are dropped before anything is made (the
    /// connection hangs until the client gives up).
    pub fn lose_next_creates(&self, n: u32, wait: Duration) {
        let mut b = self.shared.book();
        b.lose_next = n;
        b.hang_for = wait;
    }

    /// Payments are made in the shop's test mode (`"test": true`) from now on.
    pub fn test_mode(&self, on: bool) {
        self.shared.book().test_mode = on;
    }

    /// The next `n` requests of any kind are answered 429 (too many requests).
    pub fn throttle_next(&self, n: u32) {
        self.shared.book().throttle_next = n;
    }

    /// Every payment made, in order.
    pub fn payments(&self) -> Vec<FakePayment> {
        self.shared.book().payments.clone()
    }

    /// The payment made for `reference`, if any.
    pub fn by_reference(&self, reference: &str) -> Option<FakePayment> {
        self.shared
            .book()
            .payments
            .iter()
            .find(|p| p.reference == reference)
            .cloned()
    }

    /// How many create requests arrived (retries included).
    pub fn create_calls(&self) -> u64 {
        self.shared.book().create_calls
    }

    /// Why requests were refused, for a test to show.
    pub fn rejections(&self) -> Vec<String> {
        self.shared.book().rejected.clone()
    }

    /// Moves a pending payment to `state`, as the payer or the bank would;
    /// a payment already settled stays as it is. Returns its state after.
    pub fn settle(&self, id: &str, state: GatewayState) -> Option<GatewayState> {
        let mut b = self.shared.book();
        let p = b.payments.iter_mut().find(|p| p.id == id)?;
        if matches!(p.state, GatewayState::Pending | GatewayState::WaitingForCapture) {
            p.state = state;
            if state == GatewayState::Succeeded {
                p.captured_at = Some(time::OffsetDateTime::now_utc());
            }
        }
        Some(p.state)
    }

    /// Sets when a payment's money was taken, as the bank reports it.
    pub fn set_captured_at(&self, id: &str, at: time::OffsetDateTime) {
        if let Some(p) = self.shared.book().payments.iter_mut().find(|p| p.id == id) {
            p.captured_at = Some(at);
        }
    }

    /// The sum of the payments that succeeded.
    pub fn succeeded_total(&self) -> Kopecks {
        Kopecks::sum(
            self.shared
                .book()
                .payments
                .iter()
                .filter(|p| p.state == GatewayState::Succeeded)
                .map(|p| p.amount),
        )
    }
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"type": "error", "id": "fake", "code": code, "description": description})),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    use base64::Engine;
    let pair = format!("{}:{}", shared.shop_id, shared.secret);
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

fn amount_of(v: &Value) -> Result<Kopecks, String> {
    let value = v["value"].as_str().ok_or("amount.value is not a string")?;
    let (whole, frac) = value.split_once('.').ok_or("amount.value has no point")?;
    if whole.is_empty()
        || frac.len() != 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!("amount.value {value:?} is not like \"1234.56\""));
    }
    if v["currency"] != "RUB" {
        return Err("amount.currency is not RUB".into());
    }
    Kopecks::parse(value).map_err(|e| e.to_string())
}

/// What YooKassa checks in a create request.
fn check(body: &Value) -> Result<(Kopecks, String), String> {
    let amount = amount_of(&body["amount"])?;
    if amount.0 <= 0 {
        return Err("amount must be positive".into());
    }
    if body["capture"] != true {
        return Err("capture must be true".into());
    }
    if body["confirmation"]["type"] != "redirect" || !body["confirmation"]["return_url"].is_string() {
        return Err("confirmation must be a redirect with return_url".into());
    }
    if body["description"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 128)
    {
        return Err("description is longer than 128".into());
    }
    let reference = body["metadata"]["payment"]
        .as_str()
        .ok_or("metadata.payment is missing")?
        .to_string();
    let receipt = &body["receipt"];
    let customer = &receipt["customer"];
    if !customer["email"].is_string() && !customer["phone"].is_string() {
        return Err("receipt.customer needs an email or a phone".into());
    }
    let items = receipt["items"].as_array().ok_or("receipt.items is missing")?;
    if items.is_empty() || items.len() > 100 {
        return Err("receipt.items must have 1..100 lines".into());
    }
    let mut sum = Kopecks::ZERO;
    for i in items {
        let d = i["description"].as_str().ok_or("item description")?;
        if d.is_empty() || d.chars().count() > 128 {
            return Err("item description must be 1..128 characters".into());
        }
        if i["quantity"].as_str().is_none() && !i["quantity"].is_number() {
            return Err("item quantity".into());
        }
        sum += amount_of(&i["amount"])?;
        if !i["vat_code"].as_u64().is_some_and(|v| (1..=12).contains(&v)) {
            return Err("item vat_code must be 1..12".into());
        }
        for f in ["payment_subject", "payment_mode"] {
            if i[f].as_str().is_none_or(str::is_empty) {
                return Err(format!("item {f} is missing"));
            }
        }
    }
    if sum != amount {
        return Err(format!("receipt lines add up to {sum}, the payment is {amount}"));
    }
    Ok((amount, reference))
}

fn state_name(s: GatewayState) -> &'static str {
    match s {
        GatewayState::Pending => "pending",
        GatewayState::WaitingForCapture => "waiting_for_capture",
        GatewayState::Succeeded => "succeeded",
        GatewayState::Canceled => "canceled",
    }
}

fn object(p: &FakePayment, test: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "status": state_name(p.state),
        "paid": p.state == GatewayState::Succeeded,
        "amount": p.request["amount"],
        "description": p.request["description"],
        "metadata": p.request["metadata"],
        "created_at": "2026-11-26T10:00:00.000Z",
        "test": test,
        "refundable": p.state == GatewayState::Succeeded,
        "recipient": {"account_id": "fake", "gateway_id": "fake"},
    });
    match p.state {
        GatewayState::Pending => {
            v["confirmation"] = json!({
                "type": "redirect",
                "confirmation_url": format!("https://yoomoney.ru/checkout/payments/v2/contract?orderId={}", p.id),
                "return_url": p.request["confirmation"]["return_url"],
            });
        }
        GatewayState::Succeeded => {
            if let Some(t) = p
                .captured_at
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            {
                v["captured_at"] = json!(t);
            }
            v["payment_method"] = json!({
                "type": "bank_card", "id": p.id, "saved": false,
                "card": {"first6": "555555", "last4": "4444", "expiry_month": "12", "expiry_year": "2030", "card_type": "MasterCard"}
            });
        }
        GatewayState::Canceled => {
            v["cancellation_details"] = json!({"party": "yoo_money", "reason": "expired_on_confirmation"});
        }
        GatewayState::WaitingForCapture => {}
    }
    v
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if !authorized(&shared, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic auth is wrong",
        );
    }
    let key = headers
        .get("idempotence-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let refuse = |shared: &Shared, why: String| {
        shared.book().rejected.push(why.clone());
        error(StatusCode::BAD_REQUEST, "invalid_request", &why)
    };
    if key.is_empty() || key.len() > 64 {
        return refuse(&shared, "Idempotence-Key must be 1..64 characters".into());
    }
    let request: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => return refuse(&shared, format!("body: {e}")),
    };
    let (amount, reference) = match check(&request) {
        Ok(x) => x,
        Err(why) => return refuse(&shared, why),
    };
    {
        let mut b = shared.book();
        if b.throttle_next > 0 {
            b.throttle_next -= 1;
            b.create_calls += 1;
            return error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "slow down");
        }
    }
    let (answer, delay, fail) = {
        let mut b = shared.book();
        b.create_calls += 1;
        if b.lose_next > 0 {
            b.lose_next -= 1;
            (None, Some(b.hang_for), true)
        } else {
            let index = match b.by_key.get(&key) {
                Some(&i) => i,
                None => {
                    let n = b.payments.len();
                    b.payments.push(FakePayment {
                        id: format!("2f{n:06x}-000f-5000-8000-{:012x}", n * 7919),
                        key: key.clone(),
                        reference,
                        amount,
                        state: GatewayState::Pending,
                        request,
                        captured_at: None,
                    });
                    b.by_key.insert(key, n);
                    n
                }
            };
            let answer = object(&b.payments[index], b.test_mode);
            let mut delay = None;
            let mut fail = false;
            if b.fail_next > 0 {
                b.fail_next -= 1;
                fail = true;
            } else if b.hang_next > 0 {
                b.hang_next -= 1;
                delay = Some(b.hang_for);
            }
            (Some(answer), delay, fail)
        }
    };
    let Some(answer) = answer else {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error", "lost");
    };
    if fail {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "try again",
        );
    }
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    Json(answer).into_response()
}

async fn read(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&shared, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic auth is wrong",
        );
    }
    let mut b = shared.book();
    if b.throttle_next > 0 {
        b.throttle_next -= 1;
        return error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "slow down");
    }
    match b.payments.iter().find(|p| p.id == id) {
        Some(p) => Json(object(p, b.test_mode)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such payment"),
    }
}
