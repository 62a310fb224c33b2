//! Local imitations of SMS.ru's and SMSC.ru's HTTP APIs for tests, on one
//! port: `POST /sms/send`, `/sms/status` (SMS.ru, `api_id`) and
//! `POST /sys/send.php`, `/sys/status.php` (SMSC, `login` and `psw`), with
//! the request fields, answer shapes and error codes of their
//! documentation. A test makes them refuse (`fail_next`), and decides
//! what becomes of each message (`deliver`).

use axum::extract::{Form, State};
use axum::routing::post;
use axum::{Json, Router};
use kabinet_domain::notify::DeliveryState;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// An SMS the fake took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSms {
    /// Its id at the provider.
    pub id: String,
    /// `smsru` or `smsc`.
    pub provider: &'static str,
    /// The number as sent (`79…`).
    pub phone: String,
    /// The text.
    pub text: String,
    /// The sender name asked for.
    pub sender: Option<String>,
    /// What became of it.
    pub state: DeliveryState,
    /// The caller's own id (SMSC's `id`).
    pub reference: Option<String>,
}

#[derive(Default)]
struct Book {
    messages: Vec<FakeSms>,
    fail_next: Vec<i64>,
    status_calls: u64,
    next_id: u64,
    rejected: Vec<String>,
}

struct Shared {
    api_id: String,
    login: String,
    password: String,
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

/// The fake, serving on a local port until its runtime ends.
#[derive(Clone)]
pub struct FakeSmsProviders {
    url: String,
    shared: Arc<Shared>,
}

impl FakeSmsProviders {
    /// Starts the fake on 127.0.0.1 for an SMS.ru account with `api_id`
    /// and an SMSC account with `login` and `password`.
    pub async fn start(api_id: &str, login: &str, password: &str) -> std::io::Result<FakeSmsProviders> {
        let shared = Arc::new(Shared {
            api_id: api_id.into(),
            login: login.into(),
            password: password.into(),
            book: Mutex::new(Book::default()),
        });
        let app = Router::new()
            .route("/sms/send", post(smsru_send))
            .route("/sms/status", post(smsru_status))
            .route("/sys/send.php", post(smsc_send))
            .route("/sys/status.php", post(smsc_status))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeSmsProviders { url, shared })
    }

    /// The base URL of both APIs.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next sends are refused with these codes, one each (SMS.ru's
    /// per-number code, or SMSC's `error_code`).
    pub fn fail_next(&self, codes: &[i64]) {
        self.shared.book().fail_next.extend_from_slice(codes);
    }

    /// Every message taken, in order.
    pub fn messages(&self) -> Vec<FakeSms> {
        self.shared.book().messages.clone()
    }

    /// Status requests answered.
    pub fn status_calls(&self) -> u64 {
        self.shared.book().status_calls
    }

    /// Why requests were refused, for a test to show.
    pub fn rejections(&self) -> Vec<String> {
        self.shared.book().rejected.clone()
    }

    /// Sets what became of every message still on its way.
    pub fn deliver(&self, state: DeliveryState) {
        for m in &mut self.shared.book().messages {
            if m.state == DeliveryState::Accepted {
                m.state = state;
            }
        }
    }
}

type Fields = Form<HashMap<String, String>>;

fn take(
    shared: &Shared,
    provider: &'static str,
    phone: &str,
    f: &HashMap<String, String>,
    text: &str,
    sender: Option<&String>,
) -> Result<String, i64> {
    let mut b = shared.book();
    if !b.fail_next.is_empty() {
        return Err(b.fail_next.remove(0));
    }
    b.next_id += 1;
    let id = match provider {
        "smsru" => format!("{:06}-{:07}", b.next_id, 1_000_000 + b.next_id),
        _ => b.next_id.to_string(),
    };
    b.messages.push(FakeSms {
        id: id.clone(),
        provider,
        phone: phone.into(),
        text: text.into(),
        sender: sender.cloned(),
        state: DeliveryState::Accepted,
        reference: f.get("id").cloned(),
    });
    Ok(id)
}

fn smsru_error(code: i64, text: &str) -> Json<Value> {
    Json(json!({"status": "ERROR", "status_code": code, "status_text": text}))
}

async fn smsru_send(State(s): State<Arc<Shared>>, Form(f): Fields) -> Json<Value> {
    if f.get("api_id") != Some(&s.api_id) {
        s.book().rejected.push("smsru: api_id".into());
        return smsru_error(200, "Неправильный api_id");
    }
    if f.get("json").map(String::as_str) != Some("1") {
        s.book().rejected.push("smsru: json".into());
        return smsru_error(100, "expected json=1");
    }
    let (Some(to), Some(msg)) = (f.get("to"), f.get("msg")) else {
        return smsru_error(203, "Нет текста сообщения");
    };
    if msg.is_empty() {
        return smsru_error(203, "Нет текста сообщения");
    }
    let entry = if to.len() != 11 || !to.starts_with('7') || !to.chars().all(|c| c.is_ascii_digit()) {
        json!({"status": "ERROR", "status_code": 202, "status_text": "Неправильно указан номер телефона получателя"})
    } else {
        match take(&s, "smsru", to, &f, msg, f.get("from")) {
            Ok(id) => json!({"status": "OK", "status_code": 100, "sms_id": id, "cost": "3.50", "sms": 1}),
            Err(code) => json!({"status": "ERROR", "status_code": code, "status_text": "fake error"}),
        }
    };
    Json(json!({"status": "OK", "status_code": 100, "sms": {to.clone(): entry}, "balance": 4122.56}))
}

async fn smsru_status(State(s): State<Arc<Shared>>, Form(f): Fields) -> Json<Value> {
    if f.get("api_id") != Some(&s.api_id) {
        return smsru_error(200, "Неправильный api_id");
    }
    let Some(id) = f.get("sms_id") else {
        return smsru_error(100, "no sms_id");
    };
    let mut b = s.book();
    b.status_calls += 1;
    let entry = match b.messages.iter().find(|m| m.provider == "smsru" && &m.id == id) {
        Some(m) => {
            let code = match m.state {
                DeliveryState::Accepted => 102,
                DeliveryState::Delivered => 103,
                DeliveryState::Undelivered => 104,
            };
            json!({"status": "OK", "status_code": code, "cost": 3.5})
        }
        None => json!({"status": "ERROR", "status_code": -1, "status_text": "Сообщение не найдено"}),
    };
    Json(json!({"status": "OK", "status_code": 100, "sms": {id.clone(): entry}, "balance": 4122.56}))
}

fn smsc_error(code: i64, text: &str) -> Json<Value> {
    Json(json!({"error": text, "error_code": code}))
}

fn smsc_authorized(s: &Shared, f: &HashMap<String, String>) -> bool {
    f.get("login") == Some(&s.login) && f.get("psw") == Some(&s.password)
}

async fn smsc_send(State(s): State<Arc<Shared>>, Form(f): Fields) -> Json<Value> {
    if !smsc_authorized(&s, &f) {
        s.book().rejected.push("smsc: login".into());
        return smsc_error(2, "authorise error");
    }
    if f.get("fmt").map(String::as_str) != Some("3") || f.get("charset").map(String::as_str) != Some("utf-8")
    {
        s.book().rejected.push("smsc: fmt or charset".into());
        return smsc_error(1, "parameters error");
    }
    let (Some(phones), Some(mes)) = (f.get("phones"), f.get("mes")) else {
        return smsc_error(1, "parameters error");
    };
    if phones.len() != 11 || !phones.chars().all(|c| c.is_ascii_digit()) {
        return smsc_error(7, "invalid phone");
    }
    match take(&s, "smsc", phones, &f, mes, f.get("sender")) {
        Ok(id) => {
            let id: u64 = id.parse().unwrap_or(0);
            Json(json!({"id": id, "cnt": 1, "cost": "2.9", "balance": "1234.5"}))
        }
        Err(code) => smsc_error(code, "fake error"),
    }
}

async fn smsc_status(State(s): State<Arc<Shared>>, Form(f): Fields) -> Json<Value> {
    if !smsc_authorized(&s, &f) {
        return smsc_error(2, "authorise error");
    }
    let (Some(id), Some(phone)) = (f.get("id"), f.get("phone")) else {
        return smsc_error(1, "parameters error");
    };
    let mut b = s.book();
    b.status_calls += 1;
    match b
        .messages
        .iter()
        .find(|m| m.provider == "smsc" && &m.id == id && &m.phone == phone)
    {
        Some(m) => {
            let status = match m.state {
                DeliveryState::Accepted => 0,
                DeliveryState::Delivered => 1,
                DeliveryState::Undelivered => 20,
            };
            Json(json!({"status": status, "last_date": "07.12.2026 12:00:00", "last_timestamp": 0, "err": 0}))
        }
        None => Json(json!({"status": -3, "last_date": "", "err": 0})),
    }
}
