//! SeaORM entities, one per table. Used inside this crate only: repositories
//! convert rows into domain types before they leave it.

pub mod acceptance;
pub mod account;
pub mod account_counter;
pub mod account_secret;
pub mod audit;
pub mod billing_period;
pub mod charge;
pub mod email_change;
pub mod exchange_run;
pub mod invoice;
pub mod job;
pub mod meter;
pub mod meter_reading;
pub mod organization;
pub mod outbox;
pub mod password_reset;
pub mod payee;
pub mod payment;
pub mod photo_blob;
pub mod premises;
pub mod request;
pub mod request_category;
pub mod request_event;
pub mod request_photo;
pub mod rules_version;
pub mod service;
pub mod session;
pub mod staff;
pub mod staff_failure;
pub mod staff_recovery_code;
pub mod staff_session;
pub mod suspension;
pub mod user;
pub mod user_account;
