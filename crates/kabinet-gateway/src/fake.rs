//! A local imitation of YooKassa's API v3 for tests: `POST /v3/payments`,
//! `GET /v3/payments/{id}`, `POST /v3/refunds` and `GET /v3/refunds/{id}`
//! with the request and response shapes of YooKassa's documentation. It
//! checks what the real API checks (Basic auth, the `Idempotence-Key`,
//! amounts written `"1234.56"`, a 54-ФЗ receipt under ФФД 1.2 whose lines
//! carry a documented `vat_code`, `payment_subject`, `payment_mode` and
//! `measure` and add up, a refund no larger than what is left) and can
//! misbehave on demand: answer 500 after creating a payment, or answer only
//! after the client gave up.

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
    /// `payment_method_data.type` asked for (`sbp`, `bank_card`), if any.
    pub method: Option<String>,
    /// How much of it was refunded.
    pub refunded: Kopecks,
    /// Why it was canceled (`cancellation_details.reason`).
    pub cancel_reason: String,
}

/// A refund the fake holds.
#[derive(Debug, Clone)]
pub struct FakeRefund {
    /// Its id.
    pub id: String,
    /// The payment's id.
    pub payment_id: String,
    /// The amount.
    pub amount: Kopecks,
    /// `pending`, `succeeded` or `canceled`.
    pub status: String,
    /// The request body (none for one made "in the dashboard").
    pub request: Option<Value>,
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
    refunds: Vec<FakeRefund>,
    refund_keys: HashMap<String, usize>,
    receipts_optional: bool,
    refunds_pending: bool,
    saved: Vec<String>,
    decline_saved_next: u32,
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
            .route("/v3/refunds", post(create_refund))
            .route("/v3/refunds/{id}", get(read_refund))
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

    /// Payments may come without a receipt (a shop that sends none through
    /// the gateway); by default a receipt is required, as for a shop on
    /// YooKassa's receipts.
    pub fn receipts_optional(&self, on: bool) {
        self.shared.book().receipts_optional = on;
    }

    /// Refunds stay `pending` when made (the bank takes its time) until
    /// [`FakeYooKassa::settle_refund`]; by default they succeed at once.
    pub fn refunds_pending(&self, on: bool) {
        self.shared.book().refunds_pending = on;
    }

    /// The next `n` payments with a kept method are declined by the bank
    /// (`insufficient_funds`), as an empty card would be.
    pub fn decline_saved_next(&self, n: u32) {
        self.shared.book().decline_saved_next = n;
    }

    /// The methods kept for payments without the payer.
    pub fn saved_methods(&self) -> Vec<String> {
        self.shared.book().saved.clone()
    }

    /// Every refund made, in order.
    pub fn refunds(&self) -> Vec<FakeRefund> {
        self.shared.book().refunds.clone()
    }

    /// Settles a pending refund (`succeeded` or `canceled`).
    pub fn settle_refund(&self, id: &str, status: &str) {
        let mut b = self.shared.book();
        let Some(i) = b.refunds.iter().position(|r| r.id == id) else {
            return;
        };
        if b.refunds[i].status == "pending" {
            b.refunds[i].status = status.to_string();
            if status == "canceled" {
                let (pid, amount) = (b.refunds[i].payment_id.clone(), b.refunds[i].amount);
                if let Some(p) = b.payments.iter_mut().find(|p| p.id == pid) {
                    p.refunded -= amount;
                }
            }
        }
    }

    /// A refund made in the shop's dashboard, not through the API: the
    /// portal learns of it only from the notification. Returns its id.
    pub fn refund_in_dashboard(&self, payment_id: &str, amount: Kopecks) -> Option<String> {
        let mut b = self.shared.book();
        make_refund(&mut b, payment_id, amount, None).ok()
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
        let mut kept = None;
        if matches!(p.state, GatewayState::Pending | GatewayState::WaitingForCapture) {
            p.state = state;
            if state == GatewayState::Succeeded {
                p.captured_at = Some(time::OffsetDateTime::now_utc());
                if p.request["save_payment_method"] == true {
                    kept = Some(saved_id(p));
                }
            }
        }
        let state = p.state;
        if let Some(k) = kept {
            b.saved.push(k);
        }
        Some(state)
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

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "Basic auth is wrong",
    )
}

fn idempotence_key(headers: &HeaderMap) -> String {
    headers
        .get("idempotence-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
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

/// What YooKassa checks in a receipt (ФФД 1.2), against `total`.
fn check_receipt(receipt: &Value, total: Kopecks) -> Result<(), String> {
    use crate::yookassa::{MEASURES, PAYMENT_MODES, PAYMENT_SUBJECTS, TAX_SYSTEM_CODES, VAT_CODES};
    let customer = &receipt["customer"];
    if !customer["email"].is_string() && !customer["phone"].is_string() {
        return Err("receipt.customer needs an email or a phone".into());
    }
    if !receipt["tax_system_code"].is_null()
        && !receipt["tax_system_code"]
            .as_u64()
            .and_then(|t| u8::try_from(t).ok())
            .is_some_and(|t| TAX_SYSTEM_CODES.contains(&t))
    {
        return Err("receipt.tax_system_code must be 1..6".into());
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
        if !i["vat_code"]
            .as_u64()
            .and_then(|v| u8::try_from(v).ok())
            .is_some_and(|v| VAT_CODES.contains(&v))
        {
            return Err("item vat_code must be 1..12".into());
        }
        for (f, allowed) in [
            ("payment_subject", PAYMENT_SUBJECTS),
            ("payment_mode", PAYMENT_MODES),
            ("measure", MEASURES),
        ] {
            match i[f].as_str() {
                None | Some("") => return Err(format!("item {f} is missing (ФФД 1.2)")),
                Some(v) if !allowed.contains(&v) => {
                    return Err(format!("item {f} {v:?} is not a documented value"));
                }
                Some(_) => {}
            }
        }
    }
    if sum != total {
        return Err(format!("receipt lines add up to {sum}, the payment is {total}"));
    }
    Ok(())
}

/// What YooKassa checks in a create request.
fn check(body: &Value, receipts_optional: bool) -> Result<(Kopecks, String), String> {
    let amount = amount_of(&body["amount"])?;
    if amount.0 <= 0 {
        return Err("amount must be positive".into());
    }
    if body["capture"] != true {
        return Err("capture must be true".into());
    }
    let kept = body["payment_method_id"].is_string();
    if kept && (!body["confirmation"].is_null() || !body["payment_method_data"].is_null()) {
        return Err("a payment with payment_method_id takes no confirmation nor payment_method_data".into());
    }
    if !kept
        && (body["confirmation"]["type"] != "redirect" || !body["confirmation"]["return_url"].is_string())
    {
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
    match (
        &body["payment_method_data"],
        body["payment_method_data"]["type"].as_str(),
    ) {
        (Value::Null, _) | (_, Some("sbp" | "bank_card")) => {}
        _ => return Err("payment_method_data.type must be sbp or bank_card here".into()),
    }
    if body["receipt"].is_null() {
        if !receipts_optional {
            return Err("receipt is required for this shop".into());
        }
    } else {
        check_receipt(&body["receipt"], amount)?;
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
        "refundable": p.state == GatewayState::Succeeded && p.refunded < p.amount,
        "refunded_amount": {"value": p.refunded.to_decimal_string(), "currency": "RUB"},
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
            let saved =
                p.request["save_payment_method"] == true || p.request["payment_method_id"].is_string();
            v["payment_method"] = if p.method.as_deref() == Some("sbp") {
                json!({
                    "type": "sbp", "id": saved_id(p), "saved": saved, "title": "СБП",
                    "sbp_operation_id": "1027088AE4CB48CB81287833347A8777",
                    "payer_bank_details": {"bank_id": "100000000111", "bic": "044525225"}
                })
            } else {
                json!({
                    "type": "bank_card", "id": saved_id(p), "saved": saved,
                    "card": {"first6": "555555", "last4": "4444", "expiry_month": "12", "expiry_year": "2030", "card_type": "MasterCard"}
                })
            };
        }
        GatewayState::Canceled => {
            v["cancellation_details"] = json!({"party": "yoo_money", "reason": p.cancel_reason});
        }
        GatewayState::WaitingForCapture => {}
    }
    v
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    let key = idempotence_key(&headers);
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
    let optional = shared.book().receipts_optional;
    let (amount, reference) = match check(&request, optional) {
        Ok(x) => x,
        Err(why) => return refuse(&shared, why),
    };
    if let Some(kept) = request["payment_method_id"].as_str()
        && !shared.book().saved.iter().any(|s| s == kept)
    {
        return refuse(
            &shared,
            format!("payment_method_id {kept:?} is not a kept method of this shop"),
        );
    }
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
                    // A kept method pays at once, unless the bank declines.
                    let kept = request["payment_method_id"].as_str().map(str::to_string);
                    let declined = kept.is_some() && b.decline_saved_next > 0;
                    if declined {
                        b.decline_saved_next -= 1;
                    }
                    let (state, captured_at, cancel_reason) = match (&kept, declined) {
                        (Some(_), true) => (GatewayState::Canceled, None, "insufficient_funds"),
                        (Some(_), false) => {
                            (GatewayState::Succeeded, Some(time::OffsetDateTime::now_utc()), "")
                        }
                        (None, _) => (GatewayState::Pending, None, "expired_on_confirmation"),
                    };
                    let method = kept
                        .as_deref()
                        .and_then(|k| b.payments.iter().find(|p| saved_id(p) == k))
                        .and_then(|p| p.method.clone())
                        .or_else(|| {
                            request["payment_method_data"]["type"]
                                .as_str()
                                .map(str::to_string)
                        });
                    b.payments.push(FakePayment {
                        id: format!("2f{n:06x}-000f-5000-8000-{:012x}", n * 7919),
                        key: key.clone(),
                        reference,
                        amount,
                        state,
                        method,
                        request,
                        captured_at,
                        refunded: Kopecks::ZERO,
                        cancel_reason: cancel_reason.to_string(),
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
        return unauthorized();
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

/// Makes a refund of `payment_id` if what is left allows it; its id.
fn make_refund(
    b: &mut Book,
    payment_id: &str,
    amount: Kopecks,
    request: Option<Value>,
) -> Result<String, String> {
    let pending = b.refunds_pending;
    let n = b.refunds.len();
    let p = b
        .payments
        .iter_mut()
        .find(|p| p.id == payment_id)
        .ok_or("payment_id is not a payment of this shop")?;
    if p.state != GatewayState::Succeeded {
        return Err("only a succeeded payment can be refunded".into());
    }
    if amount.0 <= 0 || amount > p.amount - p.refunded {
        return Err(format!("the refund {amount} is more than is left of the payment"));
    }
    p.refunded += amount;
    let id = format!("2fr{n:05x}-0015-5000-9000-{:012x}", n * 104_729);
    b.refunds.push(FakeRefund {
        id: id.clone(),
        payment_id: payment_id.to_string(),
        amount,
        status: if pending { "pending" } else { "succeeded" }.into(),
        request,
    });
    Ok(id)
}

fn refund_object(r: &FakeRefund) -> Value {
    let mut v = json!({
        "id": r.id,
        "payment_id": r.payment_id,
        "status": r.status,
        "created_at": "2026-11-26T10:00:00.000Z",
        "amount": {"value": r.amount.to_decimal_string(), "currency": "RUB"},
    });
    if r.status == "canceled" {
        v["cancellation_details"] = json!({"party": "refund_network", "reason": "rejected_by_payee"});
    }
    v
}

async fn create_refund(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    let key = idempotence_key(&headers);
    {
        let mut b = shared.book();
        if b.throttle_next > 0 {
            b.throttle_next -= 1;
            return error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "slow down");
        }
    }
    let refuse = |why: String| {
        shared.book().rejected.push(why.clone());
        error(StatusCode::BAD_REQUEST, "invalid_request", &why)
    };
    if key.is_empty() || key.len() > 64 {
        return refuse("Idempotence-Key must be 1..64 characters".into());
    }
    let request: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => return refuse(format!("body: {e}")),
    };
    let amount = match amount_of(&request["amount"]) {
        Ok(a) => a,
        Err(why) => return refuse(why),
    };
    let Some(payment_id) = request["payment_id"].as_str().map(str::to_string) else {
        return refuse("payment_id is missing".into());
    };
    if request["receipt"].is_null() && !shared.book().receipts_optional {
        return refuse("receipt is required for this shop".into());
    }
    if !request["receipt"].is_null()
        && let Err(why) = check_receipt(&request["receipt"], amount)
    {
        return refuse(why);
    }
    let mut b = shared.book();
    if let Some(&i) = b.refund_keys.get(&key) {
        return Json(refund_object(&b.refunds[i])).into_response();
    }
    match make_refund(&mut b, &payment_id, amount, Some(request)) {
        Ok(id) => {
            let i = b.refunds.len() - 1;
            b.refund_keys.insert(key, i);
            debug_assert_eq!(b.refunds[i].id, id);
            Json(refund_object(&b.refunds[i])).into_response()
        }
        Err(why) => {
            b.rejected.push(why.clone());
            error(StatusCode::BAD_REQUEST, "invalid_request", &why)
        }
    }
}

async fn read_refund(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    let b = shared.book();
    match b.refunds.iter().find(|r| r.id == id) {
        Some(r) => Json(refund_object(r)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such refund"),
    }
}

/// The id of the method a payment pays with or kept: the kept one it was
/// made with, or one named after the payment.
fn saved_id(p: &FakePayment) -> String {
    p.request["payment_method_id"]
        .as_str()
        .map_or_else(|| format!("pm-{}", p.id), str::to_string)
}
