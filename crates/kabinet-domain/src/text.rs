//! What is said to a person, as a message id with typed arguments — never a
//! sentence. The web layer renders it through the Fluent files
//! (`crates/kabinet-web/locales/<lang>.ftl`) in the reader's language; a use
//! case or a domain rule only chooses the id and fills the arguments.

use serde::Serialize;

/// A message id and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    id: &'static str,
    args: Vec<(&'static str, Arg)>,
}

/// One argument of a [`Text`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// A string (a name, a number already formatted).
    Str(String),
    /// A number (chooses plural forms).
    Num(i64),
    /// An amount, written in the reader's money format.
    Money(crate::Kopecks),
}

impl From<crate::Kopecks> for Arg {
    fn from(k: crate::Kopecks) -> Arg {
        Arg::Money(k)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Str(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Str(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Num(n)
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Num(i64::from(n))
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl Text {
    /// The message `id` without arguments.
    pub const fn new(id: &'static str) -> Text {
        Text { id, args: Vec::new() }
    }

    /// Adds the argument `$name`.
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Text {
        self.args.push((name, value.into()));
        self
    }

    /// The message id.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The arguments, in the order given.
    pub fn args(&self) -> &[(&'static str, Arg)] {
        &self.args
    }
}

/// Something that can tell a person what it means, in any language.
pub trait Describe {
    /// The message.
    fn text(&self) -> Text;
}

impl<T: Describe> From<T> for Text {
    fn from(e: T) -> Text {
        e.text()
    }
}
