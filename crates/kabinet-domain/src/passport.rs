//! Russian internal passport series and number, used only to check who
//! registers (R1). Kabinet keeps a keyed hash of it, never the number.

/// A passport's series (4 digits) and number (6 digits), normalised to ten
/// digits. Its `Debug` output hides the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Passport(String);

/// Why a text is not a passport series and number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    /// Nothing was given.
    #[error("укажите серию и номер паспорта")]
    Empty,
    /// Not 4 + 6 digits.
    #[error("серия и номер паспорта — это 10 цифр, например 28 15 123456")]
    Invalid,
}

impl Passport {
    /// Accepts `2815 123456`, `28 15 123456`, `2815123456`, `28-15 №123456`.
    pub fn parse(text: &str) -> Result<Passport, PassportError> {
        if text.trim().is_empty() {
            return Err(PassportError::Empty);
        }
        let mut digits = String::with_capacity(10);
        for c in text.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\u{a0}' | '-' | '№' | '\t' => {}
                _ => return Err(PassportError::Invalid),
            }
        }
        if digits.len() != 10 {
            return Err(PassportError::Invalid);
        }
        Ok(Passport(digits))
    }

    /// The ten digits, for hashing.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Passport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passport(**********)")
    }
}

impl crate::Describe for PassportError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            PassportError::Empty => Text::new("error-passport-empty"),
            PassportError::Invalid => Text::new("error-passport-invalid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_common_spellings() {
        for s in ["2815 123456", "28 15 123456", "2815123456", "28-15 №123456"] {
            assert_eq!(Passport::parse(s).unwrap().digits(), "2815123456", "{s}");
        }
        assert_eq!(Passport::parse(""), Err(PassportError::Empty));
        assert_eq!(Passport::parse("2815 12345"), Err(PassportError::Invalid));
        assert_eq!(Passport::parse("28AB 123456"), Err(PassportError::Invalid));
        assert!(!format!("{:?}", Passport::parse("2815123456").unwrap()).contains('1'));
    }
}
