//! Kabinet's storage: the only crate that speaks SQL.
//!
//! [`Db`] wraps one connection pool on SQLite or PostgreSQL (picked from the URL at
//! run time); [`Tx`] is a write transaction begun on it. Queries live in
//! repositories, one per area, reached from either through [`Repos`]:
//! `db.billing().invoices(id)` reads from the pool, `tx.users().set_password(…)`
//! writes inside the caller's transaction next to `tx.audit().record(…)` and
//! `tx.outbox().queue(…)`, so a change, its audit line and its e-mail commit
//! together. Repositories take and return domain types from `kabinet-domain`.

pub mod accounts;
pub mod address_hits;
pub mod announcements;
pub mod audit;
pub mod autopay;
pub mod billing;
pub mod bulk;
pub mod card_payments;
pub mod card_refunds;
mod convert;
pub mod counters;
pub mod email_changes;
mod entities;
pub mod error;
pub mod exchange;
pub mod export;
pub mod imports;
pub mod jobs;
pub mod links;
pub mod max;
pub mod meters;
pub mod migration;
pub mod notify;
pub mod notify_texts;
pub mod office;
pub mod ops;
pub mod org_settings;
pub mod organization;
pub mod outbox;
pub mod overview;
pub mod payments;
pub mod phone_codes;
mod raw;
pub mod receipts;
pub mod requests;
pub mod resets;
pub mod rules;
pub mod sessions;
pub mod staff;
pub mod support;
pub mod suspensions;
pub mod users;

pub use error::DbError;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    statements: Arc<AtomicU64>,
    /// A read-only copy streamed from this database, if one is configured.
    replica: Option<Arc<Db>>,
}

/// A write transaction: what its repositories write is committed together by
/// [`Tx::commit`], or not at all (a dropped `Tx` rolls back).
pub struct Tx {
    tx: DatabaseTransaction,
    backend: Backend,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Db {}
    impl Sealed for super::Tx {}
}

/// Where a repository runs its statements: the pool ([`Db`]) or a
/// transaction ([`Tx`]).
pub trait Conn: sealed::Sealed + Sync {
    /// The SeaORM connection underneath.
    type C: ConnectionTrait + Sync;
    /// The connection statements run on.
    fn conn(&self) -> &Self::C;
    /// The engine.
    fn backend(&self) -> Backend;
}

impl Conn for Db {
    type C = DatabaseConnection;
    fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }
    fn backend(&self) -> Backend {
        self.backend
    }
}

impl Conn for Tx {
    type C = DatabaseTransaction;
    fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }
    fn backend(&self) -> Backend {
        self.backend
    }
}

/// The repositories, reached from the pool or from a transaction.
pub trait Repos: Conn + Sized {
    /// Personal accounts, premises and passport hashes.
    fn accounts(&self) -> accounts::Accounts<'_, Self> {
        accounts::Accounts(self)
    }
    /// Announcements and outages.
    fn announcements(&self) -> announcements::Announcements<'_, Self> {
        announcements::Announcements(self)
    }
    /// The audit log.
    fn audit(&self) -> audit::Audit<'_, Self> {
        audit::Audit(self)
    }
    /// Kept payment methods, autopays and their debits.
    fn autopay(&self) -> autopay::AutopayRepo<'_, Self> {
        autopay::AutopayRepo(self)
    }
    /// Charges and invoices.
    fn billing(&self) -> billing::Billing<'_, Self> {
        billing::Billing(self)
    }
    /// Card payments through a gateway, and the sandbox gateway's own.
    fn card_payments(&self) -> card_payments::CardPayments<'_, Self> {
        card_payments::CardPayments(self)
    }
    /// Refunds of card payments.
    fn card_refunds(&self) -> card_refunds::CardRefunds<'_, Self> {
        card_refunds::CardRefunds(self)
    }
    /// Per-account counters (registration checks, e-mails).
    fn counters(&self) -> counters::Counters<'_, Self> {
        counters::Counters(self)
    }
    /// Pending e-mail changes.
    fn email_changes(&self) -> email_changes::EmailChanges<'_, Self> {
        email_changes::EmailChanges(self)
    }
    /// The accounts linked to users.
    fn links(&self) -> links::Links<'_, Self> {
        links::Links(self)
    }
    /// Residents' support: search, sign-ins, sessions, blocking.
    fn support(&self) -> support::Support<'_, Self> {
        support::Support(self)
    }
    /// The portal's closing.
    fn suspensions(&self) -> suspensions::Suspensions<'_, Self> {
        suspensions::Suspensions(self)
    }
    /// Billing packages uploaded in the office.
    fn imports(&self) -> imports::Imports<'_, Self> {
        imports::Imports(self)
    }
    /// Meters and readings.
    fn meters(&self) -> meters::Meters<'_, Self> {
        meters::Meters(self)
    }
    /// The figures of the office's home page.
    fn office(&self) -> office::Office<'_, Self> {
        office::Office(self)
    }
    /// The settings the office changes at run time.
    fn org_settings(&self) -> org_settings::OrgSettings<'_, Self> {
        org_settings::OrgSettings(self)
    }
    /// The Organization, payees, services, billing periods.
    fn organization(&self) -> organization::Organizations<'_, Self> {
        organization::Organizations(self)
    }
    /// The background job queue.
    fn jobs(&self) -> jobs::Jobs<'_, Self> {
        jobs::Jobs(self)
    }
    /// The e-mail outbox.
    fn outbox(&self) -> outbox::Outbox<'_, Self> {
        outbox::Outbox(self)
    }
    /// Notification events and their deliveries.
    fn notify(&self) -> notify::Notify<'_, Self> {
        notify::Notify(self)
    }
    /// The organization's own texts of notifications.
    fn notify_texts(&self) -> notify_texts::NotifyTexts<'_, Self> {
        notify_texts::NotifyTexts(self)
    }
    /// MAX messenger links and the bot's questions.
    fn max(&self) -> max::MaxLinks<'_, Self> {
        max::MaxLinks(self)
    }
    /// Phone verification codes.
    fn phone_codes(&self) -> phone_codes::PhoneCodes<'_, Self> {
        phone_codes::PhoneCodes(self)
    }
    /// What a resident sees first about an account.
    fn overview(&self) -> overview::Overviews<'_, Self> {
        overview::Overviews(self)
    }
    /// Payments credited to accounts.
    fn payments(&self) -> payments::Payments<'_, Self> {
        payments::Payments(self)
    }
    /// The records of many receipts at once.
    fn receipts(&self) -> receipts::ReceiptData<'_, Self> {
        receipts::ReceiptData(self)
    }
    /// Password-reset links.
    fn resets(&self) -> resets::Resets<'_, Self> {
        resets::Resets(self)
    }
    /// Versions of the Rules of service.
    fn rules(&self) -> rules::Documents<'_, Self> {
        rules::Documents(self, kabinet_domain::Document::Rules)
    }
    /// Versions of a document residents accept (the Rules or the consent).
    fn documents(&self, doc: kabinet_domain::Document) -> rules::Documents<'_, Self> {
        rules::Documents(self, doc)
    }
    /// Browser sessions and API tokens.
    fn sessions(&self) -> sessions::Sessions<'_, Self> {
        sessions::Sessions(self)
    }
    /// Residents' requests, their history and photos.
    fn requests(&self) -> requests::Requests<'_, Self> {
        requests::Requests(self)
    }
    /// Staff members and their sessions.
    fn staff(&self) -> staff::Staff<'_, Self> {
        staff::Staff(self)
    }
    /// Residents' users.
    fn users(&self) -> users::Users<'_, Self> {
        users::Users(self)
    }
}

impl<T: Conn> Repos for T {}

impl Tx {
    /// Makes everything written through this transaction durable.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await.map_err(DbError::Query)
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Pool size; `None` picks 4 for SQLite and 16 for PostgreSQL.
    pub max_connections: Option<u32>,
    /// How long a statement waits for a connection before failing; `None`:
    /// 30 s. A replica gets a short one, so a page steps around it quickly.
    pub acquire_timeout: Option<Duration>,
}

impl DbOptions {
    /// Options for a URL with the default pool size.
    pub fn new(url: impl Into<String>) -> DbOptions {
        DbOptions {
            url: url.into(),
            max_connections: None,
            acquire_timeout: None,
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
            .acquire_timeout(options.acquire_timeout.unwrap_or(Duration::from_secs(30)));
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
        let mut conn = Database::connect(opts).await.map_err(DbError::Connect)?;
        let statements = Arc::new(AtomicU64::new(0));
        let counted = statements.clone();
        conn.set_metric_callback(move |_| {
            counted.fetch_add(1, Ordering::Relaxed);
        });
        Ok(Db {
            conn,
            backend,
            statements,
            replica: None,
        })
    }

    /// This database with `replica`, a streaming copy that read-only pages
    /// may read from (see [`Db::replica`]).
    pub fn with_replica(mut self, replica: Db) -> Db {
        self.replica = Some(Arc::new(Db {
            replica: None,
            ..replica
        }));
        self
    }

    /// The replica, when one is configured: reads only, and possibly a
    /// little behind this database.
    pub fn replica(&self) -> Option<&Db> {
        self.replica.as_deref()
    }

    /// Statements run on this pool (and its transactions) since it opened:
    /// what a request costs in round trips is the difference around it.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers wait for each other instead of
    /// failing half-way with "database is locked".
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(Tx {
            tx: self.write_tx().await?,
            backend: self.backend,
        })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbError> {
        migration::Migrator::up(&self.conn, None)
            .await
            .map_err(DbError::Migrate)
    }

    /// Applies at most `steps` pending migrations, oldest first: a database
    /// as an older release left it, for upgrade tests.
    pub async fn migrate_steps(&self, steps: u32) -> Result<(), DbError> {
        migration::Migrator::up(&self.conn, Some(steps))
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

    /// Writes a consistent copy of an SQLite database to `path` (which must
    /// not exist) while others go on reading and writing: `VACUUM INTO`
    /// reads one snapshot, so the copy holds every transaction committed
    /// before it began and none after. PostgreSQL is copied with its own
    /// tools (`pg_dump`, `pg_basebackup`): [`DbError::UnsupportedUrl`].
    pub async fn backup_into(&self, path: &std::path::Path) -> Result<(), DbError> {
        if self.backend != Backend::Sqlite {
            return Err(DbError::UnsupportedUrl);
        }
        let target = path.to_string_lossy().into_owned();
        raw::execute(self, "VACUUM INTO $1", vec![target.into()]).await?;
        Ok(())
    }

    /// SQLite's own check of a database file (`PRAGMA integrity_check`):
    /// `true` when it finds nothing wrong; PostgreSQL has no such check.
    pub async fn integrity_ok(&self) -> Result<bool, DbError> {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(FromQueryResult)]
        struct Row {
            integrity_check: String,
        }
        if self.backend != Backend::Sqlite {
            return Ok(true);
        }
        let rows = Row::find_by_statement(Statement::from_string(
            self.db_backend(),
            "PRAGMA integrity_check",
        ))
        .all(&self.conn)
        .await?;
        Ok(rows.len() == 1 && rows.iter().all(|r| r.integrity_check == "ok"))
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

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub(crate) fn db_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Exchange files: staged imports and the run log.
    pub fn exchange(&self) -> exchange::Exchange<'_> {
        exchange::Exchange(self)
    }

    /// Exports of what residents did, marked as they are read.
    pub fn exports(&self) -> export::Exports<'_> {
        export::Exports(self)
    }

    /// Requests per client address, shared by every server.
    pub fn address_hits(&self) -> address_hits::AddressHits<'_> {
        address_hits::AddressHits(self)
    }

    /// What an operator watches: jobs, deliveries, payments, the pool.
    pub fn ops(&self) -> ops::Ops<'_> {
        ops::Ops(self)
    }

    /// Bulk writes (the demo, benchmarks) and table statistics.
    pub fn bulk(&self) -> bulk::Bulk<'_> {
        bulk::Bulk(self)
    }
}

/// The repositories that run their own transactions on the pool reach it
/// through this.
macro_rules! on_pool {
    ($($repo:ty),*) => {$(
        impl std::ops::Deref for $repo {
            type Target = Db;
            fn deref(&self) -> &Db {
                self.0
            }
        }
    )*};
}

on_pool!(exchange::Exchange<'_>, export::Exports<'_>, bulk::Bulk<'_>);
