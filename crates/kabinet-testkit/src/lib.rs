//! Test support: every test gets a database of its own, on SQLite (a file in a
//! fresh temporary folder) or PostgreSQL (a `kabinet_test_<random>` database that
//! is dropped afterwards, even when the test panics).
//!
//! PostgreSQL is found at `KABINET_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached the
//! PostgreSQL half of a test fails under `CI=true` and is skipped with a message on
//! a developer machine.

use kabinet_db::{Db, DbOptions};
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A migrated, empty database that disappears when dropped.
pub struct TestDb {
    /// The handle tests use.
    pub db: Db,
    /// The URL it was opened with (for starting the binary against it).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

/// The administrative PostgreSQL URL tests create their databases through.
pub fn pg_admin_url() -> String {
    std::env::var("KABINET_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn random_suffix() -> String {
    format!("{}_{:016x}", std::process::id(), fastrand::u64(..))
}

impl TestDb {
    /// A fresh database on `engine`; `None` only for PostgreSQL when it is not
    /// reachable outside CI.
    pub async fn new(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => Some(TestDb::sqlite().await),
            Engine::Postgres => TestDb::postgres().await,
        }
    }

    /// A fresh, migrated SQLite database in its own temporary folder.
    pub async fn sqlite() -> TestDb {
        let t = TestDb::sqlite_unmigrated().await;
        t.db.migrate().await.expect("migrate sqlite");
        t
    }

    /// A fresh, migrated PostgreSQL database, or `None` (with a message) when no
    /// server answers and `CI` is not set.
    pub async fn postgres() -> Option<TestDb> {
        let t = TestDb::postgres_unmigrated().await?;
        t.db.migrate().await.expect("migrate postgres");
        Some(t)
    }

    /// A fresh, empty database on `engine` with no schema at all.
    pub async fn unmigrated(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => Some(TestDb::sqlite_unmigrated().await),
            Engine::Postgres => TestDb::postgres_unmigrated().await,
        }
    }

    async fn sqlite_unmigrated() -> TestDb {
        let dir = std::env::temp_dir().join(format!("kabinet_test_{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let url = format!("sqlite://{}/kabinet.db", dir.display());
        let db = Db::connect(&DbOptions::new(url.clone()))
            .await
            .expect("open sqlite");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    async fn postgres_unmigrated() -> Option<TestDb> {
        let admin_url = pg_admin_url();
        let admin = match Database::connect(admin_url.as_str()).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                    panic!("PostgreSQL at {admin_url} is required in CI: {e}");
                }
                eprintln!("SKIPPED: PostgreSQL half of this test (no server at {admin_url}: {e})");
                return None;
            }
        };
        let name = format!("kabinet_test_{}", random_suffix());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("bad KABINET_TEST_PG_URL: {admin_url}"),
        };
        let db = Db::connect(&DbOptions {
            url: url.clone(),
            max_connections: Some(8),
            acquire_timeout: None,
        })
        .await
        .expect("open postgres");
        Some(TestDb {
            db,
            url,
            cleanup: Cleanup::PgDatabase { admin_url, name },
        })
    }

    /// A handle to the same database (clones share the pool).
    pub fn db(&self) -> Db {
        self.db.clone()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a runtime of our own on
                // another thread to drop the database synchronously.
                let joined = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async move {
                        let admin = Database::connect(admin_url.as_str()).await?;
                        admin
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await?;
                        admin.close().await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if let Ok(Err(e)) = joined {
                    eprintln!("could not drop test database: {e}");
                }
            }
        }
    }
}

/// Declares async tests that run once on SQLite and once on PostgreSQL:
///
/// ```ignore
/// kabinet_testkit::db_tests! {
///     async fn finds_account(t: &TestDb) { /* … */ }
/// }
/// ```
/// expands to a module `finds_account` with tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! db_tests {
    ($(async fn $name:ident($t:ident : &TestDb) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($t: &$crate::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::TestDb::sqlite().await;
                run(&t).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::TestDb::postgres().await else { return };
                run(&t).await;
            }
        }
    )*};
}
