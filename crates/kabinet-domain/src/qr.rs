//! The payment QR code payload of ГОСТ Р 56042-2014 ("ST00012|Name=…|…"), as
//! bank apps read it from a receipt.
//!
//! The payload is UTF-8 (`ST0001` + `2`) or windows-1251 (`ST0001` + `1`, one
//! byte per Cyrillic letter instead of two, so a smaller code); fields are
//! `Key=Value` pairs joined by a separator: `|` unless a value contains it, then
//! the first character from a list of alternatives that no value contains. The
//! mandatory fields come first in the order strict bank apps expect (Name,
//! PersonalAcc, BankName, BIC, CorrespAcc), then KPP, PayeeINN, Purpose and Sum,
//! then the housing fields.
//!
//! A mandatory field that is missing or does not fit is an error; an optional
//! one that does not fit its limit (or is not the digits it must be) is left
//! out, so a receipt is never refused for an optional detail.

use crate::{Kopecks, Period};

/// Separators tried in order when a value contains `|`.
const SEPARATORS: [char; 12] = ['|', '#', ';', ':', '^', '~', '!', '*', '/', '\\', '@', '_'];

/// The character set of a payload: the digit after `ST0001` in its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QrCharset {
    /// UTF-8 (`ST00012`): any text, two bytes per Cyrillic letter.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// windows-1251 (`ST00011`): one byte per Cyrillic letter; the code is
    /// smaller and easier to scan from paper. Values must be written in it.
    #[serde(rename = "windows-1251")]
    Windows1251,
}

impl QrCharset {
    /// The header digit.
    pub fn digit(self) -> char {
        match self {
            QrCharset::Utf8 => '2',
            QrCharset::Windows1251 => '1',
        }
    }
}

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
    /// Not an `ST00011` or `ST00012` payload.
    #[error("QR: not a ГОСТ Р 56042 payload")]
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

fn is_digits(v: &str, lens: &[usize]) -> bool {
    lens.contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit())
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
        // Optional fields: kept when they fit, left out when they do not.
        let mut opt = |key: &'static str, v: Option<String>, fits: &dyn Fn(&str) -> bool| {
            if let Some(v) = v.as_deref().map(clean).filter(|v| !v.is_empty() && fits(v)) {
                out.push((key, v));
            }
        };
        let len = |limit: usize| move |v: &str| v.chars().count() <= limit;
        opt("KPP", self.kpp.clone(), &|v| is_digits(v, &[9]));
        opt("PayeeINN", self.payee_inn.clone(), &|v| is_digits(v, &[10, 12]));
        opt("Purpose", self.purpose.clone(), &len(210));
        opt(
            "Sum",
            self.sum.filter(|s| !s.is_negative()).map(|s| s.get().to_string()),
            &len(18),
        );
        opt("PersAcc", self.pers_acc.clone(), &len(30));
        opt("PaymPeriod", self.paym_period.map(Period::to_qr), &len(6));
        opt("LastName", self.last_name.clone(), &len(60));
        opt("FirstName", self.first_name.clone(), &len(60));
        opt("MiddleName", self.middle_name.clone(), &len(60));
        opt("PayerAddress", self.payer_address.clone(), &len(210));
        opt("Flat", self.flat.clone(), &len(16));
        opt("QuittId", self.quitt_id.clone(), &len(30));
        opt(
            "AddAmount",
            self.add_amount
                .filter(|a| !a.is_negative())
                .map(|a| a.get().to_string()),
            &len(18),
        );
        opt("TechCode", self.tech_code.clone(), &|v| is_digits(v, &[2]));
        Ok(out)
    }

    /// The UTF-8 payload (`ST00012`).
    pub fn payload(&self) -> Result<String, QrError> {
        self.payload_as(QrCharset::Utf8)
    }

    /// The payload's text with the header of `charset`; the caller writes it
    /// into the code in that character set.
    pub fn payload_as(&self, charset: QrCharset) -> Result<String, QrError> {
        let fields = self.fields()?;
        let sep = SEPARATORS
            .into_iter()
            .find(|s| fields.iter().all(|(_, v)| !v.contains(*s)))
            .ok_or(QrError::NoSeparator)?;
        let mut out = format!("ST0001{}{sep}", charset.digit());
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

/// Reads a ГОСТ Р 56042 payload (already decoded to text) back into its
/// `Key=Value` pairs, in order.
pub fn parse_payload(payload: &str) -> Result<Vec<(String, String)>, QrError> {
    let rest = payload
        .strip_prefix("ST00012")
        .or_else(|| payload.strip_prefix("ST00011"))
        .ok_or(QrError::Header)?;
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
            personal_acc: "40702810563000001234".into(),
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
        assert!(p.starts_with("ST00012|Name=ООО «УК „Северный квартал“»|PersonalAcc=40702810563000001234|BankName=ПАО СБЕРБАНК|BIC=042809679|CorrespAcc=30101810700000000679|KPP=695001001|PayeeINN=6950012346|Purpose="), "{p}");
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
        assert_eq!(parse_payload("ST00013|Name=x"), Err(QrError::Header));
    }

    #[test]
    fn optional_fields_that_do_not_fit_are_left_out() {
        let mut q = sample();
        q.purpose = Some("x".repeat(211));
        q.sum = Some(Kopecks(-1));
        q.last_name = Some("Щ".repeat(62));
        q.first_name = Some("Анна".into());
        q.payer_address = Some("д".repeat(252));
        q.kpp = Some("12345".into());
        let keys: Vec<&str> = q.fields().unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "Name",
                "PersonalAcc",
                "BankName",
                "BIC",
                "CorrespAcc",
                "PayeeINN",
                "PersAcc",
                "PaymPeriod",
                "FirstName",
                "TechCode"
            ]
        );
        let p = q.payload_as(QrCharset::Windows1251).unwrap();
        assert!(p.starts_with("ST00011|Name="));
        assert_eq!(parse_payload(&p).unwrap()[8], ("FirstName".into(), "Анна".into()));
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
