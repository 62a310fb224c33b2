//! A resident's settings and their data (R10, R16): the settings form, and
//! everything Kabinet holds about them as one JSON document (with the
//! photos as files: [`crate::archive`]).

use crate::Error;
use crate::auth::{Client, Resident};
use crate::forms::FieldErrors;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use serde::Serialize;
use time::OffsetDateTime;

/// Form field names of the settings form.
pub mod fields {
    /// Phone.
    pub const PHONE: &str = "phone";
    /// Language.
    pub const LANGUAGE: &str = "language";
}

/// The settings form as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PreferencesInput {
    /// Phone, empty for none.
    #[serde(default)]
    pub phone: String,
    /// `ru`, `en`, or empty for the browser's.
    #[serde(default)]
    pub language: String,
    /// No paper receipts.
    #[serde(default)]
    pub paperless: bool,
    /// Codes of the messages wanted by e-mail.
    #[serde(default)]
    pub notifications: Vec<String>,
    /// Codes of the messages wanted by SMS (sent once the phone is
    /// verified).
    #[serde(default)]
    pub sms_notifications: Vec<String>,
    /// Codes of the messages wanted in MAX (sent while it is linked);
    /// absent: kept as they are.
    #[serde(default)]
    pub max_notifications: Option<Vec<String>>,
}

/// How many audit lines and e-mails the data download holds at most.
pub const DATA_LIMIT: u64 = 1000;

/// Everything Kabinet holds about a resident (R16).
#[derive(Debug, Clone, Serialize)]
pub struct MyData {
    /// When this was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Sign-in account, e-mail, when registered.
    pub profile: ProfileData,
    /// Settings.
    pub settings: d::Preferences,
    /// Linked accounts.
    pub linked_accounts: Vec<LinkedData>,
    /// Rules acceptances and consents.
    pub acceptances: Vec<AcceptanceData>,
    /// Sign-ins, changes and other audit lines about the resident, newest first.
    pub activity: Vec<ActivityData>,
    /// E-mails written for the resident, whatever address each went to
    /// (subject and state; bodies are left out: they may hold links that
    /// still work).
    pub notifications: Vec<NotificationData>,
    /// SMS written for the resident: the phone, the text as sent (a
    /// verification code's is left out), state and what the provider said.
    pub sms: Vec<SmsData>,
    /// Notifications written for the resident in MAX (the `phone` is the
    /// MAX user), with their text and state.
    pub max: Vec<SmsData>,
    /// Meter readings the resident handed in, with the account, address and
    /// time, newest first.
    pub readings: Vec<ReadingData>,
    /// Card payments the resident made, newest first.
    pub card_payments: Vec<CardPaymentData>,
    /// Requests the resident filed, with their history as the resident sees
    /// it (replies, status changes; not staff's internal notes) and photos.
    pub requests: Vec<RequestData>,
    /// Neighbours' requests about common property the resident joined.
    pub joined_requests: Vec<JoinedData>,
}

/// A neighbour's request the resident joined, in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct JoinedData {
    /// Its number.
    pub number: i64,
    /// Category.
    pub category: String,
    /// The building.
    pub building: String,
    /// Status now.
    pub status: String,
    /// When the resident joined it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub joined_at: Option<OffsetDateTime>,
}

/// A reading in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct ReadingData {
    /// Account number.
    pub account: String,
    /// Address with the flat.
    pub address: String,
    /// Meter serial number.
    pub meter: String,
    /// `cold_water`, `hot_water`, `electricity`, `gas`, `heat`.
    pub resource: String,
    /// Tariff zone (1 for a single-rate meter).
    pub zone: i16,
    /// The value as typed (decimal point).
    pub value: String,
    /// The day it was read.
    pub taken_on: time::Date,
    /// When it was handed in.
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    /// From which address.
    pub ip: String,
}

/// A card payment in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct CardPaymentData {
    /// Its id.
    pub id: String,
    /// Amount in kopecks.
    pub amount_kopecks: i64,
    /// `created`, `pending`, `succeeded`, `canceled`, `expired`.
    pub status: String,
    /// What it paid.
    pub description: String,
    /// The card as the gateway showed it (last digits), if any.
    pub card: Option<String>,
    /// A test payment (no money moved).
    pub test: bool,
    /// Started.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Settled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub settled_at: Option<OffsetDateTime>,
}

/// A request in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct RequestData {
    /// Its number.
    pub number: i64,
    /// Category.
    pub category: String,
    /// Status.
    pub status: String,
    /// The resident's text.
    pub text: String,
    /// The phone given.
    pub phone: String,
    /// When to visit.
    pub visit_time: String,
    /// Filed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The history as the resident sees it.
    pub history: Vec<RequestEventData>,
    /// The photos' ids: in the archive download each is the file
    /// `photos/{number}/{id}.jpg`; signed in, `/requests/photos/{id}`.
    pub photos: Vec<String>,
}

/// A line of a request's history in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct RequestEventData {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `filed`, `status`, `reply`, `comment`, …
    pub kind: String,
    /// The status it moved to, if it moved.
    pub status: Option<String>,
    /// The text (a reply, a reason, the resident's comment).
    pub text: String,
}

/// Requests the data download holds at most.
pub const DATA_REQUESTS: u64 = 200;

/// A stored integer reading with `scale` digits after the point, as text.
fn decimal(value: i64, scale: i32) -> String {
    let scale = u32::try_from(scale).unwrap_or(0).min(9);
    if scale == 0 {
        return value.to_string();
    }
    let p = 10_i64.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let v = value.unsigned_abs();
    let p = p.unsigned_abs();
    format!("{sign}{}.{:0width$}", v / p, v % p, width = scale as usize)
}

/// The profile part of [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct ProfileData {
    /// The sign-in account number.
    pub account: String,
    /// E-mail.
    pub email: String,
    /// Registered at.
    #[serde(with = "time::serde::rfc3339::option")]
    pub registered_at: Option<OffsetDateTime>,
}

/// A linked account in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct LinkedData {
    /// Number.
    pub account: String,
    /// Address.
    pub address: String,
    /// Linked at.
    #[serde(with = "time::serde::rfc3339")]
    pub linked_at: OffsetDateTime,
    /// The sign-in account.
    pub primary: bool,
    /// Who linked it: `registration` (the resident, registering with it),
    /// `details` (the resident, with the account's details from the
    /// receipt) or `owner` (the resident who signs in with it approved the
    /// request to see it).
    pub linked_by: String,
}

/// An acceptance in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceData {
    /// `rules`, `personal_data` (the consent to personal-data processing) or
    /// `consent` (to informational messages).
    pub kind: String,
    /// The version of the document (for `consent`, of the Rules in force
    /// then; 0: none was published).
    pub version: i32,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub accepted_at: OffsetDateTime,
    /// From which address.
    pub ip: String,
}

/// An audit line in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct ActivityData {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who acted: `resident` (the resident or someone trying to sign in as
    /// them), `staff` (the organization's support) or `system`.
    pub actor: String,
    /// What (`sign_in`, `password_changed`, `resident_blocked`, …).
    pub event: String,
    /// From which address (left out for staff: it is the office's).
    pub ip: String,
    /// Browser or app (left out for staff).
    pub user_agent: String,
}

impl From<d::AuditRecord> for ActivityData {
    fn from(a: d::AuditRecord) -> ActivityData {
        let resident = a.actor == d::Actor::Resident.as_str();
        ActivityData {
            at: a.at,
            event: a.event,
            ip: if resident { a.ip } else { String::new() },
            user_agent: if resident { a.user_agent } else { String::new() },
            actor: a.actor,
        }
    }
}

/// How many staff actions the settings page lists.
pub const STAFF_ACTIONS_SHOWN: u64 = 20;

/// An e-mail in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct NotificationData {
    /// Subject; a notification not sent yet has its kind instead
    /// (`new_invoice`, `payment_imported`).
    pub subject: String,
    /// `pending`, `sent`, `failed` or `skipped` (the resident turned such
    /// messages off before it went).
    pub status: String,
}

/// An SMS in [`MyData`].
#[derive(Debug, Clone, Serialize)]
pub struct SmsData {
    /// The phone.
    pub phone: String,
    /// The kind of notification (`new_invoice`…); `phone_code` for a
    /// verification code.
    pub kind: String,
    /// The text as sent (empty for a code or one not sent yet).
    pub text: String,
    /// `pending`, `sent`, `failed` or `skipped`.
    pub status: String,
    /// `accepted`, `delivered`, `undelivered`, or empty when not known.
    pub delivery: String,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Text messages (SMS, MAX) as the data download shows them: a
/// verification code's text is left out.
fn text_data(messages: Vec<d::SmsMessage>) -> Vec<SmsData> {
    messages
        .into_iter()
        .map(|m| SmsData {
            phone: m.phone,
            text: if m.kind.is_some() { m.text } else { String::new() },
            kind: m.kind.unwrap_or_else(|| "phone_code".into()),
            status: m.status.as_str().to_string(),
            delivery: m.delivery.map(|d| d.as_str().to_string()).unwrap_or_default(),
            created_at: m.created_at,
        })
        .collect()
}

/// The settings use cases.
#[derive(Clone)]
pub struct Profiles {
    db: Db,
}

impl Profiles {
    /// Over `db`.
    pub fn new(db: Db) -> Profiles {
        Profiles { db }
    }

    /// The resident's settings.
    pub async fn preferences(&self, r: &Resident) -> Result<d::Preferences, Error> {
        self.db
            .users()
            .preferences(r.user.id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Checks and stores the settings form, audited.
    pub async fn update(
        &self,
        r: &Resident,
        input: &PreferencesInput,
        client: &Client,
    ) -> Result<d::Preferences, Error> {
        let mut errors = FieldErrors::default();
        // Exactly what the API's schema states: a phone of
        // [`d::Phone::PATTERN`] or only spaces, a language code or nothing.
        let phone = if input.phone.chars().all(|c| c == ' ') {
            None
        } else {
            d::Phone::parse(&input.phone)
                .map_err(|e| errors.add(fields::PHONE, e))
                .ok()
        };
        let language = match input.language.as_str() {
            "" => None,
            code => {
                let lang = d::Language::ALL.into_iter().find(|l| l.code() == code);
                if lang.is_none() {
                    errors.add(fields::LANGUAGE, d::Text::new("error-language-unknown"));
                }
                lang
            }
        };
        let mut kinds = |codes: &[String], field: &'static str| {
            let mut set = std::collections::BTreeSet::new();
            for code in codes {
                match d::NotificationKind::from_code(code) {
                    Some(k) => {
                        set.insert(k);
                    }
                    None => errors.add(field, d::Text::new("error-notification-unknown")),
                }
            }
            set
        };
        let email_notifications = kinds(&input.notifications, "notifications");
        let mut sms_notifications = kinds(&input.sms_notifications, "sms_notifications");
        // Kinds not sent by SMS are not kept for it.
        sms_notifications.retain(|k| d::notify::offered(*k, d::notify::Channel::Sms));
        let mut max_notifications = match &input.max_notifications {
            Some(codes) => kinds(codes, "max_notifications"),
            None => r.user.max_notifications.clone(),
        };
        max_notifications.retain(|k| d::notify::offered(*k, d::notify::Channel::Max));
        errors.check()?;
        let p = d::Preferences {
            phone,
            // Read back below: the stored verification holds for the same
            // number only.
            phone_verified: false,
            language,
            paperless: input.paperless,
            email_notifications,
            sms_notifications,
            max_linked: r.user.max_user.is_some(),
            max_notifications,
        };
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.users().set_preferences(r.user.id, &p).await?;
        let details = format!(
            "language {}, paperless {}, e-mails: {}, SMS: {}, MAX: {}, phone {}",
            p.language.map_or("browser", |l| l.code()),
            p.paperless,
            p.notifications_stored(),
            d::Preferences::kinds_stored(&p.sms_notifications),
            d::Preferences::kinds_stored(&p.max_notifications),
            if p.phone.is_some() { "set" } else { "none" }
        );
        let entry = client.entry(
            d::AuditEvent::SettingsChanged,
            Some(r.user.id),
            Some(r.account_id()),
            details,
        );
        tx.audit().record(&entry, now).await?;
        let p = tx.users().preferences(r.user.id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(p)
    }

    /// The resident's log of what they accepted and consented to — each
    /// version of the Rules and of the personal-data consent, and the consent
    /// to informational messages — with when and from where, oldest first.
    pub async fn acceptances(&self, r: &Resident) -> Result<Vec<AcceptanceData>, Error> {
        Ok(self
            .db
            .users()
            .acceptances(r.user.id)
            .await?
            .into_iter()
            .map(|(kind, version, accepted_at, ip)| AcceptanceData {
                kind,
                version,
                accepted_at,
                ip,
            })
            .collect())
    }

    /// What the organization's staff did on the resident's account (their
    /// card opened, a reset link sent, blocked…), newest first.
    pub async fn staff_actions(&self, r: &Resident) -> Result<Vec<ActivityData>, Error> {
        Ok(self
            .db
            .audit()
            .of_user_by(r.user.id, d::Actor::Staff, STAFF_ACTIONS_SHOWN)
            .await?
            .into_iter()
            .map(ActivityData::from)
            .collect())
    }

    /// Everything Kabinet holds about the resident; the download is audited.
    pub async fn my_data(&self, r: &Resident, client: &Client) -> Result<MyData, Error> {
        let now = OffsetDateTime::now_utc();
        let users = self.db.users();
        let linked = self.db.links().of_user(r.user.id).await?;
        let data = MyData {
            generated_at: now,
            profile: ProfileData {
                account: r.user.account_number.to_string(),
                email: r.user.email.to_string(),
                registered_at: users.created_at(r.user.id).await?,
            },
            settings: users.preferences(r.user.id).await?.unwrap_or_default(),
            linked_accounts: linked
                .into_iter()
                .map(|l| LinkedData {
                    account: l.account.number.to_string(),
                    address: l.premises.full_address(),
                    linked_at: l.linked_at,
                    primary: l.primary,
                    linked_by: l.linked_by.as_str().to_string(),
                })
                .collect(),
            acceptances: self.acceptances(r).await?,
            activity: self
                .db
                .audit()
                .of_user(r.user.id, DATA_LIMIT)
                .await?
                .into_iter()
                .map(ActivityData::from)
                .collect(),
            notifications: self
                .db
                .outbox()
                .of_user(r.user.id, DATA_LIMIT)
                .await?
                .into_iter()
                .map(|m| NotificationData {
                    subject: m.email.subject,
                    status: m.status.as_str().to_string(),
                })
                .collect(),
            sms: text_data(
                self.db
                    .outbox()
                    .texts_of_user(r.user.id, d::notify::Channel::Sms, DATA_LIMIT)
                    .await?,
            ),
            max: text_data(
                self.db
                    .outbox()
                    .texts_of_user(r.user.id, d::notify::Channel::Max, DATA_LIMIT)
                    .await?,
            ),
            readings: Vec::new(),
            card_payments: Vec::new(),
            requests: Vec::new(),
            joined_requests: Vec::new(),
        };
        let mut data = data;
        data.readings = self
            .db
            .meters()
            .given_by(r.user.id, DATA_LIMIT)
            .await?
            .into_iter()
            .map(|g| ReadingData {
                value: decimal(g.value, g.scale),
                account: g.account,
                address: g.address,
                meter: g.serial,
                resource: g.resource,
                zone: g.zone,
                taken_on: g.taken_on,
                submitted_at: g.submitted_at,
                ip: g.ip,
            })
            .collect();
        data.card_payments = self
            .db
            .card_payments()
            .of_user(r.user.id, 0, DATA_LIMIT)
            .await?
            .0
            .into_iter()
            .map(|p| CardPaymentData {
                id: p.public_id,
                amount_kopecks: p.amount.0,
                status: p.status.as_str().to_string(),
                description: p.description,
                card: p.card,
                test: p.test,
                created_at: p.created_at,
                settled_at: p.settled_at,
            })
            .collect();
        let (requests, _) = self
            .db
            .requests()
            .list_of_user(r.user.id, DATA_REQUESTS, 0)
            .await?;
        for q in requests {
            let history = self
                .db
                .requests()
                .events(q.id, false)
                .await?
                .into_iter()
                .map(|e| RequestEventData {
                    at: e.at,
                    kind: e.kind.as_str().to_string(),
                    status: e.to_status.map(|s| s.as_str().to_string()),
                    text: e.body,
                })
                .collect();
            let photos = self
                .db
                .requests()
                .photos(q.id)
                .await?
                .into_iter()
                .map(|p| p.public_id)
                .collect();
            data.requests.push(RequestData {
                number: q.id.0,
                category: q.category_name,
                status: q.status.as_str().to_string(),
                text: q.text,
                phone: q.phone,
                visit_time: q.visit_time,
                created_at: q.created_at,
                history,
                photos,
            });
        }
        data.joined_requests = self
            .db
            .requests()
            .joined_by(r.user.id, DATA_REQUESTS)
            .await?
            .into_iter()
            .map(|j| JoinedData {
                number: j.id.0,
                category: j.category_name,
                building: j.building,
                status: j.status.as_str().to_string(),
                joined_at: j.joined_at,
            })
            .collect();
        let entry = client.entry(
            d::AuditEvent::DataDownloaded,
            Some(r.user.id),
            Some(r.account_id()),
            "",
        );
        self.db.audit().record(&entry, now).await?;
        Ok(data)
    }
}
