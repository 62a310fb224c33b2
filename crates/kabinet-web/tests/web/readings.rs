//! Meters and readings end to end on both databases: the meters page and its
//! one form, every rule with its message and code, the window's edges in the
//! organization's time zone, replacing until export, concurrent submissions,
//! the history, the API and the audit and e-mail that come with a submission.

use crate::common;
use crate::common::{Browser, TestApp, token};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_db::bulk::Batch;
use kabinet_db::export::{ExportFilter, ExportSink, ExportedReading};
use kabinet_domain::{AccountId, Capacity, Meter, MeterId, MeterStatus, Reading, ReadingsWindow, Resource};
use kabinet_testkit::db_tests;
use serde_json::{Value, json};
use time::macros::{date, time};
use time::{Date, OffsetDateTime, UtcOffset};

const MOSCOW: UtcOffset = match UtcOffset::from_hms(3, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The application with its clock stopped at `at` and this window.
fn app_at(
    db: &kabinet_db::Db,
    at: OffsetDateTime,
    window: (u8, u8),
    strict: bool,
) -> common::TestAppBuilder<'_> {
    let mut s = common::server_settings(
        common::settings(kabinet_app::auth::RegistrationMode::Amount),
        1000,
    );
    s.app.clock = kabinet_domain::OrgClock {
        offset: MOSCOW,
        stopped_at: Some(at),
    };
    s.app.readings.window = ReadingsWindow {
        first_day: window.0,
        last_day: window.1,
    };
    s.app.readings.strict = strict;
    TestApp::builder(db).settings(s)
}

/// Noon Moscow time on `day`.
fn noon(day: Date) -> OffsetDateTime {
    time::PrimitiveDateTime::new(day, time!(12:00)).assume_offset(MOSCOW)
}

fn meter(
    id: i64,
    resource: Resource,
    tariffs: u8,
    status: MeterStatus,
    due: Date,
    capacity: (u8, u8),
) -> Meter {
    Meter {
        id: MeterId(id),
        account_id: AccountId(1),
        serial: format!("T{id}"),
        resource,
        location: "кухня".into(),
        tariffs,
        capacity: Capacity::new(capacity.0, capacity.1).unwrap(),
        scale: 1,
        installed_on: date!(2020 - 01 - 10),
        verification_due: due,
        status,
    }
}

fn reading(meter: i64, zone: u8, value: i64, taken_on: Date) -> Reading {
    Reading {
        meter_id: MeterId(meter),
        zone,
        value,
        taken_on,
        source: kabinet_domain::reading_source::BILLING.into(),
        submitted_at: noon(taken_on),
    }
}

/// Meters of account 1 for the rules, ids from 1001, each with six months
/// of billing readings up to 2026-11-20:
/// 1001 water 5+3, 4 m³ a month; 1002 electricity two zones 6+1;
/// 1003 water near its end (99 990 m³); 1004 archived; 1005 remote;
/// 1006 verification expired on 2026-12-01; 1007 a new meter with no readings.
async fn fixtures(db: &kabinet_db::Db) {
    let valid = date!(2030 - 01 - 01);
    let mut b = Batch {
        meters: vec![
            meter(1001, Resource::ColdWater, 1, MeterStatus::Active, valid, (5, 3)),
            meter(1002, Resource::Electricity, 2, MeterStatus::Active, valid, (6, 1)),
            meter(1003, Resource::HotWater, 1, MeterStatus::Active, valid, (5, 3)),
            meter(1004, Resource::ColdWater, 1, MeterStatus::Archived, valid, (5, 3)),
            meter(1005, Resource::Electricity, 1, MeterStatus::Remote, valid, (6, 1)),
            meter(
                1006,
                Resource::ColdWater,
                1,
                MeterStatus::Active,
                date!(2026 - 12 - 01),
                (5, 3),
            ),
            meter(1007, Resource::Gas, 1, MeterStatus::Active, valid, (5, 3)),
        ],
        ..Batch::default()
    };
    for (i, month) in (6..=11u8).enumerate() {
        let day = Date::from_calendar_date(2026, time::Month::try_from(month).unwrap(), 20).unwrap();
        let i = i as i64;
        b.readings.push(reading(1001, 1, 100_000 + 4_000 * i, day));
        b.readings.push(reading(1002, 1, 50_000 + 1_500 * i, day));
        b.readings.push(reading(1002, 2, 20_000 + 700 * i, day));
        b.readings.push(reading(1003, 1, 99_980_000 + 2_000 * i, day));
        b.readings.push(reading(1004, 1, 10_000, day));
        b.readings.push(reading(1006, 1, 10_000 + 3_000 * i, day));
    }
    db.bulk().insert_batch(&b).await.unwrap();
    db.bulk().reset_id_sequences().await.unwrap();
}

/// Portal rows of a meter for a period: (zone, value).
async fn stored(db: &kabinet_db::Db, meter: i64, period: &str) -> Vec<(u8, i64)> {
    let p = kabinet_domain::Period::parse(period).unwrap();
    let mut rows: Vec<(u8, i64)> = db
        .meters()
        .recorded(&[MeterId(meter)])
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.period == Some(p))
        .map(|r| (r.reading.zone, r.reading.value))
        .collect();
    rows.sort();
    rows
}

struct Sink(Vec<ExportedReading>);

impl ExportSink<ExportedReading> for Sink {
    fn row(&mut self, row: ExportedReading) -> Result<(), String> {
        self.0.push(row);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

async fn export(db: &kabinet_db::Db) -> Vec<ExportedReading> {
    let run = db
        .exchange()
        .start_run("export", "readings", "test.csv", "test")
        .await
        .unwrap();
    let mut sink = Sink(Vec::new());
    db.exports()
        .export_readings(run, ExportFilter::default(), &mut sink)
        .await
        .unwrap();
    sink.0
}

db_tests! {
    async fn the_meters_page_takes_readings_and_replaces_them_until_export(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(2, 3).build().await;
        fixtures(&t.db).await;
        let (mut me, account) = app.resident(1).await;
        me.get("/meters").await;
        let before = app.db().statements();
        let page = me.get("/meters").await;
        let statements = app.db().statements() - before;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        // Session, linked accounts, the meters with their last readings, the
        // readings of this window.
        assert!(statements <= 4, "GET /meters ran {statements} statements");
        for text in ["№ T1001", "№ T1002", "Т1 (день)", "Т2 (ночь)", "Предыдущее: 120 м³", "Передать показания", "до 25.12.2026", "декабрь 2026"] {
            assert!(page.body.contains(text), "{text}");
        }
        // Hints, not prefilled values.
        assert!(page.body.contains("name=\"v1001_1\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" maxlength=\"32\" value=\"\""));
        // Closed meters have no fields and say why.
        for (id, text) in [(1004, "снят с учёта"), (1005, "дистанционно"), (1006, "Срок поверки истёк 01.12.2026")] {
            assert!(!page.body.contains(&format!("name=\"v{id}_1\"")), "{id} has no field");
            assert!(page.body.contains(text), "{text}");
        }
        let saved = me
            .submit("/meters", "/meters", &[("v1001_1", "124,5"), ("v1002_1", "5 760.5"), ("v1002_2", "2360")])
            .await;
        assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/meters?saved=2026-12"), "{}", saved.body);
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 124_500)]);
        assert_eq!(stored(&t.db, 1002, "2026-12").await, vec![(1, 57_605), (2, 23_600)]);
        let after = me.get("/meters?saved=2026-12").await;
        assert!(after.body.contains("Показания приняты за декабрь 2026"));
        assert!(after.body.contains("124,5 м³ — 20.12.2026, личный кабинет (можно исправить"));
        // The audit line names the meters, with the address they came from.
        let audit = t.db.audit().lines(None, 20).await.unwrap();
        let line = audit.iter().find(|a| a.event == "readings_submitted").expect("audit line");
        assert!(line.details.contains("meter T1001 zone 1 = 124.500") && line.details.contains("period 2026-12"), "{}", line.details);
        assert_eq!(line.ip, "192.0.2.10");
        // Again in the same period: replaced, not added.
        let again = me.submit("/meters", "/meters", &[("v1001_1", "125")]).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 125_000)]);
        // Exported: refused with an explanation, nothing changes.
        let rows = export(&t.db).await;
        assert!(rows.iter().any(|r| r.meter == "T1001" && r.value.scaled() == 125_000), "{rows:?}");
        let late = me.submit("/meters", "/meters", &[("v1001_1", "126")]).await;
        assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(late.body.contains("уже переданы в расчёт"), "{}", late.body);
        assert!(late.body.contains("value=\"126\""), "the typed value stays");
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 125_000)]);
        let page = me.get("/meters").await;
        assert!(page.body.contains("уже передано в расчёт"));
        // Another account's meter through the form: not found, nothing stored.
        let theirs = t.db.meters().of_account(AccountId(2)).await.unwrap()[0].id.0;
        let r = me.submit("/meters", "/meters", &[(&format!("v{theirs}_1"), "1")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(stored(&t.db, theirs, "2026-12").await.is_empty());
        let _ = account;
    }

    async fn submissions_are_limited_per_minute(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(1, 3).configure(|s| s.app.readings.per_minute = 3).build().await;
        fixtures(&t.db).await;
        let (mut me, number) = app.resident(1).await;
        for _ in 0..3 {
            let r = me.submit("/meters", "/meters", &[("v1001_1", "12,3,4")]).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let r = me.submit("/meters", "/meters", &[("v1001_1", "121")]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.body.contains("слишком часто"), "{}", r.body);
        let tk = token(&mut me, &number).await;
        let r = me
            .json("POST", &format!("/api/v1/accounts/{number}/readings"), Some(&tk), json!({"meters": [{"meter_id": 1001, "values": ["121"]}]}))
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        let en = me.submit("/meters?lang=en", "/meters", &[("v1001_1", "121")]).await;
        assert!(en.body.contains("too often"), "{}", en.body);
    }

    async fn every_rule_refuses_or_asks_with_a_message(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(1, 3).build().await;
        fixtures(&t.db).await;
        let (mut me, _) = app.resident(1).await;
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "Введите хотя бы одно показание"),
            (&[("v1001_1", "119,999")], "Показание меньше предыдущего (120 м³)"),
            (&[("v1001_1", "12,3,4")], "Введите число"),
            (&[("v1001_1", "123456")], "до запятой не больше 5"),
            (&[("v1001_1", "121,0001")], "После запятой не больше 3"),
            (&[("v1002_1", "5770")], "Введите показание и этой зоны"),
            (&[("v1004_1", "1")], "снят с учёта"),
            (&[("v1005_1", "1")], "дистанционно"),
            (&[("v1006_1", "30")], "Срок поверки истёк"),
            // 30 m³ in a month where 4 is usual, above the 15 m³ floor.
            (&[("v1001_1", "150")], "намного больше обычного"),
            // 99 990 → 3: the counter went round, 13 m³.
            (&[("v1003_1", "3")], "счётчик прошёл через ноль. Тогда расход 13 м³"),
        ];
        for (fields, text) in cases {
            let r = me.submit("/meters", "/meters", fields).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
            assert!(r.body.contains(text), "{fields:?}: {text}\n{}", r.body);
        }
        // All or nothing: a good value beside a refused one is not stored.
        // The page shown again is the one the values were checked against:
        // nothing is read twice.
        let csrf = me.get("/meters").await.csrf();
        let before = app.db().statements();
        let r = me
            .post_raw("/meters", &[("csrf", &csrf), ("v1001_1", "121"), ("v1003_1", "5"), ("v1002_1", "1")])
            .await;
        let statements = app.db().statements() - before;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The session, the linked accounts, the meters, their readings and
        // the per-minute count; re-reading the view for the page took 3 more.
        assert!(statements <= 7, "a refused POST /meters ran {statements} statements");
        assert!(r.body.contains("name=\"confirm_1003\""), "a confirmation box");
        for id in [1001, 1002, 1003] {
            assert!(stored(&t.db, id, "2026-12").await.is_empty(), "{id}");
        }
        // Confirmed: rollover and high consumption go through; equal is fine;
        // a new meter takes its first reading as it is.
        let ok = me
            .submit(
                "/meters",
                "/meters",
                &[("v1001_1", "150"), ("confirm_1001", "on"), ("v1003_1", "3"), ("confirm_1003", "on"), ("v1002_1", "5750"), ("v1002_2", "2350"), ("v1007_1", "42")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 150_000)]);
        assert_eq!(stored(&t.db, 1003, "2026-12").await, vec![(1, 3_000)]);
        assert_eq!(stored(&t.db, 1002, "2026-12").await, vec![(1, 57_500), (2, 23_500)]);
        assert_eq!(stored(&t.db, 1007, "2026-12").await, vec![(1, 42_000)]);
        // The history shows the rollover's consumption, not a negative one.
        let h = me.get("/meters/1003/history?from=2026-06&to=2026-12").await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.body);
        assert!(h.body.contains("<svg") && h.body.contains("role=\"img\""));
        assert!(h.body.contains(">13<"), "rollover consumption 13 m³: {}", h.body);
        assert!(!h.body.contains(">-"), "no negative consumption");
        let bad = me.get("/meters/1003/history?from=2026-12&to=2026-01").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let theirs = t.db.meters().of_account(AccountId(1)).await.unwrap();
        assert!(theirs.iter().any(|m| m.id.0 == 1003));
        assert_eq!(me.get("/meters/999999/history").await.status, StatusCode::NOT_FOUND);
        assert_eq!(me.get("/meters/abc/history").await.status, StatusCode::NOT_FOUND);
    }

    async fn the_offices_floor_and_building_window_reach_the_resident(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(1, 3).build().await;
        fixtures(&t.db).await;
        let (mut me, _) = app.resident(1).await;
        let (mut admin, _, _) = app.staff("boss", kabinet_domain::staff::Role::Administrator).await;
        // 30 m³ in a month asks under the built-in 15 m³ floor (see above);
        // with the office's 50 m³ it does not.
        let r = admin.submit("/staff/settings", "/staff/settings", &[("strict", "1"), ("floor_cold_water", "50")]).await;
        assert_eq!(r.location(), "/staff/settings?saved=1", "{}", r.body);
        let r = me.submit("/meters", "/meters", &[("v1001_1", "150")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 150_000)]);
        // The office's home counts the account as read for the period.
        let with_meters = app.db().office().readings(kabinet_domain::Period::parse("2026-12").unwrap()).await.unwrap().1;
        assert_eq!(with_meters, 1, "the one account of the demo");
        let home = admin.get("/staff").await.body;
        let figure = common::between(&home, "<dt>Показания за декабрь 2026</dt>", "</dd>");
        assert!(figure.contains(&format!("1 из {with_meters} лицевых счетов со счётчиками")), "{figure}");
        // The resident's building gets its own window, closed on the 20th.
        let account = app.db().accounts().by_id(AccountId(1)).await.unwrap().unwrap();
        let address = app.db().accounts().premises(account.premises_id).await.unwrap().unwrap().address;
        let r = admin
            .submit("/staff/settings", "/staff/settings", &[("strict", "1"), ("floor_cold_water", "50"), ("buildings", &format!("1-5 {address}"))])
            .await;
        assert_eq!(r.location(), "/staff/settings?saved=1", "{}", r.body);
        let page = me.get("/meters").await.body;
        assert!(page.contains("Приём показаний закрыт. Он откроется 01.01.2027"), "{page}");
        let r = me.submit("/meters", "/meters", &[("v1007_1", "42")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Приём показаний закрыт"), "{}", r.body);
        assert!(stored(&t.db, 1007, "2026-12").await.is_empty());
    }

    async fn the_window_closes_at_the_organizations_midnight(t: &TestDb) {
        let last_second = time::PrimitiveDateTime::new(date!(2026 - 12 - 25), time!(23:59:59)).assume_offset(MOSCOW);
        let next_day = last_second + time::Duration::seconds(1);
        let app = app_at(&t.db, last_second, (15, 25), true).demo(1, 3).build().await;
        fixtures(&t.db).await;
        let (mut b, account) = app.resident(1).await;
        let token = token(&mut b, &account).await;
        let body = json!({"meters": [{"meter_id": 1001, "values": ["121"]}]});
        let path = format!("/api/v1/accounts/{account}/readings");
        let r = b.json("POST", &path, Some(&token), body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((v["period"].as_str(), v["window"].as_str()), (Some("2026-12"), Some("open")));
        // One second later, local midnight: a strict window refuses and says when.
        b.app = app_at(&t.db, next_day, (15, 25), true).build().await.router.clone();
        let r = b.json("POST", &path, Some(&token), body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["issues"][0]["code"], "window_closed", "{v}");
        assert!(v["issues"][0]["message"].as_str().unwrap().contains("15.01.2027"));
        let page = b.get("/meters").await;
        assert!(page.body.contains("Приём показаний закрыт. Он откроется 15.01.2027"));
        assert!(!page.body.contains("name=\"v1001_1\""), "no fields while closed");
        // A lenient window (the default) takes it for the next period, and
        // the page says so before anything is sent.
        assert!(!kabinet_app::readings::ReadingsSettings::default().strict);
        b.app = app_at(&t.db, next_day, (15, 25), false).build().await.router.clone();
        let page = b.get("/meters").await;
        assert!(page.body.contains("будут учтены за январь 2027"), "{}", page.body);
        assert!(page.body.contains("name=\"v1001_1\""), "the fields stay");
        let r = b.json("POST", &path, Some(&token), body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((v["period"].as_str(), v["window"].as_str()), (Some("2027-01"), Some("next_period")));
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 121_000)]);
        assert_eq!(stored(&t.db, 1001, "2027-01").await, vec![(1, 121_000)]);
        // A window across New Year: on 2 January it still counts for December.
        let jan2 = noon(date!(2027 - 01 - 02));
        b.app = app_at(&t.db, jan2, (23, 3), true).build().await.router.clone();
        let meters = b.json("GET", &format!("/api/v1/accounts/{account}/meters"), Some(&token), json!(null)).await;
        let m: Value = serde_json::from_str(&meters.body).unwrap();
        assert_eq!(m["window"]["state"], "open");
        assert_eq!(m["window"]["period"], "2026-12");
        assert_eq!(m["window"]["until"], "2027-01-03");
        let r = b.json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 1001, "values": ["122,5"]}]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 122_500)], "replaces December's");
        b.app = app_at(&t.db, noon(date!(2027 - 01 - 04)), (23, 3), true).build().await.router.clone();
        let r = b.json("POST", &path, Some(&token), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn concurrent_submissions_for_one_meter_store_one_reading(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(1, 3).build().await;
        fixtures(&t.db).await;
        let (mut b, account) = app.resident(1).await;
        let token = token(&mut b, &account).await;
        let path = format!("/api/v1/accounts/{account}/readings");
        let mut tasks = Vec::new();
        for i in 0..16 {
            let mut b = Browser::new(&app);
            let (path, token) = (path.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let v = format!("{}", 5_760 + i);
                // zone 2 the same in every request
                let r = b
                    .json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 1002, "values": [v, "2360"]}, {"meter_id": 1001, "values": ["121"]}]}))
                    .await;
                (r.status, r.body)
            }));
        }
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let rows = stored(&t.db, 1002, "2026-12").await;
        assert_eq!(rows.len(), 2, "one row per zone: {rows:?}");
        assert_eq!(rows[1], (2, 23_600));
        assert!((57_600..=57_750).contains(&rows[0].1) && rows[0].1 % 10 == 0, "one of the values sent: {rows:?}");
        assert_eq!(stored(&t.db, 1001, "2026-12").await, vec![(1, 121_000)]);
        let audit = t.db.audit().lines(None, 100).await.unwrap();
        assert_eq!(audit.iter().filter(|a| a.event == "readings_submitted").count(), 16);
    }

    async fn the_api_lists_meters_history_and_answers_with_codes(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(2, 3).build().await;
        fixtures(&t.db).await;
        let (mut b, account) = app.resident(1).await;
        let (_, theirs) = app.resident(2).await;
        let token = token(&mut b, &account).await;
        let r = b.json("GET", &format!("/api/v1/accounts/{account}/meters"), Some(&token), json!(null)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let meters = v["meters"].as_array().unwrap();
        let m1002 = meters.iter().find(|m| m["id"] == 1002).unwrap();
        assert_eq!(m1002["tariffs"], 2);
        assert_eq!(m1002["zones"][1]["last"]["value"], "2350.0");
        assert_eq!(m1002["zones"][1]["last"]["source"], "billing");
        let m1006 = meters.iter().find(|m| m["id"] == 1006).unwrap();
        assert_eq!((m1006["verification"].as_str(), m1006["closed"].as_str()), (Some("expired"), Some("verification_expired")));
        assert_eq!(meters.iter().find(|m| m["id"] == 1005).unwrap()["status"], "remote");
        // Codes, and a confirmation that lets it through.
        let path = format!("/api/v1/accounts/{account}/readings");
        let r = b.json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 1001, "values": ["150"]}, {"meter_id": 1002, "values": ["1", "1"]}]})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let codes: Vec<(&str, bool)> = v["issues"].as_array().unwrap().iter().map(|i| (i["code"].as_str().unwrap(), i["needs_confirmation"].as_bool().unwrap())).collect();
        assert_eq!(codes, vec![("high_consumption", true), ("lower_than_previous", false), ("lower_than_previous", false)]);
        let r = b.json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 1001, "values": ["150"], "confirmed": true}]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["readings"][0]["consumption"], "30.000");
        // History with consumption per reading and by month.
        let h = b.json("GET", &format!("/api/v1/accounts/{account}/meters/1001/readings?from=2026-06&to=2026-12"), Some(&token), json!(null)).await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.body);
        let h: Value = serde_json::from_str(&h.body).unwrap();
        assert_eq!(h["readings"][0]["value"], "150.000");
        assert_eq!(h["readings"][0]["source"], "portal");
        assert_eq!(h["readings"][1]["consumption"], "4.000");
        assert_eq!(h["months"].as_array().unwrap().len(), 6, "{h}");
        // Another resident's account, or a meter not on this account: 404.
        for p in [format!("/api/v1/accounts/{theirs}/meters"), format!("/api/v1/accounts/{account}/meters/{}/readings", 2 * 8 + 1)] {
            assert_eq!(b.json("GET", &p, Some(&token), json!(null)).await.status, StatusCode::NOT_FOUND, "{p}");
        }
        let r = b.json("POST", &format!("/api/v1/accounts/{theirs}/readings"), Some(&token), json!({"meters": [{"meter_id": 1001, "values": ["151"]}]})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = b.json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 17, "values": ["151"]}]})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "a meter of account 2 through account 1");
        let r = b.json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 1001, "values": ["151"]}, {"meter_id": 1001, "values": ["152"]}]})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = b.json("POST", &path, Some(&token), json!({"meters": [{"meter_id": 1001, "values": ["151", "7"]}]})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a value for a zone the meter lacks is not dropped");
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((v["issues"][0]["code"].as_str(), v["issues"][0]["zone"].as_u64()), (Some("no_such_zone"), Some(2)));
        let r = b.json("POST", &path, Some(&token), json!({"meters": []})).await;
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["issues"][0]["code"], "nothing_entered");
    }

    async fn a_resident_who_asked_gets_an_e_mail_receipt(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(1, 3).build().await;
        fixtures(&t.db).await;
        let (mut me, _) = app.resident(1).await;
        let to = kabinet_domain::EmailAddress::parse("r1@example.ru").unwrap();
        let r = me.submit("/meters", "/meters", &[("v1001_1", "121")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(t.db.outbox().to_recipient(&to, 10).await.unwrap().iter().all(|m| !m.email.subject.contains("Показания")), "not asked for");
        let s = me.submit("/settings", "/settings", &[("language", ""), ("notify_readings_accepted", "on")]).await;
        assert_eq!(s.status, StatusCode::SEE_OTHER, "{}", s.body);
        let settings = me.get("/settings").await;
        assert!(settings.body.contains("name=\"notify_readings_accepted\" value=\"on\" aria-labelledby=\"nk-readings_accepted ch-email\" checked"));
        let r = me.submit("/meters", "/meters", &[("v1002_1", "5760,5"), ("v1002_2", "2360")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let mail = t.db.outbox().to_recipient(&to, 10).await.unwrap();
        let receipt = mail.iter().find(|m| m.email.subject.contains("Показания приняты")).expect("a receipt");
        for text in ["Электроэнергия № T1002, зона 1: 5760,5 кВт·ч", "зона 2: 2360 кВт·ч", "декабрь 2026", "https://lk.example.ru/meters"] {
            assert!(receipt.email.text.contains(text), "{text}: {}", receipt.email.text);
        }
    }
}

db_tests! {
    async fn the_office_exports_readings_once_and_keeps_the_file(t: &TestDb) {
        let app = app_at(&t.db, noon(date!(2026 - 12 - 20)), (15, 25), true).demo(2, 3).build().await;
        fixtures(&t.db).await;
        let (mut me, account) = app.resident(1).await;
        let saved = me.submit("/meters", "/meters", &[("v1001_1", "124,5")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let s = me.submit("/settings", "/settings", &[("paperless", "on")]).await;
        assert_eq!(s.status, StatusCode::SEE_OTHER, "{}", s.body);
        let (mut books, _, _) = app.staff("books", kabinet_domain::staff::Role::Accountant).await;
        let page = books.get("/staff/exchange").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Выгрузок ещё не было"));
        let r = books
            .submit("/staff/exchange", "/staff/exchange", &[("kind", "readings"), ("encoding", "windows-1251")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let first_link = r.location().to_string();
        let file = books.get(&first_link).await;
        assert_eq!(file.status, StatusCode::OK);
        assert!(file.headers[axum::http::header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment; filename=\"readings-"));
        // The rows are ASCII, the same in windows-1251.
        let text = String::from_utf8_lossy(&file.bytes);
        assert!(text.starts_with("account;meter;zone;value;taken_on;source;submitted_at"), "{text}");
        assert!(text.contains(&format!("{account};T1001;1;124.500;2026-12-20;portal;")), "{text}");
        // Marked: the next export is empty, and the first file is kept.
        let r = books
            .submit("/staff/exchange", "/staff/exchange", &[("kind", "readings"), ("encoding", "utf-8")])
            .await;
        let second = books.get(r.location()).await;
        assert_eq!(second.body.lines().count(), 1, "{}", second.body);
        let again = books.get(&first_link).await;
        assert_eq!(again.bytes, file.bytes, "the history gives the same file");
        // The paperless list names the account; nothing is marked by it.
        let r = books
            .submit("/staff/exchange", "/staff/exchange", &[("kind", "paperless"), ("encoding", "utf-8")])
            .await;
        let list = books.get(r.location()).await;
        assert_eq!(list.body, format!("account\n{account}\n"));
        let history = books.get("/staff/exchange").await;
        assert_eq!(history.body.matches("/staff/exchange/files/").count(), 3, "{}", history.body);
        assert!(history.body.contains("Отказавшиеся от бумажной квитанции"));
        // Audited with who did it; a bad kind is refused, a missing file is 404.
        let audit = t.db.audit().lines(None, 10).await.unwrap();
        assert!(audit.iter().any(|l| l.event == "billing_exported" && l.details.starts_with("staff books: readings: 1 rows")), "{audit:?}");
        let bad = books.submit("/staff/exchange", "/staff/exchange", &[("kind", "passwords"), ("encoding", "utf-8")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(books.get("/staff/exchange/files/999999").await.status, StatusCode::NOT_FOUND);
    }
}
