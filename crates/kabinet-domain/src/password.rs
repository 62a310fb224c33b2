//! The password rules residents' own passwords must meet (NIST SP 800-63B,
//! OWASP ASVS 2.1): 8 to 128 characters, no composition rules, and not one of
//! the 10 000 most common passwords nor the account's own number or e-mail.

use std::fmt;

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 8;
/// Longest accepted password, in characters.
pub const MAX_LEN: usize = 128;
/// Passwords ranked this high or higher in the common-password list are refused.
pub const COMMON_RANK_LIMIT: usize = 10_000;

/// A password a resident chose that meets the rules. Its text never appears in
/// `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

/// Why a chosen password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("пароль должен содержать не меньше 8 символов")]
    TooShort,
    /// More than [`MAX_LEN`] characters.
    #[error("пароль должен содержать не больше 128 символов")]
    TooLong,
    /// One of the most common passwords.
    #[error("этот пароль слишком распространён, его легко подобрать — выберите другой")]
    Common,
    /// The account number, the e-mail or a simple variation of them.
    #[error("пароль не должен совпадать с номером лицевого счёта или адресом электронной почты")]
    Personal,
    /// The two entries differ.
    #[error("пароли не совпадают")]
    Mismatch,
}

impl NewPassword {
    /// Checks a chosen password; `personal` holds what must not be the password
    /// (the account number, the e-mail).
    pub fn parse(text: &str, personal: &[&str]) -> Result<NewPassword, PasswordError> {
        let len = text.chars().count();
        if len < MIN_LEN {
            return Err(PasswordError::TooShort);
        }
        if len > MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        let lower = text.to_lowercase();
        if personal
            .iter()
            .filter(|p| !p.is_empty())
            .any(|p| lower == p.to_lowercase() || lower.contains(&p.to_lowercase()))
        {
            return Err(PasswordError::Personal);
        }
        if is_common(text) {
            return Err(PasswordError::Common);
        }
        Ok(NewPassword(text.to_string()))
    }

    /// Checks a password and its confirmation.
    pub fn parse_confirmed(text: &str, again: &str, personal: &[&str]) -> Result<NewPassword, PasswordError> {
        let p = NewPassword::parse(text, personal)?;
        if text != again {
            return Err(PasswordError::Mismatch);
        }
        Ok(p)
    }

    /// The text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// True when the whole password is one of the [`COMMON_RANK_LIMIT`] most common
/// passwords (in any letter case, also with digits for letters such as `p@ssw0rd`,
/// or reversed), using the ranked list that ships with zxcvbn.
pub fn is_common(text: &str) -> bool {
    // zxcvbn's matching is quadratic in length; nothing in its list is this long.
    if text.chars().count() > 40 {
        return false;
    }
    let entropy = zxcvbn::zxcvbn(text, &[]);
    let seq = entropy.sequence();
    let chars = text.chars().count();
    seq.len() == 1
        && seq[0].i == 0
        && seq[0].j + 1 == chars
        && matches!(
            &seq[0].pattern,
            zxcvbn::matching::patterns::MatchPattern::Dictionary(d)
                // The password list is the default dictionary type (the type
                // itself is not exported by zxcvbn).
                if d.dictionary_name == Default::default() && d.rank <= COMMON_RANK_LIMIT
        )
}

impl crate::Describe for PasswordError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            PasswordError::TooShort => Text::new("error-password-too-short"),
            PasswordError::TooLong => Text::new("error-password-too-long"),
            PasswordError::Common => Text::new("error-password-common"),
            PasswordError::Personal => Text::new("error-password-personal"),
            PasswordError::Mismatch => Text::new("error-password-mismatch"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_count_characters() {
        assert_eq!(NewPassword::parse("кот-пёс", &[]), Err(PasswordError::TooShort));
        assert!(NewPassword::parse("кот-пёс!", &[]).is_ok());
        assert!(NewPassword::parse(&"ж".repeat(128), &[]).is_ok());
        assert_eq!(
            NewPassword::parse(&"ж".repeat(129), &[]),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn common_passwords_are_refused() {
        for p in [
            "password",
            "PASSWORD",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "P@ssw0rd",
            "1q2w3e4r5t",
        ] {
            assert_eq!(NewPassword::parse(p, &[]), Err(PasswordError::Common), "{p}");
        }
        for p in [
            "зелёный трамвай 42",
            "correct horse battery",
            "Tver-Sever-2026!",
            "kq8#Lm2pZx",
        ] {
            assert!(NewPassword::parse(p, &[]).is_ok(), "{p}");
        }
    }

    #[test]
    fn personal_data_is_refused_and_confirmation_checked() {
        assert_eq!(
            NewPassword::parse("ls100200300", &["100200300"]),
            Err(PasswordError::Personal)
        );
        assert_eq!(
            NewPassword::parse_confirmed("зелёный трамвай", "зелёный трамвай!", &[]),
            Err(PasswordError::Mismatch)
        );
        assert_eq!(
            format!("{:?}", NewPassword::parse("зелёный трамвай", &[]).unwrap()),
            "NewPassword(***)"
        );
    }
}
