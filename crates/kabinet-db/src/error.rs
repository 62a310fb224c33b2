//! Errors of the storage layer.

use sea_orm::DbErr;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names an engine Kabinet does not support.
    #[error("unsupported database URL: use sqlite://… or postgres://…")]
    UnsupportedUrl,
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] DbErr),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[source] DbErr),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[source] DbErr),
    /// A stored value does not parse into its domain type.
    #[error("stored data is invalid: {table}.{column} = {value:?}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// The offending value.
        value: String,
    },
    /// A bulk COPY into PostgreSQL failed.
    #[error("bulk write failed: {0}")]
    Copy(#[source] sea_orm::sqlx::Error),
    /// A row that must exist does not.
    #[error("not found")]
    NotFound,
    /// A demo or bulk operation refused to run.
    #[error("{0}")]
    Refused(String),
}

impl From<DbErr> for DbError {
    fn from(e: DbErr) -> DbError {
        DbError::Query(e)
    }
}

impl DbError {
    /// A unique key refused the write: on PostgreSQL a concurrent
    /// transaction can win a race that `ON CONFLICT` only settles for its
    /// own key; trying again then sees the other row.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        )
    }
}
