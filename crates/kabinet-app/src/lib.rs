//! Kabinet's use cases, shared by the pages and the JSON API: sign-in and
//! registration ([`auth`]), the Rules ([`rules`]), the resident's accounts
//! ([`account`]), settings and data ([`profile`]), what every page shows
//! ([`site`]), receipts ([`receipts`]) and what staff do for residents
//! ([`support`]). Readings, payments, requests and staff go here too, each in a
//! module of its own.
//!
//! A use case takes parsed input, checks it, and does its work in one
//! database transaction that also holds its audit line and e-mail; it returns
//! domain data or an [`Error`] that the web layer maps once. Resident use
//! cases take an [`auth::Resident`] — a principal that passed the sign-in,
//! password and Rules checks — and read only that resident's accounts.

pub mod account;
pub mod announcements;
pub mod archive;
pub mod auth;
pub mod autopay;
mod cache;
pub mod demo;
pub mod error;
pub mod forms;
pub mod imports;
pub mod jobs;
pub mod max;
pub mod notify;
pub mod office;
pub mod ops;
pub mod org_settings;
pub mod payments;
pub mod phones;
pub mod profile;
pub mod rates;
pub mod readings;
pub mod receipts;
pub mod requests;
pub mod rules;
pub mod site;
pub mod staff;
pub mod support;

pub use error::Error;
pub use forms::FieldErrors;

use kabinet_db::{Db, DbError};
use kabinet_domain::qr::QrCharset;
use std::path::PathBuf;
use std::sync::Arc;

/// What the use cases are built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Sign-in lifetimes and limits.
    pub auth: auth::AuthSettings,
    /// The Organization's own receipt template, if any.
    pub receipt_template: Option<PathBuf>,
    /// The character set of the receipts' payment QR codes.
    pub qr_charset: QrCharset,
    /// The organization's time zone.
    pub clock: kabinet_domain::OrgClock,
    /// How meter readings are taken.
    pub readings: readings::ReadingsSettings,
    /// Which gateway takes card payments.
    pub gateway: payments::GatewayChoice,
    /// How card payments are taken.
    pub payments: payments::PaymentSettings,
    /// How requests are handled.
    pub requests: requests::RequestSettings,
    /// Staff session lifetimes.
    pub staff: staff::StaffSettings,
    /// A closing from the configuration (wins over `kabinet suspend`).
    pub suspension: Option<kabinet_domain::Suspension>,
    /// Where the organization's own help texts are (`guide.ru.txt`, …).
    pub help_dir: Option<PathBuf>,
    /// Receipt and due days of the billing periods an import creates.
    pub billing_days: kabinet_db::exchange::PeriodDays,
    /// Whether the configuration fixes them (the office cannot change them).
    pub billing_days_fixed: bool,
    /// The name e-mails are sent under, when the configuration gives one (the
    /// office cannot change it then); `None`: the office's, or the From
    /// address's own.
    pub mail_sender_name: Option<String>,
    /// How notifications are sent.
    pub notify: notify::NotifySettings,
    /// The bearer token `/metrics` on the main listener wants; `None`: it is
    /// not served there.
    pub metrics_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auth: auth::AuthSettings::default(),
            receipt_template: None,
            qr_charset: QrCharset::Utf8,
            clock: kabinet_domain::OrgClock::default(),
            readings: readings::ReadingsSettings::default(),
            gateway: payments::GatewayChoice::default(),
            payments: payments::PaymentSettings::default(),
            requests: requests::RequestSettings::default(),
            staff: staff::StaffSettings::default(),
            suspension: None,
            help_dir: None,
            billing_days: kabinet_db::exchange::PeriodDays {
                receipt_day: 5,
                due_day: 15,
            },
            billing_days_fixed: false,
            mail_sender_name: None,
            notify: notify::NotifySettings::default(),
            metrics_token: None,
        }
    }
}

/// The use cases of the read-only pages (overview, invoices, charges,
/// meters and their history) over a streaming replica.
#[derive(Clone)]
pub struct ReplicaReads {
    /// Accounts: overview, invoices, charges.
    pub accounts: account::Accounts,
    /// Meters and their history.
    pub readings: readings::Readings,
}

/// Every use case over one database; build one per process.
#[derive(Clone)]
pub struct App {
    /// Registration, sign-in, sessions, passwords.
    pub auth: Arc<auth::Auth>,
    /// The Rules of service.
    pub rules: rules::Rules,
    /// The consent to personal-data processing, a document of its own.
    pub consent: rules::Rules,
    /// The resident's accounts: overview, invoices, charges, payments.
    pub accounts: account::Accounts,
    /// The resident's settings and data.
    pub profiles: profile::Profiles,
    /// What every page shows: organization, closing, demo sign-in, help.
    pub site: site::Site,
    /// Meters and readings.
    pub readings: readings::Readings,
    /// Card payments.
    pub payments: payments::Payments,
    /// Autopay: kept methods, each account's autopay, the debits.
    pub autopay: autopay::AutopayCases,
    /// Receipt PDFs.
    pub receipts: receipts::Receipts,
    /// Requests to the dispatch service and the organization.
    pub requests: requests::Requests,
    /// Staff sign-in and staff members.
    pub staff: staff::StaffAuth,
    /// The office: organization details, audit log, home figures.
    pub office: office::Office,
    /// Billing packages uploaded in the office.
    pub imports: imports::Imports,
    /// The settings the office changes at run time.
    pub settings: org_settings::OfficeSettings,
    /// Residents' support: search, the resident's card, actions for them.
    pub support: support::Support,
    /// Announcements and outages.
    pub announcements: announcements::Announcements,
    /// Notifications: events and their deliveries.
    pub notify: notify::Notifications,
    /// The bot in the MAX messenger.
    pub max: max::MaxBot,
    /// What the operator watches (`/metrics`).
    pub ops: ops::Ops,
    /// The same read use cases over the replica, when one is configured.
    replica: Option<ReplicaReads>,
    db: Db,
}

impl App {
    /// The use cases of a document residents accept.
    pub fn document(&self, doc: kabinet_domain::Document) -> &rules::Rules {
        match doc {
            kabinet_domain::Document::Rules => &self.rules,
            kabinet_domain::Document::Consent => &self.consent,
        }
    }

    /// The use cases with these settings and server key.
    pub fn build(db: Db, settings: &Settings, key: auth::ServerKey) -> Result<App, Error> {
        let renderer = match &settings.receipt_template {
            Some(path) => {
                kabinet_receipt::Renderer::with_template(path).map_err(|e| Error::Internal(e.to_string()))?
            }
            None => kabinet_receipt::Renderer::new(),
        };
        let gateway: Arc<dyn kabinet_gateway::Gateway> = match &settings.gateway {
            payments::GatewayChoice::Disabled => Arc::new(payments::Disabled),
            payments::GatewayChoice::Sandbox => Arc::new(payments::Sandbox::new(db.clone())),
            payments::GatewayChoice::YooKassa(c) => Arc::new(
                kabinet_gateway::yookassa::YooKassa::new(c.clone())
                    .map_err(|e| Error::Internal(e.to_string()))?,
            ),
        };
        let hasher = auth::Hasher::new();
        let secrets = staff::SecretBox::new(&key);
        let live_readings = org_settings::LiveReadings::new(db.clone(), settings.readings.clone());
        let notify = notify::Notifications::new(
            db.clone(),
            settings.clock,
            settings.notify.clone(),
            &settings.auth.public_url,
            key.clone(),
        )
        .with_readings(live_readings.clone());
        let auth = Arc::new(auth::Auth::new(
            db.clone(),
            settings.auth.clone(),
            hasher.clone(),
            key.clone(),
        ));
        let live_calendar = org_settings::LiveCalendar::new(db.clone());
        let live_billing =
            org_settings::LiveBilling::new(db.clone(), settings.billing_days, settings.billing_days_fixed);
        let site = site::Site::new(
            db.clone(),
            settings.suspension.clone(),
            settings.help_dir.as_deref(),
        );
        let requests = requests::Requests::new(
            db.clone(),
            settings.clock,
            settings.requests.clone(),
            &settings.auth.public_url,
            live_calendar.clone(),
        )?;
        let accounts = account::Accounts::new(db.clone(), settings.clock, live_readings.clone());
        let readings = readings::Readings::new(
            db.clone(),
            settings.clock,
            live_readings.clone(),
            &settings.auth.public_url,
        );
        let max = max::MaxBot::new(
            db.clone(),
            key,
            settings.notify.max.clone(),
            accounts.clone(),
            readings.clone(),
            requests.clone(),
            settings.clock,
            &settings.auth.public_url,
        );
        let payments = payments::Payments::new(
            db.clone(),
            settings.clock,
            gateway,
            settings.payments.clone(),
            &settings.auth.public_url,
        );
        let replica = db.replica().map(|replica| ReplicaReads {
            accounts: account::Accounts::new(replica.clone(), settings.clock, live_readings.clone()),
            readings: readings::Readings::new(
                replica.clone(),
                settings.clock,
                live_readings.clone(),
                &settings.auth.public_url,
            ),
        });
        Ok(App {
            replica,
            autopay: autopay::AutopayCases::new(
                db.clone(),
                settings.clock,
                payments.clone(),
                settings.payments.autopay_notice_days,
            ),
            payments,
            auth: auth.clone(),
            staff: staff::StaffAuth::new(db.clone(), hasher, settings.staff, "Kabinet", secrets),
            requests,
            rules: rules::Rules::new(db.clone(), kabinet_domain::Document::Rules),
            consent: rules::Rules::new(db.clone(), kabinet_domain::Document::Consent),
            accounts,
            readings,
            profiles: profile::Profiles::new(db.clone()),
            site: site.clone(),
            office: office::Office::new(db.clone(), site, settings.clock, live_readings.clone()),
            imports: imports::Imports::new(db.clone(), live_billing.clone(), settings.clock),
            settings: org_settings::OfficeSettings {
                readings: live_readings.clone(),
                billing: live_billing,
                registration: auth.live_registration().clone(),
                sender: org_settings::LiveSender::new(db.clone(), settings.mail_sender_name.clone()),
                calendar: live_calendar,
            },
            receipts: receipts::Receipts::new(db.clone(), Arc::new(renderer), settings.qr_charset),
            max,
            support: support::Support::new(db.clone(), auth.clone()),
            announcements: announcements::Announcements::new(db.clone()),
            notify,
            ops: ops::Ops::new(db.clone(), settings.metrics_token.clone()),
            db,
        })
    }

    /// The Organization running the portal (its name and contacts are
    /// public), if one was set up; read at most every few seconds.
    pub async fn organization(&self) -> Result<Option<kabinet_domain::Organization>, Error> {
        self.site.organization().await
    }

    /// The read use cases to serve a read-only page with: over the replica
    /// when there is one and the reader wrote nothing in the last few
    /// seconds (`fresh` false), else `None` (read from the primary).
    pub fn replica(&self, fresh: bool) -> Option<&ReplicaReads> {
        self.replica.as_ref().filter(|_| !fresh)
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.db.ping().await
    }

    /// The database, for the workers the binary runs beside the server
    /// (outbox, session sweeper) and for tests.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
