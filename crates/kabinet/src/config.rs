//! Configuration: built-in defaults, then `kabinet.toml` (optional), then
//! `KABINET_*` environment variables (`KABINET_DATABASE_URL`, `KABINET_LISTEN`, …).
//! `KABINET_CONFIG` (the file) and `KABINET_LOG` (the log filter) are not settings.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything the binary can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// Folder for the embedded database, mail files and other data.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; when unset, SQLite at `<data_dir>/kabinet.db`.
    pub database_url: Option<String>,
    /// A PostgreSQL streaming replica the read-only pages may read from
    /// (README "Several servers"); unset: everything reads the primary.
    pub database_replica_url: Option<String>,
    /// Database pool size (default 4 on SQLite, 16 on PostgreSQL).
    pub database_max_connections: Option<u32>,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// `/metrics` on the main listener wants `Authorization: Bearer <this>`;
    /// unset (the default), the main listener does not serve it.
    pub metrics_token: Option<String>,
    /// A listener of its own for `/metrics`, without a token
    /// (`127.0.0.1:9090`): keep it to the monitoring network. Unset: none.
    pub metrics_listen: Option<String>,
    /// Day of the month receipts are issued (used by the demo and reminders).
    pub receipt_day: u8,
    /// Day of the month payment is due (Housing Code art. 155: the 15th).
    pub payment_due_day: u8,
    /// The Organization's own receipt template (`.typ`); the built-in one when unset
    /// or when it fails to compile.
    pub receipt_template: Option<PathBuf>,
    /// The character set of the receipts' payment QR codes: `utf-8`
    /// (`ST00012`, the default) or `windows-1251` (`ST00011`: Cyrillic takes
    /// one byte instead of two, so the code is smaller and easier to scan).
    pub receipt_qr_charset: kabinet_domain::qr::QrCharset,
    /// The portal's address as residents reach it, for links in e-mails.
    pub public_url: String,
    /// The server key (64 hex characters); when unset, `<data_dir>/secret.key`
    /// is used, created on first start. Every server of an installation needs
    /// the same key.
    pub secret_key: Option<String>,
    /// What registration checks: `amount` (the sum on the latest receipt) or
    /// `passport` (series and number, compared with a keyed hash).
    pub registration_mode: kabinet_app::auth::RegistrationMode,
    /// Minutes without a request after which a browser session ends.
    pub session_idle_minutes: u32,
    /// Hours after sign-in after which a browser session ends.
    pub session_max_hours: u32,
    /// Days an API token works.
    pub api_token_days: u32,
    /// Requests a minute per client address on registration, sign-in and reset.
    pub auth_requests_per_minute: u32,
    /// Mark cookies Secure and send HSTS (behind TLS).
    pub cookie_secure: bool,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The From address of e-mails.
    pub mail_from: String,
    /// The name e-mails are sent under, over `mail_from`'s; given here, the
    /// office cannot change it.
    pub mail_sender_name: Option<String>,
    /// SMTP server; when unset, e-mails are written to `<data_dir>/mail/`.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: kabinet_notify::SmtpTls,
    /// SMTP user name.
    pub smtp_username: Option<String>,
    /// SMTP password.
    pub smtp_password: Option<String>,
    /// The organization's offset from UTC, `+03:00` (Moscow, the default):
    /// due dates and the readings window are judged by its days.
    pub time_zone: String,
    /// First day of the month meter readings are accepted (1–31).
    pub readings_from_day: u8,
    /// Last day; before the first day means the window spans the month end.
    pub readings_to_day: u8,
    /// Refuse readings outside the window (`true`), or take them for the
    /// next period (`false`, the default: ПП № 354 п. 31 counts a late
    /// reading in the next period).
    pub readings_strict: bool,
    /// Readings submissions one resident may make in a minute.
    pub readings_per_minute: u32,
    /// Requests one resident may file in a minute.
    pub requests_per_minute: u32,
    /// Replies and notes one staff member may write in a minute.
    pub staff_writes_per_minute: u32,
    /// When notifications other than emergencies wait, in the
    /// organization's time: `"21:00-09:00"`; `""` sends at any hour.
    pub quiet_hours: String,
    /// Notification e-mails sent a second at most (all servers together).
    pub notify_email_per_second: u32,
    /// Who sends SMS: `log` (nothing is sent; each is written to the log and
    /// to `<data_dir>/sms/`), `smsru` or `smsc`.
    pub sms_provider: SmsProvider,
    /// The provider's API address; unset: its public one.
    pub sms_base_url: Option<String>,
    /// SMS.ru's `api_id`.
    pub sms_api_id: Option<String>,
    /// SMSC.ru's login.
    pub sms_login: Option<String>,
    /// SMSC.ru's password (or API key).
    pub sms_password: Option<String>,
    /// The sender name approved at the provider; unset: the account's.
    pub sms_sender: Option<String>,
    /// Notification SMS sent a second at most (all servers together).
    pub notify_sms_per_second: u32,
    /// The MAX bot's token; unset: MAX is not offered.
    pub max_token: Option<String>,
    /// The bot's name in MAX (for the link to its chat), required with the
    /// token.
    pub max_bot: Option<String>,
    /// The MAX Bot API's address; unset: its public one.
    pub max_base_url: Option<String>,
    /// How the bot's updates arrive: `poll` (a job asks for them; one
    /// server at a time) or `webhook` (MAX posts them to
    /// `<public_url>/max/webhook`, subscribed when the server starts; MAX
    /// wants HTTPS with a trusted certificate).
    pub max_updates: MaxUpdates,
    /// Notification messages in MAX sent a second at most.
    pub notify_max_per_second: u32,
    /// Buildings with a window of their own:
    /// `[[readings_buildings]] address = "г. Тверь, ул. Советская, д. 12"`,
    /// `from_day = 20`, `to_day = 25` (the address as billing writes it).
    pub readings_buildings: Vec<BuildingWindow>,
    /// Consumption per month above which (and above 3× the meter's average)
    /// a reading asks the resident to confirm it, whole units per resource:
    /// `[readings_high_floor] electricity = 600`.
    pub readings_high_floor: HighFloors,
    /// Which of the settings the office can change were given by the file
    /// or the environment (those stay fixed); filled by [`Config::load`].
    #[serde(skip)]
    pub fixed: Vec<String>,
    /// A closing of the portal set in the configuration (wins over
    /// `kabinet suspend`): `{ starts_at = "2026-12-01T22:00:00+03:00",
    /// ends_at = "…", message = "…" }`.
    pub suspension: Option<kabinet_domain::Suspension>,
    /// The organization's own help texts (`guide.ru.txt`, `guide.en.txt`);
    /// `<data_dir>/help` when unset.
    pub help_dir: Option<PathBuf>,
    /// Who takes card payments: `yookassa`, `none`, or `sandbox` (test
    /// payments on a page the portal serves, never credited). Unset: the
    /// sandbox on a demo database, no card payments anywhere else.
    pub payment_gateway: Option<PaymentGateway>,
    /// YooKassa's shop id (a number; written with or without quotes).
    #[serde(default, deserialize_with = "text_or_number")]
    pub yookassa_shop_id: Option<String>,
    /// YooKassa's secret key.
    pub yookassa_secret_key: Option<String>,
    /// YooKassa's API (default `https://api.yookassa.ru/v3`; staging and tests
    /// point it elsewhere).
    pub yookassa_api_url: Option<String>,
    /// The largest card payment, whole roubles.
    pub payment_max_rub: u32,
    /// VAT code on the fiscal receipt lines (1: no VAT … 6).
    pub payment_vat_code: u8,
    /// `payment_subject` of the fiscal receipt lines.
    pub payment_subject: String,
    /// `payment_mode` of the fiscal receipt lines.
    pub payment_mode: String,
    /// Addresses or ranges (`185.71.76.0/27`) gateway notifications may come
    /// from. Empty: YooKassa's published ranges when the gateway is
    /// YooKassa, any address otherwise (every notification is read back
    /// at the gateway anyway); `["0.0.0.0/0", "::/0"]` allows any.
    pub payment_notification_sources: Vec<String>,
    /// Daily checks of an unsettled payment before it is marked expired.
    pub payment_give_up_days: u32,
    /// Card payments one resident may start in an hour.
    pub payment_starts_per_hour: u32,
    /// The methods offered, in order: `"sbp, bank_card"`. Empty: card only
    /// with YooKassa (СБП must be enabled in the shop's contract first), both
    /// in the sandbox.
    pub payment_methods: String,
    /// The resident's fee for СБП on top of the amount: `""` (the
    /// organization pays it), `"0.4"` (percent), `"0.4% min 5"` (roubles).
    pub payment_fee_sbp: String,
    /// The resident's fee for a card, written like `payment_fee_sbp`.
    pub payment_fee_card: String,
    /// Whether the gateway issues the 54-ФЗ receipt (off for a shop with
    /// its own register, or a ТСЖ exempt for its members' payments).
    pub payment_receipts: bool,
    /// The organization's tax system code on the receipt (1 ОСН … 6 ПСН;
    /// 0: not sent).
    pub payment_tax_system_code: u8,
    /// `measure` of the receipt lines (ФФД 1.2): `piece`, `another`, …
    pub payment_measure: String,
    /// Days before an autopay debit its notice goes (0–10).
    pub autopay_notice_days: u8,
    /// Hours the dispatch service has for an emergency request.
    pub request_deadline_dispatch_hours: u32,
    /// Working days (by the production calendar) the office has for a
    /// request; an emergency is to be taken within 30 minutes, then dealt
    /// with within `request_deadline_dispatch_hours` of its filing.
    pub request_deadline_office_days: u32,
    /// Where photos of requests are kept: `database` or `s3`.
    pub photo_storage: String,
    /// The S3-compatible store's address (`https://storage.yandexcloud.net`).
    pub s3_endpoint: Option<String>,
    /// The bucket.
    pub s3_bucket: Option<String>,
    /// The region (`ru-central1`).
    pub s3_region: String,
    /// The access key id.
    pub s3_access_key: Option<String>,
    /// The secret key.
    pub s3_secret_key: Option<String>,
    /// A staff session ends after this many minutes without a request.
    pub staff_session_idle_minutes: u32,
    /// A staff session ends this many hours after sign-in.
    pub staff_session_hours: u32,
}

/// A setting that is text but may be written as a number
/// (`KABINET_YOOKASSA_SHOP_ID=123456` reaches us as one).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Whole(u64),
        Signed(i64),
    }
    Ok(Option::<Value>::deserialize(d)?.map(|v| match v {
        Value::Text(s) => s,
        Value::Whole(n) => n.to_string(),
        Value::Signed(n) => n.to_string(),
    }))
}

/// The card payment provider.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PaymentGateway {
    /// No card payments: the pay page points to the receipt's QR code.
    None,
    /// Test payments on the portal's own sandbox page.
    Sandbox,
    /// YooKassa (API v3).
    Yookassa,
}

/// How the MAX bot's updates arrive.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MaxUpdates {
    /// Long polling by the `max_updates` job.
    Poll,
    /// MAX posts them to the webhook.
    Webhook,
}

/// Who sends SMS.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    /// Nothing is sent: SMS are logged and written to files.
    Log,
    /// SMS.ru.
    Smsru,
    /// SMSC.ru.
    Smsc,
}

/// A building's own readings window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BuildingWindow {
    /// The building's address as the billing system writes it.
    pub address: String,
    /// First day.
    pub from_day: u8,
    /// Last day.
    pub to_day: u8,
}

/// Unusual-consumption floors per month by resource; unset ones use the
/// built-in defaults (15 m³ cold water, 10 m³ hot water, 600 kWh, 3 Gcal,
/// 150 m³ gas).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct HighFloors {
    /// Cold water, m³.
    pub cold_water: Option<u32>,
    /// Hot water, m³.
    pub hot_water: Option<u32>,
    /// Electricity, kWh per zone.
    pub electricity: Option<u32>,
    /// Heat, Gcal.
    pub heat: Option<u32>,
    /// Gas, m³.
    pub gas: Option<u32>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fixed: Vec::new(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_replica_url: None,
            database_max_connections: None,
            log_format: LogFormat::Text,
            metrics_token: None,
            metrics_listen: None,
            receipt_day: 5,
            payment_due_day: 15,
            receipt_template: None,
            receipt_qr_charset: kabinet_domain::qr::QrCharset::Utf8,
            public_url: "http://127.0.0.1:8080".into(),
            secret_key: None,
            registration_mode: kabinet_app::auth::RegistrationMode::Amount,
            session_idle_minutes: 30,
            session_max_hours: 12,
            api_token_days: 90,
            auth_requests_per_minute: 30,
            cookie_secure: false,
            trusted_proxies: Vec::new(),
            mail_from: "Личный кабинет <noreply@localhost>".into(),
            mail_sender_name: None,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: kabinet_notify::SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            time_zone: "+03:00".into(),
            readings_from_day: 15,
            readings_to_day: 25,
            readings_strict: false,
            readings_per_minute: 10,
            requests_per_minute: 3,
            staff_writes_per_minute: 20,
            quiet_hours: "21:00-09:00".into(),
            notify_email_per_second: 10,
            sms_provider: SmsProvider::Log,
            sms_base_url: None,
            sms_api_id: None,
            sms_login: None,
            sms_password: None,
            sms_sender: None,
            notify_sms_per_second: 5,
            max_token: None,
            max_bot: None,
            max_base_url: None,
            max_updates: MaxUpdates::Poll,
            notify_max_per_second: 20,
            readings_buildings: Vec::new(),
            readings_high_floor: HighFloors::default(),
            suspension: None,
            help_dir: None,
            payment_gateway: None,
            yookassa_shop_id: None,
            yookassa_secret_key: None,
            yookassa_api_url: None,
            payment_max_rub: 500_000,
            payment_vat_code: 1,
            payment_subject: "service".into(),
            payment_mode: "full_payment".into(),
            payment_notification_sources: Vec::new(),
            payment_give_up_days: 3,
            payment_starts_per_hour: 20,
            payment_methods: String::new(),
            payment_fee_sbp: String::new(),
            payment_fee_card: String::new(),
            payment_receipts: true,
            payment_tax_system_code: 0,
            payment_measure: "piece".into(),
            autopay_notice_days: 2,
            request_deadline_dispatch_hours: 24,
            request_deadline_office_days: 10,
            photo_storage: "database".into(),
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: "us-east-1".into(),
            s3_access_key: None,
            s3_secret_key: None,
            staff_session_idle_minutes: 15,
            staff_session_hours: 8,
        }
    }
}

/// The settings the office can also change; given in the file or the
/// environment, they stay as given.
const OFFICE_SETTINGS: [&str; 8] = [
    "readings_buildings",
    "readings_high_floor",
    "readings_from_day",
    "readings_to_day",
    "readings_strict",
    "receipt_day",
    "payment_due_day",
    "registration_mode",
];

impl Config {
    /// Reads defaults → `file` (if it exists) → environment.
    pub fn load(file: &Path) -> Result<Config, Box<figment::Error>> {
        let given =
            Figment::from(Toml::file(file)).merge(Env::prefixed("KABINET_").ignore(&["config", "log"]));
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(given.clone())
            .extract()
            .map_err(Box::new)?;
        config.fixed = OFFICE_SETTINGS
            .iter()
            .filter(|k| given.contains(k))
            .map(|k| (*k).to_string())
            .collect();
        Ok(config)
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => format!("sqlite://{}", self.data_dir.join("kabinet.db").display()),
        }
    }

    /// Where e-mails go.
    pub fn mail(&self) -> kabinet_notify::MailConfig {
        match &self.smtp_host {
            Some(host) if !host.trim().is_empty() => kabinet_notify::MailConfig::Smtp {
                host: host.trim().to_string(),
                port: self.smtp_port,
                tls: self.smtp_tls,
                username: self.smtp_username.clone(),
                password: self.smtp_password.clone(),
                from: self.mail_from.clone(),
            },
            _ => kabinet_notify::MailConfig::Files {
                dir: self.data_dir.join("mail"),
                from: self.mail_from.clone(),
            },
        }
    }

    /// The server key: `secret_key`, or the key file in the data folder.
    pub fn server_key(&self) -> Result<kabinet_app::auth::ServerKey, kabinet_app::auth::secrets::KeyError> {
        match &self.secret_key {
            Some(k) if !k.trim().is_empty() => kabinet_app::auth::ServerKey::from_text(k),
            _ => {
                let _ = std::fs::create_dir_all(&self.data_dir);
                kabinet_app::auth::ServerKey::load_or_create(&self.data_dir.join("secret.key"))
            }
        }
    }

    /// Receipt and due days of the periods an import creates, as configured.
    pub fn billing_days(&self) -> kabinet_db::exchange::PeriodDays {
        kabinet_db::exchange::PeriodDays {
            receipt_day: self.receipt_day,
            due_day: self.payment_due_day,
        }
    }

    /// Whether the configuration file or the environment gives those days
    /// (the office then shows them read-only).
    pub fn billing_days_fixed(&self) -> bool {
        self.fixed
            .iter()
            .any(|k| k == "receipt_day" || k == "payment_due_day")
    }

    /// How readings are taken.
    pub fn readings(&self) -> kabinet_app::readings::ReadingsSettings {
        use kabinet_domain::{ReadingsWindow, Resource};
        let window = |from: u8, to: u8| ReadingsWindow {
            first_day: from.clamp(1, 31),
            last_day: to.clamp(1, 31),
        };
        let f = &self.readings_high_floor;
        kabinet_app::readings::ReadingsSettings {
            window: window(self.readings_from_day, self.readings_to_day),
            strict: self.readings_strict,
            per_minute: i32::try_from(self.readings_per_minute.max(1)).unwrap_or(i32::MAX),
            buildings: self
                .readings_buildings
                .iter()
                .map(|b| (b.address.clone(), window(b.from_day, b.to_day)))
                .collect(),
            floors: [
                (Resource::ColdWater, f.cold_water),
                (Resource::HotWater, f.hot_water),
                (Resource::Electricity, f.electricity),
                (Resource::Heat, f.heat),
                (Resource::Gas, f.gas),
            ]
            .into_iter()
            .filter_map(|(r, v)| v.map(|v| (r, v)))
            .collect(),
            fixed_window: self
                .fixed
                .iter()
                .any(|k| k.starts_with("readings_") && k.ends_with("_day")),
            fixed_strict: self.fixed.iter().any(|k| k == "readings_strict"),
            fixed_buildings: self.fixed.iter().any(|k| k == "readings_buildings"),
            fixed_floors: self.fixed.iter().any(|k| k == "readings_high_floor"),
        }
    }

    /// The gateway in force: the one set, or — unset — the sandbox on a
    /// demo database and none elsewhere, so that an install nobody set up
    /// never takes "payments".
    pub fn gateway_in_force(&self, demo_database: bool) -> PaymentGateway {
        match self.payment_gateway {
            Some(g) => g,
            None if demo_database => PaymentGateway::Sandbox,
            None => PaymentGateway::None,
        }
    }

    /// The card payment gateway and its settings; an error names what is
    /// missing or unreadable. `demo_database`: the database holds the
    /// generated demo (see [`Config::gateway_in_force`]).
    pub fn payments(
        &self,
        demo_database: bool,
    ) -> Result<
        (
            kabinet_app::payments::GatewayChoice,
            kabinet_app::payments::PaymentSettings,
        ),
        String,
    > {
        use kabinet_app::payments::{GatewayChoice, PaymentSettings};
        let configured: Vec<String> = if self.payment_notification_sources.is_empty()
            && self.gateway_in_force(demo_database) == PaymentGateway::Yookassa
        {
            kabinet_gateway::yookassa::NOTIFICATION_SOURCES
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        } else {
            self.payment_notification_sources.clone()
        };
        let sources = configured
            .iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("payment_notification_sources: {s:?} is not an address or a range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        use kabinet_gateway::yookassa as yk;
        if !yk::VAT_CODES.contains(&self.payment_vat_code) {
            return Err("payment_vat_code must be 1..12".into());
        }
        for (key, value, allowed) in [
            ("payment_subject", &self.payment_subject, yk::PAYMENT_SUBJECTS),
            ("payment_mode", &self.payment_mode, yk::PAYMENT_MODES),
            ("payment_measure", &self.payment_measure, yk::MEASURES),
        ] {
            if !allowed.contains(&value.trim()) {
                return Err(format!("{key}: {value:?} is not one of {}", allowed.join(", ")));
            }
        }
        let tax_system_code = match self.payment_tax_system_code {
            0 => None,
            t if yk::TAX_SYSTEM_CODES.contains(&t) => Some(t),
            _ => return Err("payment_tax_system_code must be 0 (not sent) or 1..6".into()),
        };
        let methods = self.payment_methods(demo_database)?;
        let settings = PaymentSettings {
            max_amount: kabinet_domain::Kopecks(i64::from(self.payment_max_rub.max(1)) * 100),
            vat_code: self.payment_vat_code,
            payment_subject: self.payment_subject.trim().to_string(),
            payment_mode: self.payment_mode.trim().to_string(),
            receipts: self.payment_receipts,
            tax_system_code,
            measure: self.payment_measure.trim().to_string(),
            methods,
            autopay_notice_days: self.autopay_notice_days.min(10),
            notification_sources: sources,
            give_up_after_days: self.payment_give_up_days,
            starts_per_hour: u64::from(self.payment_starts_per_hour),
        };
        let choice = match self.gateway_in_force(demo_database) {
            PaymentGateway::None => GatewayChoice::Disabled,
            PaymentGateway::Sandbox => GatewayChoice::Sandbox,
            PaymentGateway::Yookassa => {
                let nonempty = |v: &Option<String>| {
                    v.as_deref()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                };
                let (Some(shop), Some(secret)) = (
                    nonempty(&self.yookassa_shop_id),
                    nonempty(&self.yookassa_secret_key),
                ) else {
                    return Err(
                        "payment_gateway = \"yookassa\" needs yookassa_shop_id and yookassa_secret_key"
                            .into(),
                    );
                };
                let mut c = kabinet_gateway::yookassa::YooKassaConfig::new(shop, secret);
                if let Some(url) = nonempty(&self.yookassa_api_url) {
                    c.api_url = url;
                }
                GatewayChoice::YooKassa(c)
            }
        };
        Ok((choice, settings))
    }

    /// The payment methods offered, in order, with their fees.
    fn payment_methods(&self, demo_database: bool) -> Result<Vec<kabinet_app::payments::MethodFee>, String> {
        use kabinet_domain::payment_methods::{Fee, PayMethod};
        let listed = match self.payment_methods.trim() {
            "" if self.gateway_in_force(demo_database) == PaymentGateway::Sandbox => "sbp, bank_card",
            "" => "bank_card",
            s => s,
        };
        let mut methods = Vec::new();
        for name in listed.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let method = PayMethod::parse(name)
                .ok_or_else(|| format!("payment_methods: {name:?} is not sbp or bank_card"))?;
            let (key, text) = match method {
                PayMethod::Sbp => ("payment_fee_sbp", &self.payment_fee_sbp),
                PayMethod::BankCard => ("payment_fee_card", &self.payment_fee_card),
            };
            let fee = Fee::parse(text).ok_or_else(|| {
                format!("{key}: {text:?} is not like \"1.5\" or \"1.5% min 10\" (at most 10 %)")
            })?;
            if !methods
                .iter()
                .any(|m: &kabinet_app::payments::MethodFee| m.method == method)
            {
                methods.push(kabinet_app::payments::MethodFee { method, fee });
            }
        }
        if methods.is_empty() {
            return Err("payment_methods lists no method".into());
        }
        Ok(methods)
    }

    /// How requests are handled: deadlines and where photos go; an error
    /// names what is missing.
    pub fn requests(&self) -> Result<kabinet_app::requests::RequestSettings, String> {
        use kabinet_app::requests::{PhotoStorage, RequestSettings, S3Settings};
        let storage = match self.photo_storage.trim() {
            "database" | "" => PhotoStorage::Database,
            "s3" => {
                let need = |v: &Option<String>, key: &str| {
                    v.as_deref()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| format!("photo_storage = \"s3\" needs {key}"))
                };
                PhotoStorage::S3(S3Settings {
                    endpoint: need(&self.s3_endpoint, "s3_endpoint")?,
                    bucket: need(&self.s3_bucket, "s3_bucket")?,
                    region: self.s3_region.clone(),
                    access_key: need(&self.s3_access_key, "s3_access_key")?,
                    secret_key: need(&self.s3_secret_key, "s3_secret_key")?,
                })
            }
            other => {
                return Err(format!(
                    "photo_storage: {other:?} is neither \"database\" nor \"s3\""
                ));
            }
        };
        if self.request_deadline_office_days > 365 {
            return Err("request_deadline_office_days is at most 365 working days".into());
        }
        if self.request_deadline_dispatch_hours == 0 || self.request_deadline_office_days == 0 {
            return Err("request deadlines must be at least 1".into());
        }
        Ok(RequestSettings {
            deadlines: kabinet_domain::requests::Deadlines {
                dispatch: time::Duration::hours(i64::from(self.request_deadline_dispatch_hours)),
                office_days: self.request_deadline_office_days,
                ..kabinet_domain::requests::Deadlines::default()
            },
            storage,
            filings_per_minute: usize::try_from(self.requests_per_minute.max(1)).unwrap_or(usize::MAX),
            staff_writes_per_minute: u64::from(self.staff_writes_per_minute.max(1)),
        })
    }

    /// How notifications are sent: the quiet hours and the e-mail pace.
    pub fn notify(&self) -> Result<kabinet_app::notify::NotifySettings, String> {
        let text = self.quiet_hours.trim();
        let quiet_hours = if text.is_empty() {
            None
        } else {
            Some(kabinet_domain::notify::QuietHours::parse(text).map_err(|e| e.to_string())?)
        };
        if self.notify_email_per_second == 0 {
            return Err("notify_email_per_second must be at least 1".into());
        }
        if self.notify_sms_per_second == 0 {
            return Err("notify_sms_per_second must be at least 1".into());
        }
        if self.notify_max_per_second == 0 {
            return Err("notify_max_per_second must be at least 1".into());
        }
        Ok(kabinet_app::notify::NotifySettings {
            quiet_hours,
            email_per_second: self.notify_email_per_second,
            sms: self.sms()?,
            sms_per_second: self.notify_sms_per_second,
            max: self.max()?,
            max_per_second: self.notify_max_per_second,
            max_webhook: self.max_updates == MaxUpdates::Webhook,
        })
    }

    /// The MAX bot, when a token is set; an error names what is missing.
    pub fn max(&self) -> Result<Option<kabinet_max::MaxConfig>, String> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(token) = given(&self.max_token) else {
            return Ok(None);
        };
        let bot_name = given(&self.max_bot)
            .map(|b| b.trim_start_matches('@').to_string())
            .ok_or("max_token needs max_bot, the bot's name in MAX")?;
        Ok(Some(kabinet_max::MaxConfig {
            base_url: given(&self.max_base_url).unwrap_or_else(|| kabinet_max::API_URL.into()),
            token,
            bot_name,
        }))
    }

    /// The SMS provider and its credentials; an error names what is
    /// missing.
    pub fn sms(&self) -> Result<kabinet_sms::SmsConfig, String> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let sender = given(&self.sms_sender);
        Ok(match self.sms_provider {
            SmsProvider::Log => kabinet_sms::SmsConfig::Log {
                dir: Some(self.data_dir.join("sms")),
            },
            SmsProvider::Smsru => kabinet_sms::SmsConfig::SmsRu {
                base_url: given(&self.sms_base_url).unwrap_or_else(|| kabinet_sms::SMSRU_URL.into()),
                api_id: given(&self.sms_api_id).ok_or("sms_provider = \"smsru\" needs sms_api_id")?,
                sender,
            },
            SmsProvider::Smsc => kabinet_sms::SmsConfig::Smsc {
                base_url: given(&self.sms_base_url).unwrap_or_else(|| kabinet_sms::SMSC_URL.into()),
                login: given(&self.sms_login)
                    .ok_or("sms_provider = \"smsc\" needs sms_login and sms_password")?,
                password: given(&self.sms_password)
                    .ok_or("sms_provider = \"smsc\" needs sms_login and sms_password")?,
                sender,
            },
        })
    }

    /// What the server is built from, for the database it serves.
    pub async fn settings_for(&self, db: &kabinet_db::Db) -> Result<kabinet_web::Settings, String> {
        use kabinet_db::Repos;
        let demo = db
            .organization()
            .is_demo()
            .await
            .map_err(|e| format!("reading the organization: {e}"))?;
        self.settings(demo)
    }

    /// What the server is built from, given whether the database is a demo.
    pub fn settings(&self, demo_database: bool) -> Result<kabinet_web::Settings, String> {
        let (gateway, payments) = self.payments(demo_database)?;
        Ok(kabinet_web::Settings {
            app: kabinet_app::Settings {
                auth: self.auth_settings(),
                receipt_template: self.receipt_template.clone(),
                qr_charset: self.receipt_qr_charset,
                clock: self.clock(),
                readings: self.readings(),
                gateway: gateway.clone(),
                payments: payments.clone(),
                requests: self.requests()?,
                staff: kabinet_app::staff::StaffSettings {
                    idle: time::Duration::minutes(i64::from(self.staff_session_idle_minutes.max(1))),
                    absolute: time::Duration::hours(i64::from(self.staff_session_hours.max(1))),
                    ..Default::default()
                },
                suspension: self.suspension.clone(),
                help_dir: Some(self.help_dir()),
                billing_days: self.billing_days(),
                billing_days_fixed: self.billing_days_fixed(),
                mail_sender_name: self
                    .mail_sender_name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string),
                notify: self.notify()?,
                metrics_token: self.metrics_token()?,
            },
            web: kabinet_web::WebSettings {
                cookie_secure: self.cookie_secure,
                trusted_proxies: self.trusted_proxies.clone(),
                auth_requests_per_minute: self.auth_requests_per_minute,
                ..Default::default()
            },
        })
    }

    /// The folder of the organization's help pages: `help_dir`, or `help`
    /// in the data folder.
    pub fn help_dir(&self) -> PathBuf {
        self.help_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("help"))
    }

    /// The metrics token, refused when too short to be a secret.
    fn metrics_token(&self) -> Result<Option<String>, String> {
        match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) if t.len() < 16 => Err("metrics_token must be at least 16 characters".into()),
            Some(t) => Ok(Some(t.to_string())),
        }
    }

    /// The organization's clock from `time_zone` (`+03:00`, `+05`, `UTC`);
    /// Moscow time when it cannot be read.
    pub fn clock(&self) -> kabinet_domain::OrgClock {
        let text = self.time_zone.trim();
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return kabinet_domain::OrgClock::at_offset(time::UtcOffset::UTC);
        }
        let (sign, rest) = match text.split_at_checked(1) {
            Some(("+", r)) => (1, r),
            Some(("-", r)) => (-1, r),
            _ => return kabinet_domain::OrgClock::default(),
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        match (h.parse::<i8>(), m.parse::<i8>()) {
            (Ok(h), Ok(m)) => time::UtcOffset::from_hms(sign * h, sign * m, 0)
                .map(kabinet_domain::OrgClock::at_offset)
                .unwrap_or_default(),
            _ => kabinet_domain::OrgClock::default(),
        }
    }

    /// The sign-in rules' settings.
    pub fn auth_settings(&self) -> kabinet_app::auth::AuthSettings {
        kabinet_app::auth::AuthSettings {
            registration_mode: self.registration_mode,
            registration_mode_fixed: self.fixed.iter().any(|k| k == "registration_mode"),
            session_idle: time::Duration::minutes(i64::from(self.session_idle_minutes.max(1))),
            session_absolute: time::Duration::hours(i64::from(self.session_max_hours.max(1))),
            api_token_lifetime: time::Duration::days(i64::from(self.api_token_days.max(1))),
            public_url: self.public_url.trim_end_matches('/').to_string(),
            ..Default::default()
        }
    }

    /// Whether the database is the embedded SQLite one.
    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }
}

/// A database URL with any password replaced, for printing.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("sqlite://./data/kabinet.db"),
            "sqlite://./data/kabinet.db"
        );
    }

    #[test]
    fn layers_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("k.toml", "listen = \"0.0.0.0:9000\"\nreceipt_day = 3\n")?;
            jail.set_env("KABINET_RECEIPT_DAY", "4");
            let c = Config::load(Path::new("k.toml")).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.receipt_day, 4);
            assert_eq!(c.database_url(), "sqlite://./data/kabinet.db");
            jail.set_env("KABINET_DATABASE_URL", "postgres://postgres@127.0.0.1/x");
            let c = Config::load(Path::new("missing.toml")).map_err(|e| e.to_string())?;
            assert!(!c.is_sqlite());
            assert_eq!(c.listen, "127.0.0.1:8080");
            // The office may change the readings window unless it is given here.
            assert!(!c.readings().fixed_window && !c.readings().fixed_strict);
            jail.create_file("r.toml", "readings_from_day = 20\n")?;
            jail.set_env("KABINET_READINGS_STRICT", "true");
            let c = Config::load(Path::new("r.toml")).map_err(|e| e.to_string())?;
            assert!(c.readings().fixed_window && c.readings().fixed_strict);
            assert!(!c.readings().fixed_buildings && !c.readings().fixed_floors);
            jail.create_file(
                "b.toml",
                "[[readings_buildings]]\naddress = \"ул. Ленина, 5\"\nfrom_day = 20\nto_day = 25\n[readings_high_floor]\ngas = 90\n",
            )?;
            let c = Config::load(Path::new("b.toml")).map_err(|e| e.to_string())?;
            assert!(c.readings().fixed_buildings && c.readings().fixed_floors);
            assert_eq!(c.readings().floor(kabinet_domain::Resource::Gas), 90);
            Ok(())
        });
    }

    #[test]
    fn no_gateway_means_no_card_payments_except_on_a_demo() {
        let c = Config::default();
        // A late reading counts for the next period unless told otherwise.
        assert!(!c.readings().strict);
        assert_eq!(c.gateway_in_force(false), PaymentGateway::None);
        assert_eq!(c.gateway_in_force(true), PaymentGateway::Sandbox);
        assert!(matches!(
            c.payments(false).map(|p| p.0),
            Ok(kabinet_app::payments::GatewayChoice::Disabled)
        ));
        figment::Jail::expect_with(|jail| {
            jail.create_file("k.toml", "payment_gateway = \"yookassa\"\n")?;
            // A shop id is a number: the environment gives it as one.
            jail.set_env("KABINET_YOOKASSA_SHOP_ID", "506751");
            jail.set_env("KABINET_YOOKASSA_SECRET_KEY", "test_x");
            let c = Config::load(Path::new("k.toml")).map_err(|e| e.to_string())?;
            assert_eq!(c.yookassa_shop_id.as_deref(), Some("506751"));
            assert_eq!(c.gateway_in_force(true), PaymentGateway::Yookassa);
            let (choice, settings) = c.payments(true)?;
            assert!(matches!(
                choice,
                kabinet_app::payments::GatewayChoice::YooKassa(_)
            ));
            // YooKassa's own ranges unless others are configured.
            let from = |ip: &str| {
                let ip: std::net::IpAddr = ip.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
                settings.notification_sources.iter().any(|n| n.contains(&ip))
            };
            assert!(from("185.71.76.5") && from("77.75.156.11") && from("2a02:5180::1"));
            assert!(!from("203.0.113.9"));
            jail.clear_env();
            jail.create_file("s.toml", "payment_gateway = \"sandbox\"\nyookassa_shop_id = 42\n")?;
            let c = Config::load(Path::new("s.toml")).map_err(|e| e.to_string())?;
            assert_eq!(c.gateway_in_force(false), PaymentGateway::Sandbox);
            assert_eq!(c.yookassa_shop_id.as_deref(), Some("42"));
            Ok(())
        });
    }

    #[test]
    fn rejects_unknown_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("k.toml", "lisen = \"x\"\n")?;
            assert!(Config::load(Path::new("k.toml")).is_err());
            Ok(())
        });
    }
}
