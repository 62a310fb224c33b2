//! SeaORM entities, one per table. Used inside this crate only: repositories
//! convert rows into domain types before they leave it.

pub mod account;
pub mod billing_period;
pub mod charge;
pub mod exchange_run;
pub mod invoice;
pub mod meter;
pub mod meter_reading;
pub mod organization;
pub mod payee;
pub mod payment;
pub mod premises;
pub mod service;
