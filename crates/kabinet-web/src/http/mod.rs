//! HTTP plumbing every page and API handler shares: the request context
//! (client, CSRF cookie, principal), CSRF-checked forms, the guards of the
//! signed-in route groups, the one page error and the one API error, and the
//! outermost layer that puts the security headers on every response.

pub(crate) mod context;
pub(crate) mod csrf;
pub(crate) mod errors;
pub(crate) mod files;
pub(crate) mod guard;
pub(crate) mod metrics;
#[macro_use]
pub(crate) mod replica;
pub(crate) mod request_id;
pub(crate) mod security;
pub(crate) mod upload;
