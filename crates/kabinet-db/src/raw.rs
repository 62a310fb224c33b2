//! Statements written out in SQL, for the repositories whose set-based or
//! upserting statements the query builder does not say well.

use crate::{Conn, DbError};
use sea_orm::{ConnectionTrait, Statement, Value};

/// Runs one statement with its values; how many rows it changed.
pub(crate) async fn execute<C: Conn>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
    let conn = c.conn();
    Ok(conn
        .execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
        .await?
        .rows_affected())
}
