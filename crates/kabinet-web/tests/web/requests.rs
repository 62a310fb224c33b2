//! Requests and the dispatcher's console end to end on both databases:
//! filing with photos through the pages and the API, staff sign-in with a
//! password and TOTP (enrolment, replay, recovery codes), the lifecycle with
//! its refused moves, what residents may and may not see (another's
//! request or photo, internal notes in pages, API and e-mail), the daily
//! and duplicate limits, photos refused by content, EXIF GPS stripped, and
//! the S3-compatible photo store against a local moto server.

use crate::common;
use crate::common::{Browser, TestApp, between, token, unix_now};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kabinet_db::Repos;
use kabinet_domain::staff::Role;
use kabinet_testkit::db_tests;
use serde_json::Value;

const BOUNDARY: &str = "----kabinet-test-boundary";

/// A file part: field, file name, bytes.
pub(crate) type FilePart<'a> = (&'a str, &'a str, Vec<u8>);

pub(crate) fn multipart(fields: &[(&str, &str)], files: &[FilePart<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    for (field, name, data) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn post_multipart(
    b: &mut Browser,
    path: &str,
    bearer: Option<&str>,
    body: Vec<u8>,
) -> common::Resp {
    let mut r = Request::post(path).header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(t) = bearer {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.send(r.body(Body::from(body)).unwrap()).await
}

/// A JPEG photo.
pub(crate) fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

/// A JPEG carrying an EXIF block with a GPS position (55°45′ N).
fn jpeg_with_gps() -> Vec<u8> {
    let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    // IFD0: one entry, GPSInfo → offset 26.
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD: latitude ref "N" and latitude at offset 56.
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&5u16.to_le_bytes());
    tiff.extend_from_slice(&3u32.to_le_bytes());
    tiff.extend_from_slice(&56u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(55u32, 1u32), (45, 1), (0, 1)] {
        tiff.extend_from_slice(&n.to_le_bytes());
        tiff.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let plain = jpeg(640, 480);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG that claims 10 001 × 10 001 pixels (a decompression bomb).
fn png_bomb() -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        c.extend_from_slice(&body);
        c.extend_from_slice(&crc32(&body).to_be_bytes());
        c
    };
    let mut ihdr = 10_001u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&10_001u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    // A zlib stream of a few zero bytes: far too little for the picture.
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// Files a request through the page form; returns the response.
pub(crate) async fn file_page(
    b: &mut Browser,
    fields: &[(&str, &str)],
    files: &[FilePart<'_>],
) -> common::Resp {
    let form = b.get("/requests/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    post_multipart(b, "/requests", None, multipart(&all, files)).await
}

pub(crate) fn number_of(location: &str) -> i64 {
    location
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn staff_act(b: &mut Browser, id: i64, action: &str, fields: &[(&str, &str)]) -> common::Resp {
    b.submit(
        &format!("/staff/requests/{id}"),
        &format!("/staff/requests/{id}/{action}"),
        fields,
    )
    .await
}

pub(crate) const LEAK: &[(&str, &str)] = &[
    ("category", "leak"),
    ("text", "Течёт с потолка на кухне, вода капает на плиту"),
    ("phone", "+7 912 345-67-89"),
    ("visit_time", "после 18:00"),
];

db_tests! {
    async fn requests_keep_the_law_s_clock(t: &TestDb) {
        use kabinet_domain::requests::{Deadlines, Desk};
        use kabinet_domain::workdays::WorkCalendar;
        let app = TestApp::builder(&t.db).demo(4, 1).build().await;
        let clock = app.state.app.requests.clock();
        let (mut resident, _) = app.resident(1).await;
        let get = async |id: i64| app.db().requests().get(kabinet_domain::RequestId(id)).await.unwrap().unwrap();
        let office_form = [("category", "charges"), ("text", "Прошу пересчитать начисления за воду"), ("phone", "+7 912 345-67-89")];
        // To the office: ten working days by the built-in calendar, to the
        // end of the last one.
        let office = get(number_of(file_page(&mut resident, &office_form, &[]).await.location())).await;
        let built_in = WorkCalendar::built_in();
        let d = Deadlines::default();
        assert_eq!(office.due_at, d.on_filing(Desk::Office, false, None, office.created_at, clock, &built_in));
        assert!(office.due_at - office.created_at >= time::Duration::days(12), "two weekends at least");
        // An emergency: taken within 30 minutes; once taken, a day from filing.
        let leak = get(number_of(file_page(&mut resident, LEAK, &[]).await.location())).await;
        assert!(leak.emergency);
        assert_eq!(leak.due_at, leak.created_at + time::Duration::minutes(30));
        let (mut dispatcher, _, _) = app.staff("olga", Role::Dispatcher).await;
        let queue = dispatcher.get("/staff/requests").await;
        assert!(queue.body.contains(&format!("№ {}", leak.id)), "{}", queue.body);
        assert_eq!(staff_act(&mut dispatcher, leak.id.0, "status", &[("change", "take")]).await.status, StatusCode::SEE_OTHER);
        let taken = get(leak.id.0).await;
        let own = app.db().requests().all_categories().await.unwrap().into_iter().find(|c| c.setting.category.code == "leak").unwrap().setting.category.deadline_hours;
        assert_eq!(taken.due_at, d.for_work(Desk::Dispatch, own, leak.created_at, clock, &built_in));
        assert!(taken.due_at > leak.due_at);

        // The administrator's calendar: a line that does not read is named
        // and nothing is stored; the next twenty days off move the deadline.
        let (mut admin, _, _) = app.staff("adm", Role::Administrator).await;
        let bad = admin.submit("/staff/calendar", "/staff/calendar", &[("days", "2026-01-01\nвторник\n")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Строка 2 не читается"), "{}", bad.body);
        let today = clock.today(time::OffsetDateTime::now_utc());
        let days: String = (1..=20).map(|i| format!("{}\n", today + time::Duration::days(i))).collect();
        let text = format!("{}{days}", kabinet_domain::workdays::BUILT_IN);
        let saved = admin.submit("/staff/calendar", "/staff/calendar", &[("days", &text)]).await;
        assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/staff/calendar?saved=1"), "{}", saved.body);
        let line = &app.db().audit().lines(None, 1).await.unwrap()[0];
        assert!(line.event == "org_settings_changed" && line.details.contains("production calendar"), "{line:?}");
        let later = get(number_of(file_page(&mut resident, &[("category", "other"), ("text", "Когда будет поверка счётчиков?"), ("phone", "+7 912 345-67-89")], &[]).await.location())).await;
        let mine = WorkCalendar::parse(&text).unwrap();
        assert_eq!(later.due_at, d.on_filing(Desk::Office, false, None, later.created_at, clock, &mine));
        assert!(later.due_at > office.due_at + time::Duration::days(19), "{} vs {}", later.due_at, office.due_at);
        assert!(admin.get("/staff/calendar").await.body.contains(&(today + time::Duration::days(20)).to_string()));
    }

    async fn an_emergency_alerts_the_dispatchers_and_escalates_when_not_taken(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(4, 1).build().await;
        let (mut resident, _) = app.resident(1).await;
        let (mut admin, _, _) = app.staff("adm", Role::Administrator).await;
        let (mut dispatcher, _, _) = app.staff("olga", Role::Dispatcher).await;
        let (_, _, _) = app.staff("far", Role::Dispatcher).await;
        let member = async |login: &str| app.state.app.staff.by_login(login).await.unwrap();
        let set_email = async |b: &mut crate::common::Browser, id: kabinet_domain::StaffId, email: &str| {
            let page = format!("/staff/members/{id}");
            b.submit(&page, &format!("{page}/email"), &[("email", email)]).await
        };
        let bad = set_email(&mut admin, member("olga").await.id, "не адрес").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for (login, email) in [("olga", "olga@example.ru"), ("adm", "boss@example.ru"), ("far", "far@example.ru")] {
            assert_eq!(set_email(&mut admin, member(login).await.id, email).await.status, StatusCode::SEE_OTHER);
        }
        // "far" works another building only.
        app.db().staff().set_buildings(member("far").await.id, &["г. Другой, ул. Дальняя, д. 1".to_string()]).await.unwrap();
        assert!(app.db().audit().lines(None, 10).await.unwrap().iter().any(|l| l.details.contains("alert e-mail of staff olga")));
        let to = |m: &kabinet_domain::OutboxMessage| m.email.to.to_string();
        let before = app.db().outbox().messages(None, 100).await.unwrap().len();
        // A new emergency: the dispatcher of the building hears at once.
        let leak = number_of(file_page(&mut resident, LEAK, &[]).await.location());
        let sent = app.db().outbox().messages(None, 100).await.unwrap();
        let alerts: Vec<_> = sent[..sent.len() - before].iter().filter(|m| m.email.subject.contains("Новая аварийная заявка")).collect();
        assert_eq!(alerts.iter().map(|m| to(m)).collect::<Vec<_>>(), ["olga@example.ru"]);
        assert!(alerts[0].email.subject.contains(&format!("№ {leak}")) && alerts[0].email.text.contains(&format!("/staff/requests/{leak}")));
        // Not taken within 10 minutes: the administrators hear.
        let run = async |at: time::OffsetDateTime| {
            let env = kabinet_app::jobs::JobEnv {
                app: app.state.app.clone(),
                mailer: std::sync::Arc::new(kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
                    dir: std::env::temp_dir().join("kabinet-escalation-mail"),
                    from: "Кабинет <noreply@example.ru>".into(),
                }).unwrap()),
            };
            let runner = kabinet_app::jobs::Runner::new(env, Default::default()).unwrap();
            runner.run_due(Some(&["escalate_emergency"]), at).await.unwrap()
        };
        let now = time::OffsetDateTime::now_utc();
        assert!(run(now + time::Duration::minutes(5)).await.is_empty(), "not due yet");
        assert_eq!(run(now + time::Duration::minutes(11)).await.len(), 1);
        let escalated: Vec<_> = app.db().outbox().messages(None, 100).await.unwrap().into_iter().filter(|m| m.email.subject.contains("не приняли в работу")).collect();
        assert_eq!(escalated.iter().map(to).collect::<Vec<_>>(), ["boss@example.ru"]);
        assert!(app.db().audit().lines(None, 5).await.unwrap().iter().any(|l| l.details.contains(&format!("request {leak}: emergency not taken"))));
        // One taken in time is not escalated.
        let second = number_of(file_page(&mut resident, &[("category", "leak"), ("text", "Течёт из-под ванной, вода у соседей снизу"), ("phone", "+7 912 345-67-89")], &[]).await.location());
        assert_eq!(staff_act(&mut dispatcher, second, "status", &[("change", "take")]).await.status, StatusCode::SEE_OTHER);
        run(now + time::Duration::minutes(11)).await;
        let escalated = app.db().outbox().messages(None, 100).await.unwrap().into_iter().filter(|m| m.email.subject.contains("не приняли в работу")).count();
        assert_eq!(escalated, 1, "only the first");
    }

    async fn the_overview_lists_the_requests_not_yet_finished(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(4, 1).build().await;
        let (mut resident, _) = app.resident(1).await;
        let empty = resident.get("/cabinet").await;
        assert!(empty.body.contains("Сообщите об аварии диспетчеру"), "{}", empty.body);
        let filed = file_page(&mut resident, LEAK, &[]).await;
        let id = number_of(filed.location());
        let page = resident.get("/cabinet").await;
        let due = app.db().requests().get(kabinet_domain::RequestId(id)).await.unwrap().unwrap().due_at;
        let due = kabinet_i18n::Tr::current().date_time(app.state.app.requests.clock().local(due));
        for shown in [format!("/requests/{id}\">№ {id}"), "новая".to_string(), format!("срок до {due}")] {
            assert!(page.body.contains(&shown), "{shown}: {}", page.body);
        }
        // A finished one leaves the card.
        let now = time::OffsetDateTime::now_utc();
        let change = kabinet_db::requests::StatusChange {
            from: kabinet_domain::requests::RequestStatus::New,
            to: kabinet_domain::requests::RequestStatus::Declined,
            staff_id: None,
            body: "Не наша зона.".into(),
            due_at: None,
            deferred_until: None,
            rating: None,
            reopened: false,
            assign_to: None,
            now,
        };
        assert!(app.db().requests().change_status(kabinet_domain::RequestId(id), &change).await.unwrap().is_some());
        assert!(!resident.get("/cabinet").await.body.contains(&format!("№ {id}")));
    }

    async fn a_request_goes_from_the_resident_to_the_dispatcher_and_back(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(4, 2).build().await;
        let (mut resident, _) = app.resident(1).await;
        let list = resident.get("/requests").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("Заявок пока нет"), "{}", list.body);
        let filed = file_page(&mut resident, LEAK, &[("photos", "кухня.jpg", jpeg_with_gps())]).await;
        assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
        let id = number_of(filed.location());
        let page = resident.get(filed.location()).await;
        assert!(page.body.contains(&format!("Заявка № {id} отправлена")));
        let before = app.db().statements();
        let again = resident.get(&format!("/requests/{id}")).await;
        let statements = app.db().statements() - before;
        assert_eq!(again.status, StatusCode::OK);
        // Session, linked accounts, the request, its history and photos.
        assert!(statements <= 4, "GET /requests/{id} ran {statements} statements");
        assert!(page.body.contains("Авария") && page.body.contains("Течёт с потолка"));
        // The stored photo is a JPEG without EXIF: no GPS position leaks.
        let photo_url = format!("/requests/photos/{}", between(&page.body, "<img src=\"/requests/photos/", "?size=thumb"));
        let photo = resident.get(&photo_url).await;
        assert_eq!(photo.status, StatusCode::OK);
        assert_eq!(photo.headers.get(header::CONTENT_TYPE).unwrap(), "image/jpeg");
        assert!(!photo.bytes.windows(4).any(|w| w == b"Exif"), "EXIF is gone");
        let thumb = resident.get(&format!("{photo_url}?size=thumb")).await;
        assert!(thumb.status == StatusCode::OK && thumb.bytes.len() < photo.bytes.len());
        if let Ok(out) = std::process::Command::new("exiftool").args(["-j", "-gps:all", "-"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&photo.bytes)?;
            c.wait_with_output()
        }) {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(!text.contains("GPS"), "exiftool still finds GPS: {text}");
        }
        // The same file as uploaded does carry it (the check can fail).
        assert!(jpeg_with_gps().windows(4).any(|w| w == b"Exif"));

        // The dispatcher signs in with a password and TOTP and finds it first.
        let (mut staff, secret, codes) = app.staff("olga", Role::Dispatcher).await;
        let queue = staff.get("/staff/requests").await;
        assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
        assert!(queue.body.contains(&format!("№ {id}")) && queue.body.contains("новая авария"));
        let office = staff.get("/staff/requests?category=charges").await;
        assert!(!office.body.contains(&format!("№ {id}<")));
        let view = staff.get(&format!("/staff/requests/{id}")).await;
        assert!(view.body.contains("+79123456789") && view.body.contains("r1@example.ru"));
        // A done request cannot be closed before it was taken.
        let refused = staff_act(&mut staff, id, "status", &[("change", "close")]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("недоступно"));
        assert_eq!(staff_act(&mut staff, id, "status", &[("change", "take")]).await.status, StatusCode::SEE_OTHER);
        // Taking it twice: the second is refused (someone changed it first).
        assert_eq!(staff_act(&mut staff, id, "status", &[("change", "take")]).await.status, StatusCode::CONFLICT);
        assert_eq!(staff_act(&mut staff, id, "reply", &[("body", "Мастер придёт в 15:00")]).await.status, StatusCode::SEE_OTHER);
        assert_eq!(staff_act(&mut staff, id, "note", &[("body", "Ключ от подвала у вахтёра, секрет 4711")]).await.status, StatusCode::SEE_OTHER);
        let view = staff.get(&format!("/staff/requests/{id}")).await;
        assert!(view.body.contains("секрет 4711") && view.body.contains("Мастер придёт"));

        // The resident sees the reply, never the note: page, API, e-mail.
        let page = resident.get(&format!("/requests/{id}")).await;
        assert!(page.body.contains("Мастер придёт в 15:00") && page.body.contains("в работе"));
        assert!(!page.body.contains("4711"));
        let tok = token(&mut resident, &common::account_and_amount(&t.db, 1).await.0).await;
        let api = resident.json("GET", &format!("/api/v1/requests/{id}"), Some(&tok), Value::Null).await;
        assert_eq!(api.status, StatusCode::OK);
        assert!(api.body.contains("Мастер придёт") && !api.body.contains("4711"));
        app.send_notifications().await;
        let mails = t.db.outbox().messages(None, 50).await.unwrap();
        let about: Vec<_> = mails.iter().filter(|m| m.email.subject.contains(&format!("№ {id}"))).collect();
        assert_eq!(about.len(), 2, "taken into work, answered");
        assert!(about.iter().any(|m| m.email.text.contains("Мастер придёт")));
        assert!(mails.iter().all(|m| !m.email.text.contains("4711") && !m.email.html.contains("4711")));

        // Done → the resident accepts with a rating; it closes.
        assert_eq!(staff_act(&mut staff, id, "status", &[("change", "complete")]).await.status, StatusCode::SEE_OTHER);
        let cancel = resident.submit(&format!("/requests/{id}"), &format!("/requests/{id}/cancel"), &[]).await;
        assert_eq!(cancel.status, StatusCode::CONFLICT, "a done request cannot be cancelled");
        let bad = resident.submit(&format!("/requests/{id}"), &format!("/requests/{id}/accept"), &[("rating", "9")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = resident.submit(&format!("/requests/{id}"), &format!("/requests/{id}/accept"), &[("rating", "5")]).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let r = t.db.requests().get(kabinet_domain::RequestId(id)).await.unwrap().unwrap();
        assert_eq!((r.status.as_str(), r.rating), ("closed", Some(5)));
        assert_eq!(r.assignee_name.as_deref(), Some("Мария Диспетчер"));
        let history = t.db.requests().events(kabinet_domain::RequestId(id), true).await.unwrap();
        assert!(history.iter().any(|e| e.kind == kabinet_domain::requests::EventKind::Note));

        // Another one returned after "done": it reopens and is counted.
        let second = file_page(&mut resident, &[("category", "charges"), ("text", "Прошу пересчитать отопление"), ("phone", "89123456789")], &[]).await;
        let id2 = number_of(second.location());
        // An office request is the operator's, not the dispatcher's.
        assert_eq!(staff.get(&format!("/staff/requests/{id2}")).await.status, StatusCode::FORBIDDEN);
        let (mut operator, _, _) = app.staff("ivan", Role::Operator).await;
        for change in ["take", "complete"] {
            assert_eq!(staff_act(&mut operator, id2, "status", &[("change", change)]).await.status, StatusCode::SEE_OTHER);
        }
        let empty = resident.submit(&format!("/requests/{id2}"), &format!("/requests/{id2}/return"), &[("body", " ")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let back = resident.submit(&format!("/requests/{id2}"), &format!("/requests/{id2}/return"), &[("body", "Пересчёта нет")]).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        let r2 = t.db.requests().get(kabinet_domain::RequestId(id2)).await.unwrap().unwrap();
        assert_eq!((r2.status.as_str(), r2.reopened), ("in_work", 1));
        // Deferral: after today and within a year only.
        let past = staff_act(&mut operator, id2, "status", &[("change", "defer"), ("until", "2020-01-01")]).await;
        assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
        let decline = staff_act(&mut operator, id2, "status", &[("change", "decline"), ("body", "")]).await;
        assert_eq!(decline.status, StatusCode::UNPROCESSABLE_ENTITY);
        // A deferral's e-mail names the day the request comes back.
        let until = app.state.app.requests.clock().today(time::OffsetDateTime::now_utc()) + time::Duration::days(7);
        let deferred = staff_act(&mut operator, id2, "status", &[("change", "defer"), ("until", &until.to_string())]).await;
        assert_eq!(deferred.status, StatusCode::SEE_OTHER, "{}", deferred.body);
        app.send_notifications().await;
        let mail = &t.db.outbox().of_user(r2.user_id, 1).await.unwrap()[0];
        let day = kabinet_i18n::Tr::current().date(until);
        assert!(mail.email.subject.contains(&format!("отложена до {day}")), "{}", mail.email.subject);

        // Second factor: the code just used cannot be used again, a fresh
        // step can; a recovery code works once.
        let out = staff.submit("/staff", "/staff/logout", &[]).await;
        assert_eq!(out.location(), "/staff/login");
        assert_eq!(staff.get("/staff").await.location(), "/staff/login");
        let sign_in = |b: &mut Browser| {
            let mut b = b.clone();
            async move {
                let r = b.submit("/staff/login", "/staff/login", &[("login", "olga"), ("password", "длинный пароль диспетчера")]).await;
                assert_eq!(r.location(), "/staff/second-factor");
                b
            }
        };
        let mut s2 = sign_in(&mut staff).await;
        let next = kabinet_app::staff::totp_code(&secret, unix_now() + 30).unwrap();
        let r = s2.submit("/staff/second-factor", "/staff/second-factor", &[("code", next.as_str())]).await;
        assert_eq!(r.location(), "/staff", "{}", r.body);
        let mut s3 = sign_in(&mut s2).await;
        let replay = s3.submit("/staff/second-factor", "/staff/second-factor", &[("code", next.as_str())]).await;
        assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "a TOTP step is never taken twice");
        let r = s3.submit("/staff/second-factor", "/staff/second-factor", &[("code", codes[0].as_str())]).await;
        assert_eq!(r.location(), "/staff");
        let mut s4 = sign_in(&mut s3).await;
        let again = s4.submit("/staff/second-factor", "/staff/second-factor", &[("code", codes[0].as_str())]).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "a recovery code works once");
        assert_eq!(t.db.staff().codes_left(t.db.staff().by_login("olga").await.unwrap().unwrap().id).await.unwrap(), 9);
    }

    async fn residents_see_only_their_own_requests_and_staff_pages_only_staff(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(4, 2).build().await;
        let (mut a, _) = app.resident(1).await;
        let (mut b, b_account) = app.resident(2).await;
        let filed = file_page(&mut a, LEAK, &[("photos", "a.jpg", jpeg(300, 200))]).await;
        let id = number_of(filed.location());
        let page = a.get(&format!("/requests/{id}")).await;
        let photo_id = between(&page.body, "<img src=\"/requests/photos/", "?size=thumb").to_string();
        // Another resident: by number, by photo URL, through pages and API.
        assert_eq!(b.get(&format!("/requests/{id}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(b.get(&format!("/requests/photos/{photo_id}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(b.get(&format!("/requests/photos/{photo_id}?size=thumb")).await.status, StatusCode::NOT_FOUND);
        let cancel = b.submit("/requests", &format!("/requests/{id}/cancel"), &[]).await;
        assert_eq!(cancel.status, StatusCode::NOT_FOUND);
        assert!(!b.get("/requests").await.body.contains(&format!("№ {id}")));
        let tok = token(&mut b, &b_account).await;
        for path in [format!("/api/v1/requests/{id}"), format!("/api/v1/requests/photos/{photo_id}")] {
            let r = b.json("GET", &path, Some(&tok), Value::Null).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        }
        let r = b.json("POST", &format!("/api/v1/requests/{id}/cancel"), Some(&tok), Value::Null).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let list = b.json("GET", "/api/v1/requests", Some(&tok), Value::Null).await;
        assert_eq!(serde_json::from_str::<Value>(&list.body).unwrap()["total"], 0);
        // Still new and the owner's.
        assert_eq!(t.db.requests().get(kabinet_domain::RequestId(id)).await.unwrap().unwrap().status.as_str(), "new");
        // Signed out: to sign-in.
        let mut anon = Browser::new(&app);
        assert_eq!(anon.get(&format!("/requests/{id}")).await.location(), "/login");
        assert_eq!(anon.get(&format!("/requests/photos/{photo_id}")).await.location(), "/login");
        // Staff pages refuse residents and the signed-out, whatever the path.
        for pattern in kabinet_web::staff_route_patterns() {
            let path = pattern.replace("{id}", &id.to_string()).replace("{action}", "status");
            for browser in [&mut a, &mut anon] {
                // The POST-only routes are asked with a POST.
                let r = if pattern.contains("{action}") || pattern.ends_with("/confirm") || pattern.ends_with("/upload") || pattern.ends_with("/unlock") || pattern.ends_with("/end") || pattern.ends_with("/reset") || pattern.ends_with("/refund") {
                    browser.post_raw(&path, &[("change", "take")]).await
                } else {
                    browser.get(&path).await
                };
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
                assert_eq!(r.location(), "/staff/login", "{path}");
            }
        }
        // A staff session half-way (password only) does not open the console.
        let (_, password) = app.state.app.staff.add(kabinet_app::staff::By::Cli, "half", "Полу Вход", Role::Operator).await.unwrap();
        let mut half = Browser::new(&app);
        half.submit("/staff/login", "/staff/login", &[("login", "half"), ("password", password.as_str())]).await;
        assert_eq!(half.get("/staff").await.location(), "/staff/second-factor");
        assert_eq!(half.get(&format!("/staff/photos/{photo_id}")).await.location(), "/staff/second-factor");
        // Staff with both factors see the photo.
        let (mut staff, _, _) = app.staff("disp", Role::Dispatcher).await;
        let p = staff.get(&format!("/staff/photos/{photo_id}")).await;
        assert_eq!(p.status, StatusCode::OK);
        assert_eq!(p.headers.get(header::CONTENT_TYPE).unwrap(), "image/jpeg");
        // A disabled member's session ends.
        app.state.app.staff.set_disabled(kabinet_app::staff::By::Cli, app.state.app.staff.by_login("disp").await.unwrap().id, true).await.unwrap();
        assert_eq!(staff.get("/staff").await.location(), "/staff/login");
    }

    async fn limits_and_bad_photos_are_refused_with_a_clear_message(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 2).build().await;
        let (mut b, account) = app.resident(1).await;
        let tok = token(&mut b, &account).await;
        let api = |text: &str| multipart(&[("category", "other"), ("text", text), ("phone", "+79120000001")], &[]);
        // Photos refused by content: nothing is written.
        let full = jpeg(400, 300);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"<?php system($_GET['c']); ?>".to_vec(), "не является фотографией"),
            (full[..full.len() / 2].to_vec(), "повреждено"),
            (png_bomb(), "слишком большое"),
        ];
        for (data, message) in cases {
            let body = multipart(&[("category", "leak"), ("text", "Фото"), ("phone", "+79120000001")], &[("photos", "photo.jpg", data)]);
            let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            assert!(r.body.contains(message), "{message}: {}", r.body);
            let page = file_page(&mut b, &[("category", "leak"), ("text", "Фото"), ("phone", "+79120000001")], &[("photos", "photo.jpg", if message == "слишком большое" { png_bomb() } else { b"<?php ?>".to_vec() })]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(page.body.contains("Фото") && page.body.contains("aria-invalid"));
        }
        let six: Vec<FilePart<'_>> = (0..6).map(|_| ("photos", "p.jpg", jpeg(50, 50))).collect();
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), multipart(&[("category", "leak"), ("text", "Шесть"), ("phone", "+79120000001")], &six)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), api("")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(t.db.requests().count().await.unwrap(), 0);
        // The same text twice a day at most (case and punctuation aside).
        for text in ["Не работает домофон", "не работает   домофон!"] {
            let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), api(text)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let third = post_multipart(&mut b, "/api/v1/requests", Some(&tok), api("НЕ РАБОТАЕТ ДОМОФОН")).await;
        assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(third.body.contains("дважды"));
        // Ten a day in all, at once from many tasks: never more.
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let mut b = b.clone();
                let tok = tok.clone();
                let body = api(&format!("Заявка номер {i}"));
                tokio::spawn(async move { post_multipart(&mut b, "/api/v1/requests", Some(&tok), body).await.status })
            })
            .collect();
        let statuses: Vec<StatusCode> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 8, "{statuses:?}");
        assert!(statuses.iter().filter(|s| **s != StatusCode::CREATED).all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(t.db.requests().count().await.unwrap(), 10);
        let page = file_page(&mut b, LEAK, &[]).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(page.body.contains("10 заявок"));
    }

    async fn bombs_look_alikes_and_paces_are_refused(t: &TestDb) {
        let mut s = common::server_settings(common::settings(kabinet_app::auth::RegistrationMode::Amount), 1000);
        s.app.requests.filings_per_minute = 3;
        let app = TestApp::builder(&t.db).demo(3, 2).settings(s.clone()).build().await;
        let (mut b, account) = app.resident(1).await;
        let tok = token(&mut b, &account).await;
        let with = |text: &str, files: &[FilePart<'_>]| multipart(&[("category", "other"), ("text", text), ("phone", "+79120000001")], files);
        let png = |w: u32, h: u32, color: image::ExtendedColorType| {
            use image::ImageEncoder;
            let bytes = w as usize * h as usize * color.bits_per_pixel() as usize / 8;
            let mut out = Vec::new();
            image::codecs::png::PngEncoder::new_with_quality(&mut out, image::codecs::png::CompressionType::Best, image::codecs::png::FilterType::NoFilter)
                .write_image(&vec![0u8; bytes], w, h, color)
                .unwrap();
            out
        };
        // 16 bits a channel, 12 MP: a few KiB of file, 96 MB of pixels.
        let deep = png(4000, 3000, image::ExtendedColorType::Rgba16);
        assert!(deep.len() < 1024 * 1024, "{}", deep.len());
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), with("Глубокий цвет", &[("photos", "deep.png", deep.clone())])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("8 бит"), "{}", r.body);
        let wide = png(6000, 4100, image::ExtendedColorType::Rgba8);
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), with("Широкое фото", &[("photos", "wide.png", wide)])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("24 мегапикселей"), "{}", r.body);
        assert_eq!(t.db.requests().count().await.unwrap(), 0);

        // The same text twice; a zero-width space or Latin look-alikes do
        // not make it new, and the limit is met before any photo is read.
        for text in ["Не работает домофон", "не работает домофон!"] {
            let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), with(text, &[])).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        for text in ["Не работает домоф\u{200B}он", "Нe рaбoтaет дoмoфoн", "НE PAБOTAET ДOMOФOH"] {
            let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), with(text, &[("photos", "deep.png", deep.clone())])).await;
            assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{text}: {}", r.body);
            assert!(r.body.contains("дважды"), "{}", r.body);
        }
        // Three a minute: the fourth waits.
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), with("Не горит свет в подъезде", &[])).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), with("Шумят трубы отопления", &[])).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(r.body.contains("слишком часто"), "{}", r.body);
        assert_eq!(t.db.requests().count().await.unwrap(), 3);

        // Comments: five a minute.
        let id = t.db.requests().list_of_user(t.db.users().by_account_number(&account.parse().unwrap()).await.unwrap().unwrap().id, 1, 0).await.unwrap().0[0].id;
        let path = format!("/api/v1/requests/{id}/comments");
        for n in 0..5 {
            let c = b.json("POST", &path, Some(&tok), serde_json::json!({"text": format!("Дополнение {n}")})).await;
            assert_eq!(c.status, StatusCode::OK, "{}", c.body);
        }
        let c = b.json("POST", &path, Some(&tok), serde_json::json!({"text": "Ещё одно"})).await;
        assert_eq!(c.status, StatusCode::TOO_MANY_REQUESTS, "{}", c.body);

        // A body over the upload routes' limit names that limit, not 2 MB.
        let huge = vec![b'x'; kabinet_web::MAX_UPLOAD_BYTES + 1024];
        let r = b
            .send(
                Request::post("/api/v1/requests")
                    .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
                    .header(header::CONTENT_LENGTH, huge.len())
                    .header(header::AUTHORIZATION, format!("Bearer {tok}"))
                    .body(Body::from(huge))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.body.contains("10 МБ") && !r.body.contains("2 МБ"), "{}", r.body);

        // Staff read the resident's own lines as the resident's.
        let (mut staff, _, _) = app.staff("disp", Role::Administrator).await;
        let page = staff.get(&format!("/staff/requests/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("· Житель:") && !page.body.contains("· Вы:"), "{}", page.body);
    }

    async fn staff_sign_in_holds_against_theft_and_lockouts(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let staff = &app.state.app.staff;
        let (_, password) = staff.add(kabinet_app::staff::By::Cli, "guard", "Пётр Охранов", Role::Dispatcher).await.unwrap();
        let login = |b: &mut Browser, pw: String| {
            let mut b = b.clone();
            async move { b.submit("/staff/login", "/staff/login", &[("login", "guard"), ("password", pw.as_str())]).await }
        };
        let cookie_of = |r: &common::Resp| -> String {
            let c = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
            c.split(';').next().unwrap().to_string()
        };
        let mut b = Browser::from_ip(&app, "192.0.2.10");
        let first = login(&mut b, password.clone()).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        b.cookies.insert("kabinet_staff".into(), cookie_of(&first).trim_start_matches("kabinet_staff=").to_string());
        // The one-time password works once.
        let mut other = Browser::from_ip(&app, "192.0.2.11");
        let again = login(&mut other, password.clone()).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
        // The enrolment page keeps its secret while the session lasts; none
        // is stored on the member before a code proves it.
        let one = b.get("/staff/second-factor").await;
        let s1 = between(&one.body, "<code class=\"secret\">", "</code>").to_string();
        let again = b.get("/staff/second-factor").await;
        assert_eq!(between(&again.body, "<code class=\"secret\">", "</code>"), s1);
        assert!(t.db.staff().by_login("guard").await.unwrap().unwrap().totp_secret.is_none());
        // A new enrolment (after a reset) gets a new secret; the older one no longer counts.
        let password = staff.reset(kabinet_app::staff::By::Cli, staff.by_login("guard").await.unwrap().id).await.unwrap();
        let mut b = Browser::from_ip(&app, "192.0.2.10");
        let first = login(&mut b, password).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        b.cookies.insert("kabinet_staff".into(), cookie_of(&first).trim_start_matches("kabinet_staff=").to_string());
        let two = b.get("/staff/second-factor").await;
        let s2 = between(&two.body, "<code class=\"secret\">", "</code>").to_string();
        assert_ne!(s1, s2);
        let stale = kabinet_app::staff::totp_code(&s1, unix_now()).unwrap();
        let r = b.post_raw("/staff/second-factor", &[("csrf", two.csrf().as_str()), ("code", stale.as_str())]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains(&s2), "a refused code keeps the secret on the page");
        let before = b.cookies.get("kabinet_staff").cloned().unwrap();
        let mut thief = b.clone();
        let code = kabinet_app::staff::totp_code(&s2, unix_now()).unwrap();
        let done = b.post_raw("/staff/second-factor", &[("csrf", two.csrf().as_str()), ("code", code.as_str())]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        // A new session id: the cookie seen before the second factor is worthless.
        let after = b.cookies.get("kabinet_staff").cloned().unwrap();
        assert_ne!(before, after);
        assert_eq!(thief.get("/staff/password").await.status, StatusCode::SEE_OTHER);
        assert_eq!(thief.get("/staff/password").await.location(), "/staff/login");
        // The secret is stored sealed.
        let stored = t.db.staff().by_login("guard").await.unwrap().unwrap().totp_secret.unwrap();
        assert!(stored.starts_with("v1.") && !stored.contains(&s2), "{stored}");
        let own = b.submit("/staff/password", "/staff/password", &[("password", "пароль охранника длинный"), ("password_again", "пароль охранника длинный")]).await;
        assert_eq!(own.location(), "/staff");
        assert_eq!(b.get("/staff").await.status, StatusCode::OK);

        // Signing in again in the same browser ends the older session.
        let old_tab = b.clone();
        let r = login(&mut b, "пароль охранника длинный".into()).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let mut old_tab = old_tab;
        assert_eq!(old_tab.get("/staff").await.location(), "/staff/login");

        // Wrong passwords from one address delay that address only.
        let mut attacker = Browser::from_ip(&app, "198.51.100.66");
        for _ in 0..12 {
            let r = login(&mut attacker, "не тот пароль".into()).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = login(&mut attacker, "пароль охранника длинный".into()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the attacker's address waits");
        let mut office = Browser::from_ip(&app, "192.0.2.12");
        let r = login(&mut office, "пароль охранника длинный".into()).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "the member is not locked out: {}", r.body);

        // A one-time password older than 72 hours is refused with a clear message.
        let hash = kabinet_app::auth::Hasher::new().hash("временный пароль 2026").await.unwrap();
        let m = t.db.staff().by_login("guard").await.unwrap().unwrap();
        t.db.staff().set_password(m.id, &hash, true, Some(time::OffsetDateTime::now_utc() - time::Duration::minutes(1))).await.unwrap();
        let mut fresh = Browser::from_ip(&app, "192.0.2.13");
        let r = login(&mut fresh, "временный пароль 2026".into()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("истёк"), "{}", r.body);
    }

    async fn the_api_files_and_follows_a_request(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 2).build().await;
        let (mut b, account) = app.resident(1).await;
        let tok = token(&mut b, &account).await;
        let cats = b.json("GET", "/api/v1/requests/categories", Some(&tok), Value::Null).await;
        let cats: Value = serde_json::from_str(&cats.body).unwrap();
        assert!(cats.as_array().unwrap().iter().any(|c| c["code"] == "gas" && c["emergency"] == true));
        let body = multipart(&[("category", "no_heating"), ("text", "Холодные батареи"), ("phone", "+79120000002"), ("account", &account)], &[("photos", "a.jpg", jpeg(800, 600)), ("photos", "b.jpg", jpeg(90, 120))]);
        let r = post_multipart(&mut b, "/api/v1/requests", Some(&tok), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let created: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((created["status"].as_str(), created["photos"].as_i64(), created["emergency"].as_bool()), (Some("new"), Some(2), Some(true)));
        let id = created["number"].as_i64().unwrap();
        let detail: Value = serde_json::from_str(&b.json("GET", &format!("/api/v1/requests/{id}"), Some(&tok), Value::Null).await.body).unwrap();
        let url = detail["photos"][0]["url"].as_str().unwrap().to_string();
        let mut req = Request::get(&url).header(header::AUTHORIZATION, format!("Bearer {tok}"));
        req = req.header("x-test", "1");
        let photo = b.send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(photo.status, StatusCode::OK);
        assert_eq!(detail["photos"][0]["width"], 800);
        let c = b.json("POST", &format!("/api/v1/requests/{id}/comments"), Some(&tok), serde_json::json!({"text": "Дома +16"})).await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.body);
        assert!(c.body.contains("Дома +16") && c.body.contains("\"comment\""));
        let accept = b.json("POST", &format!("/api/v1/requests/{id}/accept"), Some(&tok), serde_json::json!({"rating": 5})).await;
        assert_eq!(accept.status, StatusCode::CONFLICT, "only a done request is accepted");
        let cancel = b.json("POST", &format!("/api/v1/requests/{id}/cancel"), Some(&tok), Value::Null).await;
        assert_eq!(cancel.status, StatusCode::OK);
        assert!(cancel.body.contains("\"canceled\""));
        let list: Value = serde_json::from_str(&b.json("GET", "/api/v1/requests", Some(&tok), Value::Null).await.body).unwrap();
        assert_eq!(list["total"], 1);
        let after = b.json("POST", &format!("/api/v1/requests/{id}/comments"), Some(&tok), serde_json::json!({"text": "ещё"})).await;
        assert_eq!(after.status, StatusCode::CONFLICT);
        let no_token = b.json("GET", "/api/v1/requests", None, Value::Null).await;
        assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    }
}

/// moto's S3 server on a free port, stopped when dropped; `None` when moto is
/// not installed (the CI installs it).
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Moto { child, port });
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    None
}

fn http(port: u16, method: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&out[9..12]).parse().unwrap();
    (status, out[head_end + 4..].to_vec())
}

db_tests! {
    async fn photos_go_to_an_s3_compatible_store(t: &TestDb) {
        let Some(moto) = start_moto() else {
            assert!(std::env::var("CI").is_err(), "moto_server is required in CI");
            eprintln!("moto_server not installed; skipped");
            return;
        };
        let (status, _) = http(moto.port, "PUT", "/kabinet-photos");
        assert_eq!(status, 200);
        let mut s = common::server_settings(common::settings(kabinet_app::auth::RegistrationMode::Amount), 1000);
        s.app.requests.storage = kabinet_app::requests::PhotoStorage::S3(kabinet_app::requests::S3Settings {
            endpoint: format!("http://127.0.0.1:{}", moto.port),
            bucket: "kabinet-photos".into(),
            region: "us-east-1".into(),
            access_key: "test".into(),
            secret_key: "test".into(),
        });
        let app = TestApp::builder(&t.db).demo(3, 2).settings(s.clone()).build().await;
        let (mut b, _) = app.resident(1).await;
        let filed = file_page(&mut b, LEAK, &[("photos", "a.jpg", jpeg_with_gps())]).await;
        assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
        let page = b.get(filed.location()).await;
        let photo_id = between(&page.body, "<img src=\"/requests/photos/", "?size=thumb").to_string();
        let photo = b.get(&format!("/requests/photos/{photo_id}")).await;
        assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
        // The bytes are in the bucket, not in the database.
        use object_store::ObjectStore;
        let bucket = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(format!("http://127.0.0.1:{}", moto.port))
            .with_bucket_name("kabinet-photos")
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .build()
            .unwrap();
        let stored = bucket.get(&object_store::path::Path::from(photo_id.as_str())).await.unwrap().bytes().await.unwrap();
        assert_eq!(stored.as_ref(), photo.bytes.as_slice());
        assert!(!stored.windows(4).any(|w| w == b"Exif"));
        let thumb = bucket.get(&object_store::path::Path::from(format!("{photo_id}.thumb"))).await.unwrap().bytes().await.unwrap();
        assert!(!thumb.is_empty() && thumb.len() < stored.len());
        assert!(t.db.requests().get_blob(&photo_id).await.unwrap().is_none());
        // Another resident still gets nothing.
        let (mut other, _) = app.resident(2).await;
        assert_eq!(other.get(&format!("/requests/photos/{photo_id}")).await.status, StatusCode::NOT_FOUND);
    }
}
