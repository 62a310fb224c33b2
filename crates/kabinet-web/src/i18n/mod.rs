//! The request's language: chosen once — `?lang=`, the resident's setting,
//! the `kabinet_lang` cookie (set by `?lang=`), then `Accept-Language` — and
//! held for the request (see [`kabinet_i18n::scope`]). Texts, formats and
//! the Fluent files are in `kabinet-i18n`.

use kabinet_domain::Language;
pub(crate) use kabinet_i18n::Tr;

/// The cookie remembering a language chosen with `?lang=`.
pub(crate) const LANG_COOKIE: &str = "kabinet_lang";

/// Runs `f` with `lang` as the request's language.
pub(crate) async fn scope<F: Future>(lang: Language, f: F) -> F::Output {
    kabinet_i18n::scope(lang, f).await
}

/// The language of the request being handled (Russian outside one).
pub(crate) fn current() -> Language {
    kabinet_i18n::current()
}

/// The language asked for in a query string (`lang=en`).
pub(crate) fn from_query(query: Option<&str>) -> Option<Language> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Language::from_tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kabinet_domain::{Kopecks, Text};

    /// Every message id the Rust code names — `Text::new("…")`, the ids of
    /// the page and API errors, the statuses' and rates' messages — read
    /// from the sources of every crate.
    fn ids_in_code() -> Vec<String> {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        let mut dirs = vec![crates];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() && p.file_name().is_some_and(|n| n != "target" && n != "tests") {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        let mut ids = Vec::new();
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap_or_default();
            for marker in [
                "Text::new(\"",
                "NotFound(\"",
                "BadRequest(\"",
                "Forbidden(\"",
                "=> \"",
                "message: \"",
                ": &str = \"",
                "_REQUEST, \"",
            ] {
                for (at, _) in src.match_indices(marker) {
                    let rest = &src[at + marker.len()..];
                    let id: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                        .collect();
                    let is_id = rest[id.len()..].starts_with('"')
                        && (id.starts_with("error-") || id.starts_with("http-") || id.starts_with("api-"));
                    if is_id && !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
        ids
    }

    #[test]
    fn every_message_the_code_names_is_translated() {
        let ids = ids_in_code();
        assert!(ids.len() > 100, "found only {} ids", ids.len());
        for lang in [Language::Ru, Language::En] {
            let tr = Tr { lang };
            for id in &ids {
                assert!(tr.has(id), "{id} is missing in {}.ftl", lang.code());
                let id: &'static str = Box::leak(id.clone().into_boxed_str());
                let text = tr.text(
                    &Text::new(id)
                        .with("name", "x")
                        .with("n", 3i64)
                        .with("max", Kopecks(100))
                        .with("account", "1")
                        .with("reason", "r"),
                );
                assert!(
                    !text.trim().is_empty() && text != *id,
                    "{id} is empty in {}",
                    lang.code()
                );
                assert!(
                    !text.contains('{'),
                    "{id}: an argument is not filled in {}: {text}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn every_error_and_value_message_renders_in_both_languages() {
        use kabinet_app::Error;
        use kabinet_domain::Describe;
        let errors = [
            Error::Invalid(kabinet_app::FieldErrors::default()),
            Error::InvalidCredentials,
            Error::Blocked,
            Error::OneTimePasswordExpired,
            Error::StaffPasswordExpired,
            Error::InvalidResetToken,
            Error::StaleRules,
            Error::StaleConsent,
            Error::PasswordNotSet,
            // `Error::Readings` carries a whole meters view; its one id
            // (`error-readings`) is checked with every id in the sources.
            Error::NotFound,
            Error::PaymentRefused,
            Error::RefundRefused,
            Error::GatewayUnavailable,
            Error::CardPaymentsOff,
            Error::TooManyPayments,
            Error::InvalidCode,
            Error::TooManyRequests(Text::new("error-requests-too-fast")),
            Error::Busy,
            Error::Photo(Text::new("error-photo-type").with("name", "a.gif")),
            Error::Conflict(Text::new("error-request-closed")),
            Error::Forbidden,
            Error::Internal("x".into()),
        ];
        let mut texts: Vec<Text> = errors.iter().map(Error::text).collect();
        texts.extend(
            [
                kabinet_domain::AccountNumber::parse("").err().map(|e| e.text()),
                kabinet_domain::AccountNumber::parse("a*b")
                    .err()
                    .map(|e| e.text()),
                kabinet_domain::EmailAddress::parse("x").err().map(|e| e.text()),
                kabinet_domain::Kopecks::parse("abc").err().map(|e| e.text()),
                kabinet_domain::Passport::parse("12").err().map(|e| e.text()),
                kabinet_domain::Period::parse("2026-13").err().map(|e| e.text()),
                kabinet_domain::Phone::parse("1").err().map(|e| e.text()),
                kabinet_domain::NewPassword::parse("short", &[])
                    .err()
                    .map(|e| e.text()),
                Some(kabinet_domain::ReadingError::TooManyDigits(5).text()),
                Some(kabinet_domain::ReadingError::TooManyDecimals(3).text()),
                Some(kabinet_domain::ReadingError::Invalid.text()),
            ]
            .into_iter()
            .map(|t| t.unwrap_or_else(|| panic!("a value was accepted"))),
        );
        for lang in [Language::Ru, Language::En] {
            let tr = Tr { lang };
            for t in &texts {
                let s = tr.text(t);
                assert!(
                    tr.has(t.id()) && !s.trim().is_empty(),
                    "{} in {}",
                    t.id(),
                    lang.code()
                );
                assert!(!s.contains('{'), "{}: {s}", t.id());
                let cyrillic = s
                    .chars()
                    .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)));
                assert_eq!(cyrillic, lang == Language::Ru, "{}: {s}", t.id());
            }
        }
        // The office names every audited event and every package state and
        // problem in both languages (their ids are built from the names).
        let mut built: Vec<String> = kabinet_domain::AuditEvent::ALL
            .iter()
            .map(|e| format!("audit-event-{}", e.as_str().replace('_', "-")))
            .collect();
        built.extend(
            kabinet_domain::imports::ImportState::ALL
                .iter()
                .map(|s| format!("import-state-{}", s.as_str())),
        );
        built.extend(
            ["unknown-file", "repeated", "broken-archive", "too-large", "empty"]
                .iter()
                .map(|p| format!("import-problem-{p}")),
        );
        for lang in [Language::Ru, Language::En] {
            let tr = Tr { lang };
            for id in &built {
                assert!(tr.has(id), "{id} in {}", lang.code());
            }
        }
        let en = Tr { lang: Language::En };
        assert_eq!(
            en.text(&kabinet_domain::ReadingError::TooManyDigits(5).text()),
            "The reading does not fit the meter: at most 5 digits before the decimal point"
        );
        assert_eq!(
            en.text(
                &Text::new("error-pay-share-too-large")
                    .with("account", "1001")
                    .with("max", Kopecks(1_500_000))
            ),
            "Account 1001: the amount is at most ₽15,000.00"
        );
    }
}
