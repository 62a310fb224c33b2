//! Kabinet's languages (Russian, the default, and English) in one place for
//! pages, e-mails and the command line: the Fluent files (`locales/<lang>.ftl`,
//! with each language's plural rules) holding every text a person reads —
//! page texts, the messages use cases and rules return as [`Text`], e-mails —
//! and money, dates and months in each language's format.
//!
//! A web request's language is held in a task-local ([`scope`]), so error
//! pages and problem documents made deep inside use it too ([`Tr::current`]).

pub mod readings;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use kabinet_domain::text::Arg;
use kabinet_domain::{Kopecks, Language, Period, Text};
use std::sync::LazyLock;

tokio::task_local! {
    static LANG: Language;
}

/// Runs `f` with `lang` as the language of what it renders.
pub async fn scope<F: Future>(lang: Language, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// The language of the request being handled (Russian outside one).
pub fn current() -> Language {
    LANG.try_with(|l| *l).unwrap_or_default()
}

fn bundle(lang: Language, source: &str) -> FluentBundle<FluentResource> {
    let id = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    match FluentResource::try_new(source.to_string()) {
        Ok(res) => {
            if let Err(errors) = b.add_resource(res) {
                tracing::error!(
                    ?errors,
                    lang = lang.code(),
                    "duplicate messages in the translations"
                );
            }
        }
        Err((res, errors)) => {
            tracing::error!(?errors, lang = lang.code(), "syntax errors in the translations");
            let _ = b.add_resource(res);
        }
    }
    b
}

static RU: LazyLock<FluentBundle<FluentResource>> =
    LazyLock::new(|| bundle(Language::Ru, include_str!("../locales/ru.ftl")));
static EN: LazyLock<FluentBundle<FluentResource>> =
    LazyLock::new(|| bundle(Language::En, include_str!("../locales/en.ftl")));

/// Texts and formats of one language, for templates (`{{ tr.t("nav-overview") }}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// The language.
    pub lang: Language,
}

impl Tr {
    /// The request's language.
    pub fn current() -> Tr {
        Tr { lang: current() }
    }

    fn bundle(&self) -> &'static FluentBundle<FluentResource> {
        match self.lang {
            Language::Ru => &RU,
            Language::En => &EN,
        }
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let b = self.bundle();
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(id, lang = self.lang.code(), "no translation");
            return id.to_string();
        };
        let mut errors = vec![];
        b.format_pattern(pattern, args, &mut errors).into_owned()
    }

    /// The text `id`.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The text `id` with `$name` = `value`.
    pub fn a(&self, id: &str, name: &str, value: &str) -> String {
        self.args(id, &[(name, value)])
    }

    /// The text `id` with named values.
    pub fn args(&self, id: &str, pairs: &[(&str, &str)]) -> String {
        let mut args = FluentArgs::new();
        for (n, v) in pairs {
            args.set(n.to_string(), FluentValue::from(v.to_string()));
        }
        self.format(id, Some(&args))
    }

    /// The text `id` with two named values.
    pub fn a2(&self, id: &str, first: (&str, &str), second: (&str, &str)) -> String {
        self.args(id, &[first, second])
    }

    /// The text `id` with `$n` = `n` (plural forms).
    pub fn n(&self, id: &str, n: i64) -> String {
        let mut args = FluentArgs::new();
        args.set("n", FluentValue::from(n));
        self.format(id, Some(&args))
    }

    /// A message of a use case, the domain or the HTTP layer, with its
    /// arguments (amounts in this language's money format).
    pub fn text(&self, t: &Text) -> String {
        if t.args().is_empty() {
            return self.format(t.id(), None);
        }
        let mut args = FluentArgs::new();
        for (name, value) in t.args() {
            let v = match value {
                Arg::Str(s) => FluentValue::from(s.clone()),
                Arg::Num(n) => FluentValue::from(*n),
                Arg::Money(k) => FluentValue::from(self.money(*k)),
            };
            args.set(*name, v);
        }
        self.format(t.id(), Some(&args))
    }

    /// Whether the message `id` exists in this language.
    pub fn has(&self, id: &str) -> bool {
        self.bundle().get_message(id).and_then(|m| m.value()).is_some()
    }

    /// `1 234,56 ₽` (Russian) or `₽1,234.56` (English).
    pub fn money(&self, k: Kopecks) -> String {
        match self.lang {
            Language::Ru => k.to_string(),
            Language::En => {
                let plain = k.to_decimal_string();
                let (sign, digits) = plain.strip_prefix('-').map_or(("", plain.as_str()), |d| ("-", d));
                let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
                format!("{sign}₽{}.{frac}", group(int, ','))
            }
        }
    }

    /// `октябрь 2026` or `October 2026`.
    pub fn month(&self, p: Period) -> String {
        format!("{} {}", self.t(&format!("month-{}", p.month())), p.year())
    }

    /// `15.11.2026` or `15 Nov 2026`.
    pub fn date(&self, d: time::Date) -> String {
        match self.lang {
            Language::Ru => format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year()),
            Language::En => {
                let m = self.t(&format!("month-short-{}", u8::from(d.month())));
                format!("{} {m} {}", d.day(), d.year())
            }
        }
    }

    /// Date and time in the organization's zone: `15.11.2026 14:05`.
    pub fn date_time(&self, t: time::OffsetDateTime) -> String {
        format!("{} {:02}:{:02}", self.date(t.date()), t.hour(), t.minute())
    }

    /// The language's tag for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// `1234567` → `1,234,567` with `sep`.
fn group(int: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_in_both_languages() {
        let ids = |src: &str| -> Vec<String> {
            src.lines()
                .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
                .filter_map(|l| l.split(" =").next().map(|s| s.trim().to_string()))
                .collect()
        };
        let ru = ids(include_str!("../locales/ru.ftl"));
        let en = ids(include_str!("../locales/en.ftl"));
        assert!(ru.len() > 100);
        for list in [&ru, &en] {
            let mut seen = std::collections::HashSet::new();
            let twice: Vec<_> = list.iter().filter(|i| !seen.insert(i.as_str())).collect();
            assert!(
                twice.is_empty(),
                "ids given twice (the second is ignored): {twice:?}"
            );
        }
        let missing: Vec<_> = ru.iter().filter(|i| !en.contains(i)).collect();
        assert!(missing.is_empty(), "missing in en.ftl: {missing:?}");
        let extra: Vec<_> = en.iter().filter(|i| !ru.contains(i)).collect();
        assert!(extra.is_empty(), "missing in ru.ftl: {extra:?}");
        for id in &ru {
            assert!(RU.has_message(id) && EN.has_message(id), "{id} does not parse");
        }
    }

    #[test]
    fn russian_plurals_and_formats() {
        let ru = Tr { lang: Language::Ru };
        let en = Tr { lang: Language::En };
        assert_eq!(ru.n("payments-count", 1), "1 платёж");
        assert_eq!(ru.n("payments-count", 3), "3 платежа");
        assert_eq!(ru.n("payments-count", 11), "11 платежей");
        assert_eq!(ru.n("payments-count", 21), "21 платёж");
        assert_eq!(en.n("payments-count", 1), "1 payment");
        assert_eq!(en.n("payments-count", 5), "5 payments");
        assert_eq!(ru.money(Kopecks(123_456)), "1\u{a0}234,56\u{a0}₽");
        assert_eq!(en.money(Kopecks(-123_456_700)), "-₽1,234,567.00");
        let p = Period::parse("2026-10").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ru.month(p), "октябрь 2026");
        assert_eq!(en.month(p), "October 2026");
        assert_eq!(en.date(time::macros::date!(2026 - 11 - 05)), "5 Nov 2026");
    }
}
