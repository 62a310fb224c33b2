//! Billing data exchange: reading the Organization's CSV files into Kabinet
//! (validated, all-or-nothing per file, idempotent) and writing back what
//! residents did. Formats are documented in `docs/exchange.md`.

pub mod export;
pub mod import;
pub mod package;
mod parse;
pub mod source;
pub mod unpack;

pub use kabinet_db::exchange::ImportKind;

/// Why an exchange could not run at all (as opposed to a file with bad lines,
/// which is a report, not an error).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The CSV structure is broken beyond a single line.
    #[error("{0}")]
    Csv(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] kabinet_db::DbError),
}
