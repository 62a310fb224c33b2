//! Writing the demo Organization as an exchange package: the same files a
//! billing system would send, so the import path can be exercised end to end.

use crate::ExchangeError;
use crate::ImportKind;
use crate::export::{CsvFile, timestamp};
use crate::parse::columns;
use crate::source::TextEncoding;
use kabinet_demo::{DemoOptions, Plan, catalog};
use std::collections::HashMap;
use std::path::Path;

fn header(kind: ImportKind) -> Vec<&'static str> {
    let (req, opt) = columns(kind);
    req.iter().chain(opt.iter()).copied().collect()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes the demo described by `options` as `<kind>.csv` files into `dir`
/// (UTF-8, `;`), in batches so memory stays flat. Returns rows written per file.
pub fn write_demo_package(
    options: &DemoOptions,
    dir: &Path,
    encoding: TextEncoding,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Vec<(ImportKind, u64)>, ExchangeError> {
    std::fs::create_dir_all(dir).map_err(|source| ExchangeError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let plan = Plan::new(
        options.seed,
        options.months,
        options.today,
        options.receipt_day,
        options.due_day,
    );
    let mut files: HashMap<ImportKind, (CsvFile, u64)> = HashMap::new();
    for kind in ImportKind::ALL {
        let file = CsvFile::create(&dir.join(format!("{}.csv", kind.name())), encoding, &header(kind))?;
        files.insert(kind, (file, 0));
    }
    let mut put = |kind: ImportKind, cells: Vec<String>| -> Result<(), ExchangeError> {
        let (file, n) = files
            .get_mut(&kind)
            .ok_or_else(|| ExchangeError::Csv("no file".into()))?;
        *n += 1;
        file.row(cells)
    };
    let payees = catalog::payees();
    for p in &payees {
        put(
            ImportKind::Payees,
            vec![
                p.code.clone(),
                p.name.clone(),
                p.inn.clone(),
                p.bank_name.clone(),
                p.bic.clone(),
                p.correspondent_account.clone(),
                p.settlement_account.clone(),
                p.kpp.clone(),
            ],
        )?;
    }
    let services = catalog::services();
    let service_code: HashMap<i64, String> = services
        .iter()
        .map(|s| (s.service.id.0, s.service.code.clone()))
        .collect();
    for s in &services {
        let s = &s.service;
        let payee = payees
            .iter()
            .find(|p| p.id == s.payee_id)
            .map(|p| p.code.clone())
            .unwrap_or_default();
        put(
            ImportKind::Services,
            vec![
                s.code.clone(),
                s.name.clone(),
                s.unit.clone(),
                payee,
                opt(s.resource.map(|r| r.code())),
                opt(s.zone),
                s.sort_order.to_string(),
            ],
        )?;
    }
    let step = i64::from(options.batch_accounts.max(1));
    let last = i64::from(options.accounts);
    let mut start = 1;
    while start <= last {
        let end = (start + step - 1).min(last);
        let b = plan.batch(start..=end);
        let premises: HashMap<_, _> = b.premises.iter().map(|p| (p.id, p)).collect();
        let number: HashMap<_, _> = b
            .accounts
            .iter()
            .map(|a| (a.id, a.number.as_str().to_string()))
            .collect();
        let meters: HashMap<_, _> = b.meters.iter().map(|m| (m.id, m)).collect();
        let acc = |id| number.get(&id).cloned().unwrap_or_default();
        for a in &b.accounts {
            let Some(p) = premises.get(&a.premises_id) else {
                continue;
            };
            put(
                ImportKind::Accounts,
                vec![
                    a.number.as_str().to_string(),
                    p.address.clone(),
                    p.total_area.to_decimal_string(),
                    a.holder_name.clone(),
                    a.residents.to_string(),
                    opt(p.flat.as_ref()),
                    opt(p.living_area.map(|x| x.to_decimal_string())),
                    opt(a.els.as_ref()),
                    opt(a.izhku.as_ref()),
                    a.opened_on.to_string(),
                    opt(a.closed_on),
                ],
            )?;
        }
        for m in &b.meters {
            put(
                ImportKind::Meters,
                vec![
                    acc(m.account_id),
                    m.serial.clone(),
                    m.resource.code().to_string(),
                    m.capacity.integer_digits().to_string(),
                    m.capacity.fraction_digits().to_string(),
                    m.verification_due.to_string(),
                    m.location.clone(),
                    m.tariffs.to_string(),
                    m.scale.to_string(),
                    m.installed_on.to_string(),
                    m.status.code().to_string(),
                ],
            )?;
        }
        for r in &b.readings {
            let Some(m) = meters.get(&r.meter_id) else {
                continue;
            };
            let value = m
                .capacity
                .reading(r.value)
                .map(|v| v.to_decimal_string())
                .unwrap_or_default();
            put(
                ImportKind::Readings,
                vec![
                    acc(m.account_id),
                    m.serial.clone(),
                    value,
                    r.taken_on.to_string(),
                    r.zone.to_string(),
                    r.source.clone(),
                    timestamp(r.submitted_at),
                ],
            )?;
        }
        for c in &b.charges {
            put(
                ImportKind::Charges,
                vec![
                    acc(c.account_id),
                    c.period.to_string(),
                    service_code.get(&c.service_id.0).cloned().unwrap_or_default(),
                    c.charged.to_decimal_string(),
                    opt(c.volume.map(|v| v.to_decimal_string())),
                    c.unit.clone(),
                    opt(c.tariff.map(|t| t.to_decimal_string())),
                    c.recalculation.to_decimal_string(),
                    c.benefits.to_decimal_string(),
                    c.total.to_decimal_string(),
                    c.method.code().to_string(),
                ],
            )?;
        }
        for i in &b.invoices {
            put(
                ImportKind::Invoices,
                vec![
                    acc(i.account_id),
                    i.period.to_string(),
                    i.opening_balance.to_decimal_string(),
                    i.charged.to_decimal_string(),
                    i.paid.to_decimal_string(),
                    i.total_due.to_decimal_string(),
                    i.due_date.to_string(),
                    i.number.clone(),
                    i.penalties.to_decimal_string(),
                ],
            )?;
        }
        for p in &b.payments {
            put(
                ImportKind::Payments,
                vec![
                    acc(p.account_id),
                    p.source.clone(),
                    p.external_id.clone(),
                    p.amount.to_decimal_string(),
                    timestamp(p.paid_at),
                    opt(p.period),
                ],
            )?;
        }
        progress(u32::try_from(end).unwrap_or(u32::MAX), options.accounts);
        start = end + 1;
    }
    let mut counts = Vec::new();
    for kind in ImportKind::ALL {
        if let Some((file, n)) = files.remove(&kind) {
            file.publish()?;
            counts.push((kind, n));
        }
    }
    Ok(counts)
}
