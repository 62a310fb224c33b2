//! SMS on both databases, against the local fakes of SMS.ru and SMSC.ru: a
//! phone is verified by a code before any SMS goes to it — the code works
//! ten minutes for five guesses, five codes a day at most per phone and per
//! resident — and then the notifications the resident ticked for SMS go
//! there too, through the provider's errors (no money: tried again later; a
//! bad number: given up), with the provider's delivery status followed to
//! the support card.

use crate::common::{Browser, TestApp};
use crate::office::{demo_package_at, import_through_office};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_domain::notify::{Channel, DeliveryState};
use kabinet_domain::staff::Role;
use kabinet_domain::{AuditEvent, OutboxStatus};
use kabinet_sms::fake::FakeSmsProviders;
use kabinet_testkit::db_tests;
use std::time::{Duration as StdDuration, Instant};
use time::{Duration, OffsetDateTime};

const PHONE: &str = "+7 912 345-67-89";

async fn fake() -> FakeSmsProviders {
    FakeSmsProviders::start("API-KEY", "org", "secret").await.unwrap()
}

fn smsru(url: &str) -> impl FnOnce(&mut kabinet_web::Settings) + use<> {
    let url = url.to_string();
    move |s| {
        s.app.notify.quiet_hours = None;
        s.app.notify.sms_per_second = 1000;
        s.app.notify.sms = kabinet_sms::SmsConfig::SmsRu {
            base_url: url,
            api_id: "API-KEY".into(),
            sender: Some("UK-Sever".into()),
        };
    }
}

fn smsc(url: &str) -> impl FnOnce(&mut kabinet_web::Settings) + use<> {
    let url = url.to_string();
    move |s| {
        s.app.notify.quiet_hours = None;
        s.app.notify.sms_per_second = 1000;
        s.app.notify.email_per_second = 1000;
        s.app.notify.sms = kabinet_sms::SmsConfig::Smsc {
            base_url: url,
            login: "org".into(),
            password: "secret".into(),
            sender: None,
        };
    }
}

/// Runs the verification-code SMS jobs that are due.
async fn run_sms_jobs(app: &TestApp) -> Vec<kabinet_app::jobs::Ran> {
    app.settle().await;
    let (mailer, _) = (
        kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
            dir: std::env::temp_dir().join("kabinet-sms-unused"),
            from: "УК <noreply@uk.example>".into(),
        })
        .unwrap(),
        (),
    );
    let env = kabinet_app::jobs::JobEnv {
        app: app.state.app.clone(),
        mailer: std::sync::Arc::new(mailer),
    };
    let runner = kabinet_app::jobs::Runner::new(env, Default::default()).unwrap();
    runner
        .run_due(Some(&[kabinet_domain::jobs::SMS]), OffsetDateTime::now_utc())
        .await
        .unwrap()
}

/// The six digits of the newest SMS to `digits`.
fn last_code(fake: &FakeSmsProviders, digits: &str) -> String {
    let m = fake
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.phone == digits)
        .expect("a code SMS");
    let code: String = m.text.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{}", m.text);
    code
}

async fn set_phone(b: &mut Browser, phone: &str, extra: &[(&str, &str)]) {
    let mut fields = vec![("phone", phone), ("notify_new_invoice", "on")];
    fields.extend_from_slice(extra);
    let r = b.submit("/settings", "/settings", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn ask_code(b: &mut Browser) -> crate::common::Resp {
    b.submit("/settings", "/settings/phone/code", &[]).await
}

async fn verify(app: &TestApp, b: &mut Browser, fake: &FakeSmsProviders) {
    let r = ask_code(b).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        run_sms_jobs(app)
            .await
            .iter()
            .all(|r| *r == kabinet_app::jobs::Ran::Done)
    );
    let code = last_code(fake, "79123456789");
    let r = b
        .submit("/settings", "/settings/phone/verify", &[("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

db_tests! {
    async fn a_phone_is_verified_by_a_code_within_the_limits(t: &TestDb) {
        let fake = fake().await;
        let app = TestApp::builder(&t.db).demo(3, 2).configure(smsru(fake.url())).build().await;
        let (mut b, number) = app.resident(1).await;
        let me = app.db().users().by_account_number(&kabinet_domain::AccountNumber::parse(&number).unwrap()).await.unwrap().unwrap();

        // No phone yet: told to give one.
        let r = ask_code(&mut b).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("Сначала укажите телефон"), "{}", r.body);
        set_phone(&mut b, PHONE, &[("sms_new_invoice", "on")]).await;
        let page = b.get("/settings").await;
        assert!(page.body.contains("ещё не подтверждён"), "{}", page.body);

        // A code goes by SMS through SMS.ru, with the organization's sender.
        let r = ask_code(&mut b).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(fake.messages().is_empty(), "sent by a job, not in the request");
        run_sms_jobs(&app).await;
        let sent = fake.messages();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].phone, "79123456789");
        assert_eq!(sent[0].sender.as_deref(), Some("UK-Sever"));
        let code = last_code(&fake, "79123456789");

        // Five wrong guesses and the code stops working, the right one too.
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let r = b.submit("/settings", "/settings/phone/verify", &[("code", wrong)]).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(r.body.contains("Код неверный"), "{}", r.body);
        }
        let r = b.submit("/settings", "/settings/phone/verify", &[("code", &code)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "burnt by the guesses");
        assert!(!app.db().users().preferences(me.id).await.unwrap().unwrap().phone_verified);

        // A code past its ten minutes does not work either.
        assert_eq!(ask_code(&mut b).await.status, StatusCode::SEE_OTHER);
        run_sms_jobs(&app).await;
        let stale = last_code(&fake, "79123456789");
        let now = OffsetDateTime::now_utc();
        assert!(app.db().phone_codes().live(me.id, now).await.unwrap().is_some());
        assert!(app.db().phone_codes().live(me.id, now + Duration::minutes(10) + Duration::seconds(5)).await.unwrap().is_none(), "expires after ten minutes");
        // Right code, within its time: verified, audited.
        let r = b.submit("/settings", "/settings/phone/verify", &[("code", &stale)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = b.get("/settings?done=phone").await;
        assert!(page.body.contains("Телефон подтверждён"), "{}", page.body);
        let p = app.db().users().preferences(me.id).await.unwrap().unwrap();
        assert!(p.phone_verified);
        assert!(p.sms_notifications.contains(&kabinet_domain::NotificationKind::NewInvoice));
        let events: Vec<String> = app.db().audit().of_user(me.id, 50).await.unwrap().into_iter().map(|e| e.event).collect();
        assert!(events.contains(&AuditEvent::PhoneVerified.as_str().to_string()), "{events:?}");
        assert_eq!(events.iter().filter(|e| *e == AuditEvent::PhoneCodeSent.as_str()).count(), 2);
        // Verified: no more codes for it; the API says so too.
        assert_eq!(ask_code(&mut b).await.status, StatusCode::CONFLICT);
        let mut api = Browser::new(&app);
        let token = crate::common::token(&mut api, &number).await;
        let r = api.json("GET", "/api/v1/settings", Some(&token), serde_json::Value::Null).await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["phone_verified"], true, "{v}");
        assert_eq!(v["sms_notifications"], serde_json::json!(["new_invoice"]));
        let r = api.json("POST", "/api/v1/settings/phone/code", Some(&token), serde_json::json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        // SMS for a kind that is not sent by SMS is not kept.
        let mut body = v.clone();
        body["sms_notifications"] = serde_json::json!(["new_invoice", "request_updates"]);
        let r = api.json("PUT", "/api/v1/settings", Some(&token), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["sms_notifications"], serde_json::json!(["new_invoice"]));
        assert_eq!(v["phone_verified"], true, "the same number stays verified");
        let r = api.json("POST", "/api/v1/settings/phone/verify", Some(&token), serde_json::json!({"code": "12"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

        // Another number is not verified; back to the verified one, it is.
        set_phone(&mut b, "+7 912 000-00-01", &[]).await;
        assert!(!app.db().users().preferences(me.id).await.unwrap().unwrap().phone_verified);

        // Five codes a day per resident: three more go, the sixth is refused.
        for _ in 0..3 {
            assert_eq!(ask_code(&mut b).await.status, StatusCode::SEE_OTHER);
        }
        let r = ask_code(&mut b).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(r.body.contains("5 кодов"), "{}", r.body);

        // And five a day per phone, whoever asks: a neighbour naming the
        // first number has two left of its five.
        let (mut other, _) = app.resident(2).await;
        set_phone(&mut other, PHONE, &[]).await;
        // The first number had two codes today; three more go.
        for _ in 0..3 {
            assert_eq!(ask_code(&mut other).await.status, StatusCode::SEE_OTHER);
        }
        assert_eq!(ask_code(&mut other).await.status, StatusCode::TOO_MANY_REQUESTS);
        run_sms_jobs(&app).await;
        assert_eq!(fake.messages().iter().filter(|m| m.phone == "79123456789").count(), 5);
        assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
    }

    async fn notifications_go_by_sms_through_the_providers_errors_and_statuses(t: &TestDb) {
        let fake = fake().await;
        let app = TestApp::builder(&t.db).configure(smsc(fake.url())).build().await;
        let notify = &app.state.app.notify;
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = OffsetDateTime::now_utc().date();
        import_through_office(&app, &mut acc, &demo_package_at(3, today - Duration::days(31), 1)).await;
        let ids: Vec<i64> = app.db().accounts().first_open(3).await.unwrap().into_iter().map(|a| a.id.0).collect();
        // The first verifies the phone and wants invoices by SMS; the second
        // ticks SMS but never verifies; the third wants no SMS.
        let (mut one, first) = app.resident(ids[0]).await;
        set_phone(&mut one, PHONE, &[("sms_new_invoice", "on"), ("sms_payment_received", "on"), ("sms_request_updates", "on")]).await;
        verify(&app, &mut one, &fake).await;
        let (mut two, _) = app.resident(ids[1]).await;
        set_phone(&mut two, "+7 912 000-00-02", &[("sms_new_invoice", "on")]).await;
        let (_three, _) = app.resident(ids[2]).await;
        let me = app.db().users().by_account_number(&kabinet_domain::AccountNumber::parse(&first).unwrap()).await.unwrap().unwrap();
        let prefs = app.db().users().preferences(me.id).await.unwrap().unwrap();
        assert!(!prefs.sms_notifications.contains(&kabinet_domain::NotificationKind::RequestUpdates), "not sent by SMS: not kept");

        import_through_office(&app, &mut acc, &demo_package_at(3, today, 2)).await;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let waiting = notify.waiting(Channel::Sms).await.unwrap();
        assert!(waiting >= 1, "the invoice, and payments of the month");
        let queued = app.db().outbox().texts_of_user(me.id, Channel::Sms, 50).await.unwrap();
        assert_eq!(queued.iter().filter(|m| m.kind.is_some()).count() as u64, waiting, "only the verified resident");
        assert_eq!(queued.iter().filter(|m| m.kind.as_deref() == Some("new_invoice")).count(), 1);

        // The provider's account is empty: nothing goes, all kept for later.
        fake.fail_next(&[3]);
        let before = fake.messages().len();
        let now = OffsetDateTime::now_utc();
        let sent = notify.send_sms_as_of(Instant::now() + StdDuration::from_secs(30), now).await.unwrap();
        assert_eq!(sent, waiting - 1, "one refused for lack of money");
        let refused = app.db().outbox().texts_of_user(me.id, Channel::Sms, 50).await.unwrap().into_iter().find(|m| m.status == OutboxStatus::Pending && m.kind.is_some()).expect("kept");
        assert!(refused.last_error.contains("no money"), "{}", refused.last_error);
        assert_eq!(notify.send_sms_as_of(Instant::now() + StdDuration::from_secs(5), now).await.unwrap(), 0, "not before its retry");
        let later = now + Duration::hours(1);
        assert_eq!(notify.send_sms_as_of(Instant::now() + StdDuration::from_secs(5), later).await.unwrap(), 1, "sent on the retry");
        assert_eq!(notify.waiting(Channel::Sms).await.unwrap(), 0);
        let taken: Vec<_> = fake.messages()[before..].to_vec();
        assert_eq!(taken.len() as u64, waiting, "each once");
        let invoice = taken.iter().find(|m| m.text.contains("счёт за")).expect("the invoice SMS");
        assert!(invoice.text.contains(&first) && invoice.text.contains("₽"), "{}", invoice.text);
        assert_eq!(invoice.phone, "79123456789");
        assert!(invoice.reference.is_some(), "SMSC gets our id");
        // Sending again sends nothing.
        assert_eq!(notify.send_sms_as_of(Instant::now() + StdDuration::from_secs(5), later).await.unwrap(), 0);

        // The provider's word on delivery is followed.
        assert_eq!(notify.poll_sms(OffsetDateTime::now_utc()).await.unwrap(), 0, "still on their way");
        fake.deliver(DeliveryState::Delivered);
        // A provider's delivery report is only a hint: what it names is
        // asked about; a forged one about nobody's message changes nothing.
        let mut machine = Browser::new(&app);
        let forged = machine.post_raw("/sms/status", &[("id", "999999"), ("phone", "79123456789"), ("status", "1")]).await;
        assert_eq!((forged.status, forged.body.as_str()), (StatusCode::OK, "100"));
        let calls = fake.status_calls();
        let report = machine.post_raw("/sms/status", &[("id", taken[0].id.as_str()), ("phone", "79123456789"), ("status", "1")]).await;
        assert_eq!((report.status, report.body.as_str()), (StatusCode::OK, "100"));
        assert_eq!(fake.status_calls(), calls + 1, "one question, for the message named");
        let reported = app.db().outbox().texts_of_user(me.id, Channel::Sms, 50).await.unwrap();
        assert_eq!(reported.iter().filter(|m| m.delivery == Some(DeliveryState::Delivered)).count(), 1, "{reported:?}");
        assert_eq!(notify.poll_sms(OffsetDateTime::now_utc()).await.unwrap() as usize, taken.len(), "the rest and the code");
        assert_eq!(notify.poll_sms(OffsetDateTime::now_utc()).await.unwrap(), 0, "final states are not asked again");
        let mine = app.db().outbox().texts_of_user(me.id, Channel::Sms, 50).await.unwrap();
        assert!(mine.iter().all(|m| m.delivery == Some(DeliveryState::Delivered)), "{mine:?}");

        // A bad number is given up at once, not retried.
        let mut p = app.db().users().preferences(me.id).await.unwrap().unwrap();
        p.sms_notifications.insert(kabinet_domain::NotificationKind::MeterVerification);
        app.db().users().set_preferences(me.id, &p).await.unwrap();
        let meter = app.db().meters().of_account(me.account_id).await.unwrap().into_iter().next().expect("a meter");
        app.db().notify().add_events(kabinet_domain::notify::EventKind::VerificationSoon, &[(me.account_id.0, kabinet_domain::notify::meter_subject(meter.id.0, today + Duration::days(10)))], OffsetDateTime::now_utc()).await.unwrap();
        fake.fail_next(&[7]);
        assert_eq!(notify.send_sms_as_of(Instant::now() + StdDuration::from_secs(5), later).await.unwrap(), 0);
        let failed = app.db().outbox().texts_of_user(me.id, Channel::Sms, 50).await.unwrap().into_iter().find(|m| m.kind.as_deref() == Some("verification_soon")).unwrap();
        assert_eq!(failed.status, OutboxStatus::Failed, "{failed:?}");
        assert!(failed.last_error.contains("cannot get SMS"), "{}", failed.last_error);

        // Support sees every SMS with its state.
        let (mut op, _, _) = app.staff("help", Role::Operator).await;
        let card = op.get(&format!("/staff/residents/{}", me.id.0)).await;
        assert_eq!(card.status, StatusCode::OK, "{}", card.body);
        assert!(card.body.contains("доставлено") && card.body.contains("код подтверждения телефона"), "{}", card.body);
        assert!(card.body.contains("+7 *** ***-6789"), "the phone masked");
        assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
    }

    async fn an_emergency_reaches_its_building_on_every_channel_at_night(t: &TestDb) {
        let fake = fake().await;
        let night = |s: &mut kabinet_web::Settings| {
            s.app.notify.quiet_hours = Some(kabinet_domain::notify::QuietHours::parse("00:00-23:59").unwrap());
        };
        let url = fake.url().to_string();
        let app = TestApp::builder(&t.db).demo(100, 1).configure(move |s| { smsru(&url)(s); night(s); }).build().await;
        let notify = &app.state.app.notify;
        let db = app.db();
        let accounts = db.accounts().first_open(100).await.unwrap();
        let mut addresses = Vec::new();
        for a in &accounts {
            addresses.push(db.accounts().premises(a.premises_id).await.unwrap().unwrap().address);
        }
        let here = addresses[0].clone();
        let elsewhere = (1..accounts.len()).find(|i| addresses[*i] != here).expect("a second building");
        // A: a verified phone, no announcements anywhere; B: the defaults;
        // C: another building.
        let (mut a_browser, a_number) = app.resident(accounts[0].id.0).await;
        set_phone(&mut a_browser, PHONE, &[]).await;
        verify(&app, &mut a_browser, &fake).await;
        let a = db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&a_number).unwrap()).await.unwrap().unwrap();
        let mut p = db.users().preferences(a.id).await.unwrap().unwrap();
        p.email_notifications.remove(&kabinet_domain::NotificationKind::Announcements);
        p.sms_notifications.clear();
        db.users().set_preferences(a.id, &p).await.unwrap();
        let (_, b_number) = app.resident(accounts[1].id.0).await;
        assert_eq!(addresses[1], here);
        let b = db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&b_number).unwrap()).await.unwrap().unwrap();
        let (_, c_number) = app.resident(accounts[elsewhere].id.0).await;
        let c = db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&c_number).unwrap()).await.unwrap().unwrap();

        let (mut admin, _, _) = app.staff("adm", Role::Administrator).await;
        let now = OffsetDateTime::now_utc();
        let local = |t: OffsetDateTime| {
            let l = app.state.app.accounts.clock().local(t);
            format!("{:04}-{:02}-{:02}T{:02}:{:02}", l.year(), u8::from(l.month()), l.day(), l.hour(), l.minute())
        };
        let until = local(now + Duration::hours(5));
        let publish = async |admin: &mut Browser, kind: &str, service: &str, title: &str, buildings: &str| {
            let r = admin.submit("/staff/announcements", "/staff/announcements", &[
                ("kind", kind), ("service", service), ("title", title), ("body", "Подробности на сайте."),
                ("buildings", buildings), ("starts_at", ""), ("ends_at", &until),
            ]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        };
        publish(&mut admin, "emergency", "cold_water", "Авария на водопроводе", &here).await;
        publish(&mut admin, "news", "", "Собрание жильцов", "").await;
        let (mailer, _dir) = (kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
            dir: std::env::temp_dir().join(format!("kabinet-sms-night-{}", fastrand::u64(..))),
            from: "УК <noreply@uk.example>".into(),
        }).unwrap(), ());
        let env = kabinet_app::jobs::JobEnv { app: app.state.app.clone(), mailer: std::sync::Arc::new(mailer) };
        let runner = kabinet_app::jobs::Runner::new(env.clone(), Default::default()).unwrap();
        let ran = runner.run_due(Some(&["announcement_notify"]), OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(ran.len(), 2, "{ran:?}");
        let until_s = Instant::now() + StdDuration::from_secs(30);
        notify.send_email(&env.mailer, None, until_s).await.unwrap();
        notify.send_sms(until_s).await.unwrap();

        // At night: the emergency went to A by e-mail and SMS and to B by
        // e-mail; the news waits; C has neither.
        let subjects = |list: Vec<kabinet_domain::OutboxMessage>| -> Vec<(String, OutboxStatus)> { list.into_iter().map(|m| (m.email.subject, m.status)).collect() };
        let a_mail = subjects(db.outbox().of_user(a.id, 20).await.unwrap());
        assert!(a_mail.iter().any(|(s, st)| s.contains("Авария") && *st == OutboxStatus::Sent), "{a_mail:?}");
        assert!(!a_mail.iter().any(|(s, _)| s.contains("Собрание") || s == "announcement"), "A turned announcements off: {a_mail:?}");
        let a_sms = fake.messages().into_iter().filter(|m| m.text.contains("Авария на водопроводе")).count();
        assert_eq!(a_sms, 1, "to the verified phone, though A chose no SMS");
        let b_mail = subjects(db.outbox().of_user(b.id, 20).await.unwrap());
        assert!(b_mail.iter().any(|(s, st)| s.contains("Авария") && *st == OutboxStatus::Sent), "{b_mail:?}");
        assert!(b_mail.iter().any(|(s, st)| s == "announcement" && *st == OutboxStatus::Pending), "the news waits: {b_mail:?}");
        let c_mail = subjects(db.outbox().of_user(c.id, 20).await.unwrap());
        assert!(!c_mail.iter().any(|(s, _)| s.contains("Авария")), "{c_mail:?}");

        // In the morning the news goes to those who chose it.
        let day = TestApp::builder(&t.db).configure(smsru(fake.url())).build().await;
        day.state.app.notify.send_email(&env.mailer, None, Instant::now() + StdDuration::from_secs(30)).await.unwrap();
        let b_mail = subjects(db.outbox().of_user(b.id, 20).await.unwrap());
        assert!(b_mail.iter().any(|(s, st)| s.contains("Собрание") && *st == OutboxStatus::Sent), "{b_mail:?}");
        let c_mail = subjects(db.outbox().of_user(c.id, 20).await.unwrap());
        assert!(c_mail.iter().any(|(s, st)| s.contains("Собрание") && *st == OutboxStatus::Sent), "news for every building: {c_mail:?}");
    }
}
