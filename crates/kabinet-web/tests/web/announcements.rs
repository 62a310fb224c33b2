//! Announcements and outages (B2) on both databases: the office's checks,
//! an emergency for one building pinned only on its residents' pages and in
//! their API, extending and ending it, and its e-mail to the building's
//! residents (an emergency: whatever they chose), once.

use crate::common::{TestApp, token};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_domain::staff::Role;
use kabinet_testkit::db_tests;
use serde_json::Value;

/// `t` in the organization's time as the form's `datetime-local` takes it.
fn local(app: &TestApp, t: time::OffsetDateTime) -> String {
    let l = app.state.app.accounts.clock().local(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        l.year(),
        u8::from(l.month()),
        l.day(),
        l.hour(),
        l.minute()
    )
}

/// Runs the announcements' e-mail jobs that are due.
async fn run_notify(app: &TestApp) {
    let env = kabinet_app::jobs::JobEnv {
        app: app.state.app.clone(),
        mailer: std::sync::Arc::new(
            kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
                dir: std::env::temp_dir().join("kabinet-announcement-mail"),
                from: "Кабинет <noreply@example.ru>".into(),
            })
            .unwrap(),
        ),
    };
    let runner = kabinet_app::jobs::Runner::new(env.clone(), Default::default()).unwrap();
    let ran = runner
        .run_due(Some(&["announcement_notify"]), time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(ran.iter().all(|r| *r == kabinet_app::jobs::Ran::Done), "{ran:?}");
    // And the notifications' e-mails (an emergency goes in quiet hours too).
    app.state
        .app
        .notify
        .send_email(
            &env.mailer,
            None,
            std::time::Instant::now() + std::time::Duration::from_secs(30),
        )
        .await
        .unwrap();
}

db_tests! {
    async fn an_emergency_is_pinned_only_in_its_building(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(300, 1).build().await;
        let db = app.db();
        let address_of = async |i: i64| {
            let a = db.accounts().by_id(kabinet_domain::AccountId(i)).await.unwrap().unwrap();
            db.accounts().premises(a.premises_id).await.unwrap().unwrap().address
        };
        let here = address_of(1).await;
        let mut elsewhere = 2;
        for i in 2..300 {
            if address_of(i).await != here {
                elsewhere = i;
                break;
            }
        }
        assert_ne!(address_of(elsewhere).await, here, "the demo has a second building");
        let (mut inside, number) = app.resident(1).await;
        let (mut outside, _) = app.resident(elsewhere).await;
        let (mut admin, _, _) = app.staff("adm", Role::Administrator).await;
        let now = time::OffsetDateTime::now_utc();

        // Refused: every problem at once, nothing stored or audited.
        let r = admin.submit("/staff/announcements", "/staff/announcements", &[
            ("kind", "emergency"), ("service", ""), ("title", ""), ("body", "Прорыв трубы."),
            ("buildings", "г. Нигде, ул. Несуществующая, д. 0"), ("starts_at", ""),
            ("ends_at", &local(&app, now + time::Duration::hours(80))),
        ]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        for said in ["Заголовок — одна строка", "укажите услугу", "не дольше 72 часов", "Несуществующая"] {
            assert!(r.body.contains(said), "{said}: {}", r.body);
        }
        assert!(db.announcements().newest(10).await.unwrap().is_empty());

        // An emergency for the first building, until 5 hours from now.
        let until = local(&app, now + time::Duration::hours(5));
        let r = admin.submit("/staff/announcements", "/staff/announcements", &[
            ("kind", "emergency"), ("service", "cold_water"), ("title", "Авария на водопроводе"),
            ("body", "Бригада на месте.\n\nВоду дадут к вечеру."), ("buildings", &here),
            ("starts_at", ""), ("ends_at", &until),
        ]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/staff/announcements?saved=1"), "{}", r.body);
        let a = &db.announcements().newest(10).await.unwrap()[0];
        assert_eq!(a.buildings, vec![here.clone()]);
        let line = &db.audit().lines(None, 1).await.unwrap()[0];
        assert!(line.event == "announcement_published" && line.details.contains("emergency cold_water"), "{line:?}");

        // Pinned on every page of a resident of that building, not elsewhere.
        let page = inside.get("/cabinet").await;
        assert!(page.body.contains("Авария на водопроводе") && page.body.contains("Аварийное отключение: холодная вода"), "{}", page.body);
        assert!(inside.get("/settings").await.body.contains("Авария на водопроводе"));
        assert!(!outside.get("/cabinet").await.body.contains("Авария на водопроводе"));
        let list = inside.get("/announcements").await;
        assert!(list.body.contains("Воду дадут к вечеру."), "{}", list.body);
        assert!(outside.get("/announcements").await.body.contains("Сейчас объявлений нет."));
        let tok = token(&mut inside, &number).await;
        let api = inside.json("GET", "/api/v1/announcements", Some(&tok), Value::Null).await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        let v: Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(v["current"][0]["kind"], "emergency");
        assert_eq!(v["current"][0]["service"], "cold_water");
        assert_eq!(v["current"][0]["pinned"], true);
        assert_eq!(v["current"][0]["everyone"], false);

        // An emergency is e-mailed to the building's residents — even one
        // who turned announcements off — at any hour, without an
        // unsubscribe link; nobody elsewhere.
        let me = db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&number).unwrap()).await.unwrap().unwrap();
        let mut p = db.users().preferences(me.id).await.unwrap().unwrap();
        p.email_notifications.remove(&kabinet_domain::NotificationKind::Announcements);
        db.users().set_preferences(me.id, &p).await.unwrap();
        run_notify(&app).await;
        let mails = db.outbox().of_user(me.id, 10).await.unwrap();
        assert!(mails.iter().any(|m| m.email.subject.contains("Авария на водопроводе")), "{mails:?}");
        let sent: Vec<_> = db.outbox().messages(None, 1000).await.unwrap().into_iter().filter(|m| m.email.subject.contains("Авария")).collect();
        assert_eq!(sent.iter().filter(|m| m.email.to.as_str() == me.email.as_str()).count(), 1, "once");
        assert!(sent.iter().all(|m| m.email.to.as_str() != format!("r{elsewhere}@example.ru")), "not elsewhere");
        run_notify(&app).await;
        assert_eq!(db.outbox().messages(None, 1000).await.unwrap().iter().filter(|m| m.email.subject.contains("Авария")).count(), sent.len(), "not again");

        // Extended: at most 72 hours from now; then ended.
        let page = format!("/staff/announcements/{}", a.id);
        let long = local(&app, now + time::Duration::hours(90));
        let form = |ends: &str| vec![
            ("kind", "emergency".to_string()), ("service", "cold_water".into()), ("title", "Авария на водопроводе".into()),
            ("body", "Бригада на месте.".into()), ("buildings", here.clone()), ("starts_at", "".into()), ("ends_at", ends.to_string()),
        ];
        let owned = form(&long);
        let fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(admin.submit(&page, &page, &fields).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let later = local(&app, now + time::Duration::hours(70));
        let owned = form(&later);
        let fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = admin.submit(&page, &page, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let stored = db.announcements().get(a.id).await.unwrap().unwrap();
        assert!(stored.ends_at.unwrap() > now + time::Duration::hours(69));
        assert_eq!(stored.starts_at, a.starts_at, "an announcement shown keeps its start");
        let r = admin.submit(&page, &format!("{page}/end"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // Another server's cache is at most 5 s old; this server's was cleared.
        assert!(!inside.get("/cabinet").await.body.contains("Авария на водопроводе"));
        let list = inside.get("/announcements").await;
        assert!(list.body.contains("Завершённые за 90 дней") && list.body.contains("Авария на водопроводе"));

        // News for everyone needs no end; a dispatcher may publish, an accountant may not.
        let (mut dispatcher, _, _) = app.staff("dis", Role::Dispatcher).await;
        let r = dispatcher.submit("/staff/announcements", "/staff/announcements", &[
            ("kind", "news"), ("service", ""), ("title", "Новый график приёма"), ("body", "С понедельника."),
            ("buildings", ""), ("starts_at", ""), ("ends_at", ""),
        ]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(outside.get("/announcements").await.body.contains("Новый график приёма"));
        assert!(!outside.get("/cabinet").await.body.contains("Новый график приёма"), "news is not pinned");
        let (mut accountant, _, _) = app.staff("acc", Role::Accountant).await;
        assert_eq!(accountant.get("/staff/announcements").await.status, StatusCode::FORBIDDEN);
    }
}
