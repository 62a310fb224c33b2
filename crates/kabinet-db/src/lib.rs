//! Kabinet's storage: the only crate that speaks SQL.
//!
//! [`Db`] wraps one connection pool on SQLite or PostgreSQL (picked from the URL at
//! run time). Repository methods live in modules named for what they hold
//! ([`accounts`], [`billing`], [`payments`], [`meters`], …) as `impl Db` blocks; they
//! take and return domain types from `kabinet-domain`.

pub mod accounts;
pub mod audit;
pub mod billing;
pub mod bulk;
mod convert;
pub mod counters;
mod entities;
pub mod error;
pub mod exchange;
pub mod export;
pub mod meters;
pub mod migration;
pub mod organization;
pub mod outbox;
pub mod payments;
pub mod receipts;
pub mod residents;

pub use error::DbError;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the zero-setup default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A handle on the database: a connection pool, cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Pool size; `None` picks 4 for SQLite and 16 for PostgreSQL.
    pub max_connections: Option<u32>,
}

impl DbOptions {
    /// Options for a URL with the default pool size.
    pub fn new(url: impl Into<String>) -> DbOptions {
        DbOptions {
            url: url.into(),
            max_connections: None,
        }
    }
}

impl Db {
    /// Opens a pool. SQLite files are created when missing and opened in WAL mode
    /// with foreign keys enforced and a 5 s busy timeout.
    pub async fn connect(options: &DbOptions) -> Result<Db, DbError> {
        let backend = if options.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if options.url.starts_with("postgres://") || options.url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let mut opts = ConnectOptions::new(options.url.clone());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        match backend {
            Backend::Sqlite => {
                opts.max_connections(options.max_connections.unwrap_or(4))
                    .map_sqlx_sqlite_opts(|o| {
                        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                        o.create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal)
                            .foreign_keys(true)
                            .busy_timeout(Duration::from_secs(5))
                            // Bulk statements are large and vary in row count;
                            // a small cache keeps a long run's memory bounded.
                            .statement_cache_capacity(16)
                    });
            }
            Backend::Postgres => {
                opts.max_connections(options.max_connections.unwrap_or(16));
            }
        }
        let conn = Database::connect(opts).await.map_err(DbError::Connect)?;
        Ok(Db { conn, backend })
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbError> {
        migration::Migrator::up(&self.conn, None)
            .await
            .map_err(DbError::Migrate)
    }

    /// Number of migrations not applied yet.
    pub async fn pending_migrations(&self) -> Result<usize, DbError> {
        Ok(migration::Migrator::get_pending_migrations(&self.conn)
            .await
            .map_err(DbError::Migrate)?
            .len())
    }

    /// Checks the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.conn.ping().await.map_err(DbError::Query)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(self) -> Result<(), DbError> {
        self.conn.close().await.map_err(DbError::Query)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers wait for each other instead of failing
    /// half-way with "database is locked".
    pub(crate) async fn write_tx(&self) -> Result<DatabaseTransaction, DbError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.conn
            .begin_with_options(options)
            .await
            .map_err(DbError::Query)
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub(crate) fn db_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }
}
