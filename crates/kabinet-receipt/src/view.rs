//! What a receipt shows: built from billing records, with every amount already
//! formatted for people and one payment QR code per payee.

use kabinet_domain::qr::{PaymentQr, QrCharset, QrError};
use kabinet_domain::{
    Account, BillingPeriod, Charge, Invoice, Kopecks, Meter, Organization, Payee, PayeeId, Premises, Reading,
    Service,
};
use serde::{Deserialize, Serialize};

/// The billing records of one account for one period.
#[derive(Debug, Clone)]
pub struct ReceiptInput {
    /// Who issues the receipt.
    pub organization: Organization,
    /// Its payees.
    pub payees: Vec<Payee>,
    /// The account.
    pub account: Account,
    /// Its premises.
    pub premises: Premises,
    /// The period.
    pub period: BillingPeriod,
    /// The invoice.
    pub invoice: Invoice,
    /// The period's charges with their services, in receipt order.
    pub lines: Vec<(Service, Charge)>,
    /// Meters with their readings up to the end of the period, newest first.
    pub meters: Vec<(Meter, Vec<Reading>)>,
    /// Notices printed at the bottom (readings schedule, contacts …).
    pub notices: Vec<String>,
}

/// The JSON document a receipt template receives as `sys.inputs.data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ReceiptView {
    pub receipt: ReceiptNo,
    pub period: PeriodView,
    pub account: AccountView,
    pub payees: Vec<PayeeView>,
    pub totals: TotalsView,
    pub lines: Vec<LineView>,
    pub sums: SumsView,
    pub meters: Vec<MeterView>,
    pub recalculations: Vec<String>,
    pub notices: Vec<String>,
    pub organization: OrgView,
}

/// Receipt number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ReceiptNo {
    pub number: String,
}

/// Period block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct PeriodView {
    pub name: String,
    pub code: String,
    pub issued_on: String,
}

/// Payer block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AccountView {
    pub number: String,
    pub holder: String,
    pub address: String,
    pub gis: String,
    pub total_area: String,
    pub living_area: String,
    pub residents: i32,
}

/// One payee with its share and QR code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct PayeeView {
    pub name: String,
    pub inn: String,
    pub kpp: String,
    pub bank_name: String,
    pub bic: String,
    pub correspondent_account: String,
    pub settlement_account: String,
    pub contacts: String,
    pub amount: String,
    pub amount_kopecks: i64,
    /// The ГОСТ Р 56042 payload; the renderer draws it as an image and gives
    /// the template those images as `sys.inputs.qr` (one per payee, in order).
    pub qr_payload: String,
    /// The character set the payload is written in (its header says which).
    #[serde(default)]
    pub qr_charset: QrCharset,
}

/// Totals block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TotalsView {
    pub opening_label: String,
    pub opening: String,
    pub paid: String,
    pub paid_until: String,
    pub charged: String,
    pub penalties: String,
    pub due_date: String,
    pub total: String,
}

/// One row of the charges table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct LineView {
    pub service: String,
    pub unit: String,
    pub volume: String,
    pub tariff: String,
    pub charged: String,
    pub recalculation: String,
    pub benefits: String,
    pub total: String,
    pub method: String,
}

/// Column sums of the charges table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SumsView {
    pub charged: String,
    pub recalculation: String,
    pub benefits: String,
    pub total: String,
}

/// One row of the readings table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct MeterView {
    pub name: String,
    pub serial: String,
    pub zone: String,
    pub previous: String,
    pub current: String,
    pub consumption: String,
    pub verification_due: String,
}

/// Footer block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct OrgView {
    pub name: String,
    pub address: String,
    pub phone: String,
    pub dispatch_phone: String,
    pub website: String,
}

fn date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

fn plain(k: Kopecks) -> String {
    k.to_plain_string()
}

impl ReceiptView {
    /// Builds the view. Each payee's share is the sum of its services' totals;
    /// the Organization's own payee (the one with the most services) also carries
    /// the opening balance, penalties and payments, so the shares add up to the
    /// invoice's total to pay. A payee with nothing to pay gets a QR code without
    /// a sum.
    ///
    /// The QR code carries what a bank app needs to pay and the billing system
    /// needs to book the payment — payee and bank, INN/KPP, purpose, sum, the
    /// personal account, period, the payer's last name, receipt number,
    /// penalties and the housing-services code — and leaves out the payer's
    /// first name, patronymic, address and flat, which the personal account
    /// already identifies: at about 60 bytes of Cyrillic they would make the
    /// code denser and harder to scan from paper. It is written in `charset`
    /// when every value can be (windows-1251 halves the bytes of Cyrillic
    /// text), otherwise in UTF-8.
    pub fn build(input: &ReceiptInput, charset: QrCharset) -> Result<ReceiptView, QrError> {
        let inv = &input.invoice;
        let acc = &input.account;
        let p = &input.premises;
        let mut share: Vec<(PayeeId, Kopecks, usize)> = Vec::new();
        for (s, c) in &input.lines {
            match share.iter_mut().find(|x| x.0 == s.payee_id) {
                Some(x) => {
                    x.1 += c.total;
                    x.2 += 1;
                }
                None => share.push((s.payee_id, c.total, 1)),
            }
        }
        if share.is_empty()
            && let Some(first) = input.payees.first()
        {
            share.push((first.id, Kopecks::ZERO, 0));
        }
        if let Some(main) = share.iter_mut().max_by_key(|x| x.2) {
            main.1 += inv.opening_balance + inv.penalties - inv.paid;
        }
        let last = acc.holder_name.split_whitespace().next().map(String::from);
        let mut payees = Vec::new();
        for (id, amount, _) in &share {
            let Some(payee) = input.payees.iter().find(|x| x.id == *id) else {
                continue;
            };
            // Imports keep Name within 160 and BankName is cut to the QR's 45;
            // a longer Name from older data is cut too rather than refused.
            let qr = PaymentQr {
                name: payee.name.chars().take(160).collect(),
                personal_acc: payee.settlement_account.clone(),
                bank_name: payee.bank_name.chars().take(45).collect(),
                bic: payee.bic.clone(),
                corresp_acc: payee.correspondent_account.clone(),
                kpp: Some(payee.kpp.clone()),
                payee_inn: Some(payee.inn.clone()),
                purpose: Some(format!(
                    "Оплата ЖКУ за {:02}.{}, л/с {}",
                    inv.period.month(),
                    inv.period.year(),
                    acc.number
                )),
                sum: (amount.get() > 0).then_some(*amount),
                pers_acc: Some(acc.number.as_str().to_string()),
                paym_period: Some(inv.period),
                last_name: last.clone(),
                quitt_id: Some(inv.number.clone()),
                add_amount: (inv.penalties.get() > 0).then_some(inv.penalties),
                tech_code: Some("02".into()),
                ..PaymentQr::default()
            };
            let mut qr_charset = charset;
            let mut payload = qr.payload_as(qr_charset)?;
            if qr_charset == QrCharset::Windows1251 && crate::qr_image::encode(&payload, qr_charset).is_none()
            {
                qr_charset = QrCharset::Utf8;
                payload = qr.payload_as(qr_charset)?;
            }
            payees.push(PayeeView {
                name: payee.name.clone(),
                inn: payee.inn.clone(),
                kpp: payee.kpp.clone(),
                bank_name: payee.bank_name.clone(),
                bic: payee.bic.clone(),
                correspondent_account: payee.correspondent_account.clone(),
                settlement_account: payee.settlement_account.clone(),
                contacts: String::new(),
                amount: amount.to_string(),
                amount_kopecks: amount.get(),
                qr_payload: payload,
                qr_charset,
            });
        }
        let sum = |f: fn(&Charge) -> Kopecks| input.lines.iter().map(|(_, c)| f(c)).sum::<Kopecks>();
        let lines = input
            .lines
            .iter()
            .map(|(s, c)| LineView {
                service: s.name.clone(),
                unit: c.unit.clone(),
                volume: c.volume.map(|v| v.to_string()).unwrap_or_default(),
                tariff: c.tariff.map(plain).unwrap_or_default(),
                charged: plain(c.charged),
                recalculation: if c.recalculation.get() == 0 {
                    String::new()
                } else {
                    plain(c.recalculation)
                },
                benefits: if c.benefits.get() == 0 {
                    String::new()
                } else {
                    plain(c.benefits)
                },
                total: plain(c.total),
                method: match c.method {
                    kabinet_domain::VolumeMethod::Fixed => String::new(),
                    m => m.label_ru().to_string(),
                },
            })
            .collect();
        let recalculations = input
            .lines
            .iter()
            .filter(|(_, c)| c.recalculation.get() != 0)
            .map(|(s, c)| format!("{}: {} ₽", s.name, plain(c.recalculation)))
            .collect();
        let mut meters = Vec::new();
        for (m, readings) in &input.meters {
            for zone in 1..=m.tariffs {
                let mut zr = readings.iter().filter(|r| r.zone == zone);
                let current = zr.next();
                let previous = zr.next();
                let fmt = |r: Option<&Reading>| {
                    r.and_then(|r| m.capacity.reading(r.value))
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "—".into())
                };
                let consumption = match (
                    current.and_then(|r| m.capacity.reading(r.value)),
                    previous.and_then(|r| m.capacity.reading(r.value)),
                ) {
                    (Some(c), Some(p)) => match c.consumption_since(p) {
                        kabinet_domain::Consumption::Normal(n) | kabinet_domain::Consumption::Rollover(n) => {
                            m.capacity.reading(n).map(|v| v.to_string()).unwrap_or_default()
                        }
                    },
                    _ => "не передано".into(),
                };
                meters.push(MeterView {
                    name: format!("{}, {}", m.resource.label_ru(), m.resource.unit()),
                    serial: m.serial.clone(),
                    zone: if m.tariffs > 1 {
                        zone.to_string()
                    } else {
                        String::new()
                    },
                    previous: fmt(previous),
                    current: fmt(current),
                    consumption,
                    verification_due: date(m.verification_due),
                });
            }
        }
        let o = &input.organization;
        Ok(ReceiptView {
            receipt: ReceiptNo {
                number: inv.number.clone(),
            },
            period: PeriodView {
                name: inv.period.to_russian(),
                code: inv.period.to_string(),
                issued_on: date(input.period.issued_on),
            },
            account: AccountView {
                number: acc.number.as_str().to_string(),
                holder: acc.holder_name.clone(),
                address: p.full_address(),
                gis: match (&acc.els, &acc.izhku) {
                    (Some(e), Some(i)) => format!("{e} / {i}"),
                    (Some(e), None) => e.clone(),
                    _ => "—".into(),
                },
                total_area: p.total_area.to_string(),
                living_area: p.living_area.map(|a| a.to_string()).unwrap_or_else(|| "—".into()),
                residents: acc.residents,
            },
            payees,
            totals: TotalsView {
                opening_label: if inv.opening_balance.is_negative() {
                    "Аванс"
                } else {
                    "Задолженность"
                }
                .into(),
                opening: inv.opening_balance.to_string(),
                paid: inv.paid.to_string(),
                paid_until: date(inv.period.last_day()),
                charged: inv.charged.to_string(),
                penalties: inv.penalties.to_string(),
                due_date: date(inv.due_date),
                total: inv.total_due.to_string(),
            },
            lines,
            sums: SumsView {
                charged: plain(sum(|c| c.charged)),
                recalculation: plain(sum(|c| c.recalculation)),
                benefits: plain(sum(|c| c.benefits)),
                total: plain(sum(|c| c.total)),
            },
            meters,
            recalculations,
            notices: input.notices.clone(),
            organization: OrgView {
                name: o.name.clone(),
                address: o.address.clone(),
                phone: o.phone.clone(),
                dispatch_phone: o.dispatch_phone.clone(),
                website: o.website.clone(),
            },
        })
    }
}
