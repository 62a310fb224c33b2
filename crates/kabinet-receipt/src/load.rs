//! Gathering receipts' records from the database, one account or a batch.

use crate::ReceiptInput;
use kabinet_db::Repos;
use kabinet_db::{Db, DbError};
use kabinet_domain::{AccountId, Charge, Meter, Period, Reading, Service};
use std::collections::HashMap;

/// Everything the receipt of `account` for `period` shows; `None` when the
/// account or its invoice for that period does not exist.
pub async fn load(db: &Db, account: AccountId, period: Period) -> Result<Option<ReceiptInput>, DbError> {
    Ok(load_batch(db, &[account], period)
        .await?
        .pop()
        .and_then(|(_, input)| input))
}

/// The receipts of several accounts for `period`, in the order of `accounts`,
/// each `None` when the account or its invoice does not exist. Reads the
/// Organization's data once and every account's records in a few queries.
pub async fn load_batch(
    db: &Db,
    accounts: &[AccountId],
    period: Period,
) -> Result<Vec<(AccountId, Option<ReceiptInput>)>, DbError> {
    let records = db.receipts().records(accounts, period).await?;
    if records.invoices.is_empty() {
        return Ok(accounts.iter().map(|&a| (a, None)).collect());
    }
    let organization = db.organization().current().await?.ok_or(DbError::NotFound)?;
    let payees = db.organization().payees().await?;
    let billing_period = db
        .organization()
        .billing_periods()
        .await?
        .into_iter()
        .find(|p| p.period == period)
        .ok_or(DbError::NotFound)?;
    // In receipt order: services come sorted by their position on the receipt.
    let services: HashMap<_, (usize, Service)> = db
        .organization()
        .services()
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s.id, (i, s)))
        .collect();
    let premises: HashMap<_, _> = records.premises.into_iter().map(|p| (p.id, p)).collect();
    let mut invoices: HashMap<_, _> = records.invoices.into_iter().map(|i| (i.account_id, i)).collect();
    let mut charges: HashMap<AccountId, Vec<(usize, Service, Charge)>> = HashMap::new();
    for c in records.charges {
        if let Some((position, service)) = services.get(&c.service_id) {
            charges
                .entry(c.account_id)
                .or_default()
                .push((*position, service.clone(), c));
        }
    }
    let mut readings: HashMap<_, Vec<Reading>> = HashMap::new();
    for r in records.readings {
        readings.entry(r.meter_id).or_default().push(r);
    }
    let mut meters: HashMap<AccountId, Vec<(Meter, Vec<Reading>)>> = HashMap::new();
    for m in records.meters {
        let taken = readings.remove(&m.id).unwrap_or_default();
        meters.entry(m.account_id).or_default().push((m, taken));
    }
    let mut by_id: HashMap<_, _> = records.accounts.into_iter().map(|a| (a.id, a)).collect();
    let mut result = Vec::with_capacity(accounts.len());
    for &id in accounts {
        let input = match (by_id.remove(&id), invoices.remove(&id)) {
            (Some(account), Some(invoice)) => {
                let premises = premises
                    .get(&account.premises_id)
                    .cloned()
                    .ok_or(DbError::NotFound)?;
                let mut lines = charges.remove(&id).unwrap_or_default();
                lines.sort_by_key(|(position, _, c)| (*position, c.service_id));
                let notices = notices(&invoice, period);
                Some(ReceiptInput {
                    organization: organization.clone(),
                    payees: payees.clone(),
                    account,
                    premises,
                    period: billing_period,
                    invoice,
                    lines: lines.into_iter().map(|(_, s, c)| (s, c)).collect(),
                    meters: meters.remove(&id).unwrap_or_default(),
                    notices,
                })
            }
            _ => None,
        };
        result.push((id, input));
    }
    Ok(result)
}

fn notices(invoice: &kabinet_domain::Invoice, period: Period) -> Vec<String> {
    vec![
        format!(
            "Оплатить до {:02}.{:02}.{}. Показания счётчиков передавайте в личном кабинете в период приёма показаний.",
            invoice.due_date.day(),
            u8::from(invoice.due_date.month()),
            invoice.due_date.year()
        ),
        format!(
            "Следующий платёжный документ — за {}.",
            period.next().to_russian()
        ),
    ]
}
