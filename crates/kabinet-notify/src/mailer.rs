//! E-mail delivery: SMTP (plain, STARTTLS or TLS, with optional credentials) or
//! `.eml` files in a folder — the zero-setup default.

use kabinet_domain::Email;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// No encryption (a relay on the same host or a test server).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// Where e-mails go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailConfig {
    /// Each message becomes an `.eml` file in this folder.
    Files {
        /// The folder (created when missing).
        dir: PathBuf,
        /// The From address.
        from: String,
    },
    /// An SMTP server.
    Smtp {
        /// Host name.
        host: String,
        /// Port.
        port: u16,
        /// Encryption.
        tls: SmtpTls,
        /// User name, when the server wants one.
        username: Option<String>,
        /// Password for `username`.
        password: Option<String>,
        /// The From address.
        from: String,
    },
}

/// Why a message could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The From or To address is not usable.
    #[error("bad address: {0}")]
    Address(String),
    /// Building the message failed.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(String),
    /// Writing the file failed.
    #[error("mail file: {0}")]
    File(String),
}

enum Transport {
    Files(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Headers a notification adds to an e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    /// The left part of the Message-ID (the right is the sender's domain).
    pub message_id: Option<String>,
    /// The one-click unsubscribe URL.
    pub unsubscribe: Option<String>,
}

/// Sends e-mails; cheap to share.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `config`. The file folder is created here.
    pub fn new(config: &MailConfig) -> Result<Mailer, MailError> {
        let (transport, from) = match config {
            MailConfig::Files { dir, from } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| MailError::File(format!("{}: {e}", dir.display())))?;
                (Transport::Files(AsyncFileTransport::new(dir)), from)
            }
            MailConfig::Smtp {
                host,
                port,
                tls,
                username,
                password,
                from,
            } => {
                let builder = match tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .map_err(|e| MailError::Smtp(e.to_string()))?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| MailError::Smtp(e.to_string()))?,
                };
                let mut builder = builder.port(*port).timeout(Some(Duration::from_secs(20)));
                if let (Some(u), Some(p)) = (username, password) {
                    builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
                }
                (Transport::Smtp(builder.build()), from)
            }
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Address(format!("{from}: {e}")))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one message (plain text and HTML alternatives), from the
    /// configured address under `sender`'s name when one is given (the
    /// organization's choice), else the configured From as it is.
    pub async fn send(&self, email: &Email, sender: Option<&str>) -> Result<(), MailError> {
        self.send_with(email, sender, &Extra::default()).await
    }

    /// [`Mailer::send`] with the headers of a notification: a stable
    /// Message-ID (a resend after a crash is the same message to the
    /// mailbox) and a one-click unsubscribe (RFC 2369, RFC 8058).
    pub async fn send_with(
        &self,
        email: &Email,
        sender: Option<&str>,
        extra: &Extra,
    ) -> Result<(), MailError> {
        let from = match sender.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => Mailbox::new(Some(name.to_string()), self.from.email.clone()),
            None => self.from.clone(),
        };
        let to: Mailbox = email
            .to
            .as_str()
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Address(e.to_string()))?;
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject.clone());
        if let Some(id) = &extra.message_id {
            builder = builder.message_id(Some(format!("<{id}@{}>", self.from.email.domain())));
        }
        if let Some(url) = &extra.unsubscribe {
            use lettre::message::header::{HeaderName, HeaderValue};
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Files(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::File(e.to_string())),
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Smtp(e.to_string())),
        }
    }
}
