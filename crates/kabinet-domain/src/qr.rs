//! The payment QR code payload of ГОСТ Р 56042-2014 ("ST00012|Name=…|…"), as
//! bank apps read it from a receipt.
//!
//! The payload is UTF-8 (`ST0001` + `2`), fields are `Key=Value` pairs joined by a
//! separator: `|` unless a value contains it, then the first character from a list
//! of alternatives that no value contains. The mandatory fields come first in the
//! order strict bank apps expect (Name, PersonalAcc, BankName, BIC, CorrespAcc),
//! then KPP, PayeeINN, Purpose and Sum, then the housing fields.

use crate::{Kopecks, Period};

/// Separators tried in order when a value contains `|`.
const SEPARATORS: [char; 12] = ['|', '#', ';', ':', '^', '~', '!', '*', '/', '\\', '@', '_'];

/// Why a payload cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// A mandatory field is empty.
    #[error("QR: field {0} is required")]
    Missing(&'static str),
    /// A value is longer than the standard allows.
    #[error("QR: field {key} is longer than {max} characters")]
    TooLong {
        /// Field.
        key: &'static str,
        /// Limit.
        max: usize,
    },
    /// A value that must be digits of a given length is not.
    #[error("QR: field {key} must be {len} digits")]
    Digits {
        /// Field.
        key: &'static str,
        /// Length.
        len: &'static str,
    },
    /// Every candidate separator occurs in some value.
    #[error("QR: no separator character is free")]
    NoSeparator,
    /// Not an `ST0001` UTF-8 payload.
    #[error("QR: not a ГОСТ Р 56042 UTF-8 payload")]
    Header,
    /// A field without `=`.
    #[error("QR: malformed field {0:?}")]
    Field(String),
}

/// The details a payment QR code carries: payee, bank and what the payment is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentQr {
    /// Payee name (Name, ≤ 160).
    pub name: String,
    /// Payee's settlement account (PersonalAcc, 20 digits).
    pub personal_acc: String,
    /// Bank name (BankName, ≤ 45).
    pub bank_name: String,
    /// БИК (BIC, 9 digits).
    pub bic: String,
    /// Correspondent account (CorrespAcc, ≤ 20 digits; `0` when the bank has none).
    pub corresp_acc: String,
    /// КПП (KPP, ≤ 9).
    pub kpp: Option<String>,
    /// Payee ИНН (PayeeINN, ≤ 12 digits).
    pub payee_inn: Option<String>,
    /// Purpose of payment (Purpose, ≤ 210).
    pub purpose: Option<String>,
    /// Amount (Sum, kopecks as digits).
    pub sum: Option<Kopecks>,
    /// The resident's personal account (PersAcc).
    pub pers_acc: Option<String>,
    /// Billing period (PaymPeriod, `MMYYYY`).
    pub paym_period: Option<Period>,
    /// Payer's last name (LastName).
    pub last_name: Option<String>,
    /// Payer's first name (FirstName).
    pub first_name: Option<String>,
    /// Payer's patronymic (MiddleName).
    pub middle_name: Option<String>,
    /// Payer's address (PayerAddress).
    pub payer_address: Option<String>,
    /// Flat (Flat).
    pub flat: Option<String>,
    /// Receipt number (QuittId).
    pub quitt_id: Option<String>,
    /// Penalties included in the sum (AddAmount, kopecks).
    pub add_amount: Option<Kopecks>,
    /// Kind of payment (TechCode): `02` is housing and utility services.
    pub tech_code: Option<String>,
}

fn digits(key: &'static str, v: &str, lens: &[usize], len: &'static str) -> Result<(), QrError> {
    if lens.contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(QrError::Digits { key, len })
    }
}

fn max(key: &'static str, v: &str, limit: usize) -> Result<(), QrError> {
    if v.chars().count() > limit {
        Err(QrError::TooLong { key, max: limit })
    } else {
        Ok(())
    }
}

/// Values may not contain line breaks; they become spaces, runs of spaces one.
fn clean(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl PaymentQr {
    /// The `Key=Value` pairs in payload order, validated.
    pub fn fields(&self) -> Result<Vec<(&'static str, String)>, QrError> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        let required = [
            ("Name", &self.name),
            ("PersonalAcc", &self.personal_acc),
            ("BankName", &self.bank_name),
            ("BIC", &self.bic),
            ("CorrespAcc", &self.corresp_acc),
        ];
        for (key, value) in required {
            let v = clean(value);
            if v.is_empty() {
                return Err(QrError::Missing(key));
            }
            out.push((key, v));
        }
        max("Name", &out[0].1, 160)?;
        digits("PersonalAcc", &out[1].1, &[20], "20")?;
        max("BankName", &out[2].1, 45)?;
        digits("BIC", &out[3].1, &[9], "9")?;
        if out[4].1 != "0" {
            digits("CorrespAcc", &out[4].1, &[20], "20")?;
        }
        let mut opt = |key: &'static str, v: &Option<String>, limit: usize| -> Result<(), QrError> {
            if let Some(v) = v.as_deref().map(clean).filter(|v| !v.is_empty()) {
                max(key, &v, limit)?;
                out.push((key, v));
            }
            Ok(())
        };
        opt("KPP", &self.kpp, 9)?;
        opt("PayeeINN", &self.payee_inn, 12)?;
        opt("Purpose", &self.purpose, 210)?;
        if let Some(sum) = self.sum {
            if sum.is_negative() {
                return Err(QrError::Digits {
                    key: "Sum",
                    len: "1–18",
                });
            }
            out.push(("Sum", sum.get().to_string()));
        }
        let mut opt = |key: &'static str, v: &Option<String>, limit: usize| -> Result<(), QrError> {
            if let Some(v) = v.as_deref().map(clean).filter(|v| !v.is_empty()) {
                max(key, &v, limit)?;
                out.push((key, v));
            }
            Ok(())
        };
        opt("PersAcc", &self.pers_acc, 30)?;
        opt("PaymPeriod", &self.paym_period.map(Period::to_qr), 6)?;
        opt("LastName", &self.last_name, 60)?;
        opt("FirstName", &self.first_name, 60)?;
        opt("MiddleName", &self.middle_name, 60)?;
        opt("PayerAddress", &self.payer_address, 210)?;
        opt("Flat", &self.flat, 16)?;
        opt("QuittId", &self.quitt_id, 30)?;
        opt(
            "AddAmount",
            &self
                .add_amount
                .filter(|a| !a.is_negative())
                .map(|a| a.get().to_string()),
            18,
        )?;
        opt("TechCode", &self.tech_code, 2)?;
        if let Some((_, inn)) = out.iter().find(|(k, _)| *k == "PayeeINN") {
            digits("PayeeINN", inn, &[10, 12], "10 or 12")?;
        }
        if let Some((_, kpp)) = out.iter().find(|(k, _)| *k == "KPP") {
            digits("KPP", kpp, &[9], "9")?;
        }
        Ok(out)
    }

    /// The payload to put in the QR code.
    pub fn payload(&self) -> Result<String, QrError> {
        let fields = self.fields()?;
        let sep = SEPARATORS
            .into_iter()
            .find(|s| fields.iter().all(|(_, v)| !v.contains(*s)))
            .ok_or(QrError::NoSeparator)?;
        let mut out = format!("ST00012{sep}");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        Ok(out)
    }
}

/// Reads a UTF-8 ГОСТ Р 56042 payload back into its `Key=Value` pairs, in order.
pub fn parse_payload(payload: &str) -> Result<Vec<(String, String)>, QrError> {
    let rest = payload.strip_prefix("ST00012").ok_or(QrError::Header)?;
    let mut chars = rest.chars();
    let sep = chars.next().ok_or(QrError::Header)?;
    chars
        .as_str()
        .split(sep)
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| QrError::Field(f.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> PaymentQr {
        PaymentQr {
            name: "ООО «УК „Северный квартал“»".into(),
            personal_acc: "40702810963000001234".into(),
            bank_name: "ПАО СБЕРБАНК".into(),
            bic: "042809679".into(),
            corresp_acc: "30101810700000000679".into(),
            kpp: Some("695001001".into()),
            payee_inn: Some("6950012346".into()),
            purpose: Some("Оплата ЖКУ за октябрь 2026, л/с 7100000001".into()),
            sum: Some(Kopecks(845_020)),
            pers_acc: Some("7100000001".into()),
            paym_period: Some(Period::new(2026, 10).unwrap()),
            last_name: Some("Иванова".into()),
            tech_code: Some("02".into()),
            ..PaymentQr::default()
        }
    }

    #[test]
    fn builds_in_the_order_bank_apps_expect() {
        let p = sample().payload().unwrap();
        assert!(p.starts_with("ST00012|Name=ООО «УК „Северный квартал“»|PersonalAcc=40702810963000001234|BankName=ПАО СБЕРБАНК|BIC=042809679|CorrespAcc=30101810700000000679|KPP=695001001|PayeeINN=6950012346|Purpose="), "{p}");
        assert!(p.contains("|Sum=845020|PersAcc=7100000001|PaymPeriod=102026|LastName=Иванова|TechCode=02"));
        assert!(!p.contains("PersonalAccount="));
    }

    #[test]
    fn switches_separator_and_cleans_values() {
        let mut q = sample();
        q.purpose = Some("ЖКУ | октябрь\nдом 1".into());
        let p = q.payload().unwrap();
        assert!(p.starts_with("ST00012#Name="));
        let fields = parse_payload(&p).unwrap();
        assert!(fields.contains(&("Purpose".into(), "ЖКУ | октябрь дом 1".into())));
    }

    #[test]
    fn enforces_limits() {
        let mut q = sample();
        q.name = "Я".repeat(161);
        assert_eq!(
            q.payload(),
            Err(QrError::TooLong {
                key: "Name",
                max: 160
            })
        );
        let mut q = sample();
        q.bank_name = "Б".repeat(46);
        assert_eq!(
            q.payload(),
            Err(QrError::TooLong {
                key: "BankName",
                max: 45
            })
        );
        let mut q = sample();
        q.bic = "04280967".into();
        assert!(matches!(q.payload(), Err(QrError::Digits { key: "BIC", .. })));
        let mut q = sample();
        q.personal_acc = String::new();
        assert_eq!(q.payload(), Err(QrError::Missing("PersonalAcc")));
        let mut q = sample();
        q.purpose = Some("x".repeat(211));
        assert_eq!(
            q.payload(),
            Err(QrError::TooLong {
                key: "Purpose",
                max: 210
            })
        );
        let mut q = sample();
        q.sum = Some(Kopecks(-1));
        assert!(q.payload().is_err());
        assert_eq!(parse_payload("ST00011|Name=x"), Err(QrError::Header));
    }

    proptest! {
        #[test]
        fn payload_parses_back(
            name in "[^\\s]{1}[а-яА-Яa-z0-9 |#;«»\"]{0,150}",
            purpose in proptest::option::of("[а-яa-z0-9 |#;:^~!,.]{1,200}"),
            sum in proptest::option::of(0i64..1_000_000_000_000),
            acc in "[0-9A-Z-]{1,20}",
            month in 1u8..=12,
        ) {
            let q = PaymentQr {
                name: name.clone(),
                purpose: purpose.clone(),
                sum: sum.map(Kopecks),
                pers_acc: Some(acc.clone()),
                paym_period: Some(Period::new(2026, month).unwrap()),
                ..sample()
            };
            let expected: Vec<(String, String)> = q.fields().unwrap().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let parsed = parse_payload(&q.payload().unwrap()).unwrap();
            prop_assert_eq!(&parsed, &expected);
            let get = |k: &str| parsed.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            prop_assert_eq!(get("Sum"), sum.map(|s| s.to_string()));
            prop_assert_eq!(get("PersAcc"), Some(acc));
            prop_assert_eq!(get("PaymPeriod").map(|p| Period::parse(&p).unwrap().month()), Some(month));
        }
    }
}
