//! SMS for Kabinet: one [`Sms`] sender over the provider chosen in the
//! configuration — SMS.ru ([`smsru`]), SMSC.ru ([`smsc`]) or the `log`
//! transport that only writes messages down (the default, for demos) —
//! with the providers' error codes mapped to [`SmsError`] and their
//! delivery statuses to [`DeliveryState`]. The `fake` feature adds local
//! imitations of both providers' HTTP APIs for tests ([`fake`]).

#[cfg(feature = "fake")]
pub mod fake;
pub mod smsc;
pub mod smsru;

use kabinet_domain::notify::DeliveryState;
use std::path::PathBuf;
use std::time::Duration;

/// How long one request to a provider may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// Which provider sends SMS, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsConfig {
    /// Nothing is sent: each message is logged and, with a folder, written
    /// to a file in it (`<time>-<phone>.txt`).
    Log {
        /// Where the files go.
        dir: Option<PathBuf>,
    },
    /// SMS.ru (`https://sms.ru`), with the key of the account's API.
    SmsRu {
        /// The API's base URL.
        base_url: String,
        /// The `api_id`.
        api_id: String,
        /// The approved sender name; `None`: the account's default.
        sender: Option<String>,
    },
    /// SMSC.ru (`https://smsc.ru`), with the account's login and password
    /// (or API key as the password).
    Smsc {
        /// The API's base URL.
        base_url: String,
        /// The login.
        login: String,
        /// The password.
        password: String,
        /// The approved sender name; `None`: the account's default.
        sender: Option<String>,
    },
}

/// SMS.ru's API base URL.
pub const SMSRU_URL: &str = "https://sms.ru";
/// SMSC.ru's API base URL.
pub const SMSC_URL: &str = "https://smsc.ru";

/// What the provider answered for a message it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The provider's id of the message, to ask for its status.
    pub provider_ref: String,
    /// The price the provider charged, in roubles, when it said.
    pub cost: Option<f64>,
    /// The money left on the provider's account, when it said.
    pub balance: Option<f64>,
}

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The provider's account has no money left.
    #[error("the SMS provider's account has no money left ({0})")]
    NoMoney(String),
    /// The number cannot get SMS (wrong, not a mobile, in a stop list).
    #[error("the phone number cannot get SMS ({0})")]
    BadNumber(String),
    /// The provider refused this message (its text or sender name).
    #[error("the SMS provider refused the message ({0})")]
    Refused(String),
    /// The provider did not accept the credentials or the client's address.
    #[error("the SMS provider refused the credentials ({0})")]
    Auth(String),
    /// Too many messages or requests for now.
    #[error("the SMS provider asks to slow down ({0})")]
    Throttled(String),
    /// The provider is down or did not answer.
    #[error("the SMS provider is unavailable ({0})")]
    Unavailable(String),
    /// The provider answered something this client does not understand.
    #[error("the SMS provider answered unexpectedly ({0})")]
    Protocol(String),
}

impl SmsError {
    /// Whether trying the same message later may succeed; a bad number or
    /// a refused text never will.
    pub fn retryable(&self) -> bool {
        !matches!(self, SmsError::BadNumber(_) | SmsError::Refused(_))
    }
}

/// The SMS sender.
#[derive(Debug, Clone)]
pub struct Sms {
    config: SmsConfig,
    http: reqwest::Client,
}

impl Sms {
    /// A sender for `config`.
    pub fn new(config: SmsConfig) -> Sms {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Sms { config, http }
    }

    /// The `log` transport writing into `dir`.
    pub fn log(dir: Option<PathBuf>) -> Sms {
        Sms::new(SmsConfig::Log { dir })
    }

    /// The provider's name, for logs.
    pub fn provider(&self) -> &'static str {
        match self.config {
            SmsConfig::Log { .. } => "log",
            SmsConfig::SmsRu { .. } => "smsru",
            SmsConfig::Smsc { .. } => "smsc",
        }
    }

    /// Sends `text` to `phone` (`+7…`); `reference` is ours for the
    /// message (the outbox row), given to providers that keep one.
    pub async fn send(&self, phone: &str, text: &str, reference: i64) -> Result<Sent, SmsError> {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        match &self.config {
            SmsConfig::Log { dir } => {
                tracing::info!(phone = %phone, text = %text, "SMS (log transport)");
                if let Some(dir) = dir {
                    write_file(dir, &digits, text, reference)
                        .await
                        .map_err(|e| SmsError::Unavailable(e.to_string()))?;
                }
                Ok(Sent {
                    provider_ref: format!("log-{reference}"),
                    cost: None,
                    balance: None,
                })
            }
            SmsConfig::SmsRu {
                base_url,
                api_id,
                sender,
            } => smsru::send(&self.http, base_url, api_id, sender.as_deref(), &digits, text).await,
            SmsConfig::Smsc {
                base_url,
                login,
                password,
                sender,
            } => {
                smsc::send(
                    &self.http,
                    base_url,
                    (login, password),
                    sender.as_deref(),
                    &digits,
                    text,
                    reference,
                )
                .await
            }
        }
    }

    /// What became of message `provider_ref` sent to `phone`: still
    /// [`DeliveryState::Accepted`] while on its way.
    pub async fn status(&self, provider_ref: &str, phone: &str) -> Result<DeliveryState, SmsError> {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        match &self.config {
            SmsConfig::Log { .. } => Ok(DeliveryState::Delivered),
            SmsConfig::SmsRu { base_url, api_id, .. } => {
                smsru::status(&self.http, base_url, api_id, provider_ref).await
            }
            SmsConfig::Smsc {
                base_url,
                login,
                password,
                ..
            } => smsc::status(&self.http, base_url, (login, password), &digits, provider_ref).await,
        }
    }
}

async fn write_file(dir: &std::path::Path, digits: &str, text: &str, reference: i64) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let path = dir.join(format!("{now}-{reference}-{digits}.txt"));
    tokio::fs::write(path, format!("To: +{digits}\n\n{text}\n")).await
}

/// Reads a provider's JSON answer; a body that is not JSON is the
/// provider's trouble (an HTML error page of a proxy, say).
pub(crate) async fn json_of(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<serde_json::Value, SmsError> {
    let response = response.map_err(|e| SmsError::Unavailable(e.to_string()))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(SmsError::Unavailable(format!("HTTP {status}")));
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(SmsError::Throttled(format!("HTTP {status}")));
    }
    let body = response
        .text()
        .await
        .map_err(|e| SmsError::Unavailable(e.to_string()))?;
    serde_json::from_str(&body).map_err(|_| {
        SmsError::Protocol(format!(
            "HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        ))
    })
}

/// A number or a numeric string of a JSON answer (providers write money
/// both ways).
pub(crate) fn number(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeSmsProviders;

    fn smsru(url: &str, key: &str) -> Sms {
        Sms::new(SmsConfig::SmsRu {
            base_url: url.into(),
            api_id: key.into(),
            sender: Some("Kabinet".into()),
        })
    }

    fn smsc(url: &str, password: &str) -> Sms {
        Sms::new(SmsConfig::Smsc {
            base_url: url.into(),
            login: "org".into(),
            password: password.into(),
            sender: None,
        })
    }

    #[tokio::test]
    async fn both_providers_send_report_and_refuse_as_documented() {
        let fake = FakeSmsProviders::start("KEY", "org", "secret")
            .await
            .expect("fake");
        for sms in [smsru(fake.url(), "KEY"), smsc(fake.url(), "secret")] {
            let sent = sms.send("+79123456789", "Код 123456", 41).await.expect("sent");
            assert!(
                sent.cost.is_some_and(|c| c > 0.0),
                "{}: the price is told",
                sms.provider()
            );
            assert_eq!(
                sms.status(&sent.provider_ref, "+79123456789").await,
                Ok(DeliveryState::Accepted)
            );
            fake.deliver(DeliveryState::Delivered);
            assert_eq!(
                sms.status(&sent.provider_ref, "+79123456789").await,
                Ok(DeliveryState::Delivered)
            );
        }
        let taken = fake.messages();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].phone, "79123456789");
        assert_eq!(taken[0].text, "Код 123456");
        assert_eq!(taken[0].sender.as_deref(), Some("Kabinet"));
        assert_eq!(taken[1].reference.as_deref(), Some("41"), "SMSC keeps our id");
        assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());

        // Errors, by each provider's codes.
        let ru = smsru(fake.url(), "KEY");
        fake.fail_next(&[201]);
        assert!(matches!(
            ru.send("+79123456789", "x", 1).await,
            Err(SmsError::NoMoney(_))
        ));
        assert!(matches!(
            ru.send("+7912345678", "x", 1).await,
            Err(SmsError::BadNumber(_))
        ));
        assert!(matches!(
            smsru(fake.url(), "WRONG").send("+79123456789", "x", 1).await,
            Err(SmsError::Auth(_))
        ));
        let c = smsc(fake.url(), "secret");
        fake.fail_next(&[3, 6, 9]);
        let no_money = c.send("+79123456789", "x", 2).await;
        assert!(matches!(no_money, Err(SmsError::NoMoney(_))), "{no_money:?}");
        assert!(matches!(
            c.send("+79123456789", "x", 2).await,
            Err(SmsError::Refused(_))
        ));
        assert!(matches!(
            c.send("+79123456789", "x", 2).await,
            Err(SmsError::Throttled(_))
        ));
        assert!(matches!(
            smsc(fake.url(), "wrong").send("+79123456789", "x", 2).await,
            Err(SmsError::Auth(_))
        ));
        assert!(!SmsError::BadNumber(String::new()).retryable());
        assert!(SmsError::NoMoney(String::new()).retryable());
        // Nobody listening: unavailable, to be tried again.
        let down = smsru("http://127.0.0.1:9", "KEY")
            .send("+79123456789", "x", 3)
            .await;
        assert!(matches!(down, Err(SmsError::Unavailable(_))), "{down:?}");
        assert_eq!(fake.messages().len(), 2, "nothing refused was taken");
    }

    #[tokio::test]
    async fn the_log_transport_writes_files() {
        let dir = std::env::temp_dir().join(format!("kabinet-sms-{}", std::process::id()));
        let sms = Sms::log(Some(dir.clone()));
        let sent = sms.send("+79123456789", "Код 654321", 7).await.expect("logged");
        assert_eq!(sent.provider_ref, "log-7");
        let files: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).expect("file");
        assert!(
            text.contains("+79123456789") && text.contains("Код 654321"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
