//! Personal account numbers and the ГИС ЖКХ identifiers.

use std::fmt;

/// A personal account number (лицевой счёт) as the Organization assigns it.
/// Opaque, but normalised: surrounding and inner spaces are removed and letters
/// upper-cased, so `" 12 345-а "` and `"12345-А"` are the same account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AccountNumber(String);

/// Why a text is not a personal account number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountNumberError {
    /// Nothing was given.
    #[error("укажите номер лицевого счёта")]
    Empty,
    /// Longer than 32 characters.
    #[error("номер лицевого счёта слишком длинный")]
    TooLong,
    /// Something other than Latin or Cyrillic letters, digits, `-`, `/`,
    /// `_`, `.` and spaces.
    #[error("номер лицевого счёта может содержать только буквы, цифры и знаки - / _ .")]
    InvalidCharacter,
}

impl AccountNumber {
    /// Longest accepted number, in characters.
    pub const MAX_LEN: usize = 32;

    /// What [`AccountNumber::parse`] accepts, as a regular expression (the
    /// API's schema states it): 1 to 32 Latin or Cyrillic letters, digits or
    /// `- / _ .`, with spaces (also no-break and narrow no-break ones, as a
    /// number copied from a receipt has) and tabs anywhere.
    pub const PATTERN: &str =
        "^[ \\t\\u00a0\\u202f]*([0-9A-Za-z\\u0410-\\u044f\\u0401\\u0451/_.-][ \\t\\u00a0\\u202f]*){1,32}$";

    /// Whether `c` only separates groups of a number (dropped).
    fn is_separator(c: char) -> bool {
        matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}')
    }

    /// Whether `c` may be part of a number: Latin or Cyrillic letters,
    /// digits, `- / _ .`.
    fn is_allowed(c: char) -> bool {
        c.is_ascii_alphanumeric()
            || ('А'..='я').contains(&c)
            || matches!(c, 'Ё' | 'ё' | '-' | '/' | '_' | '.')
    }

    /// Normalises and checks a number typed by a person or read from a file.
    pub fn parse(text: &str) -> Result<AccountNumber, AccountNumberError> {
        let kept: Vec<char> = text.chars().filter(|c| !Self::is_separator(*c)).collect();
        if kept.is_empty() {
            return Err(AccountNumberError::Empty);
        }
        if kept.len() > Self::MAX_LEN {
            return Err(AccountNumberError::TooLong);
        }
        if !kept.iter().all(|c| Self::is_allowed(*c)) {
            return Err(AccountNumberError::InvalidCharacter);
        }
        Ok(AccountNumber(
            kept.into_iter().flat_map(char::to_uppercase).collect(),
        ))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AccountNumber {
    type Err = AccountNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountNumber::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for AccountNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AccountNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// ЕЛС: the single personal account id in ГИС ЖКХ, 10 Latin letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Els(String);

/// ИЖКУ: ЕЛС + `-` + two digits (e.g. `75DA533315-01`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Izhku(String);

/// A ЕЛС or ИЖКУ that is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("идентификатор ГИС ЖКХ указан неверно")]
pub struct GisIdError;

impl Els {
    /// Checks and upper-cases a ЕЛС.
    pub fn parse(text: &str) -> Result<Els, GisIdError> {
        let s = text.trim().to_ascii_uppercase();
        if s.len() == 10 && s.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Els(s))
        } else {
            Err(GisIdError)
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Izhku {
    /// Checks and upper-cases an ИЖКУ.
    pub fn parse(text: &str) -> Result<Izhku, GisIdError> {
        let s = text.trim().to_ascii_uppercase();
        match s.split_once('-') {
            Some((els, n))
                if Els::parse(els).is_ok() && n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()) =>
            {
                Ok(Izhku(s))
            }
            _ => Err(GisIdError),
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The ЕЛС part.
    pub fn els(&self) -> Els {
        Els(self.0[..10].to_string())
    }
}

impl crate::Describe for AccountNumberError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            AccountNumberError::Empty => Text::new("error-account-empty"),
            AccountNumberError::TooLong => Text::new("error-account-too-long"),
            AccountNumberError::InvalidCharacter => Text::new("error-account-characters"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_account_numbers() {
        let a = AccountNumber::parse(" 12 345-а ").unwrap();
        assert_eq!(a.as_str(), "12345-А");
        assert_eq!(a, AccountNumber::parse("12345-А").unwrap());
        assert_eq!(AccountNumber::parse("   "), Err(AccountNumberError::Empty));
        assert_eq!(
            AccountNumber::parse("12;DROP"),
            Err(AccountNumberError::InvalidCharacter)
        );
        assert_eq!(
            AccountNumber::parse(&"1".repeat(33)),
            Err(AccountNumberError::TooLong)
        );
        assert_eq!(AccountNumber::parse("12\u{a0}345").unwrap().as_str(), "12345");
        assert_eq!(
            AccountNumber::parse("Ω12"),
            Err(AccountNumberError::InvalidCharacter)
        );
    }

    proptest::proptest! {
        /// The pattern the API publishes says exactly what the parser takes.
        #[test]
        fn the_pattern_is_the_parser(s in "[ \t\u{a0}\u{202f}\n0-9aZяЁёΩſß/_.;-]{0,40}") {
            let re = regex::Regex::new(AccountNumber::PATTERN).unwrap();
            proptest::prop_assert_eq!(AccountNumber::parse(&s).is_ok(), re.is_match(&s), "{:?}", s);
        }
    }

    #[test]
    fn gis_identifiers() {
        let i = Izhku::parse("75da533315-01").unwrap();
        assert_eq!(i.as_str(), "75DA533315-01");
        assert_eq!(i.els().as_str(), "75DA533315");
        assert!(Izhku::parse("75da533315-1").is_err());
        assert!(Els::parse("75da53331").is_err());
        assert!(Els::parse("75дa533315").is_err());
    }
}

/// How an account came to be among a resident's: what "my data" says of
/// each linked account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedBy {
    /// The account the resident registered and signs in with.
    Registration,
    /// Added by the resident with the account's details from the receipt.
    Details,
    /// The resident who signs in with the account approved their request.
    Owner,
}

impl LinkedBy {
    /// Every way.
    pub const ALL: [LinkedBy; 3] = [LinkedBy::Registration, LinkedBy::Details, LinkedBy::Owner];

    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkedBy::Registration => "registration",
            LinkedBy::Details => "details",
            LinkedBy::Owner => "owner",
        }
    }

    /// Reads the stored form.
    pub fn from_stored(s: &str) -> Option<LinkedBy> {
        LinkedBy::ALL.into_iter().find(|l| l.as_str() == s)
    }
}
