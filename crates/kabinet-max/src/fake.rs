//! A local imitation of the MAX Bot API for tests, written from its
//! documentation: `GET /me`, `POST /messages?user_id=` (text and an inline
//! keyboard), `GET /updates` (long polling with `marker`, `timeout`,
//! `limit`), `POST /subscriptions` (a webhook with a secret, sent in
//! `X-Max-Bot-Api-Secret`) and `POST /answers`. Every call needs the
//! token in `Authorization`; errors come as `{"code", "message"}`.
//!
//! A test plays the user: [`FakeMax::start_bot`] (the start button, maybe
//! by a link with a payload), [`FakeMax::say`], [`FakeMax::press`],
//! [`FakeMax::stop_bot`]; it reads what the bot wrote with
//! [`FakeMax::messages_to`]. The same is reachable over HTTP under
//! `/_fake/` for a browser test (see the `fake_max` example).

use crate::{Button, SECRET_HEADER};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A message the bot wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeMessage {
    /// To whom.
    pub user: i64,
    /// Its id.
    pub mid: String,
    /// The text.
    pub text: String,
    /// Its buttons (one row).
    pub buttons: Vec<Button>,
}

#[derive(Default)]
struct Book {
    updates: Vec<(i64, Value)>,
    next_marker: i64,
    messages: Vec<FakeMessage>,
    fail_next: Vec<u16>,
    subscription: Option<(String, String)>,
    answers: Vec<(String, String)>,
    next_id: u64,
}

struct Shared {
    token: String,
    bot_name: String,
    book: Mutex<Book>,
    arrived: tokio::sync::Notify,
    http: reqwest::Client,
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
pub struct FakeMax {
    url: String,
    shared: Arc<Shared>,
}

impl FakeMax {
    /// Starts the fake on 127.0.0.1 for the bot `bot_name` with `token`.
    pub async fn start(token: &str, bot_name: &str) -> std::io::Result<FakeMax> {
        FakeMax::start_on("127.0.0.1:0", token, bot_name).await
    }

    /// [`FakeMax::start`] on `address`.
    pub async fn start_on(address: &str, token: &str, bot_name: &str) -> std::io::Result<FakeMax> {
        let shared = Arc::new(Shared {
            token: token.into(),
            bot_name: bot_name.into(),
            book: Mutex::new(Book {
                next_marker: 1,
                ..Book::default()
            }),
            arrived: tokio::sync::Notify::new(),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/me", get(me))
            .route("/messages", post(send))
            .route("/updates", get(updates))
            .route("/subscriptions", post(subscribe).delete(unsubscribe))
            .route("/answers", post(answer))
            .route("/_fake/{action}", post(control))
            .route("/_fake/messages", get(control_messages))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(address).await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeMax { url, shared })
    }

    /// The API's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next sends are answered with these HTTP statuses, one each.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.shared.book().fail_next.extend_from_slice(statuses);
    }

    /// What the bot wrote to `user`, in order.
    pub fn messages_to(&self, user: i64) -> Vec<FakeMessage> {
        self.shared
            .book()
            .messages
            .iter()
            .filter(|m| m.user == user)
            .cloned()
            .collect()
    }

    /// The webhook subscribed: its URL and secret.
    pub fn subscription(&self) -> Option<(String, String)> {
        self.shared.book().subscription.clone()
    }

    /// The button presses answered: callback id and notice.
    pub fn answers(&self) -> Vec<(String, String)> {
        self.shared.book().answers.clone()
    }

    /// `user` presses the bot's start button, by a link with `payload`.
    pub fn start_bot(&self, user: i64, payload: Option<&str>, locale: &str) {
        happen(&self.shared, started(user, payload, locale));
    }

    /// `user` writes `text` to the bot.
    pub fn say(&self, user: i64, text: &str) {
        happen(&self.shared, said(user, text));
    }

    /// `user` presses a button that sends `payload`.
    pub fn press(&self, user: i64, payload: &str) {
        let id = {
            let mut b = self.shared.book();
            b.next_id += 1;
            format!("cb.{}", b.next_id)
        };
        happen(&self.shared, pressed(user, &id, payload));
    }

    /// `user` stops the bot.
    pub fn stop_bot(&self, user: i64) {
        happen(&self.shared, stopped(user));
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

fn person(user: i64) -> Value {
    json!({"user_id": user, "first_name": format!("User {user}"), "name": format!("User {user}"), "is_bot": false})
}

fn started(user: i64, payload: Option<&str>, locale: &str) -> Value {
    json!({"update_type": "bot_started", "timestamp": now_ms(), "chat_id": user * 10,
        "user": person(user), "payload": payload, "user_locale": locale})
}

fn stopped(user: i64) -> Value {
    json!({"update_type": "bot_stopped", "timestamp": now_ms(), "chat_id": user * 10, "user": person(user)})
}

fn said(user: i64, text: &str) -> Value {
    json!({"update_type": "message_created", "timestamp": now_ms(), "user_locale": "ru",
        "message": {"sender": person(user), "recipient": {"chat_id": user * 10, "chat_type": "dialog"},
            "timestamp": now_ms(), "body": {"mid": format!("in.{}", now_ms()), "seq": 1, "text": text}}})
}

fn pressed(user: i64, id: &str, payload: &str) -> Value {
    json!({"update_type": "message_callback", "timestamp": now_ms(), "user_locale": "ru",
        "callback": {"timestamp": now_ms(), "callback_id": id, "payload": payload, "user": person(user)}})
}

/// Something happened: posted to the webhook when one is subscribed,
/// otherwise kept for `GET /updates`.
fn happen(shared: &Arc<Shared>, update: Value) {
    let hook = shared.book().subscription.clone();
    match hook {
        Some((url, secret)) => {
            let http = shared.http.clone();
            tokio::spawn(async move {
                let _ = http
                    .post(url)
                    .header(SECRET_HEADER, secret)
                    .json(&update)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
            });
        }
        None => {
            let mut b = shared.book();
            let marker = b.next_marker;
            b.next_marker += 1;
            b.updates.push((marker, update));
            drop(b);
            shared.arrived.notify_waiters();
        }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// The 401 of a request without the bot's token; `None` when it has it.
fn unauthorized(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    (headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(shared.token.as_str()))
        .then(|| error(StatusCode::UNAUTHORIZED, "verify.token", "Invalid access_token"))
}

async fn me(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    Json(json!({"user_id": 1000, "first_name": "Kabinet", "username": s.bot_name, "is_bot": true}))
        .into_response()
}

async fn send(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    let Some(user) = q.get("user_id").and_then(|u| u.parse::<i64>().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "proto.payload",
            "user_id or chat_id is required",
        );
    };
    let Some(text) = body["text"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "proto.payload", "text is required");
    };
    if text.chars().count() > crate::MAX_TEXT {
        return error(StatusCode::BAD_REQUEST, "proto.payload", "text is too long");
    }
    let mut buttons = Vec::new();
    for a in body["attachments"].as_array().into_iter().flatten() {
        if a["type"] != "inline_keyboard" {
            return error(StatusCode::BAD_REQUEST, "proto.payload", "unknown attachment");
        }
        for b in a["payload"]["buttons"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().into_iter().flatten())
        {
            match (b["type"].as_str(), b["text"].as_str(), b["payload"].as_str()) {
                (Some("callback"), Some(text), Some(payload)) => buttons.push(Button {
                    text: text.into(),
                    payload: payload.into(),
                }),
                _ => return error(StatusCode::BAD_REQUEST, "proto.payload", "bad button"),
            }
        }
    }
    let mut b = s.book();
    if !b.fail_next.is_empty() {
        let status = b.fail_next.remove(0);
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let name = match status {
            403 => "chat.denied",
            404 => "not.found",
            429 => "too.many.requests",
            _ => "internal",
        };
        return error(code, name, "refused by the fake");
    }
    b.next_id += 1;
    let mid = format!("mid.{:016x}", b.next_id);
    b.messages.push(FakeMessage {
        user,
        mid: mid.clone(),
        text: text.into(),
        buttons,
    });
    Json(
        json!({"message": {"sender": {"user_id": 1000, "is_bot": true, "name": "Kabinet"},
        "recipient": {"user_id": user, "chat_type": "dialog"}, "timestamp": now_ms(),
        "body": {"mid": mid, "seq": b.next_id, "text": text}}}),
    )
    .into_response()
}

async fn updates(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    let marker: i64 = q.get("marker").and_then(|m| m.parse().ok()).unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let wait: u64 = q
        .get("timeout")
        .and_then(|m| m.parse().ok())
        .unwrap_or(30)
        .min(90);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let arrived = s.arrived.notified();
        {
            let b = s.book();
            let found: Vec<&(i64, Value)> = b
                .updates
                .iter()
                .filter(|(m, _)| *m >= marker)
                .take(limit)
                .collect();
            if !found.is_empty() || tokio::time::Instant::now() >= deadline {
                let next = found.last().map_or(marker.max(b.next_marker), |(m, _)| m + 1);
                let list: Vec<Value> = found.into_iter().map(|(_, u)| u.clone()).collect();
                return Json(json!({"updates": list, "marker": next})).into_response();
            }
        }
        let _ = tokio::time::timeout_at(deadline, arrived).await;
    }
}

async fn subscribe(State(s): State<Arc<Shared>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    let Some(url) = body["url"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "proto.payload", "url is required");
    };
    let secret = body["secret"].as_str().unwrap_or_default();
    s.book().subscription = Some((url.into(), secret.into()));
    Json(json!({"success": true})).into_response()
}

async fn unsubscribe(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    s.book().subscription = None;
    Json(json!({"success": true})).into_response()
}

async fn answer(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    let Some(id) = q.get("callback_id") else {
        return error(
            StatusCode::BAD_REQUEST,
            "proto.payload",
            "callback_id is required",
        );
    };
    let notice = body["notification"].as_str().unwrap_or_default().to_string();
    s.book().answers.push((id.clone(), notice));
    Json(json!({"success": true})).into_response()
}

/// `POST /_fake/{start|say|press|stop}` with `{"user_id", "payload"?,
/// "text"?, "locale"?}`: the user does that.
async fn control(
    State(s): State<Arc<Shared>>,
    axum::extract::Path(action): axum::extract::Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(user) = body["user_id"].as_i64() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let fake = FakeMax {
        url: String::new(),
        shared: s,
    };
    match action.as_str() {
        "start" => fake.start_bot(
            user,
            body["payload"].as_str(),
            body["locale"].as_str().unwrap_or("ru"),
        ),
        "say" => fake.say(user, body["text"].as_str().unwrap_or_default()),
        "press" => fake.press(user, body["payload"].as_str().unwrap_or_default()),
        "stop" => fake.stop_bot(user),
        _ => return StatusCode::NOT_FOUND.into_response(),
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_fake/messages?user_id=`: what the bot wrote to the user.
async fn control_messages(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let user = q.get("user_id").and_then(|u| u.parse::<i64>().ok()).unwrap_or(0);
    let list: Vec<Value> = FakeMax {
        url: String::new(),
        shared: s,
    }
    .messages_to(user)
    .into_iter()
    .map(|m| {
        json!({"text": m.text, "buttons": m.buttons.iter().map(|b| json!({"text": b.text, "payload": b.payload})).collect::<Vec<_>>()})
    })
    .collect();
    Json(json!({ "messages": list })).into_response()
}
