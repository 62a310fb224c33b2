//! kabinet-web's integration tests, one binary (one link instead of seven):
//! the real router on SQLite and PostgreSQL, module by area.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

mod announcements;
mod auth;
mod autopay;
mod english;
mod http;
mod joins;
mod max;
mod notify;
mod office;
mod ops;
mod payments;
mod portal;
mod readings;
mod refunds;
mod requests;
mod resident;
mod sms;
mod support;
