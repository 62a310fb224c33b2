//! Mistakes in a submitted form, by field: the one type every use case that
//! takes input from a person reports with, whatever the feature. Field names
//! are the form's and the API's (`account`, `email`, `password_again`);
//! messages are [`Text`]s (an id and arguments) that the web layer renders in
//! the reader's language next to the field.

use kabinet_domain::Text;
use serde::Serialize;

/// Errors in a submitted form, by field, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(Vec<(&'static str, Text)>);

impl FieldErrors {
    /// One error.
    pub fn single(field: &'static str, message: impl Into<Text>) -> FieldErrors {
        FieldErrors(vec![(field, message.into())])
    }

    /// Adds an error to `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<Text>) {
        self.0.push((field, message.into()));
    }

    /// The first message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&Text> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m)
    }

    /// No errors at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (field, message), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Text)> {
        self.0.iter().map(|(f, m)| (*f, m))
    }

    /// `Err` with these errors when there are any.
    pub fn check(self) -> Result<(), crate::Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_message_per_field() {
        let mut e = FieldErrors::default();
        assert!(e.clone().check().is_ok());
        e.add("email", kabinet_domain::EmailError::Invalid);
        e.add("email", Text::new("second"));
        e.add("account", Text::new("error-account-empty"));
        assert_eq!(e.get("email").map(Text::id), Some("error-email-invalid"));
        assert_eq!(e.get("password"), None);
        assert_eq!(e.iter().count(), 3);
        assert!(matches!(e.check(), Err(crate::Error::Invalid(_))));
    }
}
