//! Residents' registration, sign-in and account security (R1, R2, R15, P4): the
//! rules both the web pages and the JSON API go through. Passwords are Argon2id
//! ([`passwords`]), tokens are random and stored hashed ([`secrets`]), guessing
//! is throttled ([`throttle`]), and every outcome is written to the audit log.

pub mod background;
pub mod passwords;
pub mod secrets;
mod service;
pub mod throttle;

pub use passwords::{HashError, Hasher};
pub use secrets::ServerKey;
pub use service::*;
pub use throttle::{AccountThrottle, IpLimiter, MailLimit};
