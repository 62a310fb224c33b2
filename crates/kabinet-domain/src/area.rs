//! Floor area of premises.

use std::fmt;

/// Floor area in hundredths of a square metre (`5432` is 54,32 м²).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Area(pub i64);

/// The text is not an area.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("площадь должна быть неотрицательным числом с не более чем двумя знаками после запятой")]
pub struct AreaError;

impl Area {
    /// Parses `54,32`, `54.3` or `54`.
    pub fn parse(text: &str) -> Result<Area, AreaError> {
        match crate::Kopecks::parse(text) {
            Ok(k) if !k.is_negative() => Ok(Area(k.0)),
            _ => Err(AreaError),
        }
    }

    /// Decimal with a point, for files: `54.32`.
    pub fn to_decimal_string(self) -> String {
        crate::Kopecks(self.0).to_decimal_string()
    }
}

/// Formats as `54,32 м²`.
impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\u{a0}м²", crate::Kopecks(self.0).to_plain_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(Area::parse("54,32"), Ok(Area(5432)));
        assert_eq!(Area::parse("54.3"), Ok(Area(5430)));
        assert_eq!(Area::parse("-1"), Err(AreaError));
        assert_eq!(Area(5432).to_string(), "54,32\u{a0}м²");
    }
}
