//! Gathering one receipt's records from the database.

use crate::ReceiptInput;
use kabinet_db::{Db, DbError};
use kabinet_domain::{AccountId, Period};

/// Everything the receipt of `account` for `period` shows; `None` when the
/// account or its invoice for that period does not exist.
pub async fn load(db: &Db, account: AccountId, period: Period) -> Result<Option<ReceiptInput>, DbError> {
    let Some(invoice) = db.invoice(account, period).await? else {
        return Ok(None);
    };
    let Some(acc) = db.account(account).await? else {
        return Ok(None);
    };
    let premises = db.premises(acc.premises_id).await?.ok_or(DbError::NotFound)?;
    let organization = db.organization().await?.ok_or(DbError::NotFound)?;
    let billing_period = db
        .billing_periods()
        .await?
        .into_iter()
        .find(|p| p.period == period)
        .ok_or(DbError::NotFound)?;
    let services = db.services().await?;
    let lines = db
        .charges(account, period, period)
        .await?
        .into_iter()
        .filter_map(|l| {
            services
                .iter()
                .find(|s| s.id == l.charge.service_id)
                .map(|s| (s.clone(), l.charge))
        })
        .collect();
    let mut meters = Vec::new();
    for m in db.meters(account).await? {
        if m.status != kabinet_domain::MeterStatus::Active {
            continue;
        }
        let readings = db
            .readings(account, m.id)
            .await?
            .into_iter()
            .filter(|r| r.taken_on <= period.last_day())
            .collect();
        meters.push((m, readings));
    }
    let next = period.next();
    let notices = vec![
        format!(
            "Оплатить до {:02}.{:02}.{}. Показания счётчиков передавайте в личном кабинете в период приёма показаний.",
            invoice.due_date.day(),
            u8::from(invoice.due_date.month()),
            invoice.due_date.year()
        ),
        format!("Следующий платёжный документ — за {}.", next.to_russian()),
    ];
    Ok(Some(ReceiptInput {
        organization,
        payees: db.payees().await?,
        account: acc,
        premises,
        period: billing_period,
        invoice,
        lines,
        meters,
        notices,
    }))
}
