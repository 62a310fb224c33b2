//! Test support: an application over a test database, a cookie-keeping
//! browser that drives the real router, and a real SMTP server (aiosmtpd).
#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use kabinet_app::auth::secrets::{new_token, token_hash};
use kabinet_app::auth::{AuthSettings, Hasher, RegistrationMode, ServerKey};
use kabinet_db::sessions::NewSession;
use kabinet_db::users::NewUser;
use kabinet_db::{Db, Repos};
use kabinet_web::{AppState, Settings, router};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tower::ServiceExt;

/// The password residents made by [`TestApp::resident`] sign in with.
pub const OWN_PASSWORD: &str = "зелёный трамвай 42";

/// An API token of a resident made by [`TestApp::resident`].
pub async fn token(b: &mut Browser, account: &str) -> String {
    let r = b
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            serde_json::json!({"account": account, "password": OWN_PASSWORD}),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The key every test application signs with.
pub fn key() -> ServerKey {
    ServerKey::from_text(&"5a".repeat(32)).unwrap()
}

/// Settings for tests: amount mode, default lifetimes, no throttling delay
/// surprises unless a test sets them.
pub fn settings(mode: RegistrationMode) -> AuthSettings {
    AuthSettings {
        registration_mode: mode,
        public_url: "https://lk.example.ru".into(),
        ..Default::default()
    }
}

/// The server's settings for tests, with these sign-in settings and address limit.
pub fn server_settings(auth: AuthSettings, ip_per_minute: u32) -> Settings {
    let mut s = Settings::default();
    s.app.auth = auth;
    s.web.auth_requests_per_minute = ip_per_minute;
    // The tests pay through the sandbox unless they choose otherwise, and
    // submit and file faster than a person; the tests of those limits set
    // them back.
    s.app.gateway = kabinet_app::payments::GatewayChoice::Sandbox;
    s.app.readings.per_minute = 1000;
    s.app.requests.filings_per_minute = 1000;
    s
}

/// The application over a test database, built by the same
/// [`AppState::build`] the binary uses, with its router.
#[derive(Clone)]
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
}

/// The name the tests used before; the same thing.
pub type App = TestApp;

impl std::ops::Deref for TestApp {
    type Target = Router;
    fn deref(&self) -> &Router {
        &self.router
    }
}

impl TestApp {
    /// An application over `db` with `settings`.
    pub fn new(db: &Db, settings: &Settings) -> TestApp {
        let state = AppState::build(db.clone(), settings, key()).unwrap();
        TestApp {
            router: router(state.clone()),
            state,
        }
    }

    /// Waits until registration and reset requests taken so far are done.
    pub async fn settle(&self) {
        self.state.app.auth.idle().await;
    }

    /// Sends the notification e-mails waiting (into a folder nobody reads)
    /// as the sender would at noon UTC tomorrow, outside any quiet hours;
    /// their outbox rows then hold the texts. Returns how many went.
    pub async fn send_notifications(&self) -> u64 {
        let dir = std::env::temp_dir().join(format!("kabinet-sent-{}", fastrand::u64(..)));
        let mailer = kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
            dir: dir.clone(),
            from: "УК <noreply@uk.example>".into(),
        })
        .unwrap();
        let at = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
            .replace_time(time::macros::time!(12:00));
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let sent = self
            .state
            .app
            .notify
            .send_email_as_of(&mailer, None, until, at)
            .await
            .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        sent
    }

    /// The database.
    pub fn db(&self) -> &Db {
        self.state.app.db()
    }

    /// A signed-in resident of demo account `index` — own password
    /// [`OWN_PASSWORD`], the Rules in force accepted — seeded straight into the
    /// database, no registration or e-mail needed: a browser holding its
    /// session cookie, and the account number.
    pub async fn resident(&self, index: i64) -> (Browser, String) {
        let db = self.db();
        let account = db
            .accounts()
            .by_id(kabinet_domain::AccountId(index))
            .await
            .unwrap()
            .expect("a demo account");
        let hash = Hasher::new().hash(OWN_PASSWORD).await.unwrap();
        let now = time::OffsetDateTime::now_utc();
        let tx = db.begin().await.unwrap();
        let rules = tx.rules().current().await.unwrap().map_or(0, |r| r.version);
        let consent = tx
            .documents(kabinet_domain::Document::Consent)
            .current()
            .await
            .unwrap()
            .map_or(0, |r| r.version);
        let user = tx
            .users()
            .insert(&NewUser {
                account_id: account.id,
                email: kabinet_domain::EmailAddress::parse(&format!("r{index}@example.ru")).unwrap(),
                password_hash: hash.clone(),
                password_expires_at: now,
                rules_version: rules,
                consent_version: consent,
                now,
            })
            .await
            .unwrap()
            .expect("no user yet");
        tx.users().set_password(user, &hash, now).await.unwrap();
        let token = new_token();
        tx.sessions()
            .open(&NewSession {
                token_hash: token_hash(&token),
                user_id: user,
                kind: kabinet_domain::SessionKind::Web,
                restricted: false,
                now,
                expires_at: now + time::Duration::hours(12),
                ip: "192.0.2.10".into(),
                user_agent: String::new(),
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut b = Browser::new(self);
        b.cookies.insert("kabinet_session".into(), token);
        (b, account.number.to_string())
    }

    /// Links demo account `index` to the resident who signs in with
    /// `number` (as an approved link request would); returns that account.
    pub async fn link(&self, number: &str, index: i64) -> kabinet_domain::Account {
        let db = self.db();
        let other = db
            .accounts()
            .by_id(kabinet_domain::AccountId(index))
            .await
            .unwrap()
            .expect("a demo account");
        let user = db
            .users()
            .by_account_number(&number.parse().unwrap())
            .await
            .unwrap()
            .expect("a resident");
        db.links()
            .add(
                user.id,
                other.id,
                kabinet_domain::LinkedBy::Details,
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        other
    }
}

/// How a test gets its application: the data it starts from and the
/// settings it runs with, then [`TestAppBuilder::build`].
pub struct TestAppBuilder<'a> {
    db: &'a Db,
    settings: Settings,
    demo: Option<(u32, u32)>,
}

impl TestApp {
    /// An application over `db`: no data, the test settings
    /// ([`server_settings`] in amount mode) unless changed.
    pub fn builder(db: &Db) -> TestAppBuilder<'_> {
        TestAppBuilder {
            db,
            settings: server_settings(settings(RegistrationMode::Amount), 1000),
            demo: None,
        }
    }
}

impl TestAppBuilder<'_> {
    /// A small demo organization (accounts × months of billing).
    pub fn demo(mut self, accounts: u32, months: u32) -> Self {
        self.demo = Some((accounts, months));
        self
    }

    /// These settings instead of the test ones.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// These sign-in settings.
    pub fn auth(mut self, auth: AuthSettings) -> Self {
        self.settings.app.auth = auth;
        self
    }

    /// Sign-in, registration and reset requests per address and minute.
    pub fn address_limit(mut self, per_minute: u32) -> Self {
        self.settings.web.auth_requests_per_minute = per_minute;
        self
    }

    /// Changes the settings in place.
    pub fn configure(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// Seeds the data, then builds the application.
    pub async fn build(self) -> TestApp {
        if let Some((accounts, months)) = self.demo {
            let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
            o.accounts = accounts;
            o.months = months;
            kabinet_demo::generate(self.db, &o, |_, _| {}).await.unwrap();
        }
        TestApp::new(self.db, &self.settings)
    }
}

/// An account number of the demo and the total of its latest invoice as a
/// resident would type it (`1 234,56`).
pub async fn account_and_amount(db: &Db, index: i64) -> (String, String) {
    let a = db
        .accounts()
        .by_id(kabinet_domain::AccountId(index))
        .await
        .unwrap()
        .unwrap();
    let inv = db.billing().latest_invoice(a.id).await.unwrap().unwrap();
    (
        a.number.to_string(),
        inv.total_due.to_plain_string().replace('\u{a0}', " "),
    )
}

/// A response with its body as text.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    /// The value of the first `name="csrf"` field on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field on the page");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// A browser: keeps cookies, comes from one address.
#[derive(Clone)]
pub struct Browser {
    pub app: Router,
    pub cookies: BTreeMap<String, String>,
    pub ip: SocketAddr,
    pub extra: Vec<(&'static str, String)>,
}

impl Browser {
    pub fn new(app: &Router) -> Browser {
        Browser::from_ip(app, "192.0.2.10")
    }

    pub fn from_ip(app: &Router, ip: &str) -> Browser {
        Browser {
            app: app.clone(),
            cookies: BTreeMap::new(),
            ip: format!("{ip}:40000").parse().unwrap(),
            extra: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        req.extensions_mut().insert(ConnectInfo(self.ip));
        if !self.cookies.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, self.cookie_header().parse().unwrap());
        }
        for (k, v) in &self.extra {
            req.headers_mut().insert(*k, v.parse().unwrap());
        }
        let res = self.app.clone().oneshot(req).await.unwrap();
        for c in res.headers().get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body(), 16 << 20).await.unwrap().to_vec();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// Posts a form as is (the test supplies `csrf` itself, or not).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Opens `page`, takes its CSRF token and posts `fields` to `action`.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let form = self.get(page).await;
        assert_eq!(form.status, StatusCode::OK, "{page}: {}", form.body);
        let csrf = form.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    pub async fn json(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body.to_string())).unwrap()).await
    }
}

/// One message the SMTP server received.
#[derive(Debug, serde::Deserialize)]
pub struct Mail {
    pub to: Vec<String>,
    /// The From header, decoded.
    #[serde(default)]
    pub from_header: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// aiosmtpd listening on a free local port; stopped when dropped.
pub struct Smtp {
    child: Child,
    dir: PathBuf,
    pub port: u16,
    seen: usize,
}

impl Smtp {
    /// Starts the server, or `None` (with a message) when Python's aiosmtpd is
    /// missing outside CI.
    pub fn start() -> Option<Smtp> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("kabinet_smtp_{}_{}", std::process::id(), port));
        std::fs::create_dir_all(&dir).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
        let spawned = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => return Smtp::missing(&format!("python3: {e}")),
        };
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        if line.trim() != "ready" {
            let _ = child.kill();
            return Smtp::missing("aiosmtpd did not start (pip install aiosmtpd)");
        }
        Some(Smtp {
            child,
            dir,
            port,
            seen: 0,
        })
    }

    fn missing(why: &str) -> Option<Smtp> {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("a real SMTP server is required in CI: {why}");
        }
        eprintln!("SKIPPED: SMTP part of this test ({why})");
        None
    }

    /// A mailer that sends to this server.
    pub fn mailer(&self) -> kabinet_notify::Mailer {
        kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Smtp {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: kabinet_notify::SmtpTls::None,
            username: None,
            password: None,
            from: "Личный кабинет <noreply@lk.example.ru>".into(),
        })
        .unwrap()
    }

    /// Lets `app` finish what requests left running, delivers the outbox
    /// through this server and returns the messages that arrived since the
    /// last call.
    pub async fn deliver(&mut self, app: &App) -> Vec<Mail> {
        app.settle().await;
        let env = kabinet_app::jobs::JobEnv {
            app: app.state.app.clone(),
            mailer: std::sync::Arc::new(self.mailer()),
        };
        let runner = kabinet_app::jobs::Runner::new(env, Default::default()).unwrap();
        let ran = runner
            .run_due(
                Some(&[kabinet_domain::jobs::EMAIL]),
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        assert!(
            ran.iter().all(|r| *r == kabinet_app::jobs::Ran::Done),
            "no delivery may fail: {ran:?}"
        );
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        let new: Vec<Mail> = names[self.seen..]
            .iter()
            .map(|n| serde_json::from_str(&std::fs::read_to_string(self.dir.join(n)).unwrap()).unwrap())
            .collect();
        self.seen = names.len();
        new
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The one-time password in a registration e-mail.
pub fn password_in(mail: &Mail) -> String {
    mail.text
        .split_whitespace()
        .find(|w| w.len() == 14 && w.matches('-').count() == 2)
        .unwrap_or_else(|| panic!("no password in {}", mail.text))
        .to_string()
}

/// The reset link's path in a reset e-mail.
pub fn reset_path_in(mail: &Mail) -> String {
    let at = mail
        .text
        .find("https://lk.example.ru/password/reset/")
        .expect("a reset link");
    let link = mail.text[at..].split_whitespace().next().unwrap();
    link.trim_start_matches("https://lk.example.ru").to_string()
}

pub fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let at = body.find(start).unwrap_or_else(|| panic!("{start} in {body}")) + start.len();
    let rest = &body[at..];
    &rest[..rest.find(end).unwrap()]
}

pub fn unix_now() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap()
}

impl TestApp {
    /// A staff member of `role` added with a generated password and signed in
    /// through the pages: enrolled with TOTP, own password set. Returns the
    /// browser, the TOTP secret and the recovery codes.
    pub async fn staff(
        &self,
        login: &str,
        role: kabinet_domain::staff::Role,
    ) -> (Browser, String, Vec<String>) {
        let app = self;
        let (_, password) = app
            .state
            .app
            .staff
            .add(kabinet_app::staff::By::Cli, login, "Мария Диспетчер", role)
            .await
            .unwrap();
        let mut b = Browser::from_ip(app, "192.0.2.77");
        let r = b
            .submit(
                "/staff/login",
                "/staff/login",
                &[("login", login), ("password", password.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/staff/second-factor");
        let cookie = r
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("Path=/staff")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("HttpOnly")
        );
        let page = b.get("/staff/second-factor").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<svg"), "the QR code is drawn on the page");
        let secret = between(&page.body, "<code class=\"secret\">", "</code>").to_string();
        // A wrong code first: refused, the same secret offered again.
        let wrong = b
            .post_raw(
                "/staff/second-factor",
                &[("csrf", page.csrf().as_str()), ("code", "000000")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains(&secret));
        let code = kabinet_app::staff::totp_code(&secret, unix_now()).unwrap();
        let done = b
            .post_raw(
                "/staff/second-factor",
                &[("csrf", page.csrf().as_str()), ("code", code.as_str())],
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let codes: Vec<String> = done
            .body
            .split("<li><code>")
            .skip(1)
            .map(|s| s[..s.find("</code>").unwrap()].to_string())
            .collect();
        assert_eq!(codes.len(), 10);
        let own = b
            .submit(
                "/staff/password",
                "/staff/password",
                &[
                    ("password", "длинный пароль диспетчера"),
                    ("password_again", "длинный пароль диспетчера"),
                ],
            )
            .await;
        assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
        assert_eq!(own.location(), "/staff");
        (b, secret, codes)
    }
}
