//! The demo Organization: a realistic housing organization with accounts in
//! Russian apartment buildings, 11 services, months of charges that add up,
//! payments (some residents in debt), and meters with monotone readings.
//!
//! Generation is deterministic (seeded per account) and resumable: re-running it
//! on a database that already holds the demo adds only what is missing.

pub mod catalog;
pub mod generator;
mod names;

use kabinet_db::{Db, DbError};
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
    match db.organization().await? {
        Some(_) if !db.is_demo().await? => return Err(DemoError::NotDemoDatabase),
        Some(_) => {}
        None => {
            db.insert_payees(&catalog::payees()).await?;
            let services: Vec<_> = catalog::services().into_iter().map(|s| s.service).collect();
            db.insert_services(&services).await?;
            db.insert_periods(&plan.periods).await?;
            // Written last: its presence marks the catalogue as complete.
            db.insert_organization(&catalog::organization(), true).await?;
        }
    }
    let existing = u32::try_from(db.max_account_id().await?).unwrap_or(u32::MAX);
    let wanted = options.accounts;
    if existing >= wanted {
        return Ok(DemoReport {
            existing_accounts: existing,
            created_accounts: 0,
            rows: 0,
            elapsed: started.elapsed(),
        });
    }
    // Batches are generated on a blocking thread while the previous one is written.
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let step = i64::from(options.batch_accounts.max(1));
    let (first, last) = (i64::from(existing) + 1, i64::from(wanted));
    let producer = tokio::task::spawn_blocking(move || {
        let mut start = first;
        while start <= last {
            let end = (start + step - 1).min(last);
            if tx.blocking_send((end, plan.batch(start..=end))).is_err() {
                break;
            }
            start = end + 1;
        }
    });
    let mut rows = 0u64;
    while let Some((end, batch)) = rx.recv().await {
        db.insert_batch(&batch).await?;
        rows += batch.rows() as u64;
        progress(u32::try_from(end).unwrap_or(u32::MAX), wanted);
    }
    producer.await.map_err(|e| DemoError::Generator(e.to_string()))?;
    db.reset_id_sequences().await?;
    Ok(DemoReport {
        existing_accounts: existing,
        created_accounts: wanted - existing,
        rows,
        elapsed: started.elapsed(),
    })
}
