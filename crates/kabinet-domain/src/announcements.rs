//! Announcements and outages (B2): what the organization tells residents —
//! news, a planned outage of a service, an emergency — to everyone or to
//! chosen buildings, shown from a moment until another. Emergencies and
//! outages in force are pinned as a banner on the targeted residents'
//! pages; an emergency always has an end at most [`MAX_EMERGENCY`] ahead
//! (it is extended by setting a new end).

use crate::organization::DetailProblem;
use crate::text::Text;
use time::{Duration, OffsetDateTime};

/// What kind of announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnouncementKind {
    /// News of the organization.
    News,
    /// A planned outage of a service.
    Outage,
    /// An emergency (an unplanned outage, an accident).
    Emergency,
}

impl AnnouncementKind {
    /// Every kind, in the form's order.
    pub const ALL: [AnnouncementKind; 3] = [
        AnnouncementKind::News,
        AnnouncementKind::Outage,
        AnnouncementKind::Emergency,
    ];

    /// The stored form (and the form's and API's value).
    pub const fn as_str(self) -> &'static str {
        match self {
            AnnouncementKind::News => "news",
            AnnouncementKind::Outage => "outage",
            AnnouncementKind::Emergency => "emergency",
        }
    }

    /// Reads the stored form.
    pub fn from_stored(s: &str) -> Option<AnnouncementKind> {
        AnnouncementKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether it is pinned as a banner while in force.
    pub const fn pinned(self) -> bool {
        !matches!(self, AnnouncementKind::News)
    }
}

/// The service an outage concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Cold water.
    ColdWater,
    /// Hot water.
    HotWater,
    /// Heating.
    Heating,
    /// Electricity.
    Electricity,
    /// Gas.
    Gas,
    /// Sewerage.
    Sewerage,
    /// A lift.
    Lift,
    /// Anything else (the text says what).
    Other,
}

impl Service {
    /// Every service, in the form's order.
    pub const ALL: [Service; 8] = [
        Service::ColdWater,
        Service::HotWater,
        Service::Heating,
        Service::Electricity,
        Service::Gas,
        Service::Sewerage,
        Service::Lift,
        Service::Other,
    ];

    /// The stored form (and the form's and API's value).
    pub const fn as_str(self) -> &'static str {
        match self {
            Service::ColdWater => "cold_water",
            Service::HotWater => "hot_water",
            Service::Heating => "heating",
            Service::Electricity => "electricity",
            Service::Gas => "gas",
            Service::Sewerage => "sewerage",
            Service::Lift => "lift",
            Service::Other => "other",
        }
    }

    /// Reads the stored form.
    pub fn from_stored(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The longest an emergency stays up without being extended.
pub const MAX_EMERGENCY: Duration = Duration::hours(72);
/// The longest title.
pub const MAX_TITLE: usize = 200;
/// The longest text.
pub const MAX_BODY: usize = 5_000;
/// The most buildings one announcement targets.
pub const MAX_BUILDINGS: usize = 500;

/// An announcement as the office writes it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementDraft {
    /// Kind.
    pub kind: AnnouncementKind,
    /// The service, for an outage or an emergency.
    pub service: Option<Service>,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// The buildings, addresses as billing writes them; empty: everyone.
    pub buildings: Vec<String>,
    /// Shown from.
    pub starts_at: OffsetDateTime,
    /// Shown until (for news, none: until taken down).
    pub ends_at: Option<OffsetDateTime>,
}

/// Checks a draft at `now`; every problem at once. An outage and an
/// emergency name their service and have an end after their start; an
/// emergency ends at most [`MAX_EMERGENCY`] after its start or `now`,
/// whichever is later (so extending it is setting a new end).
pub fn check_announcement(a: &AnnouncementDraft, now: OffsetDateTime) -> Vec<DetailProblem> {
    let mut out = Vec::new();
    let mut problem = |field, id| {
        out.push(DetailProblem {
            field,
            text: Text::new(id),
        })
    };
    let title = a.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
        problem("title", "error-announcement-title");
    }
    let body = a.body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY {
        problem("body", "error-announcement-body");
    }
    if a.buildings.len() > MAX_BUILDINGS {
        problem("buildings", "error-announcement-buildings");
    }
    if a.kind.pinned() && a.service.is_none() {
        problem("service", "error-announcement-service");
    }
    match a.ends_at {
        None if a.kind.pinned() => problem("ends_at", "error-announcement-end-needed"),
        Some(end) if end <= a.starts_at || end <= now => problem("ends_at", "error-announcement-end-order"),
        Some(end) if a.kind == AnnouncementKind::Emergency && end - a.starts_at.max(now) > MAX_EMERGENCY => {
            problem("ends_at", "error-announcement-emergency-long")
        }
        _ => {}
    }
    out
}

/// A stored announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: AnnouncementKind,
    /// The service, for an outage or an emergency.
    pub service: Option<Service>,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// The buildings; empty: everyone.
    pub buildings: Vec<String>,
    /// Shown from.
    pub starts_at: OffsetDateTime,
    /// Shown until.
    pub ends_at: Option<OffsetDateTime>,
    /// Published at.
    pub created_at: OffsetDateTime,
}

impl Announcement {
    /// Whether it is shown at `now`.
    pub fn in_force(&self, now: OffsetDateTime) -> bool {
        self.starts_at <= now && self.ends_at.is_none_or(|e| e > now)
    }

    /// Whether it is for a resident whose buildings are `addresses`.
    pub fn targets(&self, addresses: &[String]) -> bool {
        self.buildings.is_empty() || self.buildings.iter().any(|b| addresses.contains(b))
    }

    /// Whether it is pinned as a banner at `now`.
    pub fn pinned(&self, now: OffsetDateTime) -> bool {
        self.kind.pinned() && self.in_force(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(kind: AnnouncementKind, hours: Option<i64>) -> (AnnouncementDraft, OffsetDateTime) {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        (
            AnnouncementDraft {
                kind,
                service: Some(Service::ColdWater),
                title: "Отключение холодной воды".into(),
                body: "Ремонт трубы.".into(),
                buildings: vec!["г. Тверь, ул. Советская, д. 12".into()],
                starts_at: now,
                ends_at: hours.map(|h| now + Duration::hours(h)),
            },
            now,
        )
    }

    fn fields(a: &AnnouncementDraft, now: OffsetDateTime) -> Vec<&'static str> {
        check_announcement(a, now).iter().map(|p| p.field).collect()
    }

    #[test]
    fn an_announcement_is_checked_before_it_is_published() {
        let (a, now) = draft(AnnouncementKind::Emergency, Some(72));
        assert!(fields(&a, now).is_empty());
        let (a, now) = draft(AnnouncementKind::Emergency, Some(73));
        assert_eq!(fields(&a, now), ["ends_at"]);
        let (a, now) = draft(AnnouncementKind::Emergency, None);
        assert_eq!(fields(&a, now), ["ends_at"]);
        let (mut a, now) = draft(AnnouncementKind::Outage, Some(240));
        assert!(fields(&a, now).is_empty(), "a planned outage may be long");
        a.service = None;
        a.title = " ".into();
        a.body = "x".repeat(MAX_BODY + 1);
        assert_eq!(fields(&a, now), ["title", "body", "service"]);
        let (a, now) = draft(AnnouncementKind::News, None);
        assert!(fields(&a, now).is_empty(), "news needs no end");
        let (a, now) = draft(AnnouncementKind::News, Some(0));
        assert_eq!(fields(&a, now), ["ends_at"]);
        // Extending an emergency that began two days ago: 72 h from now.
        let (mut a, now) = draft(AnnouncementKind::Emergency, None);
        a.starts_at = now - Duration::hours(48);
        a.ends_at = Some(now + Duration::hours(72));
        assert!(fields(&a, now).is_empty());
    }

    #[test]
    fn an_announcement_targets_its_buildings_while_in_force() {
        let (d, now) = draft(AnnouncementKind::Outage, Some(5));
        let a = Announcement {
            id: 1,
            kind: d.kind,
            service: d.service,
            title: d.title,
            body: d.body,
            buildings: d.buildings,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            created_at: now,
        };
        assert!(a.pinned(now) && !a.pinned(now + Duration::hours(5)));
        assert!(!a.in_force(now - Duration::seconds(1)));
        assert!(a.targets(&["г. Тверь, ул. Советская, д. 12".into()]));
        assert!(!a.targets(&["г. Тверь, ул. Советская, д. 14".into()]));
        let everyone = Announcement {
            buildings: Vec::new(),
            ..a
        };
        assert!(everyone.targets(&[]));
    }
}
