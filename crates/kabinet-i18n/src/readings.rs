//! How readings read in a language: values, resources and units, and what a
//! refused or doubtful reading says — shared by the meters page, the API
//! and the MAX bot.

use crate::Tr;
use kabinet_domain::readings::{Caution, Closed, Issue, ValueProblem};
use kabinet_domain::{Meter, ReadingError, ReadingValue, Resource};

/// A value in the reader's language: `123,45` or `123.45`.
pub fn value_text(tr: &Tr, v: ReadingValue) -> String {
    match tr.lang {
        kabinet_domain::Language::Ru => v.to_string(),
        kabinet_domain::Language::En => v.to_string().replace(',', "."),
    }
}

/// The resource's name.
pub fn resource_name(tr: &Tr, r: Resource) -> String {
    tr.t(&format!("resource-{}", r.code()))
}

/// The unit of a resource.
pub fn unit(tr: &Tr, r: Resource) -> String {
    tr.t(&format!("unit-{}", r.code()))
}

/// The message of an issue, in the page's language.
pub fn issue_text(tr: &Tr, issue: &Issue, meters: &[Meter]) -> String {
    let meter = issue.meter().and_then(|id| meters.iter().find(|m| m.id == id));
    let with_unit = |v: ReadingValue| match meter {
        Some(m) => format!("{} {}", value_text(tr, v), unit(tr, m.resource)),
        None => value_text(tr, v),
    };
    match issue {
        Issue::WindowClosed { opens } => tr.a("readings-window_closed", "date", &tr.date(*opens)),
        Issue::NothingEntered => tr.t("readings-nothing_entered"),
        Issue::MeterClosed { why, .. } => match why {
            Closed::VerificationExpired(d) => tr.a("readings-verification_expired", "date", &tr.date(*d)),
            other => tr.t(&format!("readings-{}", other.code())),
        },
        Issue::ZoneMissing { .. } => tr.t("readings-zone_missing"),
        Issue::NoSuchZone { zone, .. } => tr.a("readings-no_such_zone", "zone", &zone.to_string()),
        Issue::Value { problem, .. } => match problem {
            ValueProblem::Malformed(ReadingError::Invalid) => tr.t("readings-invalid_number"),
            ValueProblem::Malformed(ReadingError::TooManyDigits(n)) => {
                tr.a("readings-too_many_digits", "n", &n.to_string())
            }
            ValueProblem::Malformed(ReadingError::TooManyDecimals(0)) => tr.t("readings-whole_only"),
            ValueProblem::Malformed(ReadingError::TooManyDecimals(n)) => {
                tr.a("readings-too_many_decimals", "n", &n.to_string())
            }
            ValueProblem::Lower { previous } => {
                tr.a("readings-lower_than_previous", "previous", &with_unit(*previous))
            }
        },
        Issue::Exported { period, .. } => tr.a("readings-already_exported", "period", &tr.month(*period)),
        Issue::Recorded { .. } => tr.t("readings-already_recorded"),
        Issue::Confirm {
            caution, consumption, ..
        } => match caution {
            Caution::Rollover => tr.a("readings-rollover", "consumption", &with_unit(*consumption)),
            Caution::High {
                monthly_average: Some(avg),
            } => {
                let avg = meter
                    .and_then(|m| m.capacity.reading(*avg))
                    .map(with_unit)
                    .unwrap_or_default();
                tr.a2(
                    "readings-high_consumption_average",
                    ("consumption", &with_unit(*consumption)),
                    ("average", &avg),
                )
            }
            Caution::High {
                monthly_average: None,
            } => tr.a(
                "readings-high_consumption",
                "consumption",
                &with_unit(*consumption),
            ),
        },
    }
}
