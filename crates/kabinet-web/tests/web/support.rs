//! Residents' support (S6) on both databases: the search by each field, the
//! card, and every action — audited on the resident, shown in their "my
//! data", refused to a role without the permission.

use crate::common::{Browser, OWN_PASSWORD, TestApp};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_db::counters::CounterKind;
use kabinet_domain::staff::Role;
use kabinet_domain::{AccountId, UserId};
use kabinet_testkit::db_tests;

async fn user_of(app: &TestApp, number: &str) -> kabinet_domain::ResidentUser {
    let n = kabinet_domain::AccountNumber::parse(number).unwrap();
    app.db().users().by_account_number(&n).await.unwrap().unwrap()
}

async fn sign_in(app: &TestApp, number: &str, password: &str) -> crate::common::Resp {
    let mut b = Browser::from_ip(app, "192.0.2.200");
    b.submit("/login", "/login", &[("account", number), ("password", password)])
        .await
}

/// The staff lines about `user`, oldest first: (event, details).
async fn staff_lines(app: &TestApp, user: UserId) -> Vec<(String, String)> {
    let mut lines: Vec<_> = app
        .db()
        .audit()
        .of_user_by(user, kabinet_domain::Actor::Staff, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.event, l.details))
        .collect();
    lines.reverse();
    lines
}

db_tests! {
    async fn support_finds_a_resident_and_helps_them(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(6, 1).build().await;
        let (mut resident, number) = app.resident(1).await;
        let (_, number2) = app.resident(2).await;
        let me = user_of(&app, &number).await;
        let neighbour = user_of(&app, &number2).await;
        let mut prefs = app.db().users().preferences(me.id).await.unwrap().unwrap();
        prefs.phone = Some(kabinet_domain::Phone::parse("+7 912 345-67-89").unwrap());
        app.db().users().set_preferences(me.id, &prefs).await.unwrap();
        let lone = app.db().accounts().by_id(AccountId(3)).await.unwrap().unwrap();
        let premises = app.db().accounts().premises(lone.premises_id).await.unwrap().unwrap();
        let (mut op, _, _) = app.staff("op", Role::Operator).await;

        // Found by the start of each field; the field guessed or chosen.
        let r = op.get("/staff/residents?q=r1%40").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(&format!("/staff/residents/{}\">r1@example.ru", me.id)), "{}", r.body);
        assert!(!r.body.contains("r2@example.ru"));
        let r = op.get("/staff/residents?q=8+912+345&by=phone").await;
        assert!(r.body.contains("r1@example.ru") && r.body.contains("в телефоне"), "{}", r.body);
        let r = op.get("/staff/residents?q=%2B7+(912)+34").await;
        assert!(r.body.contains("r1@example.ru") && r.body.contains("в телефоне"), "guessed: {}", r.body);
        let r = op.get(&format!("/staff/residents?q={}&by=account", lone.number)).await;
        assert!(r.body.contains("не зарегистрирован") && r.body.contains(&format!("/staff/accounts/{}/unlock", lone.id)), "{}", r.body);
        let street: String = premises.address.chars().take(premises.address.chars().count() - 2).collect();
        let r = op.get(&format!("/staff/residents?by=address&q={}", urlencode(&street))).await;
        assert!(r.body.contains(lone.number.as_str()), "{street}: {}", r.body);
        let r = op.get("/staff/residents?q=ab").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("не меньше 3 знаков"), "{}", r.body);
        let r = op.get("/staff/residents?q=nobody%40").await;
        assert!(r.body.contains("Найдено: 0"), "{}", r.body);
        let (mut dispatcher, _, _) = app.staff("dis", Role::Dispatcher).await;
        assert_eq!(dispatcher.get("/staff/residents?q=r1%40").await.status, StatusCode::FORBIDDEN);

        // A failed sign-in, then the card: sign-ins, sessions, accounts.
        let failed = sign_in(&app, &number, "wrong password 1").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
        let card_path = format!("/staff/residents/{}", me.id);
        let card = op.get(&card_path).await;
        assert_eq!(card.status, StatusCode::OK, "{}", card.body);
        for shown in [number.as_str(), "+79123456789", "Неудачный вход", "192.0.2.200", "192.0.2.10", "браузер", "открыта (неудачных проверок: 0)", "Больше никто."] {
            assert!(card.body.contains(shown), "{shown} on the card: {}", card.body);
        }
        assert!(!card.body.contains(&me.password_hash), "the hash is never shown");
        assert_eq!(staff_lines(&app, me.id).await, vec![("resident_card_viewed".to_string(), "staff op".to_string())]);

        // A reset link: e-mailed, kept as the resident's, audited.
        let r = op.submit(&card_path, &format!("{card_path}/reset"), &[]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("{card_path}?done=reset").as_str()));
        let mail = app.db().outbox().of_user(me.id, 10).await.unwrap();
        assert_eq!(mail.len(), 1);
        assert!(mail[0].email.text.contains("/password/reset/"), "{}", mail[0].email.text);
        let page = op.get(r.location()).await;
        assert!(page.body.contains("Ссылка для смены пароля отправлена") && page.body.contains("ожидает отправки"), "{}", page.body);

        // Every session ends.
        assert_eq!(resident.get("/cabinet").await.status, StatusCode::OK);
        let r = op.submit(&card_path, &format!("{card_path}/sessions"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(resident.get("/cabinet").await.status, StatusCode::SEE_OTHER, "signed out");

        // Blocked: the right password is told to contact the organization,
        // a wrong one gets the usual answer; the API says 403.
        let r = op.submit(&card_path, &format!("{card_path}/block"), &[("reason", "просьба владельца")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = op.submit(&card_path, &format!("{card_path}/block"), &[("reason", "")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("уже заблокирован"), "{}", r.body);
        let r = op.submit(&card_path, &format!("{card_path}/reset"), &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "no reset link to a blocked resident");
        let blocked = sign_in(&app, &number, OWN_PASSWORD).await;
        assert!(blocked.body.contains("Доступ к личному кабинету приостановлен"), "{}", blocked.body);
        assert_eq!(blocked.status, StatusCode::UNAUTHORIZED);
        assert!(blocked.headers.get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("kabinet_session=")), "no session");
        let wrong = sign_in(&app, &number, "wrong password 2").await;
        assert!(!wrong.body.contains("приостановлен") && wrong.status == StatusCode::UNAUTHORIZED);
        let mut api = Browser::new(&app);
        let r = api.json("POST", "/api/v1/auth/token", None, serde_json::json!({"account": number, "password": OWN_PASSWORD})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body.contains("error-resident-blocked") || r.body.contains("приостановлен"), "{}", r.body);
        let r = op.submit(&card_path, &format!("{card_path}/unblock"), &[("reason", "")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(sign_in(&app, &number, OWN_PASSWORD).await.status, StatusCode::SEE_OTHER);

        // Registration unlocked: an account nobody registered, from the results.
        let now = time::OffsetDateTime::now_utc();
        let locked = kabinet_domain::Counter { count: 10, window_start: Some(now), last_at: Some(now) };
        lock_registration(&app, lone.id, locked).await;
        let found = format!("/staff/residents?q={}&by=account", lone.number);
        let r = op.submit(&found, &format!("/staff/accounts/{}/unlock", lone.id), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(app.db().counters().get(lone.id, CounterKind::Registration).await.unwrap().count, 0);
        let line = &app.db().audit().lines(Some(lone.id), 5).await.unwrap()[0];
        assert_eq!((line.event.as_str(), line.actor.as_str()), ("registration_unlocked", "staff"));
        assert!(line.details.contains("staff op") && line.details.contains("10 failed"), "{line:?}");
        // … and one of the resident's, from their card.
        lock_registration(&app, me.account_id, locked).await;
        assert!(op.get(&card_path).await.body.contains("закрыта после неудачных проверок"));
        let r = op.submit(&card_path, &format!("{card_path}/unlock"), &[("account", &me.account_id.0.to_string())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(app.db().counters().get(me.account_id, CounterKind::Registration).await.unwrap().count, 0);

        // A linked user removed from the neighbour's account.
        let theirs = app.link(&number, 2).await;
        let neighbour_card = format!("/staff/residents/{}", neighbour.id);
        let page = op.get(&neighbour_card).await;
        assert!(page.body.contains("r1@example.ru") && page.body.contains("Убрать доступ"), "{}", page.body);
        let r = op.submit(&neighbour_card, &format!("{neighbour_card}/unlink"), &[("account", &theirs.id.0.to_string()), ("user", &me.id.0.to_string())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(app.db().links().of_user(me.id).await.unwrap().iter().all(|l| l.account.id != theirs.id));
        let r = op.submit(&neighbour_card, &format!("{neighbour_card}/unlink"), &[("account", &me.account_id.0.to_string()), ("user", &me.id.0.to_string())]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "the sign-in account stays");
        assert!(staff_lines(&app, neighbour.id).await.iter().any(|(e, d)| e == "support_link_removed" && d.contains("no longer sees account")));

        // Every action is on the resident's record, and they see it.
        let events: Vec<String> = staff_lines(&app, me.id).await.into_iter().map(|l| l.0).collect();
        for e in ["resident_card_viewed", "support_reset_sent", "support_sessions_ended", "resident_blocked", "resident_unblocked", "registration_unlocked", "support_link_removed"] {
            assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
        }
        assert!(staff_lines(&app, me.id).await.iter().any(|(e, d)| e == "resident_blocked" && d.contains("просьба владельца")));
        let (mut again, _) = signed_in(&app, &number).await;
        let settings = again.get("/settings").await;
        assert!(settings.body.contains("Действия сотрудников") && settings.body.contains("Доступ заблокирован сотрудником"), "{}", settings.body);
        let data = again.get("/settings/data.json").await;
        let v: serde_json::Value = serde_json::from_str(&data.body).unwrap_or_else(|e| panic!("{e}: {}", data.body));
        let staff: Vec<&serde_json::Value> = v["activity"].as_array().unwrap().iter().filter(|a| a["actor"] == "staff").collect();
        assert!(staff.iter().any(|a| a["event"] == "support_reset_sent"));
        assert!(staff.iter().all(|a| a["ip"] == "" && a["user_agent"] == ""), "the office's address is not shown");

        // Operators and accountants have support; a dispatcher has not.
        let (mut accountant, _, _) = app.staff("acc", Role::Accountant).await;
        assert_eq!(accountant.get(&card_path).await.status, StatusCode::OK);
        assert_eq!(dispatcher.get(&card_path).await.status, StatusCode::FORBIDDEN);
        assert_eq!(op.get("/staff/residents/999999").await.status, StatusCode::NOT_FOUND);
    }

    async fn my_data_holds_readings_payments_and_requests(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 1).build().await;
        let (mut b, number) = app.resident(1).await;
        let me = user_of(&app, &number).await;
        // A reading handed in, a card payment started, a request with a photo.
        let meter = app.db().meters().of_account(me.account_id).await.unwrap().into_iter().next().expect("a demo meter");
        let now = time::OffsetDateTime::now_utc();
        let reading = kabinet_db::meters::PortalReading {
            meter: meter.id,
            zone: 1,
            value: 123_456,
            taken_on: now.date(),
            period: kabinet_domain::Period::parse("2026-12").unwrap(),
            submitted_at: now,
            user: me.id,
            ip: "192.0.2.55".into(),
        };
        assert!(app.db().meters().store(&[reading]).await.unwrap());
        let paid = b.submit("/pay", "/pay", &[(&format!("amount_{number}"), "150")]).await;
        assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
        let filed = crate::requests::file_page(&mut b, crate::requests::LEAK, &[("photos", "a.jpg", crate::requests::jpeg(64, 48))]).await;
        let id = crate::requests::number_of(filed.location());
        let data = b.get("/settings/data.json").await;
        let v: serde_json::Value = serde_json::from_str(&data.body).unwrap();
        let r = &v["readings"][0];
        assert_eq!((r["account"].as_str(), r["meter"].as_str(), r["ip"].as_str()), (Some(number.as_str()), Some(meter.serial.as_str()), Some("192.0.2.55")));
        assert!(r["address"].as_str().unwrap().contains("кв."), "{r}");
        assert!(r["value"].as_str().unwrap().starts_with("123"), "{r}");
        assert_eq!(v["card_payments"][0]["amount_kopecks"], 15_000);
        let q = &v["requests"][0];
        assert_eq!(q["number"], id);
        assert!(q["text"].as_str().unwrap().contains("Течёт с потолка"));
        assert_eq!(q["history"][0]["kind"], "filed");
        assert_eq!(q["photos"].as_array().unwrap().len(), 1);
    }

    async fn messages_are_kept_by_the_resident_not_the_address(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 1).build().await;
        let (_, number) = app.resident(1).await;
        let (_, number2) = app.resident(2).await;
        let me = user_of(&app, &number).await;
        let family = user_of(&app, &number2).await;
        // A family shares one address: each sees only the mail written for them.
        app.db().users().set_email(family.id, &me.email).await.unwrap();
        let (mut op, _, _) = app.staff("op", Role::Operator).await;
        let card = format!("/staff/residents/{}", family.id);
        assert_eq!(op.submit(&card, &format!("{card}/reset"), &[]).await.status, StatusCode::SEE_OTHER);
        assert_eq!(app.db().outbox().of_user(family.id, 10).await.unwrap().len(), 1);
        assert!(app.db().outbox().of_user(me.id, 10).await.unwrap().is_empty());
        let (mut b, _) = signed_in(&app, &number).await;
        let data = b.get("/settings/data.json").await;
        let v: serde_json::Value = serde_json::from_str(&data.body).unwrap();
        assert_eq!(v["notifications"].as_array().unwrap().len(), 0, "{}", data.body);
    }
}

/// Stores a registration counter for `account` as ten failures would.
async fn lock_registration(app: &TestApp, account: AccountId, c: kabinet_domain::Counter) {
    let tx = app.db().begin().await.unwrap();
    tx.counters()
        .lock(account, CounterKind::Registration)
        .await
        .unwrap();
    tx.counters()
        .store(account, CounterKind::Registration, c)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A browser signed in as the resident of `number` through the sign-in page.
async fn signed_in(app: &TestApp, number: &str) -> (Browser, crate::common::Resp) {
    let mut b = Browser::from_ip(app, "192.0.2.201");
    let r = b
        .submit(
            "/login",
            "/login",
            &[("account", number), ("password", OWN_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (b, r)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
