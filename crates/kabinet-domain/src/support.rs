//! Residents' support (S6): what a staff member's search for a resident
//! means. A search is a prefix of one field — the account number, the
//! e-mail, the phone or the building address as billing writes it — so it
//! is answered from an index at a million accounts.

/// The field a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    /// The personal account's number.
    Account,
    /// The resident's e-mail.
    Email,
    /// The resident's phone from their settings (`+7…`).
    Phone,
    /// The building's address (`г. Тверь, ул. Советская, д. 12`).
    Address,
}

impl SearchField {
    /// Every field, in the form's order.
    pub const ALL: [SearchField; 4] = [
        SearchField::Account,
        SearchField::Email,
        SearchField::Phone,
        SearchField::Address,
    ];

    /// The form's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            SearchField::Account => "account",
            SearchField::Email => "email",
            SearchField::Phone => "phone",
            SearchField::Address => "address",
        }
    }

    /// Reads the form's value.
    pub fn from_code(s: &str) -> Option<SearchField> {
        SearchField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The field a text most likely means: an `@` is an e-mail, `+` or eleven
    /// digits beginning with 7 or 8 a phone, a text with a letter other than
    /// an account number's an address, anything else an account number.
    pub fn guess(text: &str) -> SearchField {
        let t = text.trim();
        let digits = t.chars().filter(char::is_ascii_digit).count();
        let phone_like = t.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if t.contains('@') {
            SearchField::Email
        } else if phone_like && (t.starts_with('+') || (digits == 11 && t.starts_with(['7', '8']))) {
            SearchField::Phone
        } else if t.chars().any(|c| c.is_whitespace() || c == ',') && t.chars().any(char::is_alphabetic) {
            SearchField::Address
        } else {
            SearchField::Account
        }
    }
}

/// The fewest characters a search takes (fewer would list a whole city).
pub const MIN_PREFIX: usize = 3;
/// The longest search text.
pub const MAX_PREFIX: usize = 200;
/// The most results one search shows; more mean "narrow it down".
pub const MAX_RESULTS: u64 = 50;

/// Why a search was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// Shorter than [`MIN_PREFIX`] once normalised.
    #[error("too short")]
    TooShort,
    /// Longer than [`MAX_PREFIX`] or holding control characters.
    #[error("invalid")]
    Invalid,
}

impl crate::Describe for SearchError {
    fn text(&self) -> crate::Text {
        crate::Text::new(match self {
            SearchError::TooShort => "error-search-too-short",
            SearchError::Invalid => "error-search-invalid",
        })
        .with("n", MIN_PREFIX)
    }
}

/// A search ready for the database: the field and the stored form's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Where to look.
    pub field: SearchField,
    /// The start of the stored value.
    pub prefix: String,
}

impl Search {
    /// Normalises what was typed into the stored form's prefix: an account
    /// number without its group spaces; an e-mail trimmed (the domain part
    /// lowercased, as it is stored); a phone as `+7` and its digits, a
    /// leading 8 or 7 read as the country's code (an 8 only before a 9 or in
    /// a whole number, so `812…` stays a city code); an address trimmed.
    pub fn parse(field: SearchField, text: &str) -> Result<Search, SearchError> {
        let t = text.trim();
        if t.chars().count() > MAX_PREFIX || t.chars().any(char::is_control) {
            return Err(SearchError::Invalid);
        }
        let prefix = match field {
            SearchField::Account => t.chars().filter(|c| !c.is_whitespace()).collect(),
            SearchField::Email => match t.rsplit_once('@') {
                Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
                None => t.to_string(),
            },
            SearchField::Phone => {
                if t.chars().any(|c| !(c.is_ascii_digit() || " +-()".contains(c))) {
                    return Err(SearchError::Invalid);
                }
                let digits: String = t.chars().filter(char::is_ascii_digit).collect();
                let national = if t.starts_with('+') || digits.starts_with('7') {
                    digits.strip_prefix('7').unwrap_or(&digits)
                } else if digits.starts_with('8') && (digits.len() == 11 || digits[1..].starts_with('9')) {
                    &digits[1..]
                } else {
                    &digits
                };
                if national.is_empty() {
                    return Err(SearchError::TooShort);
                }
                format!("+7{national}")
            }
            SearchField::Address => t.to_string(),
        };
        let needed = if field == SearchField::Phone {
            MIN_PREFIX + 2
        } else {
            MIN_PREFIX
        };
        if prefix.chars().count() < needed {
            return Err(SearchError::TooShort);
        }
        Ok(Search { field, prefix })
    }

    /// The first string past every one that starts with the prefix, in
    /// byte order: the search is `prefix <= value < upper`.
    pub fn upper(&self) -> String {
        format!("{}{}", self.prefix, char::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_read_as_the_stored_form_s_start() {
        let s = |f, t| Search::parse(f, t).map(|s| s.prefix);
        assert_eq!(s(SearchField::Account, " 10 00 12 "), Ok("100012".into()));
        assert_eq!(s(SearchField::Email, "Ivan@Mail.RU"), Ok("Ivan@mail.ru".into()));
        assert_eq!(s(SearchField::Email, "ivan.p"), Ok("ivan.p".into()));
        assert_eq!(s(SearchField::Phone, "8 912 345"), Ok("+7912345".into()));
        assert_eq!(s(SearchField::Phone, "+7 (912) 3"), Ok("+79123".into()));
        assert_eq!(s(SearchField::Phone, "9123"), Ok("+79123".into()));
        assert_eq!(s(SearchField::Phone, "8123"), Ok("+78123".into()));
        assert_eq!(s(SearchField::Phone, "89123456789"), Ok("+79123456789".into()));
        assert_eq!(s(SearchField::Phone, "912a"), Err(SearchError::Invalid));
        assert_eq!(s(SearchField::Phone, "+7 9"), Err(SearchError::TooShort));
        assert_eq!(s(SearchField::Account, "1 0"), Err(SearchError::TooShort));
        assert_eq!(s(SearchField::Address, "г. Тверь"), Ok("г. Тверь".into()));
        assert_eq!(s(SearchField::Address, "a\u{7}bc"), Err(SearchError::Invalid));
        let long = "д".repeat(MAX_PREFIX + 1);
        assert_eq!(s(SearchField::Address, &long), Err(SearchError::Invalid));
        let search = Search::parse(SearchField::Account, "123").unwrap();
        assert!("1234" < search.upper().as_str() && "124" > search.upper().as_str());
    }

    #[test]
    fn the_field_is_guessed_from_what_was_typed() {
        assert_eq!(SearchField::guess("ivan@"), SearchField::Email);
        assert_eq!(SearchField::guess("+7 912"), SearchField::Phone);
        assert_eq!(SearchField::guess("8 912 345-67-89"), SearchField::Phone);
        assert_eq!(SearchField::guess("1000012"), SearchField::Account);
        assert_eq!(SearchField::guess("ЛС-1001"), SearchField::Account);
        assert_eq!(SearchField::guess("г. Тверь, ул"), SearchField::Address);
    }
}
