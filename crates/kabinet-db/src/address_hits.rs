//! Requests per client address in a one-minute window, shared by every
//! server of an installation (see [`crate::Db::address_hits`]).

use crate::{Db, DbError};
use sea_orm::{FromQueryResult, Statement};

/// The per-address counters.
pub struct AddressHits<'a>(pub(crate) &'a Db);

#[derive(FromQueryResult)]
struct Hits {
    hits: i64,
}

impl AddressHits<'_> {
    /// Counts one request of `scope` from `address` at `now` (Unix seconds)
    /// and returns how many the address made in its current window: a
    /// window starts with the first request after the previous one ended and
    /// lasts 60 s. One statement, atomic on both engines.
    pub async fn hit(&self, scope: &str, address: &str, now: i64) -> Result<i64, DbError> {
        let c = self.0.conn();
        let row = Hits::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            "INSERT INTO address_hits (scope, address, started, hits) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (scope, address) DO UPDATE SET \
             hits = CASE WHEN address_hits.started <= $4 THEN 1 ELSE address_hits.hits + 1 END, \
             started = CASE WHEN address_hits.started <= $4 THEN $3 ELSE address_hits.started END \
             RETURNING CAST(hits AS BIGINT) AS hits",
            vec![scope.into(), address.into(), now.into(), (now - 60).into()],
        ))
        .one(c)
        .await?;
        Ok(row.map_or(1, |r| r.hits))
    }

    /// Deletes the windows that ended before `now - 60` (Unix seconds).
    pub async fn forget_old(&self, now: i64) -> Result<u64, DbError> {
        crate::raw::execute(
            self.0,
            "DELETE FROM address_hits WHERE started < $1",
            vec![(now - 120).into()],
        )
        .await
    }
}
