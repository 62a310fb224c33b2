//! Asks the gateway about unsettled card payments whose time has come (the
//! payments themselves are leased, so runs on several servers never ask
//! twice), and runs autopay: plans, tells and pays the debits of new
//! invoices (each debit is claimed before it is paid).

use super::{Attempt, Job, JobEnv, JobError, Recurring};
use serde::{Deserialize, Serialize};

/// The job (no arguments).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReconcilePayments {}

impl Job for ReconcilePayments {
    const KIND: &'static str = "reconcile_payments";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        // Batches of 100 until a short one: a backlog is cleared in one run.
        for _ in 0..50 {
            let r = env.app.payments.reconcile(attempt.now).await?;
            if r.checked > 0 {
                tracing::info!(
                    checked = r.checked,
                    settled = r.settled,
                    expired = r.expired,
                    "card payments reconciled"
                );
            }
            if r.checked < 100 {
                break;
            }
        }
        Ok(())
    }
}

impl Recurring for ReconcilePayments {
    const SCHEDULE: &'static str = "*/30 * * * * *";
}

/// Autopay's pass (no arguments).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunAutopay {}

impl Job for RunAutopay {
    const KIND: &'static str = "autopay";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(240);

    async fn run(&self, env: &JobEnv, attempt: Attempt) -> Result<(), JobError> {
        let r = env.app.autopay.run(attempt.now).await?;
        if r != crate::autopay::AutopayRun::default() {
            tracing::info!(
                planned = r.planned,
                noticed = r.noticed,
                paid = r.paid,
                failed = r.failed,
                skipped = r.skipped,
                turned_off = r.turned_off,
                "autopay ran"
            );
        }
        Ok(())
    }
}

impl Recurring for RunAutopay {
    const SCHEDULE: &'static str = "0 */5 * * * *";
}
