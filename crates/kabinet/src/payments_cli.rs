//! `kabinet payments`: the newest card payments for the organization's IT
//! staff (a stuck one is easy to spot), and `--reconcile` to ask the gateway
//! about the unsettled ones now instead of waiting for the server's pass.

use crate::config::Config;
use anyhow::Context;
use kabinet_db::{Db, Repos};
use kabinet_domain::CardPaymentStatus;

/// Lists payments (`status` filters), after a reconciliation if asked.
pub async fn run(
    db: &Db,
    config: &Config,
    status: Option<&str>,
    reconcile: bool,
    autopay: bool,
) -> anyhow::Result<()> {
    let status = match status {
        Some(s) => Some(CardPaymentStatus::from_stored(s.trim()).with_context(|| {
            format!("unknown status {s:?}: created, pending, succeeded, canceled, failed or expired")
        })?),
        None => None,
    };
    if reconcile || autopay {
        let key = config.server_key().context("the server key")?;
        let settings = config
            .settings_for(db)
            .await
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let app =
            kabinet_app::App::build(db.clone(), &settings.app, key).map_err(|e| anyhow::anyhow!("{e}"))?;
        if autopay {
            let r = app.autopay.run(time::OffsetDateTime::now_utc()).await?;
            println!(
                "Autopay: {} planned, {} notices, {} paid, {} failed, {} skipped, {} turned off.",
                r.planned, r.noticed, r.paid, r.failed, r.skipped, r.turned_off
            );
        }
        if reconcile {
            reconcile_now(&app).await?;
        }
    }
    let list = db.card_payments().newest(status, 50).await?;
    if list.is_empty() {
        eprintln!("No card payments.");
    }
    for p in list {
        let accounts: Vec<String> = p
            .shares
            .iter()
            .map(|s| format!("{} {}", s.account, s.amount.to_decimal_string()))
            .collect();
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\tchecks {}\t{}",
            p.public_id,
            p.status.as_str(),
            p.amount.to_decimal_string(),
            p.created_at,
            p.gateway,
            p.gateway_id.as_deref().unwrap_or("-"),
            p.checks,
            accounts.join(", ")
        );
    }
    Ok(())
}

/// Asks the gateway about every unsettled payment that is due.
async fn reconcile_now(app: &kabinet_app::App) -> anyhow::Result<()> {
    let mut total = kabinet_app::payments::Reconciled::default();
    loop {
        let r = app.payments.reconcile(time::OffsetDateTime::now_utc()).await?;
        total.checked += r.checked;
        total.settled += r.settled;
        total.expired += r.expired;
        if r.checked < 100 {
            break;
        }
    }
    println!(
        "Reconciled: {} checked, {} settled, {} expired.",
        total.checked, total.settled, total.expired
    );
    Ok(())
}
