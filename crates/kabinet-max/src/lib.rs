//! The organization's bot in the MAX messenger: a client of the MAX Bot
//! API (<https://dev.max.ru/docs-api>) — messages to a user, the updates
//! the bot gets (by long polling or on a webhook), the webhook
//! subscription — with the API's error answers mapped to [`MaxError`].
//! The `fake` feature adds a local imitation of the API for tests
//! ([`fake`]).
//!
//! The token goes in the `Authorization` header (the API no longer takes
//! it as a query parameter); a webhook request carries the subscription's
//! secret in `X-Max-Bot-Api-Secret`.

#[cfg(feature = "fake")]
pub mod fake;

use serde_json::{Value, json};
use std::time::Duration;

/// The API's address.
pub const API_URL: &str = "https://platform-api2.max.ru";
/// The header a webhook request carries the subscription's secret in.
pub const SECRET_HEADER: &str = "X-Max-Bot-Api-Secret";
/// The updates the bot asks for.
pub const UPDATE_TYPES: [&str; 4] = [
    "bot_started",
    "bot_stopped",
    "message_created",
    "message_callback",
];
/// The longest text of one message.
pub const MAX_TEXT: usize = 4000;

/// How to reach the bot's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxConfig {
    /// The API's base URL ([`API_URL`]).
    pub base_url: String,
    /// The bot's token.
    pub token: String,
    /// The bot's name (`@name` without the `@`), for links to its chat.
    pub bot_name: String,
}

impl MaxConfig {
    /// The link that opens the bot's chat and starts it with `payload`.
    pub fn start_link(&self, payload: &str) -> String {
        format!("https://max.ru/{}?start={payload}", self.bot_name)
    }
}

/// Why the API did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaxError {
    /// The token was refused (401).
    #[error("the MAX API refused the bot's token ({0})")]
    Auth(String),
    /// The user stopped or blocked the bot, or the chat is gone (403, 404).
    #[error("the MAX user cannot be written to ({0})")]
    Blocked(String),
    /// The request was refused as malformed (400).
    #[error("the MAX API refused the request ({0})")]
    Refused(String),
    /// Too many requests (429).
    #[error("the MAX API asks to slow down ({0})")]
    Throttled(String),
    /// The API is down or did not answer (5xx, network).
    #[error("the MAX API is unavailable ({0})")]
    Unavailable(String),
    /// An answer this client does not understand.
    #[error("the MAX API answered unexpectedly ({0})")]
    Protocol(String),
}

impl MaxError {
    /// Whether the same request may succeed later; a user who blocked the
    /// bot or a refused message never will.
    pub fn retryable(&self) -> bool {
        !matches!(self, MaxError::Blocked(_) | MaxError::Refused(_))
    }
}

/// A button under a message: pressing it sends `payload` back to the bot
/// (a `message_callback` update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// What it says.
    pub text: String,
    /// What it sends back.
    pub payload: String,
}

/// Something that happened in the bot's chats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A user started the bot, maybe by a link with a `start` payload.
    Started {
        /// The user.
        user: i64,
        /// The link's payload.
        payload: Option<String>,
        /// The user's language (`ru`, `en-US`…).
        locale: Option<String>,
    },
    /// A user stopped or deleted the bot.
    Stopped {
        /// The user.
        user: i64,
    },
    /// A user wrote to the bot in a dialog.
    Message {
        /// The user.
        user: i64,
        /// The text.
        text: String,
        /// The user's language.
        locale: Option<String>,
    },
    /// A user pressed a button of a bot's message.
    Callback {
        /// The user.
        user: i64,
        /// The callback, to answer.
        id: String,
        /// The button's payload.
        payload: String,
        /// The user's language.
        locale: Option<String>,
    },
    /// Anything else (group chats, edits…): nothing to do.
    Other,
}

impl Update {
    /// Reads one update object as the API sends it.
    pub fn parse(v: &Value) -> Update {
        let locale = v["user_locale"].as_str().map(str::to_string);
        match v["update_type"].as_str().unwrap_or_default() {
            "bot_started" => match v["user"]["user_id"].as_i64() {
                Some(user) => Update::Started {
                    user,
                    payload: v["payload"]
                        .as_str()
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                    locale,
                },
                None => Update::Other,
            },
            "bot_stopped" => match v["user"]["user_id"].as_i64() {
                Some(user) => Update::Stopped { user },
                None => Update::Other,
            },
            "message_created" => {
                let m = &v["message"];
                // Only a user's own words in a dialog with the bot.
                let dialog = m["recipient"]["chat_type"].as_str().is_none_or(|t| t == "dialog");
                match (m["sender"]["user_id"].as_i64(), m["body"]["text"].as_str()) {
                    (Some(user), Some(text)) if dialog && m["sender"]["is_bot"].as_bool() != Some(true) => {
                        Update::Message {
                            user,
                            text: text.to_string(),
                            locale,
                        }
                    }
                    _ => Update::Other,
                }
            }
            "message_callback" => {
                let c = &v["callback"];
                match (
                    c["user"]["user_id"].as_i64(),
                    c["callback_id"].as_str(),
                    c["payload"].as_str(),
                ) {
                    (Some(user), Some(id), Some(payload)) => Update::Callback {
                        user,
                        id: id.to_string(),
                        payload: payload.to_string(),
                        locale,
                    },
                    _ => Update::Other,
                }
            }
            _ => Update::Other,
        }
    }
}

/// A batch of updates and the marker to ask for the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updates {
    /// The updates, oldest first.
    pub updates: Vec<Update>,
    /// Where the next request starts.
    pub marker: Option<i64>,
}

/// The bot's client.
#[derive(Debug, Clone)]
pub struct Max {
    config: MaxConfig,
    http: reqwest::Client,
}

impl Max {
    /// A client of the bot `config` describes.
    pub fn new(config: MaxConfig) -> Max {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Max { config, http }
    }

    /// The configuration.
    pub fn config(&self) -> &MaxConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    async fn call(&self, request: reqwest::RequestBuilder, wait: Duration) -> Result<Value, MaxError> {
        let response = request
            .header("Authorization", &self.config.token)
            .timeout(wait + Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| MaxError::Unavailable(e.to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| MaxError::Unavailable(e.to_string()))?;
        let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        // Errors come as {"code": "…", "message": "…"}.
        let why = format!(
            "HTTP {}: {} {}",
            status.as_u16(),
            value["code"].as_str().unwrap_or_default(),
            value["message"]
                .as_str()
                .map_or_else(|| body.chars().take(200).collect(), str::to_string)
        );
        Err(match status.as_u16() {
            401 => MaxError::Auth(why),
            403 | 404 => MaxError::Blocked(why),
            429 => MaxError::Throttled(why),
            400 | 405 => MaxError::Refused(why),
            _ if status.is_server_error() => MaxError::Unavailable(why),
            _ => MaxError::Protocol(why),
        })
    }

    /// Writes `text` (cut to [`MAX_TEXT`]) to `user` in their dialog with
    /// the bot, with `buttons` in one row under it; returns the message's
    /// id.
    pub async fn send(&self, user: i64, text: &str, buttons: &[Button]) -> Result<String, MaxError> {
        let text: String = text.chars().take(MAX_TEXT).collect();
        let mut body = json!({ "text": text });
        if !buttons.is_empty() {
            let row: Vec<Value> = buttons
                .iter()
                .map(|b| json!({"type": "callback", "text": b.text, "payload": b.payload}))
                .collect();
            body["attachments"] = json!([{"type": "inline_keyboard", "payload": {"buttons": [row]}}]);
        }
        let answer = self
            .call(
                self.http
                    .post(self.url("/messages"))
                    .query(&[("user_id", user)])
                    .json(&body),
                Duration::ZERO,
            )
            .await?;
        answer["message"]["body"]["mid"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MaxError::Protocol(format!("no message id in {answer}")))
    }

    /// Answers a button press (stops its spinner), with a short notice.
    pub async fn answer(&self, callback: &str, notice: &str) -> Result<(), MaxError> {
        self.call(
            self.http
                .post(self.url("/answers"))
                .query(&[("callback_id", callback)])
                .json(&json!({ "notification": notice })),
            Duration::ZERO,
        )
        .await
        .map(drop)
    }

    /// The updates after `marker`, waiting up to `wait` for one (long
    /// polling, when no webhook is subscribed).
    pub async fn updates(&self, marker: Option<i64>, wait: Duration) -> Result<Updates, MaxError> {
        let mut query = vec![
            ("limit", "100".to_string()),
            ("timeout", wait.as_secs().to_string()),
            ("types", UPDATE_TYPES.join(",")),
        ];
        if let Some(m) = marker {
            query.push(("marker", m.to_string()));
        }
        let answer = self
            .call(self.http.get(self.url("/updates")).query(&query), wait)
            .await?;
        let updates = answer["updates"]
            .as_array()
            .ok_or_else(|| MaxError::Protocol(format!("no updates in {answer}")))?
            .iter()
            .map(Update::parse)
            .collect();
        Ok(Updates {
            updates,
            marker: answer["marker"].as_i64().or(marker),
        })
    }

    /// Has the API post the bot's updates to `url` with `secret` in
    /// [`SECRET_HEADER`] (long polling stops working then).
    pub async fn subscribe(&self, url: &str, secret: &str) -> Result<(), MaxError> {
        let answer = self
            .call(
                self.http.post(self.url("/subscriptions")).json(&json!({
                    "url": url,
                    "update_types": UPDATE_TYPES,
                    "secret": secret,
                })),
                Duration::ZERO,
            )
            .await?;
        if answer["success"].as_bool() == Some(true) {
            Ok(())
        } else {
            Err(MaxError::Refused(format!("subscription not made: {answer}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeMax;

    fn client(url: &str, token: &str) -> Max {
        Max::new(MaxConfig {
            base_url: url.into(),
            token: token.into(),
            bot_name: "kabinet_bot".into(),
        })
    }

    #[tokio::test]
    async fn messages_go_to_the_user_with_their_buttons_and_errors_are_mapped() {
        let fake = FakeMax::start("secret-token", "kabinet_bot").await.expect("fake");
        let max = client(fake.url(), "secret-token");
        let yes = Button {
            text: "Да".into(),
            payload: "yes".into(),
        };
        let mid = max
            .send(42, "Привет", std::slice::from_ref(&yes))
            .await
            .expect("sent");
        assert!(!mid.is_empty());
        let sent = fake.messages_to(42);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].text, "Привет");
        assert_eq!(sent[0].buttons, vec![yes]);

        let bad = client(fake.url(), "wrong");
        assert!(matches!(bad.send(42, "x", &[]).await, Err(MaxError::Auth(_))));

        fake.fail_next(&[429, 403, 503]);
        let e = max.send(42, "x", &[]).await.expect_err("throttled");
        assert!(matches!(e, MaxError::Throttled(_)) && e.retryable());
        let e = max.send(42, "x", &[]).await.expect_err("blocked");
        assert!(matches!(e, MaxError::Blocked(_)) && !e.retryable());
        assert!(matches!(
            max.send(42, "x", &[]).await,
            Err(MaxError::Unavailable(_))
        ));
        assert_eq!(fake.messages_to(42).len(), 1);
    }

    #[tokio::test]
    async fn updates_come_in_order_once_by_long_polling() {
        let fake = FakeMax::start("t", "kabinet_bot").await.expect("fake");
        let max = client(fake.url(), "t");
        fake.start_bot(7, Some("abc"), "ru");
        fake.say(7, "/balance");
        fake.press(7, "yes");
        fake.stop_bot(7);
        let got = max.updates(None, Duration::ZERO).await.expect("updates");
        assert_eq!(got.updates.len(), 4);
        assert_eq!(
            got.updates[0],
            Update::Started {
                user: 7,
                payload: Some("abc".into()),
                locale: Some("ru".into())
            }
        );
        assert!(matches!(&got.updates[1], Update::Message { user: 7, text, .. } if text == "/balance"));
        let Update::Callback { id, payload, .. } = &got.updates[2] else {
            panic!("not a callback: {:?}", got.updates[2]);
        };
        assert_eq!(payload, "yes");
        max.answer(id, "").await.expect("answered");
        assert_eq!(got.updates[3], Update::Stopped { user: 7 });
        let again = max.updates(got.marker, Duration::ZERO).await.expect("updates");
        assert!(again.updates.is_empty(), "{:?}", again.updates);
        // A long poll returns as soon as something happens.
        let waiting = {
            let max = max.clone();
            let marker = again.marker;
            tokio::spawn(async move { max.updates(marker, Duration::from_secs(20)).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        fake.say(7, "hi");
        let got = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("in time")
            .expect("joined")
            .expect("updates");
        assert!(matches!(&got.updates[..], [Update::Message { text, .. }] if text == "hi"));
    }

    #[tokio::test]
    async fn a_subscription_needs_the_token() {
        let fake = FakeMax::start("t", "kabinet_bot").await.expect("fake");
        assert!(matches!(
            client(fake.url(), "x").subscribe("https://portal/max", "s").await,
            Err(MaxError::Auth(_))
        ));
        client(fake.url(), "t")
            .subscribe("https://portal/max", "s")
            .await
            .expect("subscribed");
        assert_eq!(
            fake.subscription(),
            Some(("https://portal/max".into(), "s".into()))
        );
    }

    #[test]
    fn group_chats_and_the_bots_own_messages_are_not_taken_for_a_users() {
        let group = json!({"update_type": "message_created", "message": {
            "sender": {"user_id": 1}, "recipient": {"chat_id": 5, "chat_type": "chat"}, "body": {"text": "x"}}});
        assert_eq!(Update::parse(&group), Update::Other);
        let bot = json!({"update_type": "message_created", "message": {
            "sender": {"user_id": 1, "is_bot": true}, "recipient": {"chat_type": "dialog"}, "body": {"text": "x"}}});
        assert_eq!(Update::parse(&bot), Update::Other);
        assert_eq!(Update::parse(&json!({"update_type": "bot_added"})), Update::Other);
    }
}
