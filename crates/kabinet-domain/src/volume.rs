//! Consumed volumes of a service and how they were determined.

use std::fmt;

/// A volume of a service in millionths of its unit (m³, kWh, Gcal, m², person):
/// `3_456_000` is 3,456. Six decimals hold heat in Gcal as billing systems give it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Volume(pub i64);

/// The text is not a volume.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("объём должен быть числом с не более чем шестью знаками после запятой")]
pub struct VolumeError;

impl Volume {
    /// Units per one whole unit.
    pub const SCALE: i64 = 1_000_000;

    /// Parses `3,456`, `-1.5`, `12`.
    pub fn parse(text: &str) -> Result<Volume, VolumeError> {
        parse_scaled(text, 6).map(Volume).ok_or(VolumeError)
    }

    /// Decimal with a point and no trailing zeros, for files: `3.456`.
    pub fn to_decimal_string(self) -> String {
        format_scaled(self.0, 6, '.')
    }
}

/// Formats with a decimal comma and no trailing zeros: `3,456`.
impl fmt::Display for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, 6, ','))
    }
}

/// Parses a decimal with at most `decimals` fraction digits into an integer scaled
/// by `10^decimals`. Accepts a comma or a point and an optional leading minus.
pub(crate) fn parse_scaled(text: &str, decimals: u32) -> Option<i64> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    let (whole, frac) = body.split_once([',', '.']).unwrap_or((body, ""));
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty())
        || !digits(whole)
        || !digits(frac)
        || frac.len() > decimals as usize
    {
        return None;
    }
    let scale = 10i64.pow(decimals);
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(decimals - frac.len() as u32)
    };
    let v = w.checked_mul(scale)?.checked_add(f)?;
    Some(if negative { -v } else { v })
}

/// Formats an integer scaled by `10^decimals` with the given decimal separator,
/// dropping trailing zeros of the fraction.
pub(crate) fn format_scaled(value: i64, decimals: u32, sep: char) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let scale = 10u64.pow(decimals);
    let whole = abs / scale;
    let frac = abs % scale;
    if frac == 0 || decimals == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    format!("{sign}{whole}{sep}{}", frac.trim_end_matches('0'))
}

/// How the billing system determined a charged volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeMethod {
    /// From the resident's meter readings.
    Meter,
    /// From the average of earlier consumption (no readings handed in).
    Average,
    /// From the consumption norm (no meter, or no readings for too long).
    Norm,
    /// From the area, residents count or a fixed fee (maintenance, capital repairs).
    Fixed,
}

impl VolumeMethod {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            VolumeMethod::Meter => "meter",
            VolumeMethod::Average => "average",
            VolumeMethod::Norm => "norm",
            VolumeMethod::Fixed => "fixed",
        }
    }

    /// The method from its stored code.
    pub fn from_code(code: &str) -> Option<VolumeMethod> {
        Some(match code {
            "meter" => VolumeMethod::Meter,
            "average" => VolumeMethod::Average,
            "norm" => VolumeMethod::Norm,
            "fixed" => VolumeMethod::Fixed,
            _ => return None,
        })
    }

    /// Russian label for a receipt or a page.
    pub fn label_ru(self) -> &'static str {
        match self {
            VolumeMethod::Meter => "по показаниям",
            VolumeMethod::Average => "по среднему",
            VolumeMethod::Norm => "по нормативу",
            VolumeMethod::Fixed => "по площади/тарифу",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes() {
        assert_eq!(Volume::parse("3,456"), Ok(Volume(3_456_000)));
        assert_eq!(Volume::parse("0.000001"), Ok(Volume(1)));
        assert_eq!(Volume::parse("1.0000001"), Err(VolumeError));
        assert_eq!(Volume(3_456_000).to_string(), "3,456");
        assert_eq!(Volume(-1_500_000).to_decimal_string(), "-1.5");
        assert_eq!(Volume(12_000_000).to_string(), "12");
        for m in [
            VolumeMethod::Meter,
            VolumeMethod::Average,
            VolumeMethod::Norm,
            VolumeMethod::Fixed,
        ] {
            assert_eq!(VolumeMethod::from_code(m.code()), Some(m));
        }
    }
}
