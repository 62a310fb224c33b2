//! Bulk writes: the demo generator and importers hand over whole batches of
//! billing records, written with multi-row inserts in one transaction per batch.

use crate::{Backend, Db, DbError};
use kabinet_domain as d;
use sea_orm::sea_query::{Expr, OnConflict, Query, Value};
use sea_orm::{ConnectionTrait, Statement};
use time::OffsetDateTime;

/// Billing records of a group of accounts, written together or not at all.
/// Premises, accounts and meters carry their ids (the writer assigns them);
/// other rows get theirs from the database.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// Premises.
    pub premises: Vec<d::Premises>,
    /// Accounts (referencing the premises).
    pub accounts: Vec<d::Account>,
    /// Meters.
    pub meters: Vec<d::Meter>,
    /// Readings.
    pub readings: Vec<d::Reading>,
    /// Charges.
    pub charges: Vec<d::Charge>,
    /// Invoices.
    pub invoices: Vec<d::Invoice>,
    /// Payments.
    pub payments: Vec<d::Payment>,
}

impl Batch {
    /// Keeps only the accounts (and everything of theirs) for which `keep` is true.
    pub fn retain_accounts(&mut self, keep: impl Fn(d::AccountId) -> bool) {
        let kept: std::collections::HashSet<d::PremisesId> = self
            .accounts
            .iter()
            .filter(|a| keep(a.id))
            .map(|a| a.premises_id)
            .collect();
        self.accounts.retain(|a| keep(a.id));
        self.premises.retain(|p| kept.contains(&p.id));
        let meters: std::collections::HashSet<d::MeterId> = self
            .meters
            .iter()
            .filter(|m| keep(m.account_id))
            .map(|m| m.id)
            .collect();
        self.meters.retain(|m| keep(m.account_id));
        self.readings.retain(|r| meters.contains(&r.meter_id));
        self.charges.retain(|c| keep(c.account_id));
        self.invoices.retain(|i| keep(i.account_id));
        self.payments.retain(|p| keep(p.account_id));
    }

    /// Rows in the batch, all tables together.
    pub fn rows(&self) -> usize {
        self.premises.len()
            + self.accounts.len()
            + self.meters.len()
            + self.readings.len()
            + self.charges.len()
            + self.invoices.len()
            + self.payments.len()
    }
}

/// Most bound parameters per statement: below SQLite's 32 766 and PostgreSQL's 65 535.
const MAX_PARAMS: usize = 30_000;

/// Inserts rows into `table` in as few multi-row statements as the parameter
/// limit allows.
pub(crate) async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    columns: &[&'static str],
    rows: impl IntoIterator<Item = Vec<Value>>,
    ignore_conflicts_on: Option<&[&'static str]>,
) -> Result<(), DbError> {
    let per_stmt = (MAX_PARAMS / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut stmt = Query::insert();
        stmt.into_table(table).columns(columns.iter().copied());
        if let Some(keys) = ignore_conflicts_on {
            stmt.on_conflict(OnConflict::columns(keys.iter().copied()).do_nothing().to_owned());
        }
        for row in rows.by_ref().take(per_stmt) {
            stmt.values(row.into_iter().map(Expr::val))
                .map_err(|e| DbError::Refused(format!("bad insert into {table}: {e}")))?;
        }
        conn.execute(&stmt).await?;
    }
    Ok(())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Bulk writes (see [`Db::bulk`]).
pub struct Bulk<'a>(pub(crate) &'a Db);

impl Bulk<'_> {
    /// Stores the Organization (the single row of its table).
    pub async fn insert_organization(&self, org: &d::Organization, is_demo: bool) -> Result<(), DbError> {
        let o = org.clone();
        insert_rows(
            self.conn(),
            "organizations",
            &[
                "name",
                "short_name",
                "inn",
                "kpp",
                "ogrn",
                "address",
                "phone",
                "dispatch_phone",
                "email",
                "website",
                "is_demo",
                "created_at",
            ],
            [vec![
                o.name.into(),
                o.short_name.into(),
                o.inn.into(),
                o.kpp.into(),
                o.ogrn.into(),
                o.address.into(),
                o.phone.into(),
                o.dispatch_phone.into(),
                o.email.into(),
                o.website.into(),
                is_demo.into(),
                now().into(),
            ]],
            None,
        )
        .await
    }

    /// Stores payees with the ids they carry; ones whose code exists are left alone.
    pub async fn insert_payees(&self, payees: &[d::Payee]) -> Result<(), DbError> {
        insert_rows(
            self.conn(),
            "payees",
            &[
                "id",
                "code",
                "name",
                "inn",
                "kpp",
                "bank_name",
                "bic",
                "correspondent_account",
                "settlement_account",
            ],
            payees.iter().cloned().map(|p| {
                vec![
                    p.id.0.into(),
                    p.code.into(),
                    p.name.into(),
                    p.inn.into(),
                    p.kpp.into(),
                    p.bank_name.into(),
                    p.bic.into(),
                    p.correspondent_account.into(),
                    p.settlement_account.into(),
                ]
            }),
            Some(&["code"]),
        )
        .await
    }

    /// Stores services with the ids they carry; ones whose code exists are left alone.
    pub async fn insert_services(&self, services: &[d::Service]) -> Result<(), DbError> {
        insert_rows(
            self.conn(),
            "services",
            &[
                "id",
                "code",
                "name",
                "unit",
                "payee_id",
                "resource",
                "zone",
                "sort_order",
            ],
            services.iter().cloned().map(|s| {
                vec![
                    s.id.0.into(),
                    s.code.into(),
                    s.name.into(),
                    s.unit.into(),
                    s.payee_id.0.into(),
                    s.resource.map(|r| r.code().to_string()).into(),
                    s.zone.map(i16::from).into(),
                    s.sort_order.into(),
                ]
            }),
            Some(&["code"]),
        )
        .await
    }

    /// Stores billing periods; existing ones are left alone.
    pub async fn insert_periods(&self, periods: &[d::BillingPeriod]) -> Result<(), DbError> {
        insert_rows(
            self.conn(),
            "billing_periods",
            &["period", "issued_on", "due_date"],
            periods
                .iter()
                .map(|p| vec![p.period.yyyymm().into(), p.issued_on.into(), p.due_date.into()]),
            Some(&["period"]),
        )
        .await
    }

    /// Writes a whole batch in one transaction: either every row lands or none.
    pub async fn insert_batch(&self, batch: &Batch) -> Result<(), DbError> {
        let tables = batch_tables(batch);
        match self.backend() {
            Backend::Sqlite => {
                let tx = self.write_tx().await?;
                for t in tables {
                    insert_rows(&tx, t.table, t.columns, t.rows, None).await?;
                }
                tx.commit().await?;
            }
            Backend::Postgres => {
                let mut tx = self
                    .conn()
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(DbError::Copy)?;
                for t in tables {
                    copy_rows(&mut tx, &t).await?;
                }
                tx.commit().await.map_err(DbError::Copy)?;
            }
        }
        Ok(())
    }

    /// After rows were inserted with explicit ids, moves PostgreSQL's id
    /// sequences past them (SQLite needs nothing).
    pub async fn reset_id_sequences(&self) -> Result<(), DbError> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        for table in [
            "organizations",
            "payees",
            "premises",
            "accounts",
            "services",
            "meters",
        ] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            );
            self.conn().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    /// Number of accounts in each block of `block` consecutive ids: block `k`
    /// holds ids `k·block + 1 ..= (k+1)·block`.
    pub async fn account_counts_by_block(
        &self,
        block: i64,
    ) -> Result<std::collections::HashMap<i64, i64>, DbError> {
        let rows = self
            .conn()
            .query_all_raw(Statement::from_sql_and_values(
                self.db_backend(),
                match self.backend() {
                    Backend::Sqlite => "SELECT (id - 1) / $1 AS b, COUNT(*) AS n FROM accounts GROUP BY 1",
                    Backend::Postgres => {
                        "SELECT (id - 1) / $1::bigint AS b, COUNT(*) AS n FROM accounts GROUP BY 1"
                    }
                },
                [block.into()],
            ))
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get::<i64>("", "b")?, r.try_get::<i64>("", "n")?)))
            .collect()
    }

    /// Ids of the accounts with ids in `from..=to`.
    pub async fn account_ids_between(&self, from: i64, to: i64) -> Result<Vec<i64>, DbError> {
        use crate::entities::account;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        Ok(account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .filter(account::Column::Id.between(from, to))
            .into_tuple()
            .all(self.conn())
            .await?)
    }

    /// Row counts of the billing tables, for reports.
    pub async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, DbError> {
        let mut out = Vec::new();
        for table in [
            "accounts",
            "premises",
            "services",
            "billing_periods",
            "charges",
            "invoices",
            "payments",
            "meters",
            "meter_readings",
        ] {
            let row = self
                .conn()
                .query_one_raw(Statement::from_string(
                    self.db_backend(),
                    format!("SELECT COUNT(*) AS n FROM {table}"),
                ))
                .await?
                .ok_or(DbError::NotFound)?;
            out.push((table, row.try_get::<i64>("", "n")?));
        }
        Ok(out)
    }

    /// Size of the database in bytes (SQLite: pages in the main file; PostgreSQL:
    /// `pg_database_size`).
    pub async fn size_bytes(&self) -> Result<i64, DbError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database()) AS n",
        };
        let row = self
            .conn()
            .query_one_raw(Statement::from_string(self.db_backend(), sql))
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(row.try_get::<i64>("", "n")?)
    }
}

/// Rows of one table, ready for an INSERT or a COPY.
pub(crate) struct TableRows {
    pub(crate) table: &'static str,
    pub(crate) columns: &'static [&'static str],
    pub(crate) rows: Vec<Vec<Value>>,
}

fn batch_tables(b: &Batch) -> Vec<TableRows> {
    let mut out = Vec::new();
    out.push(TableRows {
        table: "premises",
        columns: &["id", "address", "flat", "total_area", "living_area"],
        rows: b
            .premises
            .iter()
            .map(|p| {
                vec![
                    p.id.0.into(),
                    p.address.clone().into(),
                    p.flat.clone().into(),
                    p.total_area.0.into(),
                    p.living_area.map(|a| a.0).into(),
                ]
            })
            .collect(),
    });
    out.push(TableRows {
        table: "accounts",
        columns: &[
            "id",
            "number",
            "premises_id",
            "holder_name",
            "residents",
            "els",
            "izhku",
            "opened_on",
            "closed_on",
        ],
        rows: b
            .accounts
            .iter()
            .map(|a| {
                vec![
                    a.id.0.into(),
                    a.number.as_str().to_string().into(),
                    a.premises_id.0.into(),
                    a.holder_name.clone().into(),
                    a.residents.into(),
                    a.els.clone().into(),
                    a.izhku.clone().into(),
                    a.opened_on.into(),
                    a.closed_on.into(),
                ]
            })
            .collect(),
    });
    out.push(TableRows {
        table: "meters",
        columns: &[
            "id",
            "account_id",
            "serial",
            "resource",
            "location",
            "tariffs",
            "integer_digits",
            "fraction_digits",
            "scale",
            "installed_on",
            "verification_due",
            "status",
        ],
        rows: b
            .meters
            .iter()
            .map(|m| {
                vec![
                    m.id.0.into(),
                    m.account_id.0.into(),
                    m.serial.clone().into(),
                    m.resource.code().to_string().into(),
                    m.location.clone().into(),
                    i16::from(m.tariffs).into(),
                    i16::from(m.capacity.integer_digits()).into(),
                    i16::from(m.capacity.fraction_digits()).into(),
                    m.scale.into(),
                    m.installed_on.into(),
                    m.verification_due.into(),
                    m.status.code().to_string().into(),
                ]
            })
            .collect(),
    });
    out.push(TableRows {
        table: "meter_readings",
        columns: &["meter_id", "zone", "value", "taken_on", "source", "submitted_at"],
        rows: b
            .readings
            .iter()
            .map(|r| {
                vec![
                    r.meter_id.0.into(),
                    i16::from(r.zone).into(),
                    r.value.into(),
                    r.taken_on.into(),
                    r.source.clone().into(),
                    r.submitted_at.into(),
                ]
            })
            .collect(),
    });
    out.push(TableRows {
        table: "charges",
        columns: &[
            "account_id",
            "period",
            "service_id",
            "volume",
            "unit",
            "tariff",
            "charged",
            "recalculation",
            "benefits",
            "total",
            "method",
        ],
        rows: b
            .charges
            .iter()
            .map(|c| {
                vec![
                    c.account_id.0.into(),
                    c.period.yyyymm().into(),
                    c.service_id.0.into(),
                    c.volume.map(|v| v.0).into(),
                    c.unit.clone().into(),
                    c.tariff.map(|t| t.0).into(),
                    c.charged.0.into(),
                    c.recalculation.0.into(),
                    c.benefits.0.into(),
                    c.total.0.into(),
                    c.method.code().to_string().into(),
                ]
            })
            .collect(),
    });
    out.push(TableRows {
        table: "invoices",
        columns: &[
            "account_id",
            "period",
            "number",
            "opening_balance",
            "charged",
            "paid",
            "penalties",
            "total_due",
            "due_date",
        ],
        rows: b
            .invoices
            .iter()
            .map(|i| {
                vec![
                    i.account_id.0.into(),
                    i.period.yyyymm().into(),
                    i.number.clone().into(),
                    i.opening_balance.0.into(),
                    i.charged.0.into(),
                    i.paid.0.into(),
                    i.penalties.0.into(),
                    i.total_due.0.into(),
                    i.due_date.into(),
                ]
            })
            .collect(),
    });
    out.push(TableRows {
        table: "payments",
        columns: &[
            "account_id",
            "source",
            "external_id",
            "amount",
            "paid_at",
            "period",
            "confirmed",
        ],
        rows: b
            .payments
            .iter()
            .map(|p| {
                vec![
                    p.account_id.0.into(),
                    p.source.clone().into(),
                    p.external_id.clone().into(),
                    p.amount.0.into(),
                    p.paid_at.into(),
                    p.period.map(|x| x.yyyymm()).into(),
                    p.confirmed.into(),
                ]
            })
            .collect(),
    });
    out
}

/// Streams rows into PostgreSQL with `COPY … FROM STDIN` (text format), the
/// fastest way in; part of the caller's transaction.
pub(crate) async fn copy_rows(
    tx: &mut sea_orm::sqlx::Transaction<'_, sea_orm::sqlx::Postgres>,
    t: &TableRows,
) -> Result<(), DbError> {
    if t.rows.is_empty() {
        return Ok(());
    }
    let sql = format!("COPY {} ({}) FROM STDIN", t.table, t.columns.join(", "));
    let mut copy = tx.copy_in_raw(&sql).await.map_err(DbError::Copy)?;
    let mut buf = String::with_capacity(1 << 20);
    for row in &t.rows {
        copy_line(row, &mut buf)?;
        if buf.len() > (1 << 20) {
            copy.send(std::mem::take(&mut buf).into_bytes())
                .await
                .map_err(DbError::Copy)?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await.map_err(DbError::Copy)?;
    }
    copy.finish().await.map_err(DbError::Copy)?;
    Ok(())
}

/// Appends one row as a line of COPY text format.
pub(crate) fn copy_line(row: &[Value], out: &mut String) -> Result<(), DbError> {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        copy_text(v, out)?;
    }
    out.push('\n');
    Ok(())
}

/// Appends one value in COPY text format: `\N` for NULL, special characters escaped.
fn copy_text(v: &Value, out: &mut String) -> Result<(), DbError> {
    use std::fmt::Write;
    let unsupported = || DbError::Refused(format!("COPY cannot write {v:?}"));
    match v {
        Value::Bool(Some(b)) => out.push(if *b { 't' } else { 'f' }),
        Value::SmallInt(Some(n)) => write!(out, "{n}").map_err(|_| unsupported())?,
        Value::Int(Some(n)) => write!(out, "{n}").map_err(|_| unsupported())?,
        Value::BigInt(Some(n)) => write!(out, "{n}").map_err(|_| unsupported())?,
        Value::String(Some(s)) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    _ => out.push(c),
                }
            }
        }
        Value::TimeDate(Some(d)) => write!(out, "{d}").map_err(|_| unsupported())?,
        Value::TimeDateTimeWithTimeZone(Some(t)) => {
            let s = t
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|_| unsupported())?;
            out.push_str(&s);
        }
        Value::Bool(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None)
        | Value::TimeDate(None)
        | Value::TimeDateTimeWithTimeZone(None) => out.push_str("\\N"),
        _ => return Err(unsupported()),
    }
    Ok(())
}
