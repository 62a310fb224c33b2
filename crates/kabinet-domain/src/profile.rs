//! A resident's own settings (R10): language, phone, which messages they want
//! and whether they want paper receipts.

use std::collections::BTreeSet;
use std::fmt;

/// The languages of the portal; Russian is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Русский.
    #[default]
    Ru,
    /// English.
    En,
}

impl Language {
    /// Every language, the default first.
    pub const ALL: [Language; 2] = [Language::Ru, Language::En];

    /// The language tag (`ru`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::En => "en",
        }
    }

    /// The language of a tag such as `ru`, `en-GB` or `EN`.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ru" => Some(Language::Ru),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    /// The best language of an `Accept-Language` header, by quality.
    pub fn from_accept(header: &str) -> Option<Language> {
        header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let lang = Language::from_tag(it.next()?)?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                    .unwrap_or(1.0);
                (q > 0.0).then_some((lang, q))
            })
            .fold(None, |best: Option<(Language, f32)>, (l, q)| match best {
                Some((_, bq)) if bq >= q => best,
                _ => Some((l, q)),
            })
            .map(|(l, _)| l)
    }
}

/// A kind of message a resident can switch on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A new invoice was issued.
    NewInvoice,
    /// A payment was received.
    PaymentReceived,
    /// The readings window opens.
    ReadingsReminder,
    /// A request changed.
    RequestUpdates,
    /// Readings the resident handed in were accepted (a receipt by e-mail).
    ReadingsAccepted,
    /// A meter's verification is due within 30 days, or has run out.
    MeterVerification,
    /// Announcements and outages of the organization for their building.
    Announcements,
}

impl NotificationKind {
    /// Every kind, in the order settings list them.
    pub const ALL: [NotificationKind; 7] = [
        NotificationKind::NewInvoice,
        NotificationKind::PaymentReceived,
        NotificationKind::ReadingsReminder,
        NotificationKind::MeterVerification,
        NotificationKind::ReadingsAccepted,
        NotificationKind::RequestUpdates,
        NotificationKind::Announcements,
    ];

    /// Stable code (stored, and the form's and API's value).
    pub fn code(self) -> &'static str {
        match self {
            NotificationKind::NewInvoice => "new_invoice",
            NotificationKind::PaymentReceived => "payment_received",
            NotificationKind::ReadingsReminder => "readings_reminder",
            NotificationKind::RequestUpdates => "request_updates",
            NotificationKind::ReadingsAccepted => "readings_accepted",
            NotificationKind::MeterVerification => "meter_verification",
            NotificationKind::Announcements => "announcements",
        }
    }

    /// The kind of a code.
    pub fn from_code(code: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A Russian phone number, kept as `+7` and ten digits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Phone(String);

/// Why a phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Not a Russian number.
    #[error("номер телефона указан неверно, например: +7 912 345-67-89")]
    Invalid,
}

impl Phone {
    /// What [`Phone::parse`] accepts, as a regular expression (the API's
    /// schema states it): ten digits, or eleven beginning with 7 or 8, among
    /// spaces, `+ - ( )`; a number that begins with `+` must go on with 7.
    pub const PATTERN: &str = "^(?: *(?:[()-][ +()-]*)?(?:[78][ +()-]*)?(?:[0-9][ +()-]*){10}| *\\+[ +()-]*7[ +()-]*(?:[0-9][ +()-]*){9,10})$";

    /// [`Phone::PATTERN`] or nothing but spaces (a settings form's phone may
    /// be left empty).
    pub const OPTIONAL_PATTERN: &str = "^(?: *| *(?:[()-][ +()-]*)?(?:[78][ +()-]*)?(?:[0-9][ +()-]*){10}| *\\+[ +()-]*7[ +()-]*(?:[0-9][ +()-]*){9,10})$";

    /// Parses what a person types: `+7 (912) 345-67-89`, `8 912 3456789`,
    /// `9123456789`.
    pub fn parse(text: &str) -> Result<Phone, PhoneError> {
        if text.chars().any(|c| !(c.is_ascii_digit() || " +-()".contains(c))) {
            return Err(PhoneError::Invalid);
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let national = match digits.len() {
            10 => digits.as_str(),
            11 if digits.starts_with('7') || digits.starts_with('8') => &digits[1..],
            _ => return Err(PhoneError::Invalid),
        };
        if text.trim_start().starts_with('+') && !digits.starts_with('7') {
            return Err(PhoneError::Invalid);
        }
        Ok(Phone(format!("+7{national}")))
    }

    /// `+79123456789`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0[2..];
        write!(f, "+7 {} {}-{}-{}", &d[0..3], &d[3..6], &d[6..8], &d[8..10])
    }
}

/// A resident's settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Preferences {
    /// Phone for contact and SMS.
    pub phone: Option<Phone>,
    /// The phone was confirmed with a code sent to it: SMS may go to it.
    /// Read-only here (a verification sets it; another number clears it).
    pub phone_verified: bool,
    /// The portal's language; `None`: the browser's.
    pub language: Option<Language>,
    /// No paper receipts: the receipt comes by e-mail and in the portal.
    pub paperless: bool,
    /// The messages wanted by e-mail.
    pub email_notifications: BTreeSet<NotificationKind>,
    /// The messages wanted by SMS (sent once the phone is verified).
    pub sms_notifications: BTreeSet<NotificationKind>,
    /// A MAX account is linked: the bot may write. Read-only here (the
    /// bot links it; the resident or the bot unlinks it).
    pub max_linked: bool,
    /// The messages wanted in MAX (sent while it is linked).
    pub max_notifications: BTreeSet<NotificationKind>,
}

impl Default for Preferences {
    /// Every message on by e-mail except the receipts for readings (a
    /// resident asks for those), none by SMS (a resident chooses, after
    /// verifying the phone) nor in MAX (linking it ticks
    /// [`Preferences::max_defaults`]), paper receipts on, no phone.
    fn default() -> Self {
        Preferences {
            phone: None,
            phone_verified: false,
            sms_notifications: BTreeSet::new(),
            max_linked: false,
            max_notifications: BTreeSet::new(),
            language: None,
            paperless: false,
            email_notifications: NotificationKind::ALL
                .into_iter()
                .filter(|k| *k != NotificationKind::ReadingsAccepted)
                .collect(),
        }
    }
}

impl Preferences {
    /// What a resident gets in MAX once they link it, until they choose:
    /// every kind the bot can send but the readings receipts.
    pub fn max_defaults() -> BTreeSet<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .filter(|k| *k != NotificationKind::ReadingsAccepted)
            .filter(|k| crate::notify::offered(*k, crate::notify::Channel::Max))
            .collect()
    }

    /// The stored form of the messages wanted by e-mail: codes joined by
    /// commas.
    pub fn notifications_stored(&self) -> String {
        Preferences::kinds_stored(&self.email_notifications)
    }

    /// The stored form of a set of kinds: codes joined by commas.
    pub fn kinds_stored(kinds: &BTreeSet<NotificationKind>) -> String {
        kinds.iter().map(|k| k.code()).collect::<Vec<_>>().join(",")
    }

    /// The wanted messages from their stored form (unknown codes are skipped).
    pub fn notifications_from_stored(s: &str) -> BTreeSet<NotificationKind> {
        s.split(',').filter_map(NotificationKind::from_code).collect()
    }

    /// The stored phone back (an unparsable one is dropped).
    pub fn phone_from_stored(s: Option<&str>) -> Option<Phone> {
        s.and_then(|p| Phone::parse(p).ok())
    }
}

impl crate::Describe for PhoneError {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            PhoneError::Invalid => Text::new("error-phone-invalid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_people_type() {
        for t in [
            "+7 (912) 345-67-89",
            "8 912 345 67 89",
            "9123456789",
            "79123456789",
        ] {
            assert_eq!(
                Phone::parse(t).map(|p| p.0),
                Ok("+79123456789".to_string()),
                "{t}"
            );
        }
        assert_eq!(
            Phone::parse("+79123456789").map(|p| p.to_string()),
            Ok("+7 912 345-67-89".into())
        );
        for t in ["", "12345", "+1 912 345 67 89", "9123456789a", "691234567890"] {
            assert!(Phone::parse(t).is_err(), "{t}");
        }
    }

    #[test]
    fn accept_language_by_quality() {
        assert_eq!(
            Language::from_accept("en-US,en;q=0.9,ru;q=0.8"),
            Some(Language::En)
        );
        assert_eq!(
            Language::from_accept("de, ru;q=0.5, en;q=0.4"),
            Some(Language::Ru)
        );
        assert_eq!(Language::from_accept("de, fr"), None);
        assert_eq!(Language::from_accept("en;q=0"), None);
    }

    #[test]
    fn notifications_round_trip() {
        let p = Preferences::default();
        assert_eq!(
            Preferences::notifications_from_stored(&p.notifications_stored()),
            p.email_notifications
        );
        assert!(Preferences::notifications_from_stored("").is_empty());
    }

    proptest::proptest! {
        /// The pattern the API publishes says exactly what the parser takes.
        #[test]
        fn the_phone_pattern_is_the_parser(s in "[ +()\\-0-9a\t]{0,18}|[ +(]{0,2}[78]?[0-9 -]{9,12}") {
            let re = regex::Regex::new(Phone::PATTERN).unwrap();
            proptest::prop_assert_eq!(Phone::parse(&s).is_ok(), re.is_match(&s), "{:?}", s);
            let optional = regex::Regex::new(Phone::OPTIONAL_PATTERN).unwrap();
            let empty = s.chars().all(|c| c == ' ');
            proptest::prop_assert_eq!(empty || Phone::parse(&s).is_ok(), optional.is_match(&s), "{:?}", s);
        }
    }
}
