//! Autopay on both databases against the stricter fake of YooKassa and the
//! sandbox: a method kept with a paid payment, autopay set through the API
//! and the pages, a new invoice paid with the kept method after its notice,
//! three failures in a row turning it off (each told), forgetting the
//! method, and one invoice debited once by two racing servers while the
//! gateway's notifications repeat.

use crate::common::{Browser, TestApp, token};
use crate::payments::{audit_count, credited, mails_about, notification, notify, yookassa_settings};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_domain::{AccountId, AuditEvent, GatewayState, Invoice, Kopecks, Period};
use kabinet_gateway::fake::FakeYooKassa;
use kabinet_testkit::db_tests;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// Adds the invoice of the period after the account's latest, for `rub`.
async fn new_invoice(db: &kabinet_db::Db, account: i64, rub: i64) -> Period {
    let latest = db
        .billing()
        .latest_invoice(AccountId(account))
        .await
        .unwrap()
        .unwrap();
    let period = latest.period.next();
    let today = OffsetDateTime::now_utc().date();
    let invoice = Invoice {
        account_id: AccountId(account),
        period,
        number: format!("AP-{}", period.yyyymm()),
        opening_balance: Kopecks::ZERO,
        charged: Kopecks(rub * 100),
        paid: Kopecks::ZERO,
        penalties: Kopecks::ZERO,
        total_due: Kopecks(rub * 100),
        due_date: today + Duration::days(20),
    };
    db.bulk()
        .insert_periods(&[kabinet_domain::BillingPeriod {
            period,
            issued_on: today,
            due_date: today + Duration::days(20),
        }])
        .await
        .unwrap();
    db.bulk()
        .insert_batch(&kabinet_db::bulk::Batch {
            invoices: vec![invoice],
            ..Default::default()
        })
        .await
        .unwrap();
    period
}

/// Sends the notification e-mails due at noon of `at`'s day.
async fn send_at(app: &TestApp, at: OffsetDateTime) {
    let dir = std::env::temp_dir().join(format!("kabinet-autopay-{}", fastrand::u64(..)));
    let mailer = kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
        dir: dir.clone(),
        from: "УК <noreply@uk.example>".into(),
    })
    .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    app.state
        .app
        .notify
        .send_email_as_of(&mailer, None, until, at.replace_time(time::macros::time!(12:00)))
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

async fn autopay_json(b: &mut Browser, tk: &str) -> Value {
    let r = b.json("GET", "/api/v1/autopay", Some(tk), Value::Null).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// Pays through the API asking to keep the method; settles it at the fake.
async fn pay_and_keep(app: &TestApp, fake: &FakeYooKassa, b: &mut Browser, tk: &str, number: &str) {
    let (status, v) = api_pay_keeping(b, tk, number).await;
    assert_eq!(status, StatusCode::CREATED, "{v} {:?}", fake.rejections());
    let id = v["payment"]["id"].as_str().unwrap();
    let gp = fake.by_reference(id).unwrap();
    assert_eq!(gp.request["save_payment_method"], true);
    fake.settle(&gp.id, GatewayState::Succeeded);
    assert_eq!(
        notify(app, &notification("payment.succeeded", &gp.id))
            .await
            .status,
        StatusCode::OK
    );
}

async fn api_pay_keeping(b: &mut Browser, tk: &str, number: &str) -> (StatusCode, Value) {
    let r = b
        .json(
            "POST",
            "/api/v1/payments",
            Some(tk),
            json!({"shares": [{"account": number, "amount": "10"}], "save_method": true}),
        )
        .await;
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

db_tests! {
    async fn autopay_pays_new_invoices_and_turns_off_after_three_failures(t: &TestDb) {
        let fake = FakeYooKassa::start(crate::payments::SHOP, crate::payments::SECRET).await.unwrap();
        let app = TestApp::builder(&t.db).demo(2, 2).settings(yookassa_settings(&fake, &[])).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        let autopay = &app.state.app.autopay;
        let now = OffsetDateTime::now_utc();

        // Without a kept method, autopay cannot be set.
        let r = b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": 1, "max_amount": "5000"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

        pay_and_keep(&app, &fake, &mut b, &tk, &number).await;
        let v = autopay_json(&mut b, &tk).await;
        assert_eq!(v["methods"][0]["title"], "MasterCard *4444", "{v}");
        let method = v["methods"][0]["id"].as_i64().unwrap();
        assert_eq!(audit_count(&t.db, AuditEvent::MethodSaved, "MasterCard").await, 1);

        let r = b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": method, "max_amount": "0"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("\"max\""), "{}", r.body);
        let r = b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": method, "max_amount": "5000", "day": 29})).await;
        assert!(r.body.contains("\"day\""), "{}", r.body);
        let r = b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": method, "max_amount": "5000"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((v["accounts"][0]["enabled"].as_bool(), v["accounts"][0]["max_kopecks"].as_i64()), (Some(true), Some(500_000)), "{v}");

        // The invoices there before it was set are not paid.
        assert_eq!(autopay.run(now).await.unwrap().planned, 0);

        // A new invoice: the notice first, the debit two days later.
        let c1 = credited(&t.db, 1).await.1;
        let payments_before = fake.payments().len();
        let period = new_invoice(&t.db, 1, 1234).await;
        let r = autopay.run(now).await.unwrap();
        assert_eq!((r.planned, r.noticed, r.paid), (1, 1, 0), "{r:?}");
        assert_eq!(autopay.run(now + Duration::days(1)).await.unwrap().paid, 0, "not before its day");
        let overview = b.get("/cabinet").await;
        assert!(overview.body.contains("будет списано"), "{}", overview.body);
        let r = autopay.run(now + Duration::days(3)).await.unwrap();
        assert_eq!(r.paid, 1, "{r:?}");
        assert_eq!(fake.payments().len(), payments_before + 1);
        let kept = fake.payments().pop().unwrap();
        // The invoice less the 10 ₽ paid since its month (the payment that
        // kept the method).
        assert_eq!((kept.request["payment_method_id"].as_str(), kept.request["amount"]["value"].as_str()), (Some(format!("pm-{}", fake.payments()[payments_before - 1].id).as_str()), Some("1224.00")));
        assert!(kept.request.get("confirmation").is_none());
        assert_eq!(credited(&t.db, 1).await.1, c1 + Kopecks(122_400));
        assert_eq!(autopay.run(now + Duration::days(4)).await.unwrap(), kabinet_app::autopay::AutopayRun::default(), "nothing more");
        let overview = b.get("/cabinet").await;
        assert!(overview.body.contains("оплачено"), "{}", overview.body);
        let v = autopay_json(&mut b, &tk).await;
        assert_eq!(v["accounts"][0]["debits"][0]["status"], "paid", "{v}");
        assert_eq!(v["accounts"][0]["debits"][0]["period"], period.to_string());
        app.send_notifications().await;
        assert_eq!(mails_about(&t.db, "Скоро автоплатёж").await, 1);

        // An invoice over the maximum is not paid, and the resident is told.
        new_invoice(&t.db, 1, 6000).await;
        let r = autopay.run(now).await.unwrap();
        assert_eq!((r.planned, r.skipped), (1, 1), "{r:?}");
        assert_eq!(autopay.run(now + Duration::days(3)).await.unwrap().paid, 0);

        // Three refusals in a row: each told, the third turns it off.
        fake.decline_saved_next(3);
        for round in 1..=3 {
            new_invoice(&t.db, 1, 100).await;
            autopay.run(now).await.unwrap();
            let r = autopay.run(now + Duration::days(3)).await.unwrap();
            assert_eq!((r.failed, r.turned_off), (1, u32::from(round == 3)), "round {round}: {r:?}");
        }
        let v = autopay_json(&mut b, &tk).await;
        assert_eq!((v["accounts"][0]["enabled"].as_bool(), v["accounts"][0]["failures"].as_i64()), (Some(false), Some(3)), "{v}");
        assert_eq!(audit_count(&t.db, AuditEvent::AutopayOff, "after 3 failed").await, 1);
        // The failures were told at the debits' time, three days on.
        send_at(&app, now + Duration::days(5)).await;
        assert_eq!(mails_about(&t.db, "не прошёл").await, 3);
        assert_eq!(mails_about(&t.db, "выключен").await, 1);
        assert_eq!(mails_about(&t.db, "не оплачен автоматически").await, 1);
        let page = b.get(&format!("/payments/card/autopay-{}", t.db.autopay().debit_of(AccountId(1), period).await.unwrap().unwrap().id)).await;
        assert!(page.body.contains("оплачено"), "{}", page.body);

        // On again (failures start over), then the method forgotten: off.
        let r = b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": method, "max_amount": "5000", "day": 10})).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = b.json("DELETE", &format!("/api/v1/payment-methods/{method}"), Some(&tk), Value::Null).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = b.json("DELETE", &format!("/api/v1/payment-methods/{method}"), Some(&tk), Value::Null).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let v = autopay_json(&mut b, &tk).await;
        assert_eq!((v["methods"].as_array().unwrap().len(), v["accounts"][0]["enabled"].as_bool()), (0, Some(false)), "{v}");
        assert_eq!(audit_count(&t.db, AuditEvent::MethodForgotten, "method").await, 1);
        assert_eq!(audit_count(&t.db, AuditEvent::AutopayOn, &number).await, 2);
        // Another resident cannot forget or use it.
        let (mut other, other_number) = app.resident(2).await;
        let tk2 = token(&mut other, &other_number).await;
        let r = other.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk2), json!({"method_id": method, "max_amount": "5000"})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "not their account");
    }

    async fn one_invoice_is_debited_once_by_racing_servers(t: &TestDb) {
        let fake = FakeYooKassa::start(crate::payments::SHOP, crate::payments::SECRET).await.unwrap();
        let settings = yookassa_settings(&fake, &[]);
        let app = TestApp::builder(&t.db).demo(2, 2).settings(settings.clone()).build().await;
        let second = TestApp::builder(&t.db).settings(settings).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        pay_and_keep(&app, &fake, &mut b, &tk, &number).await;
        let method = autopay_json(&mut b, &tk).await["methods"][0]["id"].as_i64().unwrap();
        let r = b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": method, "max_amount": "5000"})).await;
        assert_eq!(r.status, StatusCode::OK);
        let c1 = credited(&t.db, 1).await;
        let before = fake.payments().len();
        let period = new_invoice(&t.db, 1, 777).await;
        let now = OffsetDateTime::now_utc();
        for at in [now, now + Duration::days(3)] {
            let mut tasks = Vec::new();
            for i in 0..8 {
                let runner = if i % 2 == 0 { app.clone() } else { second.clone() };
                tasks.push(tokio::spawn(async move { runner.state.app.autopay.run(at).await.unwrap() }));
            }
            // The gateway's notifications of whatever it made, over and over.
            for p in fake.payments().iter().skip(before) {
                for _ in 0..5 {
                    notify(&app, &notification("payment.succeeded", &p.id)).await;
                }
            }
            let mut paid = 0;
            for task in tasks {
                paid += task.await.unwrap().paid;
            }
            if at > now {
                assert_eq!(paid, 1, "one runner paid it");
            }
        }
        for p in fake.payments().iter().skip(before) {
            for _ in 0..5 {
                notify(&second, &notification("payment.succeeded", &p.id)).await;
            }
        }
        assert_eq!(fake.payments().len(), before + 1, "one payment at the gateway");
        let after = credited(&t.db, 1).await;
        // The invoice less the 10 ₽ paid since its month.
        assert_eq!((after.0, after.1), (c1.0 + 1, c1.1 + Kopecks(76_700)), "credited once");
        let debit = t.db.autopay().debit_of(AccountId(1), period).await.unwrap().unwrap();
        assert_eq!(debit.status, kabinet_domain::autopay::DebitStatus::Paid);
        let paid = t.db.card_payments().by_public_id(&format!("autopay-{}", debit.id)).await.unwrap().unwrap();
        assert_eq!((paid.status, debit.card_payment_id), (kabinet_domain::CardPaymentStatus::Succeeded, Some(paid.id)));
    }

    async fn autopay_through_the_pages_in_the_sandbox(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 2).build().await;
        let (mut b, number) = app.resident(1).await;
        let field = format!("amount_{number}");
        let page = b.get("/autopay").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Сохранённых способов оплаты нет"), "{}", page.body);
        let r = b.submit("/pay", "/pay", &[(&field, "100"), ("save", "1")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let sandbox = r.location().to_string();
        let back = b.submit(&sandbox, &sandbox, &[("action", "pay")]).await;
        let card = b.get(back.location()).await;
        assert!(card.body.contains("Способ оплаты сохранён"), "{}", card.body);
        let page = b.get("/autopay").await;
        assert!(page.body.contains("Sandbox *0000"), "{}", page.body);
        let method = t.db.autopay().methods_of(kabinet_domain::UserId(1)).await.unwrap();
        let method = method.first().map(|m| m.id.to_string()).unwrap_or_default();
        let r = b.submit("/autopay", "/autopay", &[("account", &number), ("method", &method), ("max", "abc"), ("day", "0"), ("action", "on")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Укажите предел суммы"), "{}", r.body);
        let r = b.submit("/autopay", "/autopay", &[("account", &number), ("method", &method), ("max", "10 000"), ("day", "0"), ("action", "on")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = b.get("/autopay").await;
        assert!(page.body.contains("Автоплатёж включён"), "{}", page.body);
        new_invoice(&t.db, 1, 500).await;
        let now = OffsetDateTime::now_utc();
        app.state.app.autopay.run(now).await.unwrap();
        let r = app.state.app.autopay.run(now + Duration::days(3)).await.unwrap();
        assert_eq!(r.paid, 1, "{r:?}");
        let overview = b.get("/cabinet").await;
        assert!(overview.body.contains("Автоплатёж") && overview.body.contains("оплачено"), "{}", overview.body);
        let r = b.submit("/autopay", "/autopay", &[("account", &number), ("action", "off")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(b.get("/autopay").await.body.contains("Автоплатёж выключен"));
        assert!(!b.get("/cabinet").await.body.contains("href=\"/autopay\""), "the overview no longer shows it");
    }

    async fn a_claim_that_never_wrote_its_payment_is_taken_back(t: &TestDb) {
        let fake = FakeYooKassa::start(crate::payments::SHOP, crate::payments::SECRET).await.unwrap();
        let app = TestApp::builder(&t.db).demo(2, 2).settings(yookassa_settings(&fake, &[])).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        pay_and_keep(&app, &fake, &mut b, &tk, &number).await;
        let method = autopay_json(&mut b, &tk).await["methods"][0]["id"].as_i64().unwrap();
        b.json("PUT", &format!("/api/v1/autopay/{number}"), Some(&tk), json!({"method_id": method, "max_amount": "5000"})).await;
        let period = new_invoice(&t.db, 1, 300).await;
        let now = OffsetDateTime::now_utc();
        app.state.app.autopay.run(now).await.unwrap();
        // A server claimed it and stopped before writing the payment.
        let debit = t.db.autopay().debit_of(AccountId(1), period).await.unwrap().unwrap();
        use kabinet_domain::autopay::DebitStatus as S;
        assert!(t.db.autopay().transition(debit.id, S::Scheduled, S::Charging, None, now).await.unwrap());
        let before = fake.payments().len();
        let at = now + Duration::days(3);
        assert_eq!(app.state.app.autopay.run(at).await.unwrap().paid, 0, "taken back, not paid in the same pass");
        assert_eq!(t.db.autopay().debit(debit.id).await.unwrap().unwrap().status, S::Scheduled);
        assert_eq!(app.state.app.autopay.run(at).await.unwrap().paid, 1);
        assert_eq!(fake.payments().len(), before + 1);
    }
}
