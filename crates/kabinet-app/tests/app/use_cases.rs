//! The use cases that hold logic of their own, on SQLite and PostgreSQL:
//! accepting the Rules, receipts scoped to the resident, the overview.

use kabinet_app::auth::secrets::{new_token, token_hash};
use kabinet_app::auth::{Principal, Resident};
use kabinet_app::{App, Error, Settings};
use kabinet_db::sessions::NewSession;
use kabinet_db::users::NewUser;
use kabinet_db::{Db, Repos};
use kabinet_domain::{AccountId, SessionKind};
use kabinet_testkit::db_tests;

pub async fn demo(db: &Db) {
    let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
    o.accounts = 2;
    o.months = 2;
    kabinet_demo::generate(db, &o, |_, _| {}).await.unwrap();
}

pub fn app(db: &Db) -> App {
    let key = kabinet_app::auth::ServerKey::from_text(&"5a".repeat(32)).unwrap();
    App::build(db.clone(), &Settings::default(), key).unwrap()
}

/// A signed-in principal of account `id`; `restricted` as after a one-time password.
async fn principal(app: &App, id: i64, restricted: bool) -> Principal {
    let token = session(app, id, restricted).await;
    signed_in(app, &token).await
}

/// The principal of a session token.
async fn signed_in(app: &App, token: &str) -> Principal {
    app.auth
        .authenticate(token, SessionKind::Web)
        .await
        .unwrap()
        .unwrap()
}

/// A new resident of account `id` with a browser session; its token.
async fn session(app: &App, id: i64, restricted: bool) -> String {
    let db = app.db();
    let now = time::OffsetDateTime::now_utc();
    let tx = db.begin().await.unwrap();
    let user = tx
        .users()
        .insert(&NewUser {
            account_id: AccountId(id),
            email: kabinet_domain::EmailAddress::parse(&format!("u{id}@example.ru")).unwrap(),
            password_hash: String::new(),
            password_expires_at: now,
            rules_version: 0,
            consent_version: 0,
            now,
        })
        .await
        .unwrap()
        .unwrap();
    let token = new_token();
    tx.sessions()
        .open(&NewSession {
            token_hash: token_hash(&token),
            user_id: user,
            kind: SessionKind::Web,
            restricted,
            now,
            expires_at: now + time::Duration::hours(1),
            ip: "192.0.2.1".into(),
            user_agent: String::new(),
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    token
}

db_tests! {
    async fn rules_are_accepted_only_in_force_and_after_the_own_password(t: &TestDb) {
        demo(&t.db).await;
        let app = app(&t.db);
        let client = kabinet_app::auth::Client::default();
        let v1 = app.rules.publish(kabinet_app::staff::By::Cli, "Правила", "Первая редакция.").await.unwrap();
        let v2 = app.rules.publish(kabinet_app::staff::By::Cli, "Правила", "Вторая редакция.").await.unwrap();
        assert_eq!((v1, v2), (1, 2));
        let restricted = principal(&app, 1, true).await;
        assert!(matches!(app.rules.accept(&restricted, v2, &client).await, Err(Error::PasswordNotSet)));
        let p = principal(&app, 2, false).await;
        assert_eq!(p.rules_pending, Some(2));
        assert!(matches!(app.rules.accept(&p, v1, &client).await, Err(Error::StaleRules)));
        app.rules.accept(&p, v2, &client).await.unwrap();
        let user = t.db.users().by_id(p.user.id).await.unwrap().unwrap();
        assert_eq!(user.rules_version, 2);
        assert!(t.db.users().acceptances(p.user.id).await.unwrap().iter().any(|(k, v, _, _)| k == "rules" && *v == 2));
        let audit = t.db.audit().lines(Some(AccountId(2)), 10).await.unwrap();
        assert_eq!(audit[0].event, "rules_accepted");
        assert!(matches!(app.rules.version(7).await, Err(Error::NotFound)));
    }

    async fn the_personal_data_consent_is_a_document_of_its_own(t: &TestDb) {
        demo(&t.db).await;
        let app = app(&t.db);
        let client = kabinet_app::auth::Client::default();
        app.rules.publish(kabinet_app::staff::By::Cli, "Правила", "Первая редакция.").await.unwrap();
        let token = session(&app, 2, false).await;
        let p = signed_in(&app, &token).await;
        assert_eq!((p.rules_pending, p.consent_pending), (Some(1), None));
        app.rules.accept(&p, 1, &client).await.unwrap();
        // Publishing the consent asks every resident for it, and only for it.
        let c1 = app.consent.publish(kabinet_app::staff::By::Cli, "Согласие", "Текст согласия.").await.unwrap();
        assert_eq!(c1, 1, "the consent is numbered on its own");
        let newcomer = principal(&app, 1, false).await;
        assert_eq!((newcomer.rules_pending, newcomer.consent_pending), (Some(1), Some(1)));
        assert_eq!(newcomer.next_step(), kabinet_app::auth::Step::AcceptRules, "the Rules first");
        let p = signed_in(&app, &token).await;
        assert_eq!((p.rules_pending, p.consent_pending), (None, Some(1)));
        assert_eq!(p.next_step(), kabinet_app::auth::Step::AcceptConsent);
        assert!(p.clone().resident().is_err());
        // Accepting the Rules' number does not give the consent.
        assert!(matches!(app.consent.accept(&p, 2, &client).await, Err(Error::StaleConsent)));
        app.consent.accept(&p, 1, &client).await.unwrap();
        let user = t.db.users().by_id(p.user.id).await.unwrap().unwrap();
        assert_eq!((user.rules_version, user.consent_version), (1, 1));
        let kinds: Vec<(String, i32)> = t.db.users().acceptances(p.user.id).await.unwrap().into_iter().map(|(k, v, _, _)| (k, v)).collect();
        assert_eq!(kinds, vec![("rules".to_string(), 1), ("personal_data".to_string(), 1)]);
        let audit = t.db.audit().lines(Some(AccountId(2)), 10).await.unwrap();
        assert_eq!(audit[0].event, "consent_given");
        assert_eq!(audit[0].details, "version 1");
        // The office's counts are per document.
        let by = kabinet_app::staff::By::Cli;
        let counts = |v: Vec<(kabinet_domain::RulesVersion, u64)>| v.into_iter().map(|(v, n)| (v.version, n)).collect::<Vec<_>>();
        assert_eq!(counts(app.consent.with_acceptance(by).await.unwrap()), vec![(1, 1)]);
        assert_eq!(counts(app.rules.with_acceptance(by).await.unwrap()), vec![(1, 1)]);
        assert_eq!(app.consent.version(1).await.unwrap().body, "Текст согласия.");
        assert_eq!(app.rules.version(1).await.unwrap().body, "Первая редакция.");
    }

    async fn receipts_and_the_overview_are_the_residents_own(t: &TestDb) {
        demo(&t.db).await;
        let app = app(&t.db);
        let p = principal(&app, 1, false).await;
        let r: Resident = p.resident().unwrap();
        let mine = t.db.accounts().by_id(AccountId(1)).await.unwrap().unwrap().number;
        let theirs = t.db.accounts().by_id(AccountId(2)).await.unwrap().unwrap().number;
        let period = t.db.billing().latest_invoice(AccountId(1)).await.unwrap().unwrap().period;
        let pdf = app.receipts.pdf(&r, mine.as_str(), &period.to_string()).await.unwrap();
        assert!(pdf.bytes.starts_with(b"%PDF"));
        assert_eq!(pdf.file_name, format!("receipt-{period}-{mine}.pdf"));
        for (number, period) in [(theirs.as_str(), period.to_string()), (mine.as_str(), "2001-01".into()), (mine.as_str(), "garbage".into()), ("", period.to_string())] {
            assert!(matches!(app.receipts.pdf(&r, number, &period).await, Err(Error::NotFound)), "{number} {period}");
        }
        let o = app.accounts.overview(&r, None).await.unwrap().account;
        assert_eq!(o.account.number, mine);
        assert_eq!(o.recent_invoices.len(), 2);
        // A principal that must set a password is no resident.
        assert!(principal(&app, 2, true).await.resident().is_err());
    }
}
