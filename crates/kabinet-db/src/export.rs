//! Exporting what residents did in Kabinet (readings, card payments) back to the
//! billing system. Rows are marked with the export run that carried them, in the
//! same transaction that reads them, so the next export does not repeat them and
//! an export that fails half-way marks nothing.

use crate::entities::exchange_file;
use crate::{Db, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Statement};
use time::{Date, OffsetDateTime};

/// Which rows an export takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportFilter {
    /// Also rows an earlier export carried.
    pub all: bool,
    /// Only rows submitted (readings) or paid (payments) at or after this moment.
    pub since: Option<OffsetDateTime>,
}

/// A reading handed in through Kabinet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedReading {
    /// Account number.
    pub account: String,
    /// Meter serial.
    pub meter: String,
    /// Tariff zone.
    pub zone: u8,
    /// The value as the meter shows it.
    pub value: d::ReadingValue,
    /// Day taken.
    pub taken_on: Date,
    /// When it was handed in.
    pub submitted_at: OffsetDateTime,
}

/// A payment made through Kabinet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedPayment {
    /// Account number.
    pub account: String,
    /// Id at the payment gateway.
    pub external_id: String,
    /// Amount.
    pub amount: d::Kopecks,
    /// When paid.
    pub paid_at: OffsetDateTime,
    /// Period named, if any.
    pub period: Option<d::Period>,
    /// The gateway's id of the card payment (ours is `external_id`).
    pub gateway_payment_id: Option<String>,
    /// For a refund (a negative amount), the gateway's id of the refund.
    pub gateway_refund_id: Option<String>,
}

/// Receives exported rows and is told when all were delivered, before anything
/// is marked; an error from either aborts the export.
pub trait ExportSink<R> {
    /// One row.
    fn row(&mut self, row: R) -> Result<(), String>;
    /// Every row was written; make it durable.
    fn finish(&mut self) -> Result<(), String>;
    /// The finished file to keep with the run (its encoding and bytes), in
    /// the transaction that marks the rows, so a file the office downloads
    /// is never lost after its rows were marked; `None` for a file written
    /// elsewhere (the command line's).
    fn file(&mut self) -> Option<(String, Vec<u8>)> {
        None
    }
}

const PAGE: u64 = 5_000;

fn filter_sql(table: &str, time_col: &str, f: &ExportFilter, values: &mut Vec<Value>) -> String {
    let mut sql = format!("{table}.source = 'portal'");
    if !f.all {
        sql.push_str(&format!(" AND {table}.export_run_id IS NULL"));
    }
    if let Some(since) = f.since {
        values.push(since.into());
        sql.push_str(&format!(" AND {table}.{time_col} >= ${}", values.len()));
    }
    sql
}

async fn mark(tx: &DatabaseTransaction, table: &str, run: i64, ids: &[i64]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    tx.execute_unprepared(&format!(
        "UPDATE {table} SET export_run_id = {run} WHERE id IN ({list})"
    ))
    .await?;
    Ok(())
}

/// What one export reads: the table, its alias and time column in the query,
/// and the SELECT (with `{cond}` where the filter goes and `$1` for the last id).
struct ExportQuery {
    table: &'static str,
    alias: &'static str,
    time_col: &'static str,
    select: &'static str,
}

const READINGS: ExportQuery = ExportQuery {
    table: "meter_readings",
    alias: "r",
    time_col: "submitted_at",
    select: "SELECT r.id, a.number, m.serial, r.zone, r.value, m.integer_digits, m.fraction_digits, r.taken_on, r.submitted_at \
             FROM meter_readings r JOIN meters m ON m.id = r.meter_id JOIN accounts a ON a.id = m.account_id \
             WHERE r.id > $1 AND {cond} ORDER BY r.id",
};

const PAYMENTS: ExportQuery = ExportQuery {
    table: "payments",
    alias: "p",
    time_col: "paid_at",
    select: "SELECT p.id, a.number, p.external_id, p.amount, p.paid_at, p.period, p.gateway_payment_id, p.gateway_refund_id \
             FROM payments p JOIN accounts a ON a.id = p.account_id \
             WHERE p.id > $1 AND {cond} ORDER BY p.id",
};

fn reading_row(r: &QueryResult) -> Result<ExportedReading, DbError> {
    let int: i16 = r.try_get("", "integer_digits")?;
    let frac: i16 = r.try_get("", "fraction_digits")?;
    let raw: i64 = r.try_get("", "value")?;
    let capacity = d::Capacity::new(u8::try_from(int).unwrap_or(0), u8::try_from(frac).unwrap_or(99))
        .map_err(|_| crate::convert::corrupt("meters", "integer_digits", int))?;
    let value = capacity
        .reading(raw)
        .ok_or_else(|| crate::convert::corrupt("meter_readings", "value", raw))?;
    let zone: i16 = r.try_get("", "zone")?;
    Ok(ExportedReading {
        account: r.try_get("", "number")?,
        meter: r.try_get("", "serial")?,
        zone: u8::try_from(zone).map_err(|_| crate::convert::corrupt("meter_readings", "zone", zone))?,
        value,
        taken_on: r.try_get("", "taken_on")?,
        submitted_at: r.try_get("", "submitted_at")?,
    })
}

fn payment_row(r: &QueryResult) -> Result<ExportedPayment, DbError> {
    let period: Option<i32> = r.try_get("", "period")?;
    Ok(ExportedPayment {
        account: r.try_get("", "number")?,
        external_id: r.try_get("", "external_id")?,
        amount: d::Kopecks(r.try_get("", "amount")?),
        paid_at: r.try_get("", "paid_at")?,
        period: period
            .map(|p| crate::convert::period("payments", p))
            .transpose()?,
        gateway_payment_id: r.try_get("", "gateway_payment_id")?,
        gateway_refund_id: r.try_get("", "gateway_refund_id")?,
    })
}

/// Exports (see [`Db::exports`]).
pub struct Exports<'a>(pub(crate) &'a Db);

impl Exports<'_> {
    /// Streams readings residents handed in to `sink` and marks them with `run`.
    /// Returns the number of rows.
    pub async fn export_readings(
        &self,
        run: d::ExchangeRunId,
        filter: ExportFilter,
        sink: &mut (dyn ExportSink<ExportedReading> + Send),
    ) -> Result<u64, DbError> {
        self.export_paged(run, &READINGS, filter, sink, reading_row).await
    }

    /// Streams card payments made in Kabinet to `sink` and marks them with `run`.
    /// Returns the number of rows.
    pub async fn export_payments(
        &self,
        run: d::ExchangeRunId,
        filter: ExportFilter,
        sink: &mut (dyn ExportSink<ExportedPayment> + Send),
    ) -> Result<u64, DbError> {
        self.export_paged(run, &PAYMENTS, filter, sink, payment_row).await
    }

    /// Reads the rows of `q` page by page (keyset on id) inside one write
    /// transaction, hands each to `sink`, marks the ids it carried, and commits
    /// only after `sink.finish()` succeeded.
    async fn export_paged<R>(
        &self,
        run: d::ExchangeRunId,
        q: &ExportQuery,
        filter: ExportFilter,
        sink: &mut (dyn ExportSink<R> + Send),
        to_row: fn(&QueryResult) -> Result<R, DbError>,
    ) -> Result<u64, DbError> {
        let tx = self.write_tx().await?;
        let mut last = 0i64;
        let mut n = 0u64;
        loop {
            let mut values = vec![Value::BigInt(Some(last))];
            let cond = filter_sql(q.alias, q.time_col, &filter, &mut values);
            let sql = format!("{} LIMIT {PAGE}", q.select.replace("{cond}", &cond));
            let rows = tx
                .query_all_raw(Statement::from_sql_and_values(self.db_backend(), sql, values))
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut ids = Vec::with_capacity(rows.len());
            for r in &rows {
                let id: i64 = r.try_get("", "id")?;
                sink.row(to_row(r)?).map_err(DbError::Refused)?;
                ids.push(id);
                last = id;
            }
            n += ids.len() as u64;
            mark(&tx, q.table, run.0, &ids).await?;
        }
        sink.finish().map_err(DbError::Refused)?;
        if let Some((encoding, data)) = sink.file() {
            store_file(&tx, run, &encoding, data).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Keeps the file of a run that marks nothing (the paperless list).
    pub async fn store_file(
        &self,
        run: d::ExchangeRunId,
        encoding: &str,
        data: Vec<u8>,
    ) -> Result<(), DbError> {
        let tx = self.write_tx().await?;
        store_file(&tx, run, encoding, data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The file kept with run `run`: its encoding and bytes.
    pub async fn file(&self, run: d::ExchangeRunId) -> Result<Option<(String, Vec<u8>)>, DbError> {
        use sea_orm::EntityTrait;
        Ok(exchange_file::Entity::find_by_id(run.0)
            .one(&self.0.conn)
            .await?
            .map(|f| (f.encoding, f.data)))
    }

    /// The numbers of the accounts whose registered resident chose no paper
    /// receipts, `PAGE` at a time after `after` (keyset on the user's id):
    /// the organization need not print for them. Returns the last id seen.
    pub async fn paperless(&self, after: i64) -> Result<(Vec<String>, i64), DbError> {
        let sql = format!(
            "SELECT u.id, a.number FROM users u JOIN accounts a ON a.id = u.account_id \
             WHERE u.id > $1 AND u.paperless = $2 ORDER BY u.id LIMIT {PAGE}"
        );
        let rows = self
            .0
            .conn
            .query_all_raw(Statement::from_sql_and_values(
                self.db_backend(),
                sql,
                [Value::BigInt(Some(after)), Value::Bool(Some(true))],
            ))
            .await?;
        let mut last = after;
        let mut numbers = Vec::with_capacity(rows.len());
        for r in &rows {
            last = r.try_get("", "id")?;
            numbers.push(r.try_get("", "number")?);
        }
        Ok((numbers, last))
    }
}

async fn store_file(
    tx: &DatabaseTransaction,
    run: d::ExchangeRunId,
    encoding: &str,
    data: Vec<u8>,
) -> Result<(), DbError> {
    use sea_orm::{EntityTrait, Set};
    exchange_file::Entity::insert(exchange_file::ActiveModel {
        run_id: Set(run.0),
        encoding: Set(encoding.to_string()),
        data: Set(data),
    })
    .exec_without_returning(tx)
    .await?;
    Ok(())
}
