//! kabinet-app's integration tests, one binary: the use cases with logic of
//! their own, and the job runner, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, missing_docs)]

mod jobs;
mod use_cases;
