//! E-mail addresses as residents type them.

use std::fmt;

/// A plausible e-mail address: one `@`, a non-empty local part, a domain with a
/// dot, no spaces or control characters, at most 254 characters. The domain is
/// lower-cased; whether the mailbox exists is learnt by sending to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why a text is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was given.
    #[error("укажите адрес электронной почты")]
    Empty,
    /// Not of the form `name@example.ru`.
    #[error("адрес электронной почты указан неверно, например: ivanov@example.ru")]
    Invalid,
}

impl EmailAddress {
    /// Longest accepted address (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Trims and checks an address.
    pub fn parse(text: &str) -> Result<EmailAddress, EmailError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > Self::MAX_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Invalid);
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(EmailError::Invalid);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '"', '\\']);
        if !domain_ok || !local_ok {
            return Err(EmailError::Invalid);
        }
        Ok(EmailAddress(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with most of the local part hidden (`iv***@example.ru`), for
    /// pages that confirm where a message went.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let shown: String = local.chars().take(2).collect();
        format!("{shown}***@{domain}")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl crate::Describe for EmailError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            EmailError::Empty => Text::new("error-email-empty"),
            EmailError::Invalid => Text::new("error-email-invalid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        let e = EmailAddress::parse("  Ivan.Petrov+ls@Example.RU ").unwrap();
        assert_eq!(e.as_str(), "Ivan.Petrov+ls@example.ru");
        assert_eq!(e.masked(), "Iv***@example.ru");
        assert!(EmailAddress::parse("почта@пример.рф").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        assert_eq!(EmailAddress::parse(" "), Err(EmailError::Empty));
        for bad in [
            "ivan",
            "ivan@",
            "@example.ru",
            "ivan@example",
            "iv an@example.ru",
            "a@b..ru",
            "a<b>@x.ru",
            "a@x.ru\r\nBcc: y@z.ru",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
    }
}
