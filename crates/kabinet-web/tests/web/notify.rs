//! Notifications on both databases: a new period imported through the office
//! becomes one "new invoice" e-mail per resident and account who wants it —
//! none for one who turned it off, none again when the package is imported
//! again — and its payments become "payment received"; the sender keeps
//! the quiet hours, survives a sender that died mid-batch without sending
//! twice or losing a message, retries a refusing server, and every e-mail
//! carries a one-click unsubscribe that works once and only for its
//! resident.

use crate::common::{Browser, TestApp};
use crate::office::{demo_package_at, import_through_office};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_domain::notify::{Channel, QuietHours};
use kabinet_domain::staff::Role;
use kabinet_domain::{NotificationKind, OutboxStatus, UserId};
use kabinet_testkit::db_tests;
use std::time::{Duration as StdDuration, Instant};
use time::{Duration, OffsetDateTime};

/// A mailer writing `.eml` files into a fresh folder.
fn file_mailer() -> (kabinet_notify::Mailer, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "kabinet-notify-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let m = kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
        dir: dir.clone(),
        from: "УК <noreply@uk.example>".into(),
    })
    .unwrap();
    (m, dir)
}

/// The `.eml` files a file mailer wrote.
fn mails(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A header's value in a raw message (unfolded).
fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim())
}

async fn deliveries(app: &TestApp, user: UserId) -> Vec<kabinet_domain::OutboxMessage> {
    app.db().outbox().of_user(user, 100).await.unwrap()
}

async fn user(app: &TestApp, number: &str) -> kabinet_domain::ResidentUser {
    let n = kabinet_domain::AccountNumber::parse(number).unwrap();
    app.db().users().by_account_number(&n).await.unwrap().unwrap()
}

/// The ids of the first `n` accounts (PostgreSQL's ids go on after a
/// checked package's rolled-back rows).
async fn account_ids(app: &TestApp, n: u64) -> Vec<i64> {
    app.db()
        .accounts()
        .first_open(n)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id.0)
        .collect()
}

fn no_quiet(s: &mut kabinet_web::Settings) {
    s.app.notify.quiet_hours = None;
    s.app.notify.email_per_second = 1000;
}

db_tests! {
    async fn a_new_period_is_announced_once_to_each_resident_who_wants_it(t: &TestDb) {
        let app = TestApp::builder(&t.db).configure(no_quiet).build().await;
        let notify = &app.state.app.notify;
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = OffsetDateTime::now_utc().date();
        // An installation's first package: its month is not news to anyone
        // (nobody is registered yet).
        import_through_office(&app, &mut acc, &demo_package_at(3, today - Duration::days(31), 1)).await;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(notify.waiting(Channel::Email).await.unwrap(), 0);

        let ids = account_ids(&app, 3).await;
        let (_, first) = app.resident(ids[0]).await;
        let (_, second) = app.resident(ids[1]).await;
        let (_, third) = app.resident(ids[2]).await;
        let (one, two, three) = (user(&app, &first).await, user(&app, &second).await, user(&app, &third).await);
        // The second turned "new invoice" off; the third was blocked.
        let mut p = app.db().users().preferences(two.id).await.unwrap().unwrap();
        p.email_notifications.remove(&NotificationKind::NewInvoice);
        app.db().users().set_preferences(two.id, &p).await.unwrap();
        app.db().support().set_blocked(three.id, true).await.unwrap();

        // The next month: one "new invoice" for the first, none for the
        // others; its recent payments are "payment received".
        // Two months: the payments of the first are recent.
        let next = demo_package_at(3, today, 2);
        import_through_office(&app, &mut acc, &next).await;
        let made = notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        assert!(made.events >= 3, "{made:?}");
        let kinds = |list: &[kabinet_domain::OutboxMessage]| -> Vec<String> { list.iter().map(|m| m.email.subject.clone()).collect() };
        let mine = deliveries(&app, one.id).await;
        assert_eq!(kinds(&mine).iter().filter(|k| *k == "new_invoice").count(), 1, "{:?}", kinds(&mine));
        assert!(!kinds(&deliveries(&app, two.id).await).contains(&"new_invoice".to_string()));
        assert!(deliveries(&app, three.id).await.is_empty(), "blocked: nothing");
        let payments = kinds(&mine).iter().filter(|k| *k == "payment_imported").count();
        assert_eq!(payments as u64 + 1, kinds(&mine).len() as u64);
        let waiting = notify.waiting(Channel::Email).await.unwrap();

        // The same package again, and the producer run again: nothing new.
        import_through_office(&app, &mut acc, &next).await;
        assert_eq!(notify.produce(OffsetDateTime::now_utc()).await.unwrap(), Default::default());
        assert_eq!(notify.waiting(Channel::Email).await.unwrap(), waiting);

        // Sent: in the resident's words, with the amount, a stable
        // Message-ID and the one-click unsubscribe headers.
        let (mailer, dir) = file_mailer();
        let sent = notify.send_email(&mailer, Some("УК «Север»"), Instant::now() + StdDuration::from_secs(30)).await.unwrap();
        assert_eq!(sent, waiting);
        assert_eq!(notify.waiting(Channel::Email).await.unwrap(), 0);
        let all = mails(&dir);
        assert_eq!(all.len() as u64, waiting);
        let invoice_mail = &all[0];
        assert!(header(invoice_mail, "List-Unsubscribe-Post") == Some("List-Unsubscribe=One-Click"), "{invoice_mail}");
        assert!(header(invoice_mail, "List-Unsubscribe").unwrap().contains("/unsubscribe/"), "{invoice_mail}");
        assert!(header(invoice_mail, "Message-ID").unwrap().starts_with("<kabinet-delivery-"), "{invoice_mail}");
        let stored = deliveries(&app, one.id).await;
        let invoice = stored.iter().find(|m| m.email.subject.starts_with("Счёт за")).expect("the subject written when sent");
        assert_eq!(invoice.status, OutboxStatus::Sent);
        let inv = app.db().billing().latest_invoice(kabinet_domain::AccountId(ids[0])).await.unwrap().unwrap();
        let amount = kabinet_notify::messages::tr(None).money(inv.total_due);
        assert!(invoice.email.subject.contains(&amount) && invoice.email.text.contains(&first), "{:?}", invoice.email);
        let everyone = app.db().outbox().messages(None, 200).await.unwrap();
        assert!(everyone.iter().any(|m| m.email.subject.starts_with("Платёж получен")), "a payment of the package");
    }

    async fn the_sender_keeps_quiet_hours_survives_a_crash_and_retries(t: &TestDb) {
        let app = TestApp::builder(&t.db).configure(no_quiet).build().await;
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = OffsetDateTime::now_utc().date();
        import_through_office(&app, &mut acc, &demo_package_at(6, today - Duration::days(31), 1)).await;
        app.state.app.notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        for id in account_ids(&app, 6).await {
            app.resident(id).await;
        }
        import_through_office(&app, &mut acc, &demo_package_at(6, today, 2)).await;
        let notify = &app.state.app.notify;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let total = notify.waiting(Channel::Email).await.unwrap();
        assert!(total >= 6, "{total}");

        // Quiet hours now: nothing goes, everything waits for their end.
        let local = app.state.app.requests.clock().local(OffsetDateTime::now_utc());
        let quiet = QuietHours { from: (local - Duration::hours(1)).time(), to: (local + Duration::hours(1)).time() };
        let night = TestApp::builder(&t.db).configure(|s| { s.app.notify.quiet_hours = Some(quiet); s.app.notify.email_per_second = 1000; }).build().await;
        let (mailer, dir) = file_mailer();
        assert_eq!(night.state.app.notify.send_email(&mailer, None, Instant::now() + StdDuration::from_secs(10)).await.unwrap(), 0);
        assert!(mails(&dir).is_empty());
        assert_eq!(notify.waiting(Channel::Email).await.unwrap(), total);
        let untouched = app.db().outbox().messages(None, 200).await.unwrap();
        assert!(untouched.iter().all(|m| m.attempts == 0 && m.status == OutboxStatus::Pending), "nothing claimed or put off");
        // Their end passed: due again.
        let after = OffsetDateTime::now_utc() + Duration::hours(2);

        // A sender claimed a batch and died after sending one of it.
        let claimed = app.db().notify().claim(Channel::Email, false, after, Duration::minutes(5), 4, "dead").await.unwrap();
        assert_eq!(claimed.len(), 4);
        let mail = kabinet_domain::Email {
            to: kabinet_domain::EmailAddress::parse("r1@example.ru").unwrap(),
            subject: "sent before the crash".into(),
            text: String::new(),
            html: String::new(),
        };
        assert!(app.db().notify().sent(claimed[0].id, "dead", &mail, after).await.unwrap());

        // A mail server that refuses: every attempt fails, is counted and
        // waits to be retried; the dead sender's claim still holds, so its
        // three are left alone.
        let refusing = kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Smtp {
            host: "127.0.0.1".into(), port: 9, tls: kabinet_notify::SmtpTls::None, username: None, password: None,
            from: "noreply@uk.example".into(),
        }).unwrap();
        let soon = Instant::now() + StdDuration::from_secs(20);
        assert_eq!(notify.send_email_as_of(&refusing, None, soon, after + Duration::minutes(1)).await.unwrap(), 0);
        for c in &claimed[1..] {
            let row = app.db().outbox().get(c.id).await.unwrap().unwrap();
            assert_eq!((row.status, row.attempts), (OutboxStatus::Pending, 0), "the dead sender's claim holds");
        }
        let everyone = app.db().outbox().messages(None, 200).await.unwrap();
        let tried: Vec<_> = everyone.iter().filter(|m| m.attempts == 1 && m.status == OutboxStatus::Pending).collect();
        assert_eq!(tried.len() as u64, total - 4, "every other one tried once");
        assert!(tried.iter().all(|m| m.last_error.starts_with("SMTP")), "{:?}", tried[0].last_error);

        // Later — the claim's lease and the retries' wait over — the real
        // sender sends each delivery exactly once: the one sent before the
        // crash is not sent again, and nothing is lost.
        let (mailer, dir) = file_mailer();
        let sent = notify.send_email_as_of(&mailer, None, Instant::now() + StdDuration::from_secs(30), after + Duration::hours(2)).await.unwrap();
        assert_eq!(sent + 1, total, "all but the one sent before the crash");
        assert_eq!(notify.waiting(Channel::Email).await.unwrap(), 0);
        let files = mails(&dir);
        assert_eq!(files.len() as u64, total - 1);
        let ids: std::collections::BTreeSet<&str> = files.iter().map(|m| header(m, "Message-ID").unwrap()).collect();
        assert_eq!(ids.len() as u64, total - 1, "no delivery twice");
        assert!(!ids.contains(format!("<kabinet-delivery-{}@uk.example>", claimed[0].id.0).as_str()));
    }

    async fn the_unsubscribe_link_works_once_and_only_for_its_resident(t: &TestDb) {
        let app = TestApp::builder(&t.db).configure(no_quiet).build().await;
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = OffsetDateTime::now_utc().date();
        import_through_office(&app, &mut acc, &demo_package_at(2, today - Duration::days(31), 1)).await;
        app.state.app.notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let ids = account_ids(&app, 2).await;
        let (_, first) = app.resident(ids[0]).await;
        let (_, second) = app.resident(ids[1]).await;
        import_through_office(&app, &mut acc, &demo_package_at(2, today, 2)).await;
        app.state.app.notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let (one, two) = (user(&app, &first).await, user(&app, &second).await);
        let invoice_of = async |u: UserId| deliveries(&app, u).await.into_iter().find(|m| m.email.subject == "new_invoice").unwrap().id;
        let (mine, theirs) = (invoice_of(one.id).await, invoice_of(two.id).await);
        let url = app.state.app.notify.unsubscribe_url(mine, one.id);
        let path = &url[url.find("/unsubscribe/").unwrap()..];

        // Not signed in: the page names the kind and offers the button.
        let mut b = Browser::new(&app);
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Новый счёт") && page.body.contains("Отписаться"), "{}", page.body);
        // Another delivery's id with this signature, or a changed signature: 404.
        let forged = path.replace(&format!("/{}-", mine.0), &format!("/{}-", theirs.0));
        assert_eq!(b.get(&forged).await.status, StatusCode::NOT_FOUND);
        assert_eq!(b.json("POST", &forged, None, serde_json::json!(null)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(b.get(&format!("{path}x")).await.status, StatusCode::NOT_FOUND);
        // RFC 8058: a POST without cookies or CSRF token turns it off.
        let done = Browser::new(&app).post_raw(path, &[("List-Unsubscribe", "One-Click")]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("больше не придут"), "{}", done.body);
        let prefs = app.db().users().preferences(one.id).await.unwrap().unwrap();
        assert!(!prefs.email_notifications.contains(&NotificationKind::NewInvoice));
        assert!(prefs.email_notifications.contains(&NotificationKind::PaymentReceived), "only that kind");
        let other = app.db().users().preferences(two.id).await.unwrap().unwrap();
        assert!(other.email_notifications.contains(&NotificationKind::NewInvoice), "the neighbour keeps theirs");
        let audit = app.db().audit().of_user(one.id, 3).await.unwrap();
        assert_eq!(audit[0].event, "unsubscribed");
        // Once: the resident turns it back on, the old link does nothing.
        app.db().users().set_preferences(one.id, &kabinet_domain::Preferences::default()).await.unwrap();
        let again = Browser::new(&app).post_raw(path, &[]).await;
        assert!(again.body.contains("уже отписались"), "{}", again.body);
        assert!(app.db().users().preferences(one.id).await.unwrap().unwrap().email_notifications.contains(&NotificationKind::NewInvoice));
        // A delivery the resident turned off since it was queued is skipped.
        let mut p = app.db().users().preferences(two.id).await.unwrap().unwrap();
        p.email_notifications.clear();
        app.db().users().set_preferences(two.id, &p).await.unwrap();
        let (mailer, dir) = file_mailer();
        app.state.app.notify.send_email(&mailer, None, Instant::now() + StdDuration::from_secs(30)).await.unwrap();
        assert!(mails(&dir).iter().all(|m| !m.contains("r2@example.ru")));
        let row = app.db().outbox().get(theirs).await.unwrap().unwrap();
        assert_eq!(row.status, OutboxStatus::Skipped);
    }

    async fn a_meter_due_for_verification_is_told_of_once(t: &TestDb) {
        let app = TestApp::builder(&t.db).configure(no_quiet).build().await;
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = app.state.app.requests.clock().today(OffsetDateTime::now_utc());
        // Billing says the first account's meters are due in ten days and
        // the second's ran out five days ago.
        let dir = demo_package_at(2, today - Duration::days(31), 1);
        let accounts = std::fs::read_to_string(dir.join("accounts.csv")).unwrap();
        let numbers: Vec<String> = accounts.lines().skip(1).take(2).map(|l| l.split(';').next().unwrap().to_string()).collect();
        let meters = std::fs::read_to_string(dir.join("meters.csv")).unwrap();
        let edited: Vec<String> = meters
            .lines()
            .map(|l| {
                let mut cells: Vec<String> = l.split(';').map(str::to_string).collect();
                if cells[0] == numbers[0] {
                    cells[5] = (today + Duration::days(10)).to_string();
                } else if cells[0] == numbers[1] {
                    cells[5] = (today - Duration::days(5)).to_string();
                }
                cells.join(";")
            })
            .collect();
        std::fs::write(dir.join("meters.csv"), edited.join("\n") + "\n").unwrap();
        import_through_office(&app, &mut acc, &dir).await;
        let ids = account_ids(&app, 2).await;
        let (_, first) = app.resident(ids[0]).await;
        let (_, second) = app.resident(ids[1]).await;
        let notify = &app.state.app.notify;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let (one, two) = (user(&app, &first).await, user(&app, &second).await);
        let count = async |u: UserId, kind: &str| deliveries(&app, u).await.iter().filter(|m| m.email.subject == kind).count();
        let meters_of = |n: &str| meters.lines().filter(|l| l.starts_with(&format!("{n};")) && l.ends_with(";active")).count();
        assert_eq!(count(one.id, "verification_soon").await, meters_of(&numbers[0]));
        assert_eq!(count(one.id, "verification_expired").await, 0);
        assert_eq!(count(two.id, "verification_expired").await, meters_of(&numbers[1]));
        assert!(meters_of(&numbers[0]) > 0 && meters_of(&numbers[1]) > 0);
        // Once a day, and once per meter and due day.
        assert_eq!(notify.produce(OffsetDateTime::now_utc()).await.unwrap(), Default::default());
        let (mailer, dir) = file_mailer();
        notify.send_email(&mailer, None, Instant::now() + StdDuration::from_secs(30)).await.unwrap();
        assert!(!mails(&dir).is_empty());
        let sent = deliveries(&app, one.id).await;
        let soon = sent.iter().find(|m| m.email.subject.starts_with("Поверка счётчика")).expect("the notice, sent");
        let day = kabinet_notify::messages::tr(None).date(today + Duration::days(10));
        assert!(soon.email.subject.contains(&day) && soon.email.text.contains(&first), "{:?}", soon.email);
        let gone = deliveries(&app, two.id).await;
        assert!(gone.iter().any(|m| m.email.subject.starts_with("Срок поверки счётчика") && m.email.text.contains("не принимаются")));
    }
}

/// The readings-window e-mails (subjects once sent) of `user`.
async fn readings_mails(app: &TestApp, user: UserId) -> Vec<kabinet_domain::OutboxMessage> {
    deliveries(app, user)
        .await
        .into_iter()
        .filter(|m| m.email.subject.starts_with("readings_") || m.email.subject.contains("показани"))
        .collect()
}

/// Hands in a reading of `period` for every active meter of `account`.
async fn hand_in_all(app: &TestApp, user: &kabinet_domain::ResidentUser, period: kabinet_domain::Period) {
    let now = OffsetDateTime::now_utc();
    let rows: Vec<kabinet_db::meters::PortalReading> = app
        .db()
        .meters()
        .of_account(user.account_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.status == kabinet_domain::MeterStatus::Active)
        .map(|m| kabinet_db::meters::PortalReading {
            meter: m.id,
            zone: 1,
            value: 999_999,
            taken_on: now.date(),
            period,
            submitted_at: now,
            user: user.id,
            ip: "192.0.2.1".into(),
        })
        .collect();
    assert!(!rows.is_empty(), "the account has meters");
    assert!(app.db().meters().store(&rows).await.unwrap());
}

db_tests! {
    async fn the_readings_window_is_announced_and_its_end_reminded_by_building(t: &TestDb) {
        let demo = TestApp::builder(&t.db).demo(90, 1).build().await;
        // Three residents with meters: two in a building on the
        // organization's window, one in a building with a window of its own,
        // closed all month (the demo has 80 flats a building).
        let mut found: Vec<(i64, String)> = Vec::new();
        for a in demo.db().accounts().first_open(90).await.unwrap() {
            let metered = demo.db().meters().of_account(a.id).await.unwrap().iter().any(|m| m.status == kabinet_domain::MeterStatus::Active);
            if metered {
                found.push((a.id.0, demo.db().accounts().premises(a.premises_id).await.unwrap().unwrap().address));
            }
        }
        let (own_id, own) = found[0].clone();
        let others: Vec<i64> = found.iter().filter(|(_, addr)| *addr != own).take(2).map(|(id, _)| *id).collect();
        assert_eq!(others.len(), 2, "the demo has several buildings");
        drop(demo);
        let app = TestApp::builder(&t.db)
            .configure(move |s| {
                s.app.notify.quiet_hours = None;
                s.app.notify.email_per_second = 1000;
                s.app.readings.window = kabinet_domain::ReadingsWindow { first_day: 1, last_day: 28 };
                s.app.readings.buildings = vec![(own.clone(), kabinet_domain::ReadingsWindow { first_day: 1, last_day: 2 })];
            })
            .build()
            .await;
        let notify = &app.state.app.notify;
        let (_, a) = app.resident(others[0]).await;
        let (_, b) = app.resident(others[1]).await;
        let (_, c) = app.resident(own_id).await;
        let (a, b, c) = (user(&app, &a).await, user(&app, &b).await, user(&app, &c).await);
        // Its period's readings: none yet for anyone.
        let period = kabinet_domain::Period::containing(OffsetDateTime::now_utc().date());
        for u in [&a, &b, &c] {
            let meters: Vec<kabinet_domain::MeterId> = app.db().meters().of_account(u.account_id).await.unwrap().iter().map(|m| m.id).collect();
            let this = app.db().meters().recorded(&meters).await.unwrap().into_iter().filter(|r| r.period == Some(period)).count();
            assert_eq!(this, 0, "no reading of the period yet");
        }
        let noon = |day: u8| period.day(day).with_hms(9, 0, 0).unwrap().assume_utc();

        // The 5th: open for the organization's buildings, closed for the
        // other since the 2nd. Once a day, once a window.
        notify.produce(noon(5)).await.unwrap();
        notify.produce(noon(5)).await.unwrap();
        assert_eq!(readings_mails(&app, a.id).await.len(), 1);
        assert_eq!(readings_mails(&app, a.id).await[0].email.subject, "readings_open");
        assert_eq!(readings_mails(&app, b.id).await.len(), 1);
        assert!(readings_mails(&app, c.id).await.is_empty(), "its own window is closed");
        notify.produce(noon(6)).await.unwrap();
        assert_eq!(readings_mails(&app, a.id).await.len(), 1, "the same window is not announced again");
        // Sent: with the window's last day and the meters page.
        let (mailer, _dir) = file_mailer();
        notify.send_email_as_of(&mailer, None, Instant::now() + StdDuration::from_secs(30), noon(6)).await.unwrap();
        let last = period.day(28);
        let day = format!("28.{:02}.{}", u8::from(last.month()), last.year());
        for u in [&a, &b] {
            let opened: Vec<_> = readings_mails(&app, u.id).await.into_iter().filter(|m| m.status == OutboxStatus::Sent).collect();
            assert_eq!(opened.len(), 1, "{opened:?}");
            assert!(opened[0].email.subject.contains("Открыт приём показаний"), "{}", opened[0].email.subject);
            assert!(opened[0].email.text.contains(&day) && opened[0].email.text.contains("/meters?account="), "{}", opened[0].email.text);
        }

        // A hands in everything; on the 26th only B is reminded.
        hand_in_all(&app, &a, period).await;
        notify.produce(noon(26)).await.unwrap();
        assert_eq!(readings_mails(&app, a.id).await.len(), 1, "A has handed in every meter");
        let reminded = readings_mails(&app, b.id).await;
        assert_eq!(reminded.iter().filter(|m| m.email.subject == "readings_closing").count(), 1);
        assert!(readings_mails(&app, c.id).await.is_empty());

        // B hands in before the reminder goes: it is not sent.
        hand_in_all(&app, &b, period).await;
        let (mailer, _dir) = file_mailer();
        let later = noon(26) + Duration::minutes(1);
        notify.send_email_as_of(&mailer, None, Instant::now() + StdDuration::from_secs(30), later).await.unwrap();
        let closing = readings_mails(&app, b.id).await.into_iter().find(|m| m.email.subject == "readings_closing" || m.status == OutboxStatus::Skipped).unwrap();
        assert_eq!(closing.status, OutboxStatus::Skipped, "moot: B handed in");
    }

    async fn a_new_version_of_the_rules_is_told_to_each_resident_who_has_not_accepted_it(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 1).configure(no_quiet).build().await;
        let (mut one, first) = app.resident(1).await;
        let (_two, second) = app.resident(2).await;
        let a = user(&app, &first).await;
        let b = user(&app, &second).await;
        let v = app.state.app.rules.publish(kabinet_app::staff::By::Cli, "Правила, редакция 2", "Новый текст.").await.unwrap();
        // The fan-out is a job, a chunk of residents a run.
        let (mailer, dir) = file_mailer();
        let mailer = std::sync::Arc::new(mailer);
        let env = kabinet_app::jobs::JobEnv { app: app.state.app.clone(), mailer: mailer.clone() };
        let runner = kabinet_app::jobs::Runner::new(env, Default::default()).unwrap();
        let ran = runner.run_due(Some(&["document_notify"]), OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(ran, vec![kabinet_app::jobs::Ran::Done]);
        let told = |m: &kabinet_domain::OutboxMessage| m.email.subject == "rules_changed" || m.email.subject.contains("Новая редакция Правил");
        for u in [&a, &b] {
            assert_eq!(deliveries(&app, u.id).await.iter().filter(|m| told(m)).count(), 1);
        }
        // A accepts it before the e-mail goes: A's is moot.
        let r = one.submit("/rules/accept", "/rules/accept", &[("version", &v.to_string())]).await;
        assert_eq!(r.location(), "/cabinet");
        let sent = app.state.app.notify.send_email(&mailer, None, Instant::now() + StdDuration::from_secs(30)).await.unwrap();
        assert_eq!(sent, 1);
        let mine: Vec<_> = deliveries(&app, a.id).await.into_iter().filter(|m| told(m)).collect();
        assert_eq!(mine[0].status, OutboxStatus::Skipped, "{mine:?}");
        let theirs: Vec<_> = deliveries(&app, b.id).await.into_iter().filter(|m| told(m)).collect();
        assert_eq!(theirs[0].status, OutboxStatus::Sent);
        assert!(theirs[0].email.text.contains("Правила, редакция 2") && theirs[0].email.text.contains("/rules"), "{}", theirs[0].email.text);
        let raw = mails(&dir);
        assert_eq!(raw.len(), 1);
        assert!(header(&raw[0], "List-Unsubscribe").is_some());
        // Again: nothing more.
        let ran = runner.run_due(Some(&["document_notify"]), OffsetDateTime::now_utc()).await.unwrap();
        assert!(ran.is_empty(), "{ran:?}");
        assert_eq!(deliveries(&app, b.id).await.iter().filter(|m| told(m)).count(), 1);
    }

    async fn the_office_words_a_notification_checked_previewed_and_then_sent(t: &TestDb) {
        let app = TestApp::builder(&t.db).configure(no_quiet).build().await;
        let notify = &app.state.app.notify;
        let (mut admin, _, _) = app.staff("adm", Role::Administrator).await;
        let (mut op, _, _) = app.staff("help", Role::Operator).await;
        assert_eq!(op.get("/staff/texts").await.status, StatusCode::FORBIDDEN, "an administrator's right");
        let list = admin.get("/staff/texts").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains("Новый счёт") && list.body.contains("стандартный") && !list.body.contains(">свой<"));
        // Request news is not sent by SMS: no such text.
        assert_eq!(admin.get("/staff/texts/request_update/sms/ru").await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get("/staff/texts/new_invoice/email/de").await.status, StatusCode::NOT_FOUND);

        let page = "/staff/texts/new_invoice/email/ru";
        let form = admin.get(page).await;
        assert!(form.body.contains("{account}") && form.body.contains("7100000001"), "{}", form.body);
        // Checked when saved: a placeholder the message has not, an open
        // brace, an empty subject.
        let bad = admin.submit(page, page, &[("subject", "Счёт {title}"), ("body", "К оплате {amount}."), ("action", "save")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(bad.body.contains("нет подстановки «title»"), "{}", bad.body);
        let open = admin.submit(page, page, &[("subject", "Счёт"), ("body", "К оплате {amount."), ("action", "preview")]).await;
        assert_eq!(open.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(open.body.contains("Фигурные скобки"), "{}", open.body);
        let empty = admin.submit(page, page, &[("subject", " "), ("body", "К оплате {amount}."), ("action", "save")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        // A preview fills in sample values.
        let fields = [("subject", "Счёт по л/с {account}"), ("body", "К оплате {amount} до {date}.\n\nВаша {org}"), ("action", "preview")];
        let preview = admin.submit(page, page, &fields).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
        assert!(preview.body.contains("Счёт по л/с 7100000001") && preview.body.contains("3\u{a0}456,78"), "{}", preview.body);
        let mut save = fields;
        save[2] = ("action", "save");
        let saved = admin.submit(page, page, &save).await;
        assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/staff/texts?saved=1"), "{}", saved.body);
        assert!(admin.get("/staff/texts").await.body.contains(">свой<"));

        // The next new invoice goes out in those words.
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = OffsetDateTime::now_utc().date();
        import_through_office(&app, &mut acc, &demo_package_at(2, today - Duration::days(31), 1)).await;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let ids = account_ids(&app, 2).await;
        let (_, number) = app.resident(ids[0]).await;
        let me = user(&app, &number).await;
        import_through_office(&app, &mut acc, &demo_package_at(2, today, 2)).await;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        assert!(app.send_notifications().await >= 1);
        let mine = deliveries(&app, me.id).await;
        let invoice = mine.iter().find(|m| m.email.subject.starts_with("Счёт по л/с")).expect("the own text");
        assert_eq!(invoice.email.subject, format!("Счёт по л/с {number}"));
        assert!(invoice.email.text.contains("К оплате") && invoice.email.text.contains("/unsubscribe/"), "{}", invoice.email.text);
        // Other kinds keep the built-in text.
        assert!(mine.iter().any(|m| m.email.subject.starts_with("Платёж получен")), "{mine:?}");

        // Back to the built-in text; both changes audited.
        let reset = admin.submit(page, &format!("{page}/reset"), &[]).await;
        assert_eq!(reset.status, StatusCode::SEE_OTHER);
        assert!(!admin.get("/staff/texts").await.body.contains(">свой<"));
        let audit = app.db().audit().lines(None, 1000).await.unwrap();
        let changes: Vec<_> = audit.iter().filter(|l| l.event == "notify_text_changed").collect();
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(changes.iter().all(|l| l.details.contains("new_invoice by email in ru")), "{changes:?}");
    }
}
