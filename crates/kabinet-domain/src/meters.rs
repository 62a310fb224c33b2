//! Meters and their readings: resources, digit capacity and consumption.

use crate::volume::{format_scaled, parse_scaled};
use std::fmt;

/// What a meter measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Cold water, m³.
    ColdWater,
    /// Hot water, m³.
    HotWater,
    /// Electricity, kWh (one to three tariff zones).
    Electricity,
    /// Heat, Gcal.
    Heat,
    /// Gas, m³.
    Gas,
}

impl Resource {
    /// Every resource, in display order.
    pub const ALL: [Resource; 5] = [
        Resource::ColdWater,
        Resource::HotWater,
        Resource::Electricity,
        Resource::Heat,
        Resource::Gas,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Resource::ColdWater => "cold_water",
            Resource::HotWater => "hot_water",
            Resource::Electricity => "electricity",
            Resource::Heat => "heat",
            Resource::Gas => "gas",
        }
    }

    /// The resource from its stored code.
    pub fn from_code(code: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Russian name.
    pub fn label_ru(self) -> &'static str {
        match self {
            Resource::ColdWater => "Холодная вода",
            Resource::HotWater => "Горячая вода",
            Resource::Electricity => "Электроэнергия",
            Resource::Heat => "Тепловая энергия",
            Resource::Gas => "Газ",
        }
    }

    /// Unit of measure.
    pub fn unit(self) -> &'static str {
        match self {
            Resource::ColdWater | Resource::HotWater | Resource::Gas => "м³",
            Resource::Electricity => "кВт·ч",
            Resource::Heat => "Гкал",
        }
    }
}

/// Whether a meter is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterStatus {
    /// In use: readings are accepted.
    Active,
    /// Replaced or removed: kept for history only.
    Archived,
    /// Read remotely by the organization (АСКУЭ): residents hand in nothing.
    Remote,
}

impl MeterStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            MeterStatus::Active => "active",
            MeterStatus::Archived => "archived",
            MeterStatus::Remote => "remote",
        }
    }
    /// The status from its stored code.
    pub fn from_code(code: &str) -> Option<MeterStatus> {
        match code {
            "active" => Some(MeterStatus::Active),
            "archived" => Some(MeterStatus::Archived),
            "remote" => Some(MeterStatus::Remote),
            _ => None,
        }
    }
}

/// A meter's digit capacity (разрядность): how many whole and fraction digits its
/// counter shows, e.g. 5 + 3 for a water meter reading `00123,456`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Capacity {
    integer_digits: u8,
    fraction_digits: u8,
}

/// A capacity outside what real meters have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("разрядность счётчика: от 1 до 9 целых и от 0 до 4 дробных знаков")]
pub struct CapacityError;

/// Why a reading cannot be accepted as a value for a meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    /// Not a non-negative decimal number.
    #[error("показание должно быть неотрицательным числом, например 123,456")]
    Invalid,
    /// More whole digits than the counter shows.
    #[error("показание не помещается на счётчик: не больше {0} цифр до запятой")]
    TooManyDigits(u8),
    /// More fraction digits than the counter shows.
    #[error("у этого счётчика не больше {0} знаков после запятой")]
    TooManyDecimals(u8),
}

impl Capacity {
    /// A capacity of `integer_digits` (1–9) whole and `fraction_digits` (0–4) fraction digits.
    pub fn new(integer_digits: u8, fraction_digits: u8) -> Result<Capacity, CapacityError> {
        if (1..=9).contains(&integer_digits) && fraction_digits <= 4 {
            Ok(Capacity {
                integer_digits,
                fraction_digits,
            })
        } else {
            Err(CapacityError)
        }
    }

    /// Whole digits.
    pub fn integer_digits(self) -> u8 {
        self.integer_digits
    }

    /// Fraction digits.
    pub fn fraction_digits(self) -> u8 {
        self.fraction_digits
    }

    /// The counter value at which it rolls over to zero, in scaled units
    /// (10^(integer + fraction digits)).
    pub fn modulus(self) -> i64 {
        10i64.pow(u32::from(self.integer_digits + self.fraction_digits))
    }

    /// Parses a reading as typed (`123,456`, `123.4`, `123`) against this capacity.
    pub fn parse_reading(self, text: &str) -> Result<ReadingValue, ReadingError> {
        // Spaces (also no-break ones) group digits as people write them.
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let t = t.as_str();
        if t.starts_with('-') {
            return Err(ReadingError::Invalid);
        }
        let (whole, frac) = t.split_once([',', '.']).unwrap_or((t, ""));
        if frac.len() > usize::from(self.fraction_digits) {
            return Err(if frac.chars().all(|c| c.is_ascii_digit()) {
                ReadingError::TooManyDecimals(self.fraction_digits)
            } else {
                ReadingError::Invalid
            });
        }
        let value = parse_scaled(t, u32::from(self.fraction_digits)).ok_or(ReadingError::Invalid)?;
        if whole.trim_start_matches('0').len() > usize::from(self.integer_digits) {
            return Err(ReadingError::TooManyDigits(self.integer_digits));
        }
        Ok(ReadingValue {
            scaled: value,
            capacity: self,
        })
    }

    /// An amount in this counter's scaled units (a consumption, a sum over
    /// months, which may exceed the counter) with a decimal comma: `123,45`.
    pub fn amount_text(self, scaled: i64) -> String {
        format_scaled(scaled, u32::from(self.fraction_digits), ',')
    }

    /// An amount in this counter's scaled units with a point and all
    /// fraction digits, for files and the API: `30.000`.
    pub fn amount_decimal(self, scaled: i64) -> String {
        let d = u32::from(self.fraction_digits);
        if d == 0 {
            return scaled.to_string();
        }
        let scale = 10u64.pow(d);
        let sign = if scaled < 0 { "-" } else { "" };
        let abs = scaled.unsigned_abs();
        format!("{sign}{}.{:0w$}", abs / scale, abs % scale, w = d as usize)
    }

    /// A reading from its stored scaled value; `None` when it does not fit.
    pub fn reading(self, scaled: i64) -> Option<ReadingValue> {
        (0..self.modulus()).contains(&scaled).then_some(ReadingValue {
            scaled,
            capacity: self,
        })
    }
}

/// A meter reading: a counter value scaled by `10^fraction_digits` of its meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadingValue {
    scaled: i64,
    capacity: Capacity,
}

/// The consumption between two readings of one meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumption {
    /// The new value is not lower than the previous one.
    Normal(i64),
    /// The new value is lower: the counter went past its capacity and started from
    /// zero. The resident must confirm this.
    Rollover(i64),
}

impl ReadingValue {
    /// Zero on a counter of `capacity`.
    pub fn zero(capacity: Capacity) -> ReadingValue {
        ReadingValue { scaled: 0, capacity }
    }

    /// The stored scaled integer.
    pub fn scaled(self) -> i64 {
        self.scaled
    }

    /// The meter capacity this value belongs to.
    pub fn capacity(self) -> Capacity {
        self.capacity
    }

    /// Consumption from `previous` to this reading in scaled units, counting a
    /// rollover past the capacity when this value is lower.
    pub fn consumption_since(self, previous: ReadingValue) -> Consumption {
        if self.scaled >= previous.scaled {
            Consumption::Normal(self.scaled - previous.scaled)
        } else {
            Consumption::Rollover(self.capacity.modulus() - previous.scaled + self.scaled)
        }
    }

    /// Decimal with a point and all fraction digits, for files: `123.450`.
    pub fn to_decimal_string(self) -> String {
        let d = u32::from(self.capacity.fraction_digits);
        if d == 0 {
            return self.scaled.to_string();
        }
        let scale = 10i64.pow(d);
        format!(
            "{}.{:0w$}",
            self.scaled / scale,
            self.scaled % scale,
            w = d as usize
        )
    }
}

/// Formats with a decimal comma, trailing zeros dropped: `123,45`.
impl fmt::Display for ReadingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(
            self.scaled,
            u32::from(self.capacity.fraction_digits),
            ',',
        ))
    }
}

impl crate::Describe for ReadingError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            ReadingError::Invalid => Text::new("error-reading-invalid"),
            ReadingError::TooManyDigits(n) => Text::new("error-reading-digits").with("n", i64::from(*n)),
            ReadingError::TooManyDecimals(n) => Text::new("error-reading-decimals").with("n", i64::from(*n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_against_capacity() {
        let c = Capacity::new(5, 3).unwrap();
        assert_eq!(c.parse_reading("123,456").unwrap().scaled(), 123_456);
        assert_eq!(c.parse_reading("00123.4").unwrap().scaled(), 123_400);
        assert_eq!(c.parse_reading("99999,999").unwrap().scaled(), 99_999_999);
        assert_eq!(c.parse_reading("100000"), Err(ReadingError::TooManyDigits(5)));
        assert_eq!(c.parse_reading("1,2345"), Err(ReadingError::TooManyDecimals(3)));
        assert_eq!(c.parse_reading("-1"), Err(ReadingError::Invalid));
        assert_eq!(c.parse_reading("abc"), Err(ReadingError::Invalid));
        assert_eq!(c.parse_reading(""), Err(ReadingError::Invalid));
        let e = Capacity::new(6, 0).unwrap();
        assert_eq!(e.parse_reading("1,5"), Err(ReadingError::TooManyDecimals(0)));
        assert!(Capacity::new(0, 1).is_err());
        assert!(Capacity::new(5, 5).is_err());
    }

    #[test]
    fn consumption_and_rollover() {
        let c = Capacity::new(5, 3).unwrap();
        let prev = c.parse_reading("99990").unwrap();
        let next = c.parse_reading("5,5").unwrap();
        assert_eq!(next.consumption_since(prev), Consumption::Rollover(15_500));
        assert_eq!(prev.consumption_since(prev), Consumption::Normal(0));
        assert_eq!(next.to_string(), "5,5");
        assert_eq!(next.to_decimal_string(), "5.500");
        assert_eq!(c.reading(c.modulus()), None);
        assert_eq!(c.amount_decimal(30_000), "30.000");
        assert_eq!(c.amount_decimal(123_456_789_000), "123456789.000");
        assert_eq!(c.amount_text(30_500), "30,5");
    }

    proptest! {
        #[test]
        fn readings_round_trip(i in 1u8..=9, f in 0u8..=4, raw in 0i64..i64::MAX) {
            let c = Capacity::new(i, f).unwrap();
            let v = c.reading(raw % c.modulus()).unwrap();
            prop_assert_eq!(c.parse_reading(&v.to_string()), Ok(v));
            prop_assert_eq!(c.parse_reading(&v.to_decimal_string()), Ok(v));
        }
    }
}
