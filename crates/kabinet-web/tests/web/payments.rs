//! Card payments end to end on both databases: the form and the sandbox
//! gateway through the pages, the API, and YooKassa through a local fake of
//! its API — with the races that lose or double payments elsewhere: the same
//! notification 50 times at once beside the payer's return, a 500 before the
//! 200 for one key, a server that stopped between writing the payment and
//! calling the gateway, and 1 000 payments with random interleavings.

use crate::common;
use crate::common::{Browser, TestApp, token};
use axum::http::StatusCode;
use kabinet_app::payments::GatewayChoice;
use kabinet_db::Repos;
use kabinet_db::card_payments::NewCardPayment;
use kabinet_domain::payments::CardPaymentStatus;
use kabinet_domain::{AccountId, AuditEvent, GatewayState, Kopecks, payment_source};
use kabinet_gateway::fake::FakeYooKassa;
use kabinet_gateway::yookassa::YooKassaConfig;
use kabinet_testkit::db_tests;
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;

pub(crate) const SHOP: &str = "shop-42";
pub(crate) const SECRET: &str = "test_secret";

/// The application over the sandbox gateway (the default).
fn sandbox_app(db: &kabinet_db::Db) -> common::TestAppBuilder<'_> {
    TestApp::builder(db)
}

/// The application over YooKassa served by `fake`, with short timeouts.
fn yookassa_app<'a>(
    db: &'a kabinet_db::Db,
    fake: &FakeYooKassa,
    sources: &[&str],
) -> common::TestAppBuilder<'a> {
    TestApp::builder(db).settings(yookassa_settings(fake, sources))
}

/// The settings of [`yookassa_app`].
pub(crate) fn yookassa_settings(fake: &FakeYooKassa, sources: &[&str]) -> kabinet_web::Settings {
    let mut s = common::server_settings(
        common::settings(kabinet_app::auth::RegistrationMode::Amount),
        100_000,
    );
    let mut c = YooKassaConfig::new(SHOP, SECRET);
    c.api_url = fake.url().to_string();
    c.timeout = Duration::from_millis(400);
    c.retry_delay = Duration::from_millis(5);
    s.app.gateway = GatewayChoice::YooKassa(c);
    s.app.payments.notification_sources = sources.iter().map(|x| x.parse().unwrap()).collect();
    // The race test's residents pay a hundred times each, and the gateway
    // notifies from one address many times a second.
    s.app.payments.starts_per_hour = 1000;
    s.web.machine_requests_per_minute = 100_000;
    s
}

/// Collects exported payment rows.
pub(crate) struct Sink<'a>(pub(crate) &'a mut Vec<kabinet_db::export::ExportedPayment>);

impl kabinet_db::export::ExportSink<kabinet_db::export::ExportedPayment> for Sink<'_> {
    fn row(&mut self, r: kabinet_db::export::ExportedPayment) -> Result<(), String> {
        self.0.push(r);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Portal payments credited to an account, and their sum.
pub(crate) async fn credited(db: &kabinet_db::Db, account: i64) -> (usize, Kopecks) {
    let (rows, _) = db.payments().page(AccountId(account), 0, 1000).await.unwrap();
    let portal: Vec<_> = rows
        .iter()
        .filter(|p| p.source == payment_source::PORTAL)
        .collect();
    (portal.len(), Kopecks::sum(portal.iter().map(|p| p.amount)))
}

pub(crate) async fn audit_count(db: &kabinet_db::Db, event: AuditEvent, needle: &str) -> usize {
    db.audit()
        .lines(None, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|l| l.event == event.as_str() && l.details.contains(needle))
        .count()
}

pub(crate) async fn mails_about(db: &kabinet_db::Db, subject: &str) -> usize {
    db.outbox()
        .messages(None, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.email.subject.contains(subject))
        .count()
}

pub(crate) fn notification(event: &str, id: &str) -> String {
    kabinet_gateway::notification_body(event, id)
}

pub(crate) async fn notify(app: &TestApp, body: &str) -> common::Resp {
    let mut b = Browser::from_ip(app, "185.71.76.5");
    b.send(
        axum::http::Request::post("/payments/notifications")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// Starts a payment through the API; returns the answer's JSON.
pub(crate) async fn api_pay(b: &mut Browser, token: &str, shares: Value) -> (StatusCode, Value) {
    let r = b
        .json(
            "POST",
            "/api/v1/payments",
            Some(token),
            json!({ "shares": shares }),
        )
        .await;
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

db_tests! {
    async fn the_sandbox_takes_a_payment_through_the_pages(t: &TestDb) {
        let app = sandbox_app(&t.db).demo(3, 2).build().await;
        let (mut b, number) = app.resident(1).await;
        let before = credited(&t.db, 1).await;

        let form = b.get("/pay").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let field = format!("amount_{number}");
        assert!(form.body.contains(&format!("name=\"{field}\"")), "{}", form.body);
        assert!(form.body.contains("Тестовый режим"));

        // Refused amounts come back with the reason and what was typed.
        let r = b.submit("/pay", "/pay", &[(&field, "0,50")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("не меньше 1 ₽") && r.body.contains("0,50"), "{}", r.body);
        let r = b.submit("/pay", "/pay", &[(&field, "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("хотя бы для одного"));
        let r = b.submit("/pay", "/pay", &[(&field, "12,3,4")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Another resident's account is not found.
        let other = t.db.accounts().by_id(AccountId(2)).await.unwrap().unwrap().number.to_string();
        let r = b.submit("/pay", "/pay", &[(&format!("amount_{other}"), "100")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(t.db.card_payments().count_by_status(CardPaymentStatus::Created).await.unwrap(), 0);

        // A payment: to the sandbox page, paid there, back to the return page.
        let r = b.submit("/pay", "/pay", &[(&field, "1 234,56")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let sandbox = r.location().to_string();
        assert!(sandbox.starts_with("/sandbox/pay/sbx-"), "{sandbox}");
        let page = b.get(&sandbox).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Тестовый платёжный сервис") && page.body.contains("1\u{a0}234,56"), "{}", page.body);
        // Before paying, the overview and the history show it in progress
        // (the account was marked, so the overview reads its card payments).
        // Warm: the readings settings are read once per few seconds.
        b.get("/meters").await;
        let before_statements = t.db.statements();
        let o = b.get("/cabinet").await;
        assert!(t.db.statements() - before_statements <= 7, "{}", t.db.statements() - before_statements);
        assert!(o.body.contains("в обработке"), "{}", o.body);
        let h = b.get("/payments").await;
        assert!(h.body.contains("в обработке"));

        let back = b.submit(&sandbox, &sandbox, &[("action", "pay")]).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        let ret = back.location().to_string();
        assert!(ret.starts_with("/payments/card/"), "{ret}");
        let done = b.get(&ret).await;
        assert_eq!(done.status, StatusCode::OK);
        assert!(done.body.contains("оплачено") && !done.body.contains("data-refresh"), "{}", done.body);
        // Paying the sandbox page again changes nothing.
        let settled = b.get(&sandbox).await;
        assert!(!settled.body.contains("value=\"pay\""), "a settled test payment shows no buttons");
        let again = b.submit(&sandbox, &sandbox, &[("action", "pay")]).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);

        // A sandbox payment is a test: recorded as paid, never credited as
        // money received, never announced, never exported.
        let after = credited(&t.db, 1).await;
        assert_eq!(after, before, "a test payment is not money received");
        assert!(done.body.contains("тестовый платёж"), "{}", done.body);
        assert!(done.body.contains("Тестовый режим оплаты"), "every page carries the banner");
        assert_eq!(mails_about(&t.db, "card_paid").await, 0, "no \"payment received\" queued");
        let o = b.get("/cabinet").await;
        assert!(!o.body.contains("1\u{a0}234,56"), "the balance did not drop");
        let id = ret.trim_start_matches("/payments/card/");
        assert_eq!(audit_count(&t.db, AuditEvent::PaymentStarted, id).await, 1);
        assert_eq!(audit_count(&t.db, AuditEvent::PaymentSettled, id).await, 1);

        // Another resident cannot see it.
        let (mut other_b, _) = app.resident(2).await;
        assert_eq!(other_b.get(&ret).await.status, StatusCode::NOT_FOUND);

        // Whoever holds a sandbox link but did not start the payment can
        // neither see nor press anything there; nor can a visitor.
        let r = b.submit("/pay", "/pay", &[(&field, "12")]).await;
        let theirs = r.location().to_string();
        assert_eq!(other_b.get(&theirs).await.status, StatusCode::NOT_FOUND);
        let pressed = other_b.submit("/cabinet", &theirs, &[("action", "pay")]).await;
        assert_eq!(pressed.status, StatusCode::NOT_FOUND, "{}", pressed.body);
        let mut visitor = Browser::new(&app);
        let anonymous = visitor.get(&theirs).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "signed-out visitors go to the sign-in");
        let sbx = theirs.trim_start_matches("/sandbox/pay/");
        assert_eq!(t.db.card_payments().sandbox_get(sbx).await.unwrap().unwrap().status, "pending");
        let b_page = b.get(&theirs).await;
        assert_eq!(b_page.status, StatusCode::OK, "the payer still can");

        // Declined and left pending.
        let r = b.submit("/pay", "/pay", &[(&field, "10")]).await;
        let sandbox = r.location().to_string();
        let back = b.submit(&sandbox, &sandbox, &[("action", "decline")]).await;
        let page = b.get(back.location()).await;
        assert!(page.body.contains("отменён"), "{}", page.body);
        let r = b.submit("/pay", "/pay", &[(&field, "11")]).await;
        let sandbox = r.location().to_string();
        let back = b.submit(&sandbox, &sandbox, &[("action", "pending")]).await;
        let page = b.get(back.location()).await;
        assert!(page.body.contains("data-refresh") && page.body.contains(&sandbox), "{}", page.body);
        assert_eq!(credited(&t.db, 1).await.1, after.1, "nothing more was credited");

        let p = t.db.card_payments().by_public_id(id).await.unwrap().unwrap();
        assert_eq!(p.status, CardPaymentStatus::Succeeded);
        assert!(p.test);
        assert_eq!(p.card.as_deref(), Some("Sandbox *0000"));
        // Nothing of it goes to billing.
        let run = t.db.exchange().start_run("export", "payments", "test.csv", "test").await.unwrap();
        let mut rows = Vec::new();
        t.db.exports()
            .export_payments(run, kabinet_db::export::ExportFilter::default(), &mut Sink(&mut rows))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{}", rows.len());
    }

    async fn without_a_gateway_nothing_can_be_paid(t: &TestDb) {
        // What an install that set up no gateway gets.
        let mut s = common::server_settings(common::settings(kabinet_app::auth::RegistrationMode::Amount), 1000);
        s.app.gateway = GatewayChoice::Disabled;
        let app = TestApp::builder(&t.db).demo(2, 2).settings(s.clone()).build().await;
        let (mut b, number) = app.resident(1).await;
        let form = b.get("/pay").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("Оплата картой не подключена") && form.body.contains("QR-коду"), "{}", form.body);
        assert!(!form.body.contains("Тестовый режим"), "no test banner either");
        let field = format!("amount_{number}");
        let r = b.submit("/cabinet", "/pay", &[(&field, "100")]).await;
        assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED, "{}", r.body);
        let tk = token(&mut b, &number).await;
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "100"}])).await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("QR-коду"), "{v}");
        assert_eq!(b.get("/sandbox/pay/sbx-anything").await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.db.card_payments().count_by_status(CardPaymentStatus::Created).await.unwrap(), 0);
        let r = notify(&app, &notification("payment.succeeded", "2f000000-000f-5000-8000-000000000000")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // In English too.
        let en = b.get("/pay?lang=en").await;
        assert!(en.body.contains("Card payment is not set up"), "{}", en.body);
    }

    async fn several_accounts_are_paid_in_one_payment_through_the_api(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let mut settings = yookassa_settings(&fake, &[]);
        settings.app.payments.starts_per_hour = 20;
        let app = TestApp::builder(&t.db).demo(3, 2).settings(settings.clone()).build().await;
        let pay_at_gateway = |id: &str| {
            let gp = fake.by_reference(id).unwrap();
            fake.settle(&gp.id, GatewayState::Succeeded);
            notification("payment.succeeded", &gp.id)
        };
        let (mut b, number) = app.resident(1).await;
        let second = app.link(&number, 2).await;
        let tk = token(&mut b, &number).await;

        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "0.5"}])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["errors"]["amounts"].as_str().unwrap().contains("1 ₽"), "{v}");
        let (status, _) = api_pay(&mut b, &tk, json!([{"account": "999999999", "amount": "5"}])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, v) = api_pay(
            &mut b,
            &tk,
            json!([{"account": number, "amount": "100.10"}, {"account": second.number.to_string(), "amount": "200"}]),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(v["payment"]["amount_kopecks"], 30_010);
        assert_eq!(v["payment"]["status"], "pending");
        let url = v["confirmation_url"].as_str().unwrap().to_string();
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let o = b.json("GET", &format!("/api/v1/accounts/{}/overview", second.number), Some(&tk), Value::Null).await;
        let o: Value = serde_json::from_str(&o.body).unwrap();
        assert_eq!(o["payments_in_progress"][0]["id"], id.as_str(), "{o}");
        assert!(url.starts_with("https://yoomoney.ru/"), "{url}");
        assert_eq!(v["payment"]["test"], false);
        let before = app.db().statements();
        assert_eq!(notify(&app, &pay_at_gateway(&id)).await.status, StatusCode::OK);
        let statements = app.db().statements() - before;
        // The per-address counter, reading the payment, then one
        // transaction that settles it: the status, a payment row per share
        // (two here), the audit line, the e-mail and its delivery job.
        // Measured at 13 on both databases.
        assert!(statements <= 13, "a settling notification ran {statements} statements");

        let one = b.json("GET", &format!("/api/v1/payments/{id}"), Some(&tk), Value::Null).await;
        let one: Value = serde_json::from_str(&one.body).unwrap();
        assert_eq!(one["status"], "succeeded");
        assert_eq!(one["settled"], true);
        assert_eq!(one["shares"].as_array().unwrap().len(), 2);
        let o = b.json("GET", &format!("/api/v1/accounts/{number}/overview"), Some(&tk), Value::Null).await;
        let o: Value = serde_json::from_str(&o.body).unwrap();
        assert_eq!(o["payments_in_progress"], json!([]), "settled: no longer in progress");
        let list = b.json("GET", "/api/v1/payments", Some(&tk), Value::Null).await;
        let list: Value = serde_json::from_str(&list.body).unwrap();
        assert_eq!(list["total"], 1);
        assert_eq!(credited(&t.db, 1).await.1, Kopecks(10_010));
        assert_eq!(credited(&t.db, 2).await.1, Kopecks(20_000));
        let hist = b
            .json("GET", &format!("/api/v1/accounts/{}/payments", second.number), Some(&tk), Value::Null)
            .await;
        assert!(hist.body.contains("\"status\":\"paid\""), "{}", hist.body);

        // The export carries one row per account.
        let mut rows = Vec::new();
        let run = t.db.exchange().start_run("export", "payments", "test.csv", "test").await.unwrap();
        t.db.exports()
            .export_payments(run, kabinet_db::export::ExportFilter::default(), &mut Sink(&mut rows))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.external_id.starts_with(&id)));

        // Two tabs paying the same: two payments, both recorded.
        let mut ids = Vec::new();
        for _ in 0..2 {
            let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "5"}])).await;
            assert_eq!(status, StatusCode::CREATED);
            ids.push(v["payment"]["id"].as_str().unwrap().to_string());
        }
        assert_ne!(ids[0], ids[1]);
        for id in &ids {
            notify(&app, &pay_at_gateway(id)).await;
        }
        assert_eq!(credited(&t.db, 1).await.1, Kopecks(11_010));
        // At most 20 payments an hour; the 21st is refused with a clear answer.
        for _ in 0..17 {
            let (status, _) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "1"}])).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "1"}])).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("за последний час"), "{v}");

        // Another resident's token cannot read it.
        let (mut c, other) = app.resident(3).await;
        let tk3 = token(&mut c, &other).await;
        let r = c.json("GET", &format!("/api/v1/payments/{id}"), Some(&tk3), Value::Null).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    async fn fifty_notifications_and_the_return_settle_once(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let app = yookassa_app(&t.db, &fake, &[]).demo(2, 2).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        let before = credited(&t.db, 1).await;
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "777.77"}])).await;
        assert_eq!(status, StatusCode::CREATED, "{v} {:?}", fake.rejections());
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        assert!(v["confirmation_url"].as_str().unwrap().starts_with("https://yoomoney.ru/"));
        let gp = fake.by_reference(&id).unwrap();
        assert_eq!(gp.request["receipt"]["customer"]["email"], "r1@example.ru");
        assert_eq!(gp.request["amount"]["value"], "777.77");

        fake.settle(&gp.id, GatewayState::Succeeded);
        let body = notification("payment.succeeded", &gp.id);
        let mut tasks = Vec::new();
        for i in 0..51 {
            let app = app.clone();
            let body = body.clone();
            let mut b = b.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                if i == 25 {
                    b.get(&format!("/payments/card/{id}")).await.status
                } else {
                    notify(&app, &body).await.status
                }
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::OK);
        }
        let after = credited(&t.db, 1).await;
        assert_eq!(after.0, before.0 + 1, "credited exactly once");
        assert_eq!(after.1, before.1 + Kopecks(77_777));
        assert_eq!(audit_count(&t.db, AuditEvent::PaymentSettled, &id).await, 1);
        assert_eq!(mails_about(&t.db, "card_paid").await, 1, "one \"payment received\" queued");
        // It goes through the notifications, written as it is sent.
        let dir = std::env::temp_dir().join(format!("kabinet-card-paid-{}", fastrand::u64(..)));
        let mailer = kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
            dir: dir.clone(),
            from: "УК <noreply@uk.example>".into(),
        })
        .unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let later = later.replace_time(time::macros::time!(12:00));
        assert_eq!(app.state.app.notify.send_email_as_of(&mailer, None, until, later).await.unwrap(), 1);
        let mail: String = std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
        assert!(mail.contains("List-Unsubscribe-Post"), "{mail}");
        assert_eq!(mails_about(&t.db, "Платёж получен").await, 1);
        assert_eq!(app.state.app.notify.send_email_as_of(&mailer, None, until, later).await.unwrap(), 0, "once");
        std::fs::remove_dir_all(&dir).ok();
        let p = t.db.card_payments().by_public_id(&id).await.unwrap().unwrap();
        assert_eq!(p.status, CardPaymentStatus::Succeeded);
        assert_eq!(p.card.as_deref(), Some("MasterCard *4444"));

        // A notification's body is not trusted: one about a payment the
        // gateway does not have changes nothing and is answered 200.
        let forged = notify(&app, &notification("payment.succeeded", "2f999999-000f-5000-8000-000000000000")).await;
        assert_eq!(forged.status, StatusCode::OK);
        assert_eq!(forged.body, "ignored");
        // A canceled notification for a paid payment changes nothing either.
        let r = notify(&app, &notification("payment.canceled", &gp.id)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(t.db.card_payments().by_public_id(&id).await.unwrap().unwrap().status, CardPaymentStatus::Succeeded);
        let r = notify(&app, "not json").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn a_500_then_a_200_makes_one_payment_and_sources_are_checked(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let app = yookassa_app(&t.db, &fake, &["185.71.76.0/27"]).demo(2, 2).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        fake.fail_next_creates(1);
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "50"}])).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(fake.create_calls(), 2);
        assert_eq!(fake.payments().len(), 1);
        let id = v["payment"]["id"].as_str().unwrap();
        let p = t.db.card_payments().by_public_id(id).await.unwrap().unwrap();
        assert_eq!(p.gateway_id.as_deref(), Some(fake.payments()[0].id.as_str()));
        assert_eq!(p.status, CardPaymentStatus::Pending);

        // The payment form may send the browser on to YooKassa's pages.
        let form = b.get("/pay").await;
        let csp = form.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
        assert!(csp.contains("form-action 'self' https://yoomoney.ru;"), "{csp}");
        // Notifications from outside the allow-list are refused.
        let body = notification("payment.succeeded", &fake.payments()[0].id);
        let mut outsider = Browser::from_ip(&app, "203.0.113.9");
        let r = outsider
            .send(axum::http::Request::post("/payments/notifications").body(axum::body::Body::from(body.clone())).unwrap())
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A gateway that refuses outright (4xx) fails the payment at once.
        let (status, _) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "100000000"}])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "over the largest payment");
    }

    async fn test_mode_capture_time_throttling_and_the_hourly_limit(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let mut settings = yookassa_settings(&fake, &[]);
        settings.app.payments.starts_per_hour = 20;
        let app = TestApp::builder(&t.db).demo(2, 2).settings(settings.clone()).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        let before = credited(&t.db, 1).await;

        // The shop's test mode: YooKassa says `test: true`; nothing is credited.
        fake.test_mode(true);
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "10"}])).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let gp = fake.by_reference(&id).unwrap();
        fake.settle(&gp.id, GatewayState::Succeeded);
        assert_eq!(notify(&app, &notification("payment.succeeded", &gp.id)).await.status, StatusCode::OK);
        let p = t.db.card_payments().by_public_id(&id).await.unwrap().unwrap();
        assert_eq!(p.status, CardPaymentStatus::Succeeded);
        assert!(p.test, "marked as a test");
        assert_eq!(credited(&t.db, 1).await, before, "a test-mode payment is not money received");
        fake.test_mode(false);

        // A real payment counts on the day the bank took the money: 00:30
        // on the 1st in Moscow, though Kabinet hears of it later.
        let (_, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "20"}])).await;
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let gp = fake.by_reference(&id).unwrap();
        fake.settle(&gp.id, GatewayState::Succeeded);
        let captured = time::macros::datetime!(2026-11-30 21:30 UTC);
        fake.set_captured_at(&gp.id, captured);
        notify(&app, &notification("payment.succeeded", &gp.id)).await;
        let (rows, _) = t.db.payments().page(AccountId(1), 0, 1000).await.unwrap();
        let row = rows.iter().find(|r| r.external_id.starts_with(&id)).expect("credited");
        assert_eq!(row.paid_at, captured);

        // 429 from the gateway is "later", not "failed".
        fake.throttle_next(10);
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "30"}])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
        assert_eq!(t.db.card_payments().count_by_status(CardPaymentStatus::Failed).await.unwrap(), 0);
        assert_eq!(t.db.card_payments().count_by_status(CardPaymentStatus::Created).await.unwrap(), 1);
        fake.throttle_next(0);

        // 40 starts at once against 20 an hour (3 made above): exactly 17 more.
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let mut b = b.clone();
            let tk = tk.clone();
            let number = number.clone();
            tasks.push(tokio::spawn(async move {
                api_pay(&mut b, &tk, json!([{"account": number, "amount": "1"}])).await.0
            }));
        }
        let mut made = 0;
        for task in tasks {
            match task.await.unwrap() {
                StatusCode::CREATED => made += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("{other}"),
            }
        }
        assert_eq!(made, 17, "the limit holds exactly");
        let user = t.db.users().by_account_number(&number.parse().unwrap()).await.unwrap().unwrap();
        let hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
        assert_eq!(t.db.card_payments().started_since(user.id, hour_ago).await.unwrap(), 20);
    }

    async fn notifications_are_machine_to_machine(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let mut settings = yookassa_settings(&fake, &[]);
        settings.web.machine_requests_per_minute = 3;
        let app = TestApp::builder(&t.db).demo(2, 2).settings(settings.clone()).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        let (_, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "15"}])).await;
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let gp = fake.by_reference(&id).unwrap();
        fake.settle(&gp.id, GatewayState::Succeeded);
        // The portal is closed for maintenance: notifications still land.
        settings.app.suspension = Some(kabinet_domain::Suspension {
            starts_at: OffsetDateTime::now_utc() - time::Duration::minutes(1),
            ends_at: None,
            message: String::new(),
        });
        let app = TestApp::builder(&t.db).settings(settings).build().await;
        let r = notify(&app, &notification("payment.succeeded", &gp.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.headers.get("set-cookie").is_none(), "no browser cookies");
        assert_eq!(t.db.card_payments().by_public_id(&id).await.unwrap().unwrap().status, CardPaymentStatus::Succeeded);
        let mut closed = b.clone();
        closed.app = app.router.clone();
        assert_eq!(closed.get("/cabinet").await.status, StatusCode::SERVICE_UNAVAILABLE, "residents' pages are closed");
        // A body larger than any notification is refused.
        let big = format!("{{\"event\":\"{}\"}}", "x".repeat(100 * 1024));
        let r = notify(&app, &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        // The per-address limit (3 a minute here).
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(notify(&app, &notification("payment.succeeded", &gp.id)).await.status);
        }
        assert_eq!(answers.iter().filter(|s| **s == StatusCode::OK).count(), 2, "{answers:?}");
        assert_eq!(answers[2..], [StatusCode::TOO_MANY_REQUESTS; 2], "{answers:?}");
    }

    async fn a_crash_before_or_during_the_gateway_call_is_reconciled(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let app = yookassa_app(&t.db, &fake, &[]).demo(2, 2).build().await;
        let payments = &app.state.app.payments;
        let now = OffsetDateTime::now_utc();

        // Killed after our insert, before the gateway call: only the row exists.
        let (mut b, number) = app.resident(1).await;
        let user = t.db.users().by_account_number(&number.parse().unwrap()).await.unwrap().unwrap();
        let tx = t.db.begin().await.unwrap();
        let lost = tx
            .card_payments()
            .insert(&NewCardPayment {
                public_id: "crash-before-call".into(),
                user_id: user.id,
                gateway: "yookassa".into(),
                amount: Kopecks(5_000),
                description: "Оплата ЖКУ".into(),
                email: Some("r1@example.ru".into()),
                ip: "192.0.2.1".into(),
                now,
                first_check: now + time::Duration::minutes(5),
                open_until: now + time::Duration::days(5),
                shares: vec![(AccountId(1), Kopecks(5_000))],
                test: false,
                method: None,
                fee: Kopecks::ZERO,
                save_method: false,
                saved_method_id: None,
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(payments.reconcile(now).await.unwrap().checked, 0, "not due yet");
        let r = payments.reconcile(now + time::Duration::minutes(6)).await.unwrap();
        assert_eq!(r.checked, 1);
        let p = t.db.card_payments().by_public_id(&lost.public_id).await.unwrap().unwrap();
        assert_eq!(p.status, CardPaymentStatus::Pending, "the same key made the gateway payment");
        assert_eq!(fake.payments().len(), 1);

        // Killed while the gateway call was out: the gateway made it, we never
        // heard; the notification arrives before anything else.
        let tk = token(&mut b, &number).await;
        fake.hang_next_creates(3, Duration::from_secs(1));
        let (status, _) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "60"}])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let made = fake.payments().into_iter().find(|p| p.amount == Kopecks(6_000)).unwrap();
        let ours = t.db.card_payments().by_public_id(&made.reference).await.unwrap().unwrap();
        assert_eq!(ours.status, CardPaymentStatus::Created);
        assert_eq!(ours.gateway_id, None);
        fake.settle(&made.id, GatewayState::Succeeded);
        let r = notify(&app, &notification("payment.succeeded", &made.id)).await;
        assert_eq!(r.status, StatusCode::OK);
        let ours = t.db.card_payments().by_public_id(&made.reference).await.unwrap().unwrap();
        assert_eq!(ours.status, CardPaymentStatus::Succeeded);
        assert_eq!(ours.gateway_id.as_deref(), Some(made.id.as_str()));

        // The first one is never paid: reconciliation backs off, then gives up;
        // a success reported after that is still recorded.
        let mut at = now + time::Duration::minutes(6);
        let mut expired = 0;
        for _ in 0..10 {
            at += time::Duration::days(1);
            expired += payments.reconcile(at).await.unwrap().expired;
        }
        assert_eq!(expired, 1);
        let p = t.db.card_payments().by_public_id(&lost.public_id).await.unwrap().unwrap();
        assert_eq!(p.status, CardPaymentStatus::Expired);
        let before = credited(&t.db, 1).await;
        fake.settle(p.gateway_id.as_deref().unwrap(), GatewayState::Succeeded);
        notify(&app, &notification("payment.succeeded", p.gateway_id.as_deref().unwrap())).await;
        let p = t.db.card_payments().by_public_id(&lost.public_id).await.unwrap().unwrap();
        assert_eq!(p.status, CardPaymentStatus::Succeeded);
        assert_eq!(credited(&t.db, 1).await.1, before.1 + Kopecks(5_000));
    }

    async fn a_thousand_payments_with_random_interleavings_add_up(t: &TestDb) {
        let fake = FakeYooKassa::start(SHOP, SECRET).await.unwrap();
        let app = yookassa_app(&t.db, &fake, &[]).demo(10, 1).build().await;
        let mut residents = Vec::new();
        for i in 1..=10 {
            let (mut b, number) = app.resident(i).await;
            let tk = token(&mut b, &number).await;
            residents.push((b, number, tk));
        }
        let seed = std::env::var("PAYMENT_RACE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261126u64);
        let total = 1000usize;
        let workers = 8usize;
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for w in 0..workers {
            let app = app.clone();
            let fake = fake.clone();
            let mut who: Vec<(Browser, String, String)> = residents
                .iter()
                .map(|(b, n, tk)| (b.clone(), n.clone(), tk.clone()))
                .collect();
            tasks.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(seed + w as u64);
                let mut unknown = 0u32;
                for _ in (w..total).step_by(workers) {
                    let r = rng.usize(0..who.len());
                    let (b, number, tk) = &mut who[r];
                    let amount = format!("{}.{:02}", rng.u32(1..5000), rng.u32(0..100));
                    if rng.u8(0..100) < 4 {
                        fake.hang_next_creates(3, Duration::from_millis(1500));
                    }
                    let (status, v) = api_pay(b, tk, json!([{"account": number, "amount": amount}])).await;
                    let id = match status {
                        StatusCode::CREATED => v["payment"]["id"].as_str().unwrap().to_string(),
                        StatusCode::SERVICE_UNAVAILABLE => {
                            unknown += 1;
                            continue;
                        }
                        other => panic!("unexpected {other}: {v}"),
                    };
                    let Some(gp) = fake.by_reference(&id) else { continue };
                    let outcome = match rng.u8(0..100) {
                        0..=59 => Some(GatewayState::Succeeded),
                        60..=84 => Some(GatewayState::Canceled),
                        _ => None,
                    };
                    if let Some(s) = outcome {
                        fake.settle(&gp.id, s);
                    }
                    let event = match outcome {
                        Some(GatewayState::Canceled) => "payment.canceled",
                        _ => "payment.succeeded",
                    };
                    let body = notification(event, &gp.id);
                    let mut steps = Vec::new();
                    for _ in 0..rng.usize(0..4) {
                        let app = app.clone();
                        let body = body.clone();
                        steps.push(tokio::spawn(async move { notify(&app, &body).await.status }));
                    }
                    for _ in 0..rng.usize(0..3) {
                        let mut b = b.clone();
                        let path = format!("/payments/card/{id}");
                        steps.push(tokio::spawn(async move { b.get(&path).await.status }));
                    }
                    for s in steps {
                        assert_eq!(s.await.unwrap(), StatusCode::OK);
                    }
                }
                unknown
            }));
        }
        let mut unknown = 0;
        for task in tasks {
            unknown += task.await.unwrap();
        }
        let traffic = started.elapsed();
        // Reconciliation until nothing is left unsettled.
        let payments = &app.state.app.payments;
        let mut at = OffsetDateTime::now_utc() + time::Duration::minutes(6);
        let mut passes = 0;
        loop {
            let r = payments.reconcile(at).await.unwrap();
            passes += 1;
            if r.checked == 0 {
                let open = t.db.card_payments().count_by_status(CardPaymentStatus::Created).await.unwrap()
                    + t.db.card_payments().count_by_status(CardPaymentStatus::Pending).await.unwrap();
                if open == 0 {
                    break;
                }
                at += time::Duration::hours(12);
            }
            assert!(passes < 500, "reconciliation does not finish");
        }
        let mut ours = Kopecks::ZERO;
        let mut count = [0u64; 6];
        for (i, s) in CardPaymentStatus::ALL.into_iter().enumerate() {
            count[i] = t.db.card_payments().count_by_status(s).await.unwrap();
        }
        for a in 1..=10 {
            ours += credited(&t.db, a).await.1;
        }
        let gateway = fake.succeeded_total();
        eprintln!(
            "{total} payments in {traffic:?} ({unknown} create calls timed out), reconciled in {passes} passes; \
             created/pending/succeeded/canceled/failed/expired = {count:?}; credited {ours}, the gateway says {gateway}"
        );
        assert_eq!(count[0] + count[1], 0, "nothing left unsettled");
        assert_eq!(ours, gateway, "what was credited is what the gateway took");
        assert_eq!(count.iter().sum::<u64>(), total as u64, "every payment has its row");
        assert_eq!(fake.payments().len(), total, "one gateway payment per payment");
        assert!(count[2] > 400 && count[3] > 100, "{count:?}");
    }
}
