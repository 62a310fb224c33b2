//! Importing billing-system files. Rows are staged in a temporary table inside
//! one write transaction, checked against stored data with SQL (unknown accounts,
//! services, meters; duplicates within the file), and merged into the real tables
//! only when nothing is wrong. Any error leaves the database as it was.

use crate::bulk::{copy_line, insert_rows};
use crate::{Backend, Db, DbError};
use kabinet_domain as d;
use kabinet_domain::records::*;
use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};
use time::OffsetDateTime;

/// What an exchange file holds. The order of the variants is the order a whole
/// package is imported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    /// `payees.csv`
    Payees,
    /// `services.csv`
    Services,
    /// `accounts.csv`
    Accounts,
    /// `meters.csv`
    Meters,
    /// `readings.csv`
    Readings,
    /// `charges.csv`
    Charges,
    /// `invoices.csv`
    Invoices,
    /// `payments.csv`
    Payments,
}

impl ImportKind {
    /// Every kind, in package order.
    pub const ALL: [ImportKind; 8] = [
        ImportKind::Payees,
        ImportKind::Services,
        ImportKind::Accounts,
        ImportKind::Meters,
        ImportKind::Readings,
        ImportKind::Charges,
        ImportKind::Invoices,
        ImportKind::Payments,
    ];

    /// The name used on the command line and as the file stem.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Payees => "payees",
            ImportKind::Services => "services",
            ImportKind::Accounts => "accounts",
            ImportKind::Meters => "meters",
            ImportKind::Readings => "readings",
            ImportKind::Charges => "charges",
            ImportKind::Invoices => "invoices",
            ImportKind::Payments => "payments",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Staging table columns after `line`, with their SQL types.
    fn stage_columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ImportKind::Payees => &[
                ("code", "TEXT"),
                ("name", "TEXT"),
                ("inn", "TEXT"),
                ("kpp", "TEXT"),
                ("bank_name", "TEXT"),
                ("bic", "TEXT"),
                ("correspondent_account", "TEXT"),
                ("settlement_account", "TEXT"),
            ],
            ImportKind::Services => &[
                ("code", "TEXT"),
                ("name", "TEXT"),
                ("unit", "TEXT"),
                ("payee", "TEXT"),
                ("resource", "TEXT"),
                ("zone", "SMALLINT"),
                ("sort_order", "INTEGER"),
            ],
            ImportKind::Accounts => &[
                ("number", "TEXT"),
                ("address", "TEXT"),
                ("flat", "TEXT"),
                ("total_area", "BIGINT"),
                ("living_area", "BIGINT"),
                ("holder_name", "TEXT"),
                ("residents", "INTEGER"),
                ("els", "TEXT"),
                ("izhku", "TEXT"),
                ("opened_on", "DATE"),
                ("closed_on", "DATE"),
            ],
            ImportKind::Meters => &[
                ("account", "TEXT"),
                ("serial", "TEXT"),
                ("resource", "TEXT"),
                ("location", "TEXT"),
                ("tariffs", "SMALLINT"),
                ("integer_digits", "SMALLINT"),
                ("fraction_digits", "SMALLINT"),
                ("scale", "INTEGER"),
                ("installed_on", "DATE"),
                ("verification_due", "DATE"),
                ("status", "TEXT"),
            ],
            ImportKind::Readings => &[
                ("account", "TEXT"),
                ("meter", "TEXT"),
                ("zone", "SMALLINT"),
                ("value_e4", "BIGINT"),
                ("taken_on", "DATE"),
                ("source", "TEXT"),
                ("submitted_at", "TIMESTAMPTZ"),
            ],
            ImportKind::Charges => &[
                ("account", "TEXT"),
                ("period", "INTEGER"),
                ("service", "TEXT"),
                ("volume", "BIGINT"),
                ("unit", "TEXT"),
                ("tariff", "BIGINT"),
                ("charged", "BIGINT"),
                ("recalculation", "BIGINT"),
                ("benefits", "BIGINT"),
                ("total", "BIGINT"),
                ("method", "TEXT"),
            ],
            ImportKind::Invoices => &[
                ("account", "TEXT"),
                ("period", "INTEGER"),
                ("number", "TEXT"),
                ("opening_balance", "BIGINT"),
                ("charged", "BIGINT"),
                ("paid", "BIGINT"),
                ("penalties", "BIGINT"),
                ("total_due", "BIGINT"),
                ("due_date", "DATE"),
            ],
            ImportKind::Payments => &[
                ("account", "TEXT"),
                ("source", "TEXT"),
                ("external_id", "TEXT"),
                ("amount", "BIGINT"),
                ("paid_at", "TIMESTAMPTZ"),
                ("period", "INTEGER"),
            ],
        }
    }

    /// Columns that must not repeat within one file.
    fn key(self) -> &'static [&'static str] {
        match self {
            ImportKind::Payees | ImportKind::Services => &["code"],
            ImportKind::Accounts => &["number"],
            ImportKind::Meters => &["account", "serial"],
            ImportKind::Readings => &["account", "meter", "taken_on", "zone"],
            ImportKind::Charges => &["account", "period", "service"],
            ImportKind::Invoices => &["account", "period"],
            ImportKind::Payments => &["source", "external_id"],
        }
    }
}

/// A record that can be staged for import.
pub trait Staged {
    /// Which file kind it belongs to.
    const KIND: ImportKind;
    /// Its values, in the order of the staging columns.
    fn values(&self) -> Vec<Value>;
}

fn opt_str(v: &Option<String>) -> Value {
    v.clone().into()
}

impl Staged for PayeeRecord {
    const KIND: ImportKind = ImportKind::Payees;
    fn values(&self) -> Vec<Value> {
        vec![
            self.code.clone().into(),
            self.name.clone().into(),
            self.inn.clone().into(),
            self.kpp.clone().into(),
            self.bank_name.clone().into(),
            self.bic.clone().into(),
            self.correspondent_account.clone().into(),
            self.settlement_account.clone().into(),
        ]
    }
}

impl Staged for ServiceRecord {
    const KIND: ImportKind = ImportKind::Services;
    fn values(&self) -> Vec<Value> {
        vec![
            self.code.clone().into(),
            self.name.clone().into(),
            self.unit.clone().into(),
            self.payee.clone().into(),
            self.resource.map(|r| r.code().to_string()).into(),
            self.zone.map(i16::from).into(),
            self.sort_order.into(),
        ]
    }
}

impl Staged for AccountRecord {
    const KIND: ImportKind = ImportKind::Accounts;
    fn values(&self) -> Vec<Value> {
        vec![
            self.number.as_str().to_string().into(),
            self.address.clone().into(),
            opt_str(&self.flat),
            self.total_area.0.into(),
            self.living_area.map(|a| a.0).into(),
            self.holder_name.clone().into(),
            self.residents.into(),
            opt_str(&self.els),
            opt_str(&self.izhku),
            self.opened_on.into(),
            self.closed_on.into(),
        ]
    }
}

impl Staged for MeterRecord {
    const KIND: ImportKind = ImportKind::Meters;
    fn values(&self) -> Vec<Value> {
        vec![
            self.account.as_str().to_string().into(),
            self.serial.clone().into(),
            self.resource.code().to_string().into(),
            self.location.clone().into(),
            i16::from(self.tariffs).into(),
            i16::from(self.capacity.integer_digits()).into(),
            i16::from(self.capacity.fraction_digits()).into(),
            self.scale.into(),
            self.installed_on.into(),
            self.verification_due.into(),
            self.status.code().to_string().into(),
        ]
    }
}

impl Staged for ReadingRecord {
    const KIND: ImportKind = ImportKind::Readings;
    fn values(&self) -> Vec<Value> {
        vec![
            self.account.as_str().to_string().into(),
            self.meter.clone().into(),
            i16::from(self.zone).into(),
            self.value_e4.into(),
            self.taken_on.into(),
            self.source.clone().into(),
            self.submitted_at.unwrap_or_else(OffsetDateTime::now_utc).into(),
        ]
    }
}

impl Staged for ChargeRecord {
    const KIND: ImportKind = ImportKind::Charges;
    fn values(&self) -> Vec<Value> {
        vec![
            self.account.as_str().to_string().into(),
            self.period.yyyymm().into(),
            self.service.clone().into(),
            self.volume.map(|v| v.0).into(),
            self.unit.clone().into(),
            self.tariff.map(|t| t.0).into(),
            self.charged.0.into(),
            self.recalculation.0.into(),
            self.benefits.0.into(),
            self.total.0.into(),
            self.method.code().to_string().into(),
        ]
    }
}

impl Staged for InvoiceRecord {
    const KIND: ImportKind = ImportKind::Invoices;
    fn values(&self) -> Vec<Value> {
        vec![
            self.account.as_str().to_string().into(),
            self.period.yyyymm().into(),
            self.number.clone().into(),
            self.opening_balance.0.into(),
            self.charged.0.into(),
            self.paid.0.into(),
            self.penalties.0.into(),
            self.total_due.0.into(),
            self.due_date.into(),
        ]
    }
}

impl Staged for PaymentRecord {
    const KIND: ImportKind = ImportKind::Payments;
    fn values(&self) -> Vec<Value> {
        vec![
            self.account.as_str().to_string().into(),
            self.source.clone().into(),
            self.external_id.clone().into(),
            self.amount.0.into(),
            self.paid_at.into(),
            self.period.map(|p| p.yyyymm()).into(),
        ]
    }
}

/// A problem the database found with a staged line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// Line of the file.
    pub line: u64,
    /// Column the problem is in.
    pub column: &'static str,
    /// What is wrong, in Russian.
    pub message: String,
}

/// Days used for billing periods an import creates.
#[derive(Debug, Clone, Copy)]
pub struct PeriodDays {
    /// Day of the next month receipts are issued.
    pub receipt_day: u8,
    /// Day of the next month payment is due.
    pub due_day: u8,
}

type PgTx = sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Postgres>;

enum Tx {
    Sqlite(DatabaseTransaction),
    Postgres(PgTx),
    /// PostgreSQL while lines are staged: the transaction is with a task
    /// copying chunks into the staging table, so the database takes one
    /// chunk while the next is read ([`ImportSession::settle`] ends it).
    Copying(CopyPump),
    /// The transaction ended with a COPY that failed (and was rolled back).
    Lost,
}

fn lost() -> DbError {
    DbError::Refused("the import's transaction ended with a failed COPY".into())
}

/// An open `COPY stage … FROM STDIN` run by a task that holds the import's
/// transaction until the COPY is finished.
struct CopyPump {
    chunks: tokio::sync::mpsc::Sender<Vec<u8>>,
    task: tokio::task::JoinHandle<Result<PgTx, DbError>>,
}

impl CopyPump {
    /// Starts copying into `stage`'s `columns` in `tx`.
    fn start(mut tx: PgTx, columns: &[&str]) -> CopyPump {
        let sql = format!("COPY stage ({}) FROM STDIN", columns.join(", "));
        let (chunks, mut next) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let task = tokio::spawn(async move {
            let mut copy = tx.copy_in_raw(&sql).await.map_err(DbError::Copy)?;
            while let Some(chunk) = next.recv().await {
                copy.send(chunk).await.map_err(DbError::Copy)?;
            }
            copy.finish().await.map_err(DbError::Copy)?;
            Ok(tx)
        });
        CopyPump { chunks, task }
    }

    /// Ends the COPY and gives the transaction back, or the COPY's error.
    async fn finish(self) -> Result<PgTx, DbError> {
        drop(self.chunks);
        self.task
            .await
            .map_err(|e| DbError::Refused(format!("the staging COPY stopped: {e}")))?
    }
}

/// An import in progress: one write transaction for a whole package, with a
/// staging table for the file being read ([`ImportSession::next`]).
/// Dropping it without [`ImportSession::commit`] rolls everything back.
pub struct ImportSession {
    kind: ImportKind,
    /// Whether the staging table of `kind` exists.
    open: bool,
    tx: Tx,
    columns: &'static [&'static str],
    pending: Vec<Vec<Value>>,
    staged: u64,
    /// Staged rows left out by [`ImportSession::drop_lines`].
    dropped: u64,
    days: PeriodDays,
}

/// Memory for each sort or hash of an import's statements on PostgreSQL
/// (the server's default is 4 MB).
const IMPORT_WORK_MEM: &str = "SET LOCAL work_mem = '128MB'";

/// Staged rows are written in groups of this many.
const STAGE_CHUNK: usize = 5_000;

fn stage_column_names(kind: ImportKind) -> &'static [&'static str] {
    macro_rules! names {
        ($($k:ident => [$($c:literal),*]),*) => {
            match kind { $(ImportKind::$k => &["line", $($c),*]),* }
        };
    }
    names!(
        Payees => ["code", "name", "inn", "kpp", "bank_name", "bic", "correspondent_account", "settlement_account"],
        Services => ["code", "name", "unit", "payee", "resource", "zone", "sort_order"],
        Accounts => ["number", "address", "flat", "total_area", "living_area", "holder_name", "residents", "els", "izhku", "opened_on", "closed_on"],
        Meters => ["account", "serial", "resource", "location", "tariffs", "integer_digits", "fraction_digits", "scale", "installed_on", "verification_due", "status"],
        Readings => ["account", "meter", "zone", "value_e4", "taken_on", "source", "submitted_at"],
        Charges => ["account", "period", "service", "volume", "unit", "tariff", "charged", "recalculation", "benefits", "total", "method"],
        Invoices => ["account", "period", "number", "opening_balance", "charged", "paid", "penalties", "total_due", "due_date"],
        Payments => ["account", "source", "external_id", "amount", "paid_at", "period"]
    )
}

/// Exchange files (see [`Db::exchange`]).
pub struct Exchange<'a>(pub(crate) &'a Db);

impl Exchange<'_> {
    /// Starts importing one file of `kind`: opens a write transaction and a
    /// staging table in it.
    pub async fn begin_import(&self, kind: ImportKind, days: PeriodDays) -> Result<ImportSession, DbError> {
        let mut session = self.begin_package(days).await?;
        session.next(kind).await?;
        Ok(session)
    }

    /// Starts importing a package: opens the write transaction every file of
    /// it goes through; each file then begins with [`ImportSession::next`].
    pub async fn begin_package(&self, days: PeriodDays) -> Result<ImportSession, DbError> {
        let tx = match self.backend() {
            Backend::Sqlite => Tx::Sqlite(self.write_tx().await?),
            Backend::Postgres => {
                let mut tx = self
                    .conn()
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(DbError::Copy)?;
                // The checks and the merge join the whole file with the
                // accounts and the stored rows: in memory rather than in
                // batches on disk (one import runs at a time).
                sea_orm::sqlx::query(IMPORT_WORK_MEM)
                    .execute(&mut *tx)
                    .await
                    .map_err(DbError::Copy)?;
                Tx::Postgres(tx)
            }
        };
        Ok(ImportSession {
            kind: ImportKind::Payees,
            open: false,
            tx,
            columns: stage_column_names(ImportKind::Payees),
            pending: Vec::with_capacity(STAGE_CHUNK),
            staged: 0,
            dropped: 0,
            days,
        })
    }
}

impl ImportSession {
    /// Begins the next file, of `kind`: a fresh staging table (the previous
    /// file's, merged or not, is dropped).
    pub async fn next(&mut self, kind: ImportKind) -> Result<(), DbError> {
        self.close().await?;
        let sqlite = matches!(self.tx, Tx::Sqlite(_));
        let cols: Vec<String> = kind
            .stage_columns()
            .iter()
            .map(|(name, ty)| {
                let ty = match (sqlite, *ty) {
                    (true, "TIMESTAMPTZ") => "TEXT",
                    (_, t) => t,
                };
                format!("{name} {ty}")
            })
            .collect();
        let create = if sqlite {
            format!(
                "CREATE TEMP TABLE stage (line BIGINT NOT NULL, {})",
                cols.join(", ")
            )
        } else {
            format!(
                "CREATE TEMP TABLE stage (line BIGINT NOT NULL, {}) ON COMMIT DROP",
                cols.join(", ")
            )
        };
        self.exec(&create).await?;
        self.kind = kind;
        self.columns = stage_column_names(kind);
        self.staged = 0;
        self.dropped = 0;
        self.open = true;
        Ok(())
    }

    /// Drops the staging table, if any, with what is still pending.
    async fn close(&mut self) -> Result<(), DbError> {
        self.pending.clear();
        if self.open {
            self.open = false;
            let drop = match self.tx {
                Tx::Sqlite(_) => "DROP TABLE temp.stage",
                _ => "DROP TABLE stage",
            };
            self.exec(drop).await?;
        }
        Ok(())
    }

    /// Leaves staged lines out of the merge: those [`ImportSession::check`]
    /// found problems with, so that a package with problems can still be
    /// merged to check the files after it against it.
    pub async fn drop_lines(&mut self, lines: &[u64]) -> Result<(), DbError> {
        self.flush().await?;
        for chunk in lines.chunks(1_000) {
            let list: Vec<String> = chunk.iter().map(u64::to_string).collect();
            self.dropped += self
                .exec(&format!("DELETE FROM stage WHERE line IN ({})", list.join(",")))
                .await?;
        }
        Ok(())
    }

    async fn exec(&mut self, sql: &str) -> Result<u64, DbError> {
        let started = std::time::Instant::now();
        let n = self.exec_inner(sql).await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            rows = n,
            sql = &sql[..sql.len().min(60)],
            "import step"
        );
        Ok(n)
    }

    async fn exec_inner(&mut self, sql: &str) -> Result<u64, DbError> {
        self.settle().await?;
        match &mut self.tx {
            Tx::Sqlite(tx) => Ok(tx.execute_unprepared(sql).await?.rows_affected()),
            Tx::Postgres(tx) => Ok(sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql))
                .execute(&mut **tx)
                .await
                .map_err(DbError::Copy)?
                .rows_affected()),
            Tx::Copying(_) | Tx::Lost => Err(lost()),
        }
    }

    /// Ends a COPY into the staging table in progress, if any, so that
    /// statements can run in the transaction again.
    async fn settle(&mut self) -> Result<(), DbError> {
        match std::mem::replace(&mut self.tx, Tx::Lost) {
            Tx::Copying(pump) => self.tx = Tx::Postgres(pump.finish().await?),
            other => self.tx = other,
        }
        Ok(())
    }

    /// Runs a query returning `(line, text)` pairs.
    async fn lines(&mut self, sql: &str) -> Result<Vec<(i64, String)>, DbError> {
        let started = std::time::Instant::now();
        let r = self.lines_inner(sql).await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            rows = r.len(),
            sql = &sql[..sql.len().min(60)],
            "import check"
        );
        Ok(r)
    }

    async fn lines_inner(&mut self, sql: &str) -> Result<Vec<(i64, String)>, DbError> {
        self.settle().await?;
        match &mut self.tx {
            Tx::Sqlite(tx) => tx
                .query_all_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<String>(1)?)))
                .collect(),
            Tx::Postgres(tx) => {
                sea_orm::sqlx::query_as::<_, (i64, String)>(sea_orm::sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(DbError::Copy)
            }
            Tx::Copying(_) | Tx::Lost => Err(lost()),
        }
    }

    /// Adds one parsed line to the staging table.
    pub async fn stage<R: Staged>(&mut self, line: u64, record: &R) -> Result<(), DbError> {
        if !self.open || R::KIND != self.kind {
            return Err(DbError::Refused(format!(
                "a {} record cannot go into a {} import",
                R::KIND.name(),
                self.kind.name()
            )));
        }
        let mut row = Vec::with_capacity(self.columns.len());
        row.push(Value::BigInt(Some(i64::try_from(line).unwrap_or(i64::MAX))));
        row.extend(record.values());
        self.pending.push(row);
        if self.pending.len() >= STAGE_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), DbError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        self.staged += rows.len() as u64;
        if let Tx::Sqlite(tx) = &mut self.tx {
            return insert_rows(tx, "stage", self.columns, rows, None).await;
        }
        // PostgreSQL: the chunk goes to the COPY kept open while the file is
        // read (started by the first chunk).
        let mut text = String::with_capacity(rows.len() * 96);
        for row in &rows {
            copy_line(row, &mut text)?;
        }
        self.pending = rows;
        self.pending.clear();
        match std::mem::replace(&mut self.tx, Tx::Lost) {
            Tx::Postgres(tx) => self.tx = Tx::Copying(CopyPump::start(tx, self.columns)),
            other => self.tx = other,
        }
        let Tx::Copying(pump) = &self.tx else {
            return Err(lost());
        };
        if pump.chunks.send(text.into_bytes()).await.is_err() {
            // The task stopped: its error says why.
            self.settle().await?;
            return Err(lost());
        }
        Ok(())
    }

    /// Lines staged so far.
    pub fn staged(&self) -> u64 {
        self.staged + self.pending.len() as u64
    }

    /// Checks the staged lines against each other and the stored data: repeated
    /// keys, unknown accounts, services, payees and meters, readings that do not
    /// fit their meter. Returns at most `limit` problems and how many there are.
    pub async fn check(&mut self, limit: usize) -> Result<(Vec<LineProblem>, u64), DbError> {
        self.flush().await?;
        let columns = self.kind.key();
        let key = columns.join(", ");
        // Repeated keys: the keys seen more than once with their first line,
        // then the later lines of each. PostgreSQL groups by hashing; SQLite
        // groups along an index.
        if let Tx::Sqlite(_) = self.tx {
            self.exec(&format!("CREATE INDEX stage_key ON stage ({key})"))
                .await?;
        }
        let mut checks: Vec<(&'static str, String, String)> = Vec::new();
        let same = columns
            .iter()
            .map(|c| format!("d.{c} = s.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        checks.push((
            columns[0],
            format!(
                "SELECT s.line, CAST(d.first AS TEXT) FROM stage s \
                 JOIN (SELECT {key}, MIN(line) AS first FROM stage GROUP BY {key} HAVING COUNT(*) > 1) d \
                 ON {same} AND s.line > d.first"
            ),
            "повторяет строку {}".into(),
        ));
        let unknown_account = (
            "account",
            "SELECT s.line, s.account FROM stage s LEFT JOIN accounts a ON a.number = s.account WHERE a.id IS NULL"
                .to_string(),
            "лицевой счёт {} не найден".to_string(),
        );
        match self.kind {
            ImportKind::Payees | ImportKind::Accounts => {}
            ImportKind::Services => checks.push((
                "payee",
                "SELECT s.line, s.payee FROM stage s LEFT JOIN payees p ON p.code = s.payee WHERE p.id IS NULL".into(),
                "получатель платежа {} не найден".into(),
            )),
            ImportKind::Meters | ImportKind::Invoices | ImportKind::Payments => checks.push(unknown_account),
            ImportKind::Charges => {
                checks.push(unknown_account);
                checks.push((
                    "service",
                    "SELECT s.line, s.service FROM stage s LEFT JOIN services v ON v.code = s.service WHERE v.id IS NULL"
                        .into(),
                    "услуга {} не найдена".into(),
                ));
            }
            ImportKind::Readings => {
                checks.push((
                    "meter",
                    "SELECT s.line, s.meter FROM stage s LEFT JOIN accounts a ON a.number = s.account \
                     LEFT JOIN meters m ON m.account_id = a.id AND m.serial = s.meter WHERE m.id IS NULL"
                        .into(),
                    "счётчик {} у этого лицевого счёта не найден".into(),
                ));
                checks.push((
                    "value",
                    format!(
                        "SELECT s.line, CAST(m.fraction_digits AS TEXT) FROM stage s JOIN accounts a ON a.number = s.account \
                         JOIN meters m ON m.account_id = a.id AND m.serial = s.meter WHERE s.value_e4 % {div} <> 0",
                        div = DIVISOR
                    ),
                    "у этого счётчика не больше {} знаков после запятой".into(),
                ));
                checks.push((
                    "value",
                    format!(
                        "SELECT s.line, CAST(m.integer_digits AS TEXT) FROM stage s JOIN accounts a ON a.number = s.account \
                         JOIN meters m ON m.account_id = a.id AND m.serial = s.meter WHERE s.value_e4 / {DIVISOR} >= {}",
                        modulus_sql("m")
                    ),
                    "показание не помещается на счётчик: не больше {} цифр до запятой".into(),
                ));
                checks.push((
                    "zone",
                    "SELECT s.line, CAST(m.tariffs AS TEXT) FROM stage s JOIN accounts a ON a.number = s.account \
                     JOIN meters m ON m.account_id = a.id AND m.serial = s.meter WHERE s.zone > m.tariffs"
                        .into(),
                    "у этого счётчика тарифных зон: {}".into(),
                ));
            }
        }
        let mut problems = Vec::new();
        let mut total = 0u64;
        for (column, sql, message) in checks {
            let found = self.lines(&format!("{sql} ORDER BY 1")).await?;
            total += found.len() as u64;
            for (line, value) in found {
                problems.push(LineProblem {
                    line: u64::try_from(line).unwrap_or(0),
                    column,
                    message: message.replace("{}", &value),
                });
            }
        }
        problems.sort_by_key(|p| p.line);
        problems.truncate(limit);
        Ok((problems, total))
    }

    /// Merges the staged lines of the current file, if any, into the real
    /// tables and commits the whole transaction. Returns the number of rows
    /// that merge wrote (inserted or updated).
    pub async fn commit(mut self) -> Result<u64, DbError> {
        let written = if self.open { self.merge().await? } else { 0 };
        self.settle().await?;
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await.map_err(DbError::Copy)?,
            Tx::Copying(_) | Tx::Lost => return Err(lost()),
        }
        Ok(written)
    }

    /// Merges the staged lines of the current file into the real tables (in
    /// the transaction: nothing is kept until [`ImportSession::commit`]) and
    /// drops the staging table. Returns the number of rows written.
    pub async fn merge(&mut self) -> Result<u64, DbError> {
        if !self.open {
            return Ok(0);
        }
        self.flush().await?;
        let written = match self.kind {
            ImportKind::Payees => {
                self.exec(
                    "INSERT INTO payees (code, name, inn, kpp, bank_name, bic, correspondent_account, settlement_account) \
                     SELECT code, name, inn, kpp, bank_name, bic, correspondent_account, settlement_account FROM stage WHERE true \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, inn = excluded.inn, kpp = excluded.kpp, \
                     bank_name = excluded.bank_name, bic = excluded.bic, correspondent_account = excluded.correspondent_account, \
                     settlement_account = excluded.settlement_account",
                )
                .await?
            }
            ImportKind::Services => {
                self.exec(
                    "INSERT INTO services (code, name, unit, payee_id, resource, zone, sort_order) \
                     SELECT s.code, s.name, s.unit, p.id, s.resource, s.zone, s.sort_order FROM stage s JOIN payees p ON p.code = s.payee WHERE true \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit = excluded.unit, payee_id = excluded.payee_id, \
                     resource = excluded.resource, zone = excluded.zone, sort_order = excluded.sort_order",
                )
                .await?
            }
            ImportKind::Accounts => self.merge_accounts().await?,
            ImportKind::Meters => {
                self.exec(
                    "INSERT INTO meters (account_id, serial, resource, location, tariffs, integer_digits, fraction_digits, scale, installed_on, verification_due, status) \
                     SELECT a.id, s.serial, s.resource, s.location, s.tariffs, s.integer_digits, s.fraction_digits, s.scale, s.installed_on, s.verification_due, s.status \
                     FROM stage s JOIN accounts a ON a.number = s.account WHERE true \
                     ON CONFLICT (account_id, serial) DO UPDATE SET resource = excluded.resource, location = excluded.location, \
                     tariffs = excluded.tariffs, integer_digits = excluded.integer_digits, fraction_digits = excluded.fraction_digits, \
                     scale = excluded.scale, installed_on = excluded.installed_on, verification_due = excluded.verification_due, status = excluded.status",
                )
                .await?
            }
            ImportKind::Readings => {
                self.exec(&format!(
                    "INSERT INTO meter_readings (meter_id, zone, value, taken_on, source, submitted_at) \
                     SELECT m.id, s.zone, s.value_e4 / {DIVISOR}, s.taken_on, s.source, s.submitted_at \
                     FROM stage s JOIN accounts a ON a.number = s.account JOIN meters m ON m.account_id = a.id AND m.serial = s.meter WHERE true \
                     ON CONFLICT (meter_id, taken_on, zone) DO UPDATE SET value = excluded.value, source = excluded.source"
                ))
                .await?
            }
            ImportKind::Charges => {
                // The file replaces its accounts' periods: their rows it no
                // longer has go, new and changed rows are written, and a row
                // it repeats unchanged is left alone (a corrected period sent
                // again rewrites only what changed: less time, less WAL for
                // a replica). Every staged row is merged (problem lines were
                // dropped), so that is the count.
                self.ensure_periods().await?;
                self.exec(
                    "DELETE FROM charges WHERE EXISTS (SELECT 1 FROM stage s JOIN accounts a ON a.number = s.account \
                     WHERE a.id = charges.account_id AND s.period = charges.period) \
                     AND NOT EXISTS (SELECT 1 FROM stage s JOIN accounts a ON a.number = s.account \
                     JOIN services v ON v.code = s.service \
                     WHERE a.id = charges.account_id AND s.period = charges.period AND v.id = charges.service_id)",
                )
                .await?;
                self.exec(
                    "INSERT INTO charges (account_id, period, service_id, volume, unit, tariff, charged, recalculation, benefits, total, method) \
                     SELECT a.id, s.period, v.id, s.volume, s.unit, s.tariff, s.charged, s.recalculation, s.benefits, s.total, s.method \
                     FROM stage s JOIN accounts a ON a.number = s.account JOIN services v ON v.code = s.service WHERE true \
                     ON CONFLICT (account_id, period, service_id) DO UPDATE SET volume = excluded.volume, unit = excluded.unit, \
                     tariff = excluded.tariff, charged = excluded.charged, recalculation = excluded.recalculation, \
                     benefits = excluded.benefits, total = excluded.total, method = excluded.method \
                     WHERE charges.volume IS DISTINCT FROM excluded.volume OR charges.unit <> excluded.unit \
                     OR charges.tariff IS DISTINCT FROM excluded.tariff OR charges.charged <> excluded.charged \
                     OR charges.recalculation <> excluded.recalculation OR charges.benefits <> excluded.benefits \
                     OR charges.total <> excluded.total OR charges.method <> excluded.method",
                )
                .await?;
                self.staged.saturating_sub(self.dropped)
            }
            ImportKind::Invoices => {
                self.ensure_periods().await?;
                self.exec(
                    "INSERT INTO invoices (account_id, period, number, opening_balance, charged, paid, penalties, total_due, due_date) \
                     SELECT a.id, s.period, s.number, s.opening_balance, s.charged, s.paid, s.penalties, s.total_due, s.due_date \
                     FROM stage s JOIN accounts a ON a.number = s.account WHERE true \
                     ON CONFLICT (account_id, period) DO UPDATE SET number = excluded.number, opening_balance = excluded.opening_balance, \
                     charged = excluded.charged, paid = excluded.paid, penalties = excluded.penalties, total_due = excluded.total_due, \
                     due_date = excluded.due_date",
                )
                .await?
            }
            ImportKind::Payments => {
                self.exec(
                    "INSERT INTO payments (account_id, source, external_id, amount, paid_at, period) \
                     SELECT a.id, s.source, s.external_id, s.amount, s.paid_at, s.period \
                     FROM stage s JOIN accounts a ON a.number = s.account WHERE true \
                     ON CONFLICT (source, external_id) DO UPDATE SET confirmed = TRUE WHERE payments.confirmed = FALSE",
                )
                .await?
            }
        };
        self.close().await?;
        Ok(written)
    }

    /// Undoes everything staged.
    pub async fn rollback(mut self) -> Result<(), DbError> {
        if let Err(e) = self.settle().await {
            // The transaction went with the failed COPY: nothing is kept.
            tracing::debug!(error = %e, "import rolled back with its COPY");
        }
        match self.tx {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await.map_err(DbError::Copy)?,
            Tx::Copying(_) | Tx::Lost => {}
        }
        Ok(())
    }

    /// Creates the billing periods the staged lines name, with receipt and due
    /// days in the following month.
    async fn ensure_periods(&mut self) -> Result<(), DbError> {
        let found = self
            .lines("SELECT DISTINCT CAST(period AS BIGINT), '' FROM stage ORDER BY 1")
            .await?;
        for (p, _) in found {
            let period = i32::try_from(p)
                .ok()
                .and_then(|p| d::Period::from_yyyymm(p).ok())
                .ok_or_else(|| crate::convert::corrupt("stage", "period", p))?;
            let issued = period.next().day(self.days.receipt_day);
            let due = period.next().day(self.days.due_day);
            self.exec(&format!(
                "INSERT INTO billing_periods (period, issued_on, due_date) VALUES ({}, '{issued}', '{due}') \
                 ON CONFLICT (period) DO NOTHING",
                period.yyyymm()
            ))
            .await?;
        }
        Ok(())
    }

    /// Accounts come with their premises: existing accounts keep their premises
    /// row (updated), new ones get a new one.
    async fn merge_accounts(&mut self) -> Result<u64, DbError> {
        self.exec("ALTER TABLE stage ADD COLUMN premises_id BIGINT")
            .await?;
        self.exec("CREATE UNIQUE INDEX stage_line ON stage (line)")
            .await?;
        self.exec(
            "UPDATE stage SET premises_id = (SELECT a.premises_id FROM accounts a WHERE a.number = stage.number)",
        )
        .await?;
        let base = self
            .lines("SELECT COALESCE(MAX(id), 0), '' FROM premises")
            .await?;
        let base = base.first().map_or(0, |r| r.0);
        self.exec(&format!(
            "UPDATE stage SET premises_id = n.rn + {base} FROM \
             (SELECT line, ROW_NUMBER() OVER (ORDER BY line) AS rn FROM stage WHERE premises_id IS NULL) n \
             WHERE stage.line = n.line"
        ))
        .await?;
        self.exec(
            "INSERT INTO premises (id, address, flat, total_area, living_area) \
             SELECT premises_id, address, flat, total_area, living_area FROM stage WHERE true \
             ON CONFLICT (id) DO UPDATE SET address = excluded.address, flat = excluded.flat, \
             total_area = excluded.total_area, living_area = excluded.living_area",
        )
        .await?;
        let n = self
            .exec(
                "INSERT INTO accounts (number, premises_id, holder_name, residents, els, izhku, opened_on, closed_on) \
                 SELECT number, premises_id, holder_name, residents, els, izhku, opened_on, closed_on FROM stage WHERE true \
                 ON CONFLICT (number) DO UPDATE SET holder_name = excluded.holder_name, residents = excluded.residents, \
                 els = excluded.els, izhku = excluded.izhku, opened_on = excluded.opened_on, closed_on = excluded.closed_on",
            )
            .await?;
        if !matches!(self.tx, Tx::Sqlite(_)) {
            for table in ["premises", "accounts"] {
                self.exec(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                ))
                .await?;
            }
        }
        Ok(n)
    }
}

/// Readings are staged with four decimals; this divides them down to the
/// meter's own fraction digits.
const DIVISOR: &str =
    "(CASE m.fraction_digits WHEN 0 THEN 10000 WHEN 1 THEN 1000 WHEN 2 THEN 100 WHEN 3 THEN 10 ELSE 1 END)";

/// SQL for 10^(integer_digits + fraction_digits) of meter `m`.
fn modulus_sql(m: &str) -> String {
    let mut s = format!("(CASE {m}.integer_digits + {m}.fraction_digits");
    for n in 1..=13u32 {
        s.push_str(&format!(" WHEN {n} THEN {}", 10i64.pow(n)));
    }
    s.push_str(" END)");
    s
}

/// One import or export run, for the staff pages and the CLI summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRun {
    /// Row id.
    pub id: d::ExchangeRunId,
    /// `import` or `export`.
    pub direction: String,
    /// File kind.
    pub kind: String,
    /// File name.
    pub file_name: String,
    /// Who ran it (`cli`, a staff login).
    pub actor: String,
    /// Started.
    pub started_at: OffsetDateTime,
    /// Finished; `None` while running or when the process died.
    pub finished_at: Option<OffsetDateTime>,
    /// `running`, `ok` or `failed`.
    pub status: String,
    /// Lines read.
    pub rows_read: i64,
    /// Rows written.
    pub rows_written: i64,
    /// Problems found.
    pub errors: i64,
    /// Summary or error text.
    pub message: String,
}

/// How a finished run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// True when the data was committed.
    pub ok: bool,
    /// Lines read.
    pub rows_read: u64,
    /// Rows written.
    pub rows_written: u64,
    /// Problems found.
    pub errors: u64,
    /// Summary or error text.
    pub message: String,
}

impl Exchange<'_> {
    /// Records the start of a run (committed at once, so a run that dies stays
    /// visible as `running`).
    pub async fn start_run(
        &self,
        direction: &str,
        kind: &str,
        file_name: &str,
        actor: &str,
    ) -> Result<d::ExchangeRunId, DbError> {
        self.start_run_at(direction, kind, file_name, actor, OffsetDateTime::now_utc())
            .await
    }

    /// Records a run that started at `started_at`.
    pub async fn start_run_at(
        &self,
        direction: &str,
        kind: &str,
        file_name: &str,
        actor: &str,
        started_at: OffsetDateTime,
    ) -> Result<d::ExchangeRunId, DbError> {
        use crate::entities::exchange_run;
        use sea_orm::{ActiveModelTrait, Set};
        let run = exchange_run::ActiveModel {
            direction: Set(direction.to_string()),
            kind: Set(kind.to_string()),
            file_name: Set(file_name.to_string()),
            actor: Set(actor.to_string()),
            started_at: Set(started_at),
            finished_at: Set(None),
            status: Set("running".into()),
            rows_read: Set(0),
            rows_written: Set(0),
            errors: Set(0),
            message: Set(String::new()),
            ..Default::default()
        }
        .insert(self.conn())
        .await?;
        Ok(d::ExchangeRunId(run.id))
    }

    /// Records how a run ended.
    pub async fn finish_run(&self, id: d::ExchangeRunId, outcome: &RunOutcome) -> Result<(), DbError> {
        use crate::entities::exchange_run;
        use sea_orm::{ActiveModelTrait, Set};
        exchange_run::ActiveModel {
            id: Set(id.0),
            finished_at: Set(Some(OffsetDateTime::now_utc())),
            status: Set(if outcome.ok { "ok" } else { "failed" }.into()),
            rows_read: Set(i64::try_from(outcome.rows_read).unwrap_or(i64::MAX)),
            rows_written: Set(i64::try_from(outcome.rows_written).unwrap_or(i64::MAX)),
            errors: Set(i64::try_from(outcome.errors).unwrap_or(i64::MAX)),
            message: Set(outcome.message.chars().take(2000).collect()),
            ..Default::default()
        }
        .update(self.conn())
        .await?;
        Ok(())
    }

    /// The newest runs of one direction (`import`, `export`), newest first.
    pub async fn runs_of(&self, direction: &str, limit: u64) -> Result<Vec<ExchangeRun>, DbError> {
        use crate::entities::exchange_run;
        use sea_orm::ColumnTrait;
        self.exchange_runs_where(exchange_run::Column::Direction.eq(direction), limit)
            .await
    }

    /// One run.
    pub async fn run(&self, id: d::ExchangeRunId) -> Result<Option<ExchangeRun>, DbError> {
        use crate::entities::exchange_run;
        use sea_orm::ColumnTrait;
        Ok(self
            .exchange_runs_where(exchange_run::Column::Id.eq(id.0), 1)
            .await?
            .pop())
    }

    /// The newest runs, newest first.
    pub async fn exchange_runs(&self, limit: u64) -> Result<Vec<ExchangeRun>, DbError> {
        self.exchange_runs_where(sea_orm::Condition::all(), limit).await
    }

    async fn exchange_runs_where(
        &self,
        cond: impl sea_orm::sea_query::IntoCondition,
        limit: u64,
    ) -> Result<Vec<ExchangeRun>, DbError> {
        use crate::entities::exchange_run;
        use sea_orm::{EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        Ok(exchange_run::Entity::find()
            .filter(cond)
            .order_by_desc(exchange_run::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?
            .into_iter()
            .map(ExchangeRun::from)
            .collect())
    }
}

impl From<crate::entities::exchange_run::Model> for ExchangeRun {
    fn from(m: crate::entities::exchange_run::Model) -> ExchangeRun {
        ExchangeRun {
            id: d::ExchangeRunId(m.id),
            direction: m.direction,
            kind: m.kind,
            file_name: m.file_name,
            actor: m.actor,
            started_at: m.started_at,
            finished_at: m.finished_at,
            status: m.status,
            rows_read: m.rows_read,
            rows_written: m.rows_written,
            errors: m.errors,
            message: m.message,
        }
    }
}
