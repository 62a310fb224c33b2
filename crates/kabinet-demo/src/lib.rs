//! The demo Organization: a realistic housing organization with accounts in
//! Russian apartment buildings, 11 services, months of charges that add up,
//! payments (some residents in debt), and meters with monotone readings.
//!
//! Generation is deterministic (seeded per account) and resumable: re-running it
//! on a database that already holds the demo adds only what is missing.

pub mod catalog;
pub mod generator;
mod names;

use futures::StreamExt;
use kabinet_db::Repos;
use kabinet_db::bulk::Batch;
use kabinet_db::{Backend, Db, DbError};
use std::time::{Duration, Instant};
use time::Date;

pub use generator::Plan;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of accounts.
    pub accounts: u32,
    /// Months of history, ending with the month before `today`.
    pub months: u32,
    /// Seed of the random generator.
    pub seed: u64,
    /// The day the history ends at.
    pub today: Date,
    /// Day of the month receipts are issued.
    pub receipt_day: u8,
    /// Day of the month payment is due.
    pub due_day: u8,
    /// Accounts written per transaction.
    pub batch_accounts: u32,
}

impl DemoOptions {
    /// Defaults: 1 000 accounts, 12 months, ending today.
    pub fn new(today: Date) -> DemoOptions {
        DemoOptions {
            accounts: 1_000,
            months: 12,
            seed: 2026,
            today,
            receipt_day: 5,
            due_day: 15,
            batch_accounts: 500,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Accounts that were already there.
    pub existing_accounts: u32,
    /// Accounts created now.
    pub created_accounts: u32,
    /// Rows written now, all tables together.
    pub rows: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Why the demo could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database holds a real Organization.
    #[error(
        "the database holds a real organization; the demo is only generated into an empty database or an earlier demo"
    )]
    NotDemoDatabase,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The generator thread died.
    #[error("demo generator failed: {0}")]
    Generator(String),
}

/// Generates (or completes) the demo Organization in `db`, calling `progress`
/// with (accounts done, accounts wanted) after each batch.
pub async fn generate(
    db: &Db,
    options: &DemoOptions,
    mut progress: impl FnMut(u32, u32),
) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let plan = Plan::new(
        options.seed,
        options.months,
        options.today,
        options.receipt_day,
        options.due_day,
    );
    match db.organization().current().await? {
        Some(_) if !db.organization().is_demo().await? => return Err(DemoError::NotDemoDatabase),
        Some(_) => {}
        None => {
            db.bulk().insert_payees(&catalog::payees()).await?;
            let services: Vec<_> = catalog::services().into_iter().map(|s| s.service).collect();
            db.bulk().insert_services(&services).await?;
            db.bulk().insert_periods(&plan.periods).await?;
            // Written last: its presence marks the catalogue as complete.
            db.bulk()
                .insert_organization(&catalog::organization(), true)
                .await?;
        }
    }
    let existing = u32::try_from(db.accounts().count().await?).unwrap_or(u32::MAX);
    let wanted = options.accounts;
    if existing >= wanted {
        return Ok(DemoReport {
            existing_accounts: existing,
            created_accounts: 0,
            rows: 0,
            elapsed: started.elapsed(),
        });
    }
    // Work out which accounts are missing. Every batch commits whole, but
    // concurrent writers may commit out of order, so an interrupted run can leave
    // any batch missing, not just the tail.
    let step = i64::from(options.batch_accounts.max(1));
    let last = i64::from(wanted);
    let counts = db.bulk().account_counts_by_block(step).await?;
    let mut todo: Vec<(std::ops::RangeInclusive<i64>, Vec<i64>)> = Vec::new();
    let mut start = 1;
    while start <= last {
        let end = (start + step - 1).min(last);
        let have = counts.get(&((start - 1) / step)).copied().unwrap_or(0);
        if have < end - start + 1 {
            let present = if have > 0 {
                db.bulk().account_ids_between(start, end).await?
            } else {
                Vec::new()
            };
            todo.push((start..=end, present));
        }
        start = end + 1;
    }
    let to_create = todo
        .iter()
        .map(|(r, p)| r.clone().count() - p.len())
        .sum::<usize>();

    // Batches are generated on a blocking thread while earlier ones are written;
    // PostgreSQL takes two writers at once (one per core), SQLite one.
    let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(3);
    let producer = tokio::task::spawn_blocking(move || {
        for (range, present) in todo {
            let mut batch = plan.batch(range);
            if !present.is_empty() {
                batch.retain_accounts(|id| !present.contains(&id.0));
            }
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
    });
    let writers = match db.backend() {
        Backend::Postgres => 2,
        Backend::Sqlite => 1,
    };
    let batches = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    let mut writes = std::pin::pin!(
        batches
            .map(|batch| async move {
                db.bulk().insert_batch(&batch).await?;
                Ok::<_, DbError>((batch.accounts.len(), batch.rows()))
            })
            .buffer_unordered(writers)
    );
    let (mut rows, mut done) = (0u64, existing);
    while let Some(written) = writes.next().await {
        let (accounts, n) = written?;
        rows += n as u64;
        done += u32::try_from(accounts).unwrap_or(0);
        progress(done, wanted);
    }
    producer.await.map_err(|e| DemoError::Generator(e.to_string()))?;
    db.bulk().reset_id_sequences().await?;
    Ok(DemoReport {
        existing_accounts: existing,
        created_accounts: u32::try_from(to_create).unwrap_or(u32::MAX),
        rows,
        elapsed: started.elapsed(),
    })
}
