//! Messages to residents: the texts of Kabinet's e-mails ([`messages`]), their
//! delivery over SMTP or into files ([`mailer`]) and the worker that empties the
//! outbox with retries ([`worker`]).

pub mod html;
pub mod mailer;
pub mod messages;
pub mod worker;

pub use mailer::{MailConfig, MailError, Mailer, SmtpTls};
