//! How a resident pays on the gateway's side — the Faster Payments System
//! (СБП) or a bank card — and the fee each method adds to the payment.
//!
//! The fee is the organization's choice per method: a percent of the amount
//! with an optional minimum, or nothing ("the organization pays it"). It is
//! paid on top of the accounts' amounts, shown before the resident leaves for
//! the gateway, and never credited to an account.

use crate::Kopecks;

/// A way to pay at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    /// The Faster Payments System: the bank's app opens on a phone, a QR
    /// code shows on a desktop.
    Sbp,
    /// A bank card on the gateway's page.
    BankCard,
}

impl PayMethod {
    /// Every method, in the order the pay page offers them (СБП first).
    pub const ALL: [PayMethod; 2] = [PayMethod::Sbp, PayMethod::BankCard];

    /// The stored name, which is also YooKassa's `payment_method_data.type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PayMethod::Sbp => "sbp",
            PayMethod::BankCard => "bank_card",
        }
    }

    /// Reads a stored or configured name (`card` is taken for `bank_card`).
    pub fn parse(s: &str) -> Option<PayMethod> {
        match s.trim() {
            "sbp" => Some(PayMethod::Sbp),
            "bank_card" | "card" => Some(PayMethod::BankCard),
            _ => None,
        }
    }
}

/// The fee of one method: `percent_hundredths` of the amount (150 = 1.5 %),
/// at least `min`. Both zero: the organization pays it, the resident pays
/// nothing on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fee {
    /// Hundredths of a percent of the amount.
    pub percent_hundredths: u32,
    /// The smallest fee.
    pub min: Kopecks,
}

/// The largest fee percent taken from the settings (10 %).
pub const MAX_FEE_HUNDREDTHS: u32 = 1_000;

impl Fee {
    /// No fee for the resident.
    pub const NONE: Fee = Fee {
        percent_hundredths: 0,
        min: Kopecks::ZERO,
    };

    /// Whether the resident pays nothing on top.
    pub fn is_free(self) -> bool {
        self.percent_hundredths == 0 && self.min == Kopecks::ZERO
    }

    /// The fee on `amount`, rounded up to a kopeck, at least the minimum.
    pub fn on(self, amount: Kopecks) -> Kopecks {
        if self.is_free() || amount <= Kopecks::ZERO {
            return Kopecks::ZERO;
        }
        let hundredths = i128::from(amount.get()) * i128::from(self.percent_hundredths);
        let kopecks = (hundredths + 9_999) / 10_000;
        let percent = Kopecks(i64::try_from(kopecks).unwrap_or(i64::MAX));
        percent.max(self.min)
    }

    /// Reads a fee as configured: `""` or `"0"` (the organization pays),
    /// `"1.5"` / `"1.5%"` (a percent), `"1.5% min 10"` (at least 10 ₽).
    pub fn parse(text: &str) -> Option<Fee> {
        let t = text.trim().to_lowercase();
        let (percent, min) = match t.split_once("min") {
            Some((p, m)) => (p.trim().trim_end_matches(',').trim(), m.trim()),
            None => (t.as_str(), ""),
        };
        let percent_hundredths = Fee::parse_percent(percent)?;
        let min = if min.is_empty() {
            Kopecks::ZERO
        } else {
            let k = Kopecks::parse(min).ok()?;
            if k.is_negative() || k > Kopecks(100_000) {
                return None;
            }
            k
        };
        Some(Fee {
            percent_hundredths,
            min,
        })
    }

    /// Reads a percent as configured (`"1.5"`, `"0,8"`, `"2"`): at most two
    /// decimals, 0 to 10 %.
    pub fn parse_percent(text: &str) -> Option<u32> {
        let t = text.trim().trim_end_matches('%').trim().replace(',', ".");
        if t.is_empty() {
            return Some(0);
        }
        let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
        if whole.is_empty()
            || frac.len() > 2
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || whole.len() > 3
        {
            return None;
        }
        let w: u32 = whole.parse().ok()?;
        let f: u32 = format!("{frac:0<2}").parse().ok()?;
        let v = w * 100 + f;
        (v <= MAX_FEE_HUNDREDTHS).then_some(v)
    }
}

/// What one method costs the resident for an amount: shown on the pay page
/// before they leave for the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// The method.
    pub method: PayMethod,
    /// The accounts' amounts together.
    pub amount: Kopecks,
    /// The fee on top (zero when the organization pays it).
    pub fee: Kopecks,
    /// What the resident pays.
    pub total: Kopecks,
}

/// The quote of `method` with `fee` for `amount`.
pub fn quote(method: PayMethod, fee: Fee, amount: Kopecks) -> Quote {
    let f = fee.on(amount);
    Quote {
        method,
        amount,
        fee: f,
        total: amount + f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_up_and_respect_the_minimum() {
        let card = Fee {
            percent_hundredths: 150,
            min: Kopecks(1_000),
        };
        // 1.5 % of 2 000 ₽ = 30 ₽.
        assert_eq!(card.on(Kopecks(200_000)), Kopecks(3_000));
        // 1.5 % of 100 ₽ = 1.50 ₽, below the 10 ₽ minimum.
        assert_eq!(card.on(Kopecks(10_000)), Kopecks(1_000));
        // 1.5 % of 1 234.57 ₽ = 18.518… ₽, up to 18.52 ₽.
        let pct = Fee {
            percent_hundredths: 150,
            min: Kopecks::ZERO,
        };
        assert_eq!(pct.on(Kopecks(123_457)), Kopecks(1_852));
        assert_eq!(Fee::NONE.on(Kopecks(123_457)), Kopecks::ZERO);
        assert!(Fee::NONE.is_free() && !card.is_free());
        let q = quote(PayMethod::BankCard, card, Kopecks(200_000));
        assert_eq!((q.fee, q.total), (Kopecks(3_000), Kopecks(203_000)));
    }

    #[test]
    fn percents_are_read_as_configured() {
        assert_eq!(Fee::parse_percent("1.5"), Some(150));
        assert_eq!(Fee::parse_percent("0,8%"), Some(80));
        assert_eq!(Fee::parse_percent("2"), Some(200));
        assert_eq!(Fee::parse_percent(""), Some(0));
        assert_eq!(Fee::parse_percent("10.01"), None);
        assert_eq!(Fee::parse_percent("1.234"), None);
        assert_eq!(Fee::parse_percent("-1"), None);
        assert_eq!(
            Fee::parse("1.5% min 10"),
            Some(Fee {
                percent_hundredths: 150,
                min: Kopecks(1_000)
            })
        );
        assert_eq!(Fee::parse(""), Some(Fee::NONE));
        assert_eq!(Fee::parse("0"), Some(Fee::NONE));
        assert_eq!(Fee::parse("1.5% min x"), None);
        assert_eq!(PayMethod::parse("card"), Some(PayMethod::BankCard));
        assert_eq!(PayMethod::parse("sbp"), Some(PayMethod::Sbp));
        assert_eq!(PayMethod::parse("cash"), None);
    }
}
