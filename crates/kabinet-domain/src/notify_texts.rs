//! The organization's own wording of its notifications: a text for an
//! event kind × channel × language that replaces the built-in one, with
//! `{placeholders}` for what each message tells (the account, the amount…).
//! A text is checked when saved — only the kind's placeholders, braces
//! that close, a length the channel carries — so a message never goes out
//! with a hole in it.

use crate::notify::{Channel, EventKind};
use crate::{Language, Text};

/// Which text: the kind of event, the channel, the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TextKey {
    /// The kind of event.
    pub kind: EventKind,
    /// The channel.
    pub channel: Channel,
    /// The reader's language.
    pub language: Language,
}

/// An organization's text: a subject (e-mail only) and the body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomText {
    /// The e-mail's subject (empty for SMS and MAX).
    pub subject: String,
    /// The message; for an e-mail, paragraphs split by a blank line.
    pub body: String,
}

/// The placeholders every text may use.
pub const COMMON: [&str; 2] = ["org", "url"];

/// The placeholders a text of `kind` may use, besides [`COMMON`].
pub fn placeholders(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::NewInvoice => &["account", "period", "amount", "date"],
        EventKind::PaymentImported => &["account", "amount", "date"],
        EventKind::CardPaid => &["amount", "accounts"],
        EventKind::Autopay => &["account", "amount", "date", "news"],
        EventKind::VerificationSoon | EventKind::VerificationExpired => {
            &["account", "meter", "resource", "date"]
        }
        EventKind::ReadingsOpen | EventKind::ReadingsClosing => &["account", "date"],
        EventKind::Announcement | EventKind::Emergency => &["title", "text"],
        EventKind::RequestUpdate => &["number", "news", "text", "category"],
        EventKind::RulesChanged | EventKind::ConsentChanged => &["title"],
    }
}

/// Whether `name` may be used in a text of `kind`.
pub fn allowed(kind: EventKind, name: &str) -> bool {
    COMMON.contains(&name) || placeholders(kind).contains(&name)
}

/// The longest body a channel carries: an e-mail's is long; an SMS is kept
/// to about seven Cyrillic parts; a MAX message to what the API takes.
pub const fn max_body(channel: Channel) -> usize {
    match channel {
        Channel::Email => 10_000,
        Channel::Sms => 450,
        Channel::Max => 4000,
    }
}

/// The longest subject of an e-mail.
pub const MAX_SUBJECT: usize = 200;

/// What is wrong with a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// Nothing but spaces.
    Empty,
    /// Longer than the channel carries.
    TooLong(usize),
    /// A `{` without its `}` (or a `}` alone), or a placeholder's name
    /// that is not a word.
    Braces,
    /// A placeholder this kind of message does not have.
    Unknown(String),
}

impl crate::Describe for TemplateError {
    fn text(&self) -> Text {
        match self {
            TemplateError::Empty => Text::new("error-notify-text-empty"),
            TemplateError::TooLong(n) => {
                Text::new("error-notify-text-long").with("max", i64::try_from(*n).unwrap_or(i64::MAX))
            }
            TemplateError::Braces => Text::new("error-notify-text-braces"),
            TemplateError::Unknown(name) => {
                Text::new("error-notify-text-placeholder").with("name", name.as_str())
            }
        }
    }
}

/// A text as pieces: words as written, and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Words(&'a str),
    Place(&'a str),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                out.push(Piece::Words(rest));
                break;
            }
            Some(i) => {
                if i > 0 {
                    out.push(Piece::Words(&rest[..i]));
                }
                if rest[i..].starts_with('}') {
                    return Err(TemplateError::Braces);
                }
                let after = &rest[i + 1..];
                let end = after.find('}').ok_or(TemplateError::Braces)?;
                let name = after[..end].trim();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    return Err(TemplateError::Braces);
                }
                out.push(Piece::Place(name));
                rest = &after[end + 1..];
            }
        }
    }
    Ok(out)
}

/// Checks a text of `kind` for `channel`: not empty, not too long (`max`
/// characters), braces that close, only the kind's placeholders.
pub fn check(template: &str, kind: EventKind, max: usize) -> Result<(), TemplateError> {
    if template.trim().is_empty() {
        return Err(TemplateError::Empty);
    }
    if template.chars().count() > max {
        return Err(TemplateError::TooLong(max));
    }
    for piece in pieces(template)? {
        if let Piece::Place(name) = piece
            && !allowed(kind, name)
        {
            return Err(TemplateError::Unknown(name.to_string()));
        }
    }
    Ok(())
}

/// The text with each placeholder replaced by its value in `values` (one
/// without a value is left empty; a text that does not parse is given as
/// written — [`check`] keeps such texts out).
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let Ok(pieces) = pieces(template) else {
        return template.to_string();
    };
    let mut out = String::with_capacity(template.len() + 64);
    for piece in pieces {
        match piece {
            Piece::Words(w) => out.push_str(w),
            Piece::Place(name) => {
                if let Some((_, v)) = values.iter().find(|(n, _)| *n == name) {
                    out.push_str(v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_checked_and_filled() {
        let k = EventKind::NewInvoice;
        assert_eq!(
            check("Счёт {account}: {amount} до { date }. {url}", k, 450),
            Ok(())
        );
        assert_eq!(
            check("{title}", k, 450),
            Err(TemplateError::Unknown("title".into()))
        );
        assert_eq!(check("Счёт {account", k, 450), Err(TemplateError::Braces));
        assert_eq!(check("Счёт account}", k, 450), Err(TemplateError::Braces));
        assert_eq!(check("{}", k, 450), Err(TemplateError::Braces));
        assert_eq!(check("{Account}", k, 450), Err(TemplateError::Braces));
        assert_eq!(check("   ", k, 450), Err(TemplateError::Empty));
        assert_eq!(check(&"я".repeat(451), k, 450), Err(TemplateError::TooLong(450)));
        assert_eq!(check("{title}", EventKind::Announcement, 450), Ok(()));
        let values = [
            ("account", "7100000001".to_string()),
            ("amount", "1 234,56 ₽".to_string()),
        ];
        assert_eq!(
            fill("Счёт {account}: {amount}{date}.", &values),
            "Счёт 7100000001: 1 234,56 ₽."
        );
        assert_eq!(fill("без мест", &values), "без мест");
    }

    #[test]
    fn every_kind_has_its_placeholders_and_the_common_ones() {
        for kind in EventKind::ALL {
            assert!(allowed(kind, "org") && allowed(kind, "url"));
            assert!(!placeholders(kind).is_empty(), "{kind:?}");
        }
    }
}
