//! How readings read in a language (the texts live with the languages, as
//! the MAX bot writes them too).

pub(crate) use kabinet_i18n::readings::{issue_text, resource_name, unit, value_text};
