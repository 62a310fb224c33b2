//! Registration, sign-in, passwords, sessions, CSRF, throttling and the API,
//! through the real router on SQLite and PostgreSQL, with e-mails delivered to a
//! real SMTP server.

use crate::common;
use crate::common::{Browser, Smtp, TestApp, account_and_amount, password_in, reset_path_in, settings};
use axum::http::StatusCode;
use kabinet_app::auth::{AccountThrottle, RegistrationMode};
use kabinet_db::Repos;
use kabinet_testkit::{TestDb, db_tests};
use serde_json::json;

const OWN_PASSWORD: &str = "зелёный трамвай 42";

async fn register(b: &mut Browser, account: &str, email: &str, check: &str) -> common::Resp {
    b.submit(
        "/register",
        "/register",
        &[
            ("account", account),
            ("email", email),
            ("check", check),
            ("accept_rules", "on"),
            ("personal_data", "on"),
            ("consent", "on"),
        ],
    )
    .await
}

async fn login(b: &mut Browser, account: &str, password: &str) -> common::Resp {
    b.submit(
        "/login",
        "/login",
        &[("account", account), ("password", password)],
    )
    .await
}

async fn events(t: &TestDb) -> Vec<String> {
    let mut e: Vec<String> =
        t.db.audit()
            .lines(None, 500)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event)
            .collect();
    e.reverse();
    e
}

/// Registers the demo account `index` and sets its own password; returns the
/// account number.
async fn registered_resident(t: &TestDb, app: &common::App, smtp: &mut Smtp, index: i64) -> String {
    let (account, amount) = account_and_amount(&t.db, index).await;
    let mut b = Browser::new(app);
    let r = register(&mut b, &account, &format!("r{index}@example.ru"), &amount).await;
    assert_eq!(r.location(), "/register/sent");
    let mail = smtp.deliver(app).await.pop().unwrap();
    let r = login(&mut b, &account, &password_in(&mail)).await;
    assert_eq!(r.location(), "/password/new");
    let r = b
        .submit(
            "/password/new",
            "/password/new",
            &[("password", OWN_PASSWORD), ("password_again", OWN_PASSWORD)],
        )
        .await;
    assert_eq!(r.location(), "/cabinet", "{}", r.body);
    account
}

db_tests! {
    async fn registration_sign_in_and_reset_by_amount(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(3, 2).build().await;
        publish_documents(t).await;
        let (account, amount) = account_and_amount(&t.db, 1).await;
        let mut b = Browser::new(&app);

        // Mistakes in the form are shown next to the fields, in Russian.
        let r = b.submit("/register", "/register", &[("account", &account), ("email", "not-an-email"), ("check", "12,345")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Адрес электронной почты указан неверно"), "{}", r.body);
        assert!(r.body.contains("двух знаков после запятой"));
        assert!(r.body.contains("примите правила"));
        assert!(r.body.contains("нужно согласие на обработку персональных данных"), "{}", r.body);
        // The consent is its own checkbox, linked to its own text.
        let form = b.get("/register").await;
        assert!(form.body.contains("name=\"personal_data\"") && form.body.contains("href=\"/consent\""));

        // A wrong amount: the usual answer, and no e-mail at all.
        let r = register(&mut b, &account, "ivan@example.ru", "1,00").await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/register/sent"));
        assert!(smtp.deliver(&app).await.is_empty());

        // The right amount: a one-time password arrives by SMTP.
        let r = register(&mut b, &account, "ivan@example.ru", &amount).await;
        assert_eq!(r.location(), "/register/sent");
        let sent = b.get("/register/sent").await;
        assert!(sent.body.contains("Проверьте почту"));
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["ivan@example.ru".to_string()]);
        assert!(mails[0].subject.contains(&account));
        assert!(mails[0].html.contains("Временный пароль"));
        let one_time = password_in(&mails[0]);
        // Only a hash is stored.
        let user = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&account).unwrap()).await.unwrap().unwrap();
        assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!user.password_hash.contains(&one_time));
        let acc = t.db.users().acceptances(user.id).await.unwrap();
        assert!(acc.iter().any(|(k, v, _, ip)| k == "rules" && *v == 1 && ip == "192.0.2.10"), "{acc:?}");
        assert!(acc.iter().any(|(k, _, _, _)| k == "consent"));
        assert!(acc.iter().any(|(k, v, _, _)| k == "personal_data" && *v == 1), "{acc:?}");
        assert_eq!(user.consent_version, 1);

        // A second registration creates no user; the notice goes to the
        // registered resident, nothing to the typed address.
        let r = register(&mut b, &account, "other@example.ru", &amount).await;
        assert_eq!(r.location(), "/register/sent");
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["ivan@example.ru".to_string()]);
        assert!(mails[0].subject.contains("Повторная регистрация"), "{}", mails[0].subject);
        assert!(mails[0].text.contains("/password/reset") && mails[0].text.contains("не обращайте внимания"));
        assert!(!mails[0].text.contains(&one_time));

        // First sign-in leads to "set your own password", and nothing else opens.
        let r = login(&mut b, &account, &one_time).await;
        assert_eq!(r.location(), "/password/new");
        assert!(b.cookies.contains_key("kabinet_session"));
        let set = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with("kabinet_session=")).unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
        assert_eq!(b.get("/cabinet").await.location(), "/password/new");
        let r = b.submit("/password/new", "/password/new", &[("password", "password"), ("password_again", "password")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("слишком распространён"), "{}", r.body);
        let r = b.submit("/password/new", "/password/new", &[("password", "short"), ("password_again", "short")]).await;
        assert!(r.body.contains("не меньше 8 символов"));
        let r = b.submit("/password/new", "/password/new", &[("password", OWN_PASSWORD), ("password_again", OWN_PASSWORD)]).await;
        assert_eq!(r.location(), "/cabinet");
        let page = b.get("/cabinet").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(&account));
        assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");

        // Sign out: the old cookie is worthless even if replayed.
        let old_cookie = b.cookies.get("kabinet_session").cloned().unwrap();
        let r = b.submit("/cabinet", "/logout", &[]).await;
        assert_eq!(r.location(), "/login");
        assert!(!b.cookies.contains_key("kabinet_session"));
        b.cookies.insert("kabinet_session".into(), old_cookie);
        assert_eq!(b.get("/cabinet").await.location(), "/login");
        b.cookies.remove("kabinet_session");

        // The one-time password worked once.
        let r = login(&mut b, &account, &one_time).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("Неверный номер лицевого счёта или пароль"));
        // The own one works.
        let r = login(&mut b, &account, OWN_PASSWORD).await;
        assert_eq!(r.location(), "/cabinet");

        // Reset by e-mail, from another browser.
        let mut other = Browser::from_ip(&app, "192.0.2.20");
        let r = other.submit("/password/reset", "/password/reset", &[("account", &account)]).await;
        assert_eq!(r.location(), "/password/reset/sent");
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["ivan@example.ru".to_string()]);
        let link = reset_path_in(&mails[0]);
        let new_password = "синий троллейбус 7";
        let r = other.submit(&link, &link, &[("password", new_password), ("password_again", new_password)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Пароль изменён"));
        // Every session ended, the link is used up, the old password is gone.
        assert_eq!(b.get("/cabinet").await.location(), "/login");
        assert_eq!(other.get(&link).await.status, StatusCode::GONE);
        assert_eq!(login(&mut other, &account, OWN_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login(&mut other, &account, new_password).await.location(), "/cabinet");

        let ev = events(t).await;
        for e in ["registration_failed", "registration", "registration_repeated", "sign_in", "password_set", "sign_out", "sign_in_failed", "password_reset_requested", "password_reset"] {
            assert!(ev.iter().any(|x| x == e), "audit has {e}: {ev:?}");
        }
        let lines = t.db.audit().lines(Some(user.account_id), 100).await.unwrap();
        assert!(lines.iter().all(|l| !l.details.contains(&one_time) && !l.details.contains(OWN_PASSWORD)));
        assert!(lines.iter().any(|l| l.event == "sign_in" && l.ip == "192.0.2.10"));
    }

    async fn registration_by_passport(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(2, 1).auth(settings(RegistrationMode::Passport)).address_limit(1000).build().await;
        let (account, _) = account_and_amount(&t.db, 2).await;
        let passport = kabinet_domain::Passport::parse("2815 123456").unwrap();
        kabinet_app::support::store_passports(&t.db, &common::key(), &[(kabinet_domain::AccountId(2), passport)]).await.unwrap();
        let mut b = Browser::new(&app);
        let form = b.get("/register").await;
        assert!(form.body.contains("Серия и номер паспорта"));
        let r = register(&mut b, &account, "p@example.ru", "2815 12345").await;
        assert!(r.body.contains("10 цифр"), "{}", r.body);
        assert_eq!(register(&mut b, &account, "p@example.ru", "2815 654321").await.location(), "/register/sent");
        assert!(smtp.deliver(&app).await.is_empty());
        assert_eq!(register(&mut b, &account, "p@example.ru", "28 15 №123456").await.location(), "/register/sent");
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(login(&mut b, &account, &password_in(&mails[0])).await.location(), "/password/new");
    }

    async fn the_same_answer_for_existing_and_unknown_accounts(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (account, amount) = account_and_amount(&t.db, 1).await;
        let mut b = Browser::new(&app);
        let unknown = register(&mut b, "99999999", "x@example.ru", &amount).await;
        let wrong = register(&mut b, &account, "x@example.ru", "1,00").await;
        let right = register(&mut b, &account, "x@example.ru", &amount).await;
        let again = register(&mut b, &account, "x@example.ru", &amount).await;
        for r in [&wrong, &right, &again] {
            assert_eq!((r.status, r.location(), r.body.as_str()), (unknown.status, unknown.location(), unknown.body.as_str()));
        }
        // Reset: unknown account and known account answer alike.
        let a = b.submit("/password/reset", "/password/reset", &[("account", "99999999")]).await;
        let c = b.submit("/password/reset", "/password/reset", &[("account", &account)]).await;
        assert_eq!((a.status, a.location()), (c.status, c.location()));
        // Sign-in: unknown account and wrong password give the same page.
        let x = login(&mut b, "99999999", "whatever-password").await;
        let y = login(&mut b, &account, "whatever-password").await;
        assert_eq!(x.status, StatusCode::UNAUTHORIZED);
        let strip = |s: &str| s.replace(&s[s.find("name=\"csrf\"").unwrap()..][..80], "");
        assert_eq!(x.status, y.status);
        assert_eq!(strip(&x.body).replace("99999999", &account), strip(&y.body));
    }

    async fn forms_without_a_valid_csrf_token_are_refused(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(1, 1).build().await;
        let (account, _) = account_and_amount(&t.db, 1).await;
        let mut b = Browser::new(&app);
        let _ = b.get("/login").await;
        // No token.
        let r = b.post_raw("/login", &[("account", &account), ("password", "x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("Форма устарела"));
        // A token of another browser.
        let mut other = Browser::new(&app);
        let foreign = other.get("/login").await.csrf();
        let r = b.post_raw("/login", &[("csrf", &foreign), ("account", &account), ("password", "x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A valid token but posted from another site.
        let mine = b.get("/login").await.csrf();
        b.extra.push(("origin", "https://evil.example".into()));
        let r = b.post_raw("/login", &[("csrf", &mine), ("account", &account), ("password", "x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        b.extra.clear();
        b.extra.push(("sec-fetch-site", "cross-site".into()));
        let r = b.post_raw("/register", &[("csrf", &mine), ("account", &account)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // None of these reached the sign-in rules.
        assert!(events(t).await.is_empty());
    }

    async fn the_101st_attempt_is_refused_even_with_the_right_password(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let mut s = settings(RegistrationMode::Amount);
        // No delays, so the hourly cap itself is what stops the 101st attempt.
        s.throttle = AccountThrottle { base_delay: time::Duration::ZERO, ..AccountThrottle::default() };
        let app = TestApp::builder(&t.db).demo(1, 1).auth(s).address_limit(10_000).build().await;
        let account = registered_resident(t, &app, &mut smtp, 1).await;
        let mut api = Browser::new(&app);
        for i in 0..100 {
            let r = api.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": format!("wrong {i}")})).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        let r = api.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": OWN_PASSWORD})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        let user = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&account).unwrap()).await.unwrap().unwrap();
        assert_eq!(user.failed_count, 100);
        assert!(events(t).await.iter().any(|e| e == "sign_in_refused"));
    }

    async fn failures_delay_the_next_attempt_and_addresses_are_limited(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(1, 1).auth(settings(RegistrationMode::Amount)).address_limit(12).build().await;
        let account = registered_resident(t, &app, &mut smtp, 1).await;
        let mut b = Browser::from_ip(&app, "198.51.100.7");
        for _ in 0..5 {
            assert_eq!(login(&mut b, &account, "wrong password").await.status, StatusCode::UNAUTHORIZED);
        }
        // After five failures the right password is refused for a while.
        assert_eq!(login(&mut b, &account, OWN_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        // The address has now made 6 of its 12 requests a minute ...
        for _ in 0..6 {
            let r = b.submit("/password/reset", "/password/reset", &[("account", "1")]).await;
            assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
        }
        // ... and the 13th is refused, while another address is not.
        let r = b.submit("/password/reset", "/password/reset", &[("account", "1")]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let mut c = Browser::from_ip(&app, "198.51.100.8");
        assert_ne!(c.submit("/password/reset", "/password/reset", &[("account", "1")]).await.status, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn expired_one_time_password_and_idle_sessions(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let mut s = settings(RegistrationMode::Amount);
        s.generated_password_valid = time::Duration::seconds(-1);
        let app = TestApp::builder(&t.db).demo(2, 1).auth(s).address_limit(1000).build().await;
        let (account, amount) = account_and_amount(&t.db, 1).await;
        let mut b = Browser::new(&app);
        register(&mut b, &account, "e@example.ru", &amount).await;
        let mail = smtp.deliver(&app).await.pop().unwrap();
        let r = login(&mut b, &account, &password_in(&mail)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("истёк"), "{}", r.body);

        // A session idle longer than allowed is over.
        let mut s = settings(RegistrationMode::Amount);
        s.session_idle = time::Duration::ZERO;
        let app = TestApp::builder(&t.db).auth(s).build().await;
        let (account, amount) = account_and_amount(&t.db, 2).await;
        let mut b = Browser::new(&app);
        register(&mut b, &account, "i@example.ru", &amount).await;
        let mail = smtp.deliver(&app).await.pop().unwrap();
        assert_eq!(login(&mut b, &account, &password_in(&mail)).await.location(), "/password/new");
        assert_eq!(b.get("/password/new").await.location(), "/login");
    }

    async fn a_new_rules_version_must_be_accepted(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(1, 1).build().await;
        publish_documents(t).await;
        let account = registered_resident(t, &app, &mut smtp, 1).await;
        let mut b = Browser::new(&app);
        assert_eq!(login(&mut b, &account, OWN_PASSWORD).await.location(), "/cabinet");
        let v = kabinet_app::rules::Rules::new(t.db.clone(), kabinet_domain::Document::Rules).publish(kabinet_app::staff::By::Cli, "Правила, редакция 2", "Новый текст.\n\nВторой абзац.").await.unwrap();
        assert_eq!(v, 2);
        assert_eq!(b.get("/cabinet").await.location(), "/rules/accept");
        let page = b.get("/rules/accept").await;
        assert!(page.body.contains("Второй абзац") && page.body.contains("Редакция 1"));
        let r = b.submit("/rules/accept", "/rules/accept", &[("version", "2")]).await;
        assert_eq!(r.location(), "/cabinet");
        assert_eq!(b.get("/cabinet").await.status, StatusCode::OK);
        let user = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&account).unwrap()).await.unwrap().unwrap();
        assert_eq!(user.rules_version, 2);
        assert!(t.db.users().acceptances(user.id).await.unwrap().iter().any(|(k, v, _, _)| k == "rules" && *v == 2));
        // Earlier versions stay readable.
        assert!(b.get("/rules/1").await.body.contains("Регистрация"));

        // A new consent is asked for on its own, after nothing else.
        let c = kabinet_app::rules::Rules::new(t.db.clone(), kabinet_domain::Document::Consent).publish(kabinet_app::staff::By::Cli, "Согласие, редакция 2", "Новые цели обработки.").await.unwrap();
        assert_eq!(c, 2);
        assert_eq!(b.get("/cabinet").await.location(), "/consent/accept");
        assert_eq!(b.get("/rules/accept").await.location(), "/consent/accept", "no Rules to accept");
        let page = b.get("/consent/accept").await;
        assert!(page.body.contains("Новые цели обработки") && page.body.contains("Даю согласие"), "{}", page.body);
        let r = b.submit("/consent/accept", "/consent/accept", &[("version", "1")]).await;
        assert_eq!(r.location(), "/cabinet", "a stale version goes back");
        assert_eq!(b.get("/cabinet").await.location(), "/consent/accept", "and is not taken");
        let r = b.submit("/consent/accept", "/consent/accept", &[("version", "2")]).await;
        assert_eq!(r.location(), "/cabinet");
        assert_eq!(b.get("/cabinet").await.status, StatusCode::OK);
        assert_eq!(b.get("/consent/accept").await.location(), "/cabinet");
        let user = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&account).unwrap()).await.unwrap().unwrap();
        assert_eq!((user.rules_version, user.consent_version), (2, 2));
        assert!(events(t).await.contains(&"consent_given".to_string()));
        // Both versions are readable; "my data" lists every consent with its version.
        assert!(b.get("/consent").await.body.contains("Новые цели обработки"));
        assert!(b.get("/consent/1").await.body.contains("Оператор"));
        assert_eq!(b.get("/consent/9").await.status, StatusCode::NOT_FOUND);
        let settings = b.get("/settings").await;
        assert!(settings.body.contains("Ваши согласия"), "{}", settings.body);
        assert!(settings.body.contains("href=\"/consent/2\"") && settings.body.contains("href=\"/consent/1\""));
        assert!(settings.body.contains("href=\"/rules/2\""));
    }

    async fn the_api_registers_signs_in_and_changes_passwords(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(1, 2).build().await;
        let (account, amount) = account_and_amount(&t.db, 1).await;
        let mut api = Browser::new(&app);
        let r = api.json("POST", "/api/v1/auth/register", None, json!({"account": account, "email": "bad", "check": amount, "accept_rules": true, "accept_personal_data": true, "consent": true})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("\"email\""), "{}", r.body);
        let r = api.json("POST", "/api/v1/auth/register", None, json!({"account": account, "email": "app@example.ru", "check": amount, "accept_rules": true, "accept_personal_data": true, "consent": true})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        assert!(r.headers.get("set-cookie").is_none(), "the API sets no cookies");
        let mail = smtp.deliver(&app).await.pop().unwrap();
        let r = api.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": password_in(&mail)})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["must_set_password"], true);
        let token = v["token"].as_str().unwrap().to_string();
        assert_eq!(api.json("GET", "/api/v1/me", Some(&token), json!(null)).await.status, StatusCode::FORBIDDEN);
        let r = api.json("POST", "/api/v1/auth/password", Some(&token), json!({"password": OWN_PASSWORD, "password_again": OWN_PASSWORD})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let me = api.json("GET", "/api/v1/me", Some(&token), json!(null)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
        assert_eq!(me["account"], account.as_str());
        // Without the personal-data consent nobody registers.
        let r = api.json("POST", "/api/v1/auth/register", None, json!({"account": account, "email": "app@example.ru", "check": amount, "accept_rules": true, "accept_personal_data": false, "consent": true})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("\"personal_data\""), "{}", r.body);
        // A consent published later is given through the API before anything else.
        assert_eq!(api.json("GET", "/api/v1/consent", None, json!(null)).await.status, StatusCode::NOT_FOUND);
        kabinet_app::rules::Rules::new(t.db.clone(), kabinet_domain::Document::Consent).publish(kabinet_app::staff::By::Cli, "Согласие", "Текст.").await.unwrap();
        let r = api.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": OWN_PASSWORD})).await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((v["consent_version_to_accept"].as_i64(), v["rules_version_to_accept"].as_i64()), (Some(1), None), "{v}");
        let r = api.json("GET", "/api/v1/me", Some(&token), json!(null)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("/api/v1/consent/accept"), "{}", r.body);
        let doc: serde_json::Value = serde_json::from_str(&api.json("GET", "/api/v1/consent", None, json!(null)).await.body).unwrap();
        assert_eq!((doc["version"].as_i64(), doc["body"].as_str()), (Some(1), Some("Текст.")));
        assert_eq!(api.json("POST", "/api/v1/consent/accept", Some(&token), json!({"version": 2})).await.status, StatusCode::CONFLICT);
        assert_eq!(api.json("POST", "/api/v1/consent/accept", Some(&token), json!({"version": 1})).await.status, StatusCode::NO_CONTENT);
        assert_eq!(api.json("GET", "/api/v1/me", Some(&token), json!(null)).await.status, StatusCode::OK);
        assert_eq!(me["email"], "app@example.ru");
        // A version written as 1156.0 is an integer to JSON: a stale version
        // (409), not a malformed body; a fraction is a field of the wrong type.
        let r = api.json("POST", "/api/v1/rules/accept", Some(&token), json!({"version": -1156.0})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = api.json("POST", "/api/v1/rules/accept", Some(&token), json!({"version": 1.5})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        // Without a JSON content type: 415, as a problem.
        let r = api.send(axum::http::Request::post("/api/v1/auth/token").body(axum::body::Body::from("{}")).unwrap()).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        // A malformed body is a JSON problem.
        let r = api.send(axum::http::Request::post("/api/v1/auth/token").header("content-type", "application/json").body(axum::body::Body::from("{")).unwrap()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        // A browser cookie is no API token and vice versa.
        assert_eq!(api.json("GET", "/api/v1/me", Some("nonsense"), json!(null)).await.status, StatusCode::UNAUTHORIZED);
        // Change the password: the current one is required; other tokens end.
        let r = api.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": OWN_PASSWORD})).await;
        let second: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let second = second["token"].as_str().unwrap().to_string();
        let r = api.json("POST", "/api/v1/auth/password", Some(&token), json!({"current": "wrong", "password": "new password 123", "password_again": "new password 123"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("\"current\""));
        let r = api.json("POST", "/api/v1/auth/password", Some(&token), json!({"current": OWN_PASSWORD, "password": "new password 123", "password_again": "new password 123"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(api.json("GET", "/api/v1/me", Some(&second), json!(null)).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(api.json("GET", "/api/v1/me", Some(&token), json!(null)).await.status, StatusCode::OK);
        let notice = smtp.deliver(&app).await;
        assert!(notice.iter().any(|m| m.subject.contains("Пароль изменён")));
        // Reset through the API.
        let r = api.json("POST", "/api/v1/auth/password-reset", None, json!({"account": account})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        let link = reset_path_in(&smtp.deliver(&app).await.pop().unwrap());
        let reset_token = link.rsplit('/').next().unwrap();
        let r = api.json("POST", "/api/v1/auth/password-reset/confirm", None, json!({"token": reset_token, "password": "третий пароль", "password_again": "третий пароль"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(api.json("GET", "/api/v1/me", Some(&token), json!(null)).await.status, StatusCode::UNAUTHORIZED);
        let r = api.json("POST", "/api/v1/auth/password-reset/confirm", None, json!({"token": reset_token, "password": "четвёртый пароль", "password_again": "четвёртый пароль"})).await;
        assert_eq!(r.status, StatusCode::GONE);
        // Revoke.
        let r = api.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": "третий пароль"})).await;
        let t3: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let t3 = t3["token"].as_str().unwrap().to_string();
        assert_eq!(api.json("DELETE", "/api/v1/auth/token", Some(&t3), json!(null)).await.status, StatusCode::NO_CONTENT);
        assert_eq!(api.json("GET", "/api/v1/me", Some(&t3), json!(null)).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn registration_checks_are_limited_per_account_across_addresses(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (account, amount) = account_and_amount(&t.db, 1).await;
        let number = kabinet_domain::AccountNumber::parse(&account).unwrap();
        let mut first = Browser::from_ip(&app, "203.0.113.1");
        let mut second = Browser::from_ip(&app, "203.0.113.2");
        let usual = register(&mut first, &account, "x@example.ru", "1,00").await;
        assert_eq!((usual.status, usual.location()), (StatusCode::SEE_OTHER, "/register/sent"));
        // Five wrong amounts from two addresses, then the right one: refused for
        // now (the delay after the fifth failure), with the very same answer.
        for i in 2..=5 {
            let b = if i % 2 == 0 { &mut second } else { &mut first };
            let r = register(b, &account, "x@example.ru", &format!("{i},00")).await;
            assert_eq!((r.status, r.location()), (usual.status, usual.location()));
        }
        // (Requests are checked in the background; let these be counted first.)
        app.settle().await;
        let r = register(&mut second, &account, "attacker@example.ru", &amount).await;
        assert_eq!((r.status, r.location(), r.body.as_str()), (usual.status, usual.location(), usual.body.as_str()));
        assert!(smtp.deliver(&app).await.is_empty(), "nothing sent, nothing created");
        assert!(t.db.users().by_account_number(&number).await.unwrap().is_none());
        let counter = t.db.counters().get(kabinet_domain::AccountId(1), kabinet_db::counters::CounterKind::Registration).await.unwrap();
        assert_eq!(counter.count, 5, "counted in the database, whichever address");
        let lines = t.db.audit().lines(Some(kabinet_domain::AccountId(1)), 50).await.unwrap();
        assert_eq!(lines.iter().filter(|l| l.event == "registration_failed").count(), 5);
        assert!(lines.iter().any(|l| l.event == "registration_refused" && l.ip == "203.0.113.2"), "{lines:?}");

        // Without delays, the daily cap: ten failures, then even the right
        // amount is refused until staff unlock the account.
        let mut s = settings(RegistrationMode::Amount);
        s.registration_throttle = kabinet_domain::AccountThrottle { base_delay: time::Duration::ZERO, ..kabinet_domain::AccountThrottle::REGISTRATION };
        let fast = TestApp::builder(&t.db).auth(s).build().await;
        let (other, other_amount) = account_and_amount(&t.db, 2).await;
        let mut b = Browser::from_ip(&fast, "203.0.113.3");
        for i in 0..10 {
            register(&mut b, &other, "y@example.ru", &format!("{},00", 10 + i)).await;
        }
        fast.settle().await;
        register(&mut b, &other, "y@example.ru", &other_amount).await;
        let sent = smtp.deliver(&fast).await;
        assert!(sent.is_empty(), "{:?}", t.db.audit().lines(Some(kabinet_domain::AccountId(2)), 50).await.unwrap());
        let other_id = kabinet_domain::AccountId(2);
        let lines = t.db.audit().lines(Some(other_id), 50).await.unwrap();
        assert_eq!(lines.iter().filter(|l| l.event == "registration_failed").count(), 10);
        assert!(lines[0].event == "registration_refused" && lines[0].details.contains("locked until"), "{:?}", lines[0]);
        kabinet_app::auth::registration::unlock_registration(&t.db, other_id).await.unwrap();
        register(&mut b, &other, "y@example.ru", &other_amount).await;
        let mails = smtp.deliver(&fast).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["y@example.ru".to_string()]);
    }

    async fn reset_and_notice_mails_are_limited_per_account(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(1, 1).build().await;
        let account = registered_resident(t, &app, &mut smtp, 1).await;
        let (_, amount) = account_and_amount(&t.db, 1).await;
        // Six requests from six addresses within the hour: the same answer to
        // each, three e-mails to the resident.
        let mut answers = Vec::new();
        for i in 0..5 {
            let mut b = Browser::from_ip(&app, &format!("198.51.100.{}", 20 + i));
            let r = b.submit("/password/reset", "/password/reset", &[("account", &account)]).await;
            answers.push((r.status, r.location().to_string()));
        }
        // A repeated registration with the right amount counts too (checked
        // after the resets above were counted).
        app.settle().await;
        let mut b = Browser::from_ip(&app, "198.51.100.40");
        let r = register(&mut b, &account, "stranger@example.ru", &amount).await;
        assert_eq!(r.location(), "/register/sent");
        assert!(answers.iter().all(|a| *a == (StatusCode::SEE_OTHER, "/password/reset/sent".to_string())), "{answers:?}");
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 3, "{:?}", mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
        assert!(mails.iter().all(|m| m.to == vec!["r1@example.ru".to_string()]));
        let lines = t.db.audit().lines(Some(kabinet_domain::AccountId(1)), 50).await.unwrap();
        let count = |e: &str| lines.iter().filter(|l| l.event == e).count();
        assert_eq!(count("password_reset_requested"), 3);
        assert_eq!(count("password_reset_suppressed"), 2);
        assert_eq!(count("registration_repeated_suppressed"), 1);
        // Only the newest link works.
        let mut working = 0;
        for m in &mails {
            working += usize::from(b.get(&reset_path_in(m)).await.status == StatusCode::OK);
        }
        assert_eq!(working, 1);
    }

    async fn reset_and_registration_answers_do_no_database_work(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(3, 1).build().await;
        let with_user = registered_resident(t, &app, &mut smtp, 1).await;
        let (without_user, amount) = account_and_amount(&t.db, 2).await;
        let mut b = Browser::new(&app);
        let reset_csrf = b.get("/password/reset").await.csrf();
        let register_csrf = b.get("/register").await.csrf();
        // With the database gone, every account still gets the same answer:
        // the answer is given before any lookup, so its timing cannot depend
        // on the account either (the lookups happen afterwards).
        t.db().close().await.unwrap();
        for account in [with_user.as_str(), without_user.as_str(), "99999999"] {
            let r = b.post_raw("/password/reset", &[("csrf", &reset_csrf), ("account", account)]).await;
            assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/password/reset/sent"), "{account}");
            let r = b.post_raw("/register", &[("csrf", &register_csrf), ("account", account), ("email", "z@example.ru"), ("check", &amount), ("accept_rules", "on"), ("personal_data", "on"), ("consent", "on")]).await;
            assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/register/sent"), "{account}");
            let r = b.json("POST", "/api/v1/auth/password-reset", None, json!({"account": account})).await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{account}");
        }
        app.settle().await;
    }

    async fn receipts_only_for_the_residents_own_account(t: &TestDb) {
        let Some(mut smtp) = Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(2, 2).build().await;
        let mine = registered_resident(t, &app, &mut smtp, 1).await;
        let (theirs, _) = account_and_amount(&t.db, 2).await;
        let period = t.db.billing().latest_invoice(kabinet_domain::AccountId(1)).await.unwrap().unwrap().period;
        let mut b = Browser::new(&app);
        // Not signed in: to the sign-in page.
        assert_eq!(b.get(&format!("/accounts/{mine}/receipts/{period}.pdf")).await.location(), "/login");
        login(&mut b, &mine, OWN_PASSWORD).await;
        let cabinet = b.get("/cabinet").await;
        assert!(cabinet.body.contains(&format!("/accounts/{mine}/receipts/{period}.pdf")));
        let r = b.get(&format!("/accounts/{mine}/receipts/{period}.pdf")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.bytes.starts_with(b"%PDF"));
        assert_eq!(r.headers.get("content-type").unwrap(), "application/pdf");
        let cd = r.headers.get("content-disposition").unwrap().to_str().unwrap();
        assert!(cd.contains(&format!("receipt-{period}-")), "{cd}");
        let r = b.get(&format!("/accounts/{theirs}/receipts/{period}.pdf")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!r.bytes.starts_with(b"%PDF"));
        assert_eq!(b.get(&format!("/accounts/{mine}/receipts/2001-01.pdf")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(b.get(&format!("/accounts/{mine}/receipts/garbage.pdf")).await.status, StatusCode::NOT_FOUND);
        // The API gives the same, to the same resident only.
        let r = b.json("POST", "/api/v1/auth/token", None, json!({"account": mine, "password": OWN_PASSWORD})).await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let token = v["token"].as_str().unwrap().to_string();
        let r = b.json("GET", &format!("/api/v1/accounts/{mine}/receipts/{period}"), Some(&token), json!(null)).await;
        assert!(r.bytes.starts_with(b"%PDF"));
        let r = b.json("GET", &format!("/api/v1/accounts/{theirs}/receipts/{period}"), Some(&token), json!(null)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        // A path that does not decode: a problem document with every header,
        // not axum's plain text.
        let r = b.json("GET", &format!("/api/v1/accounts/{mine}/receipts/%ff"), Some(&token), json!(null)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        assert!(r.body.contains("\"status\":400") && r.body.contains("Запрос не разобран"), "{}", r.body);
        for h in ["content-security-policy", "x-content-type-options", "cache-control", "referrer-policy"] {
            assert!(r.headers.get(h).is_some(), "{h}");
        }
        let r = b.get(&format!("/accounts/{mine}/receipts/%ff.pdf")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
        assert!(r.headers.get("content-security-policy").is_some());
    }
}

/// Publishes the Rules and the personal-data consent, version 1 each, as
/// `kabinet demo` does.
async fn publish_documents(t: &TestDb) {
    use kabinet_domain::Document;
    let texts = [
        (
            Document::Rules,
            "Правила пользования",
            "1. Регистрация.\n\n2. Вход.",
        ),
        (
            Document::Consent,
            "Согласие на обработку",
            "1. Оператор.\n\n2. Цели.",
        ),
    ];
    for (doc, title, body) in texts {
        kabinet_app::rules::Rules::new(t.db.clone(), doc)
            .publish(kabinet_app::staff::By::Cli, title, body)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let t = TestDb::sqlite().await;
    let mut b = Browser::new(&TestApp::builder(&t.db).build().await.router);
    let r = b.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, &pretty).unwrap();
    }
    let expected = std::fs::read_to_string(path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        pretty, expected,
        "the API changed: review it and run with UPDATE_SNAPSHOTS=1"
    );
    for p in [
        "/api/v1/auth/token",
        "/api/v1/auth/register",
        "/api/v1/auth/password-reset",
        "/api/v1/me",
        "/api/v1/accounts/{number}/receipts/{period}",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
    // The patterns the schemas publish are the domain's (each checked
    // against its parser by a property test there).
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ResetRequest"]["properties"]["account"]["pattern"],
        kabinet_domain::AccountNumber::PATTERN
    );
    assert_eq!(
        schemas["SettingsBody"]["properties"]["phone"]["pattern"],
        kabinet_domain::Phone::OPTIONAL_PATTERN
    );
    let codes: Vec<&str> = kabinet_domain::NotificationKind::ALL
        .iter()
        .map(|k| k.code())
        .collect();
    assert_eq!(schemas["NotificationCode"]["enum"], serde_json::json!(codes));
    // Every operation documents what any request can meet, and every error
    // is a problem document; operation ids are unique.
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "{method} {path}: operation id {id} twice");
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path}: {status}");
            }
            if op.get("requestBody").is_some() {
                for status in ["413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
            }
            for (status, r) in responses {
                if status.as_str() >= "400" {
                    let content = r["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    for path in [
        "/api/v1/auth/token",
        "/api/v1/auth/register",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
    ] {
        assert!(
            doc["paths"][path]["post"]["responses"].get("429").is_some(),
            "{path}: 429"
        );
    }
}
