//! Money as integer kopecks. Never a float.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// An amount of money in kopecks (1/100 of a ruble). Negative amounts are valid
/// (an advance, a recalculation in the resident's favour).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Kopecks(pub i64);

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KopecksError {
    /// Nothing was given.
    #[error("сумма не указана")]
    Empty,
    /// Characters other than digits, one separator, spaces and a leading minus.
    #[error("сумма должна быть числом, например 1234,56")]
    Invalid,
    /// More than two digits after the decimal separator.
    #[error("в сумме не может быть больше двух знаков после запятой")]
    TooManyDecimals,
    /// Does not fit.
    #[error("сумма слишком велика")]
    TooLarge,
}

impl Kopecks {
    /// Zero rubles.
    pub const ZERO: Kopecks = Kopecks(0);

    /// Whole rubles and kopecks, e.g. `from_rubles(12, 30)` is 12,30 ₽.
    pub const fn from_rubles(rubles: i64, kopecks: i64) -> Kopecks {
        Kopecks(rubles * 100 + kopecks)
    }

    /// The raw number of kopecks.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// True when the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses what people and billing systems write: `1234,56`, `1 234.56`,
    /// `1234`, `-12,5`, `1 234,56 ₽`. Spaces (also no-break and thin ones) may group
    /// thousands; the decimal separator is a comma or a point.
    pub fn parse(text: &str) -> Result<Kopecks, KopecksError> {
        let mut s: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\t'))
            .collect();
        for suffix in ["₽", "руб.", "руб", "р.", "RUB"] {
            if let Some(stripped) = s.strip_suffix(suffix) {
                s = stripped.to_string();
                break;
            }
        }
        if s.is_empty() {
            return Err(KopecksError::Empty);
        }
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        let (whole, frac) = match body.find([',', '.']) {
            Some(pos) => (&body[..pos], &body[pos + 1..]),
            None => (body, ""),
        };
        let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
            return Err(KopecksError::Invalid);
        }
        if frac.len() > 2 {
            return Err(KopecksError::TooManyDecimals);
        }
        let rubles: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| KopecksError::TooLarge)?
        };
        let mut kop: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| KopecksError::Invalid)?
        };
        if frac.len() == 1 {
            kop *= 10;
        }
        let total = rubles
            .checked_mul(100)
            .and_then(|r| r.checked_add(kop))
            .ok_or(KopecksError::TooLarge)?;
        Ok(Kopecks(if negative { -total } else { total }))
    }

    /// Plain decimal with a point and no grouping (`-1234.56`): for CSV files,
    /// payment gateways and JSON.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// The amount as a person reads it, without the currency sign: `1 234,56`
    /// (groups separated by no-break spaces).
    pub fn to_plain_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let rubles = (abs / 100).to_string();
        let mut grouped = String::with_capacity(rubles.len() + rubles.len() / 3);
        for (i, ch) in rubles.chars().enumerate() {
            if i > 0 && (rubles.len() - i).is_multiple_of(3) {
                grouped.push('\u{a0}');
            }
            grouped.push(ch);
        }
        format!("{sign}{grouped},{:02}", abs % 100)
    }

    /// Sum of many amounts; overflow is impossible for realistic data.
    pub fn sum<I: IntoIterator<Item = Kopecks>>(items: I) -> Kopecks {
        items.into_iter().fold(Kopecks::ZERO, |a, b| a + b)
    }
}

/// Formats as `1 234,56 ₽` (no-break spaces).
impl fmt::Display for Kopecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\u{a0}₽", self.to_plain_string())
    }
}

impl std::str::FromStr for Kopecks {
    type Err = KopecksError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kopecks::parse(s)
    }
}

impl Add for Kopecks {
    type Output = Kopecks;
    fn add(self, rhs: Kopecks) -> Kopecks {
        Kopecks(self.0 + rhs.0)
    }
}
impl AddAssign for Kopecks {
    fn add_assign(&mut self, rhs: Kopecks) {
        self.0 += rhs.0;
    }
}
impl Sub for Kopecks {
    type Output = Kopecks;
    fn sub(self, rhs: Kopecks) -> Kopecks {
        Kopecks(self.0 - rhs.0)
    }
}
impl SubAssign for Kopecks {
    fn sub_assign(&mut self, rhs: Kopecks) {
        self.0 -= rhs.0;
    }
}
impl Neg for Kopecks {
    type Output = Kopecks;
    fn neg(self) -> Kopecks {
        Kopecks(-self.0)
    }
}
impl std::iter::Sum for Kopecks {
    fn sum<I: Iterator<Item = Kopecks>>(iter: I) -> Kopecks {
        Kopecks::sum(iter)
    }
}

impl crate::Describe for KopecksError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            KopecksError::Empty => Text::new("error-amount-empty"),
            KopecksError::Invalid => Text::new("error-amount-invalid"),
            KopecksError::TooManyDecimals => Text::new("error-amount-decimals"),
            KopecksError::TooLarge => Text::new("error-amount-too-large"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_spellings() {
        assert_eq!(Kopecks::parse("1234,56"), Ok(Kopecks(123_456)));
        assert_eq!(Kopecks::parse("1 234.56"), Ok(Kopecks(123_456)));
        assert_eq!(Kopecks::parse("1\u{a0}234,56 ₽"), Ok(Kopecks(123_456)));
        assert_eq!(Kopecks::parse("1234"), Ok(Kopecks(123_400)));
        assert_eq!(Kopecks::parse("12,5"), Ok(Kopecks(1_250)));
        assert_eq!(Kopecks::parse("-0,07"), Ok(Kopecks(-7)));
        assert_eq!(Kopecks::parse(",50"), Ok(Kopecks(50)));
        assert_eq!(Kopecks::parse("100 руб."), Ok(Kopecks(10_000)));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Kopecks::parse(""), Err(KopecksError::Empty));
        assert_eq!(Kopecks::parse("  "), Err(KopecksError::Empty));
        assert_eq!(Kopecks::parse("12,345"), Err(KopecksError::TooManyDecimals));
        assert_eq!(Kopecks::parse("1.2.3"), Err(KopecksError::Invalid));
        assert_eq!(Kopecks::parse("abc"), Err(KopecksError::Invalid));
        assert_eq!(Kopecks::parse("1e5"), Err(KopecksError::Invalid));
        assert_eq!(Kopecks::parse("--5"), Err(KopecksError::Invalid));
        assert_eq!(Kopecks::parse(","), Err(KopecksError::Invalid));
        assert_eq!(
            Kopecks::parse("999999999999999999999"),
            Err(KopecksError::TooLarge)
        );
    }

    #[test]
    fn formats_for_people_and_machines() {
        assert_eq!(Kopecks(123_456).to_string(), "1\u{a0}234,56\u{a0}₽");
        assert_eq!(Kopecks(5).to_string(), "0,05\u{a0}₽");
        assert_eq!(Kopecks(-100_000_000).to_plain_string(), "-1\u{a0}000\u{a0}000,00");
        assert_eq!(Kopecks(-7).to_decimal_string(), "-0.07");
        assert_eq!(Kopecks(123_400).to_decimal_string(), "1234.00");
    }

    proptest! {
        #[test]
        fn display_parses_back(k in -10_000_000_000_000i64..10_000_000_000_000i64) {
            let k = Kopecks(k);
            prop_assert_eq!(Kopecks::parse(&k.to_string()), Ok(k));
            prop_assert_eq!(Kopecks::parse(&k.to_decimal_string()), Ok(k));
        }
    }
}
