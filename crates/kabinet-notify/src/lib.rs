//! Messages to residents: the texts of Kabinet's e-mails ([`messages`]) and
//! their delivery over SMTP or into files ([`mailer`]). The job that takes
//! them from the outbox is `kabinet_app::jobs::email`.

pub mod html;
pub mod mailer;
pub mod max;
pub mod messages;
pub mod sms;

pub use mailer::{Extra, MailConfig, MailError, Mailer, SmtpTls};
