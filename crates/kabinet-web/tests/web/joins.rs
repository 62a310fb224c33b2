//! Joining a neighbour's request about common property and the complete
//! "my data" download, on both databases: who may join what (the building,
//! the category, the status, not one's own), what a neighbour sees (never
//! the text, phone or flat), the count and the list in the office, status
//! e-mails to those who joined, the API; the archive with its photos and
//! who linked each account.

use crate::common::{Browser, TestApp, token};
use crate::requests::{file_page, jpeg, number_of};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_domain::staff::Role;
use kabinet_testkit::db_tests;
use serde_json::{Value, json};
use std::io::Read;

/// Demo flats per building: accounts 1–80 are one building, 81 the next.
const NEXT_BUILDING: i64 = 81;

const LIFT: &[(&str, &str)] = &[
    ("category", "lift"),
    (
        "text",
        "Лифт во втором подъезде стоит между 5 и 6 этажом, кв. 17 звонила",
    ),
    ("phone", "+7 912 345-67-89"),
];

async fn user_of(app: &TestApp, number: &str) -> kabinet_domain::ResidentUser {
    let n = kabinet_domain::AccountNumber::parse(number).unwrap();
    app.db().users().by_account_number(&n).await.unwrap().unwrap()
}

/// Posts `action` on request `id` from the page at `page`.
async fn act(b: &mut Browser, page: &str, id: i64, action: &str) -> crate::common::Resp {
    b.submit(page, &format!("/requests/{id}/{action}"), &[]).await
}

db_tests! {
    async fn neighbours_join_a_request_about_common_property(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(82, 1).build().await;
        let (mut author, _) = app.resident(1).await;
        let (mut neighbour, n_number) = app.resident(2).await;
        let (mut far, _) = app.resident(NEXT_BUILDING).await;
        let lift = number_of(file_page(&mut author, LIFT, &[]).await.location());
        let own_question = number_of(
            file_page(&mut author, &[("category", "charges"), ("text", "Вопрос по начислениям за отопление"), ("phone", "+7 912 345-67-89")], &[])
                .await
                .location(),
        );

        // The neighbour sees the lift request where a new one is filed:
        // what and where in the building's terms, never the author's words,
        // phone or flat; the question about one flat's charges is not shown.
        let form = neighbour.get("/requests/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains(&format!("№ {lift}")) && form.body.contains("Не работает лифт"), "{}", form.body);
        assert!(!form.body.contains("между 5 и 6") && !form.body.contains("345-67-89") && !form.body.contains("кв. 1<"), "{}", form.body);
        assert!(!form.body.contains(&format!("№ {own_question}")));
        assert!(form.body.contains(&format!("action=\"/requests/{lift}/join\"")));
        // Residents of another building, the author, and anything but an
        // open request about common property: not found.
        assert!(!far.get("/requests/new").await.body.contains(&format!("№ {lift}")));
        assert_eq!(act(&mut far, "/requests/new", lift, "join").await.status, StatusCode::NOT_FOUND);
        assert!(!author.get("/requests/new").await.body.contains(&format!("/requests/{lift}/join")));
        assert_eq!(act(&mut author, "/requests/new", lift, "join").await.status, StatusCode::NOT_FOUND);
        assert_eq!(act(&mut neighbour, "/requests/new", own_question, "join").await.status, StatusCode::NOT_FOUND);

        // Joining: the list says so; twice changes nothing; audited.
        let joined = act(&mut neighbour, "/requests/new", lift, "join").await;
        assert_eq!((joined.status, joined.location()), (StatusCode::SEE_OTHER, format!("/requests?joined={lift}#joined").as_str()));
        assert_eq!(act(&mut neighbour, "/requests/new", lift, "join").await.status, StatusCode::SEE_OTHER);
        let list = neighbour.get(&format!("/requests?joined={lift}")).await;
        assert!(list.body.contains(&format!("Вы присоединились к заявке № {lift}")), "{}", list.body);
        assert!(list.body.contains("id=\"joined\"") && list.body.contains(&format!("action=\"/requests/{lift}/leave\"")));
        let request = app.db().requests().get(kabinet_domain::RequestId(lift)).await.unwrap().unwrap();
        assert_eq!(request.joined, 1);
        let me = user_of(&app, &n_number).await;
        let audit = app.db().audit().of_user(me.id, 5).await.unwrap();
        assert_eq!(audit.iter().filter(|a| a.event == "request_joined").count(), 1, "{audit:?}");
        // The neighbour still cannot open the request itself.
        assert_eq!(neighbour.get(&format!("/requests/{lift}")).await.status, StatusCode::NOT_FOUND);
        // The author sees how many joined.
        let own = author.get(&format!("/requests/{lift}")).await;
        assert!(own.body.contains("Присоединились") && own.body.contains("<dd>1</dd>"), "{}", own.body);

        // The office: the count in the queue, who joined on the request.
        let (mut dispatcher, _, _) = app.staff("olga", Role::Dispatcher).await;
        assert!(dispatcher.get("/staff/requests").await.body.contains("+1 присоединились"));
        let page = dispatcher.get(&format!("/staff/requests/{lift}")).await;
        assert!(page.body.contains("Присоединились жители: 1") && page.body.contains(&format!("<td>{n_number}</td>")), "{}", page.body);

        // A status change is e-mailed to whoever joined: the number and the
        // category, not the author's text.
        let taken = dispatcher.submit(&format!("/staff/requests/{lift}"), &format!("/staff/requests/{lift}/status"), &[("change", "take")]).await;
        assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
        assert!(app.send_notifications().await >= 2, "to the author and the neighbour");
        let mails = app.db().outbox().of_user(me.id, 10).await.unwrap();
        assert_eq!(mails.len(), 1, "{mails:?}");
        let mail = &mails[0].email;
        assert!(mail.subject.contains(&lift.to_string()) && mail.text.contains("Не работает лифт") && mail.text.contains("принята в работу"), "{mail:?}");
        assert!(!mail.text.contains("между 5 и 6") && mail.text.contains("/requests#joined"), "{}", mail.text);
        // A reply goes to the author only.
        let reply = dispatcher.submit(&format!("/staff/requests/{lift}"), &format!("/staff/requests/{lift}/reply"), &[("body", "Мастер придёт к вам в кв. 17 в 15:00")]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(app.db().outbox().of_user(me.id, 10).await.unwrap().len(), 1);

        // Leaving: the count goes back, the list empties, a second leave is
        // not found.
        let left = act(&mut neighbour, "/requests", lift, "leave").await;
        assert_eq!(left.location(), format!("/requests?left={lift}#joined"));
        assert_eq!(app.db().requests().get(kabinet_domain::RequestId(lift)).await.unwrap().unwrap().joined, 0);
        assert!(!neighbour.get("/requests").await.body.contains("id=\"joined\""));
        assert_eq!(act(&mut neighbour, "/requests/new", lift, "leave").await.status, StatusCode::NOT_FOUND);

        // The API: the same list, join (PUT), joined, leave (DELETE).
        let mut api = Browser::new(&app);
        let bearer = token(&mut api, &n_number).await;
        let shared = api.json("GET", "/api/v1/requests/shared", Some(&bearer), json!(null)).await;
        assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
        let v: Value = serde_json::from_str(&shared.body).unwrap();
        assert_eq!(v[0]["number"], lift);
        assert_eq!((v[0]["status"].as_str(), v[0]["joined"].as_i64(), v[0]["joined_at"].is_null()), (Some("in_work"), Some(0), true));
        assert!(v[0].get("text").is_none() && v[0].get("phone").is_none(), "{v}");
        let path = format!("/api/v1/requests/{lift}/join");
        assert_eq!(api.json("PUT", &path, Some(&bearer), json!(null)).await.status, StatusCode::NO_CONTENT);
        assert_eq!(api.json("PUT", &path, Some(&bearer), json!(null)).await.status, StatusCode::NO_CONTENT);
        let mine: Value = serde_json::from_str(&api.json("GET", "/api/v1/requests/joined", Some(&bearer), json!(null)).await.body).unwrap();
        assert_eq!((mine[0]["number"].as_i64(), mine[0]["joined"].as_i64()), (Some(lift), Some(1)));
        assert!(mine[0]["joined_at"].is_string());
        assert_eq!(api.json("PUT", &format!("/api/v1/requests/{own_question}/join"), Some(&bearer), json!(null)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.json("DELETE", &path, Some(&bearer), json!(null)).await.status, StatusCode::NO_CONTENT);
        assert_eq!(api.json("DELETE", &path, Some(&bearer), json!(null)).await.status, StatusCode::NOT_FOUND);

        // A request no longer open cannot be joined.
        let done = dispatcher.submit(&format!("/staff/requests/{lift}"), &format!("/staff/requests/{lift}/status"), &[("change", "complete")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(act(&mut neighbour, "/requests/new", lift, "join").await.status, StatusCode::NOT_FOUND);
    }

    async fn the_office_marks_categories_about_common_property(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 1).build().await;
        let (mut admin, _, _) = app.staff("adm", Role::Administrator).await;
        let list = admin.get("/staff/categories").await;
        assert!(list.body.contains("общее имущество"), "the lift and the outages are marked: {}", list.body);
        let added = admin.submit("/staff/categories", "/staff/categories", &[("code", "roof"), ("name", "Протекает крыша"), ("desk", "dispatch"), ("common_property", "1"), ("deadline", ""), ("position", "20"), ("active", "1")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let all = app.db().requests().all_categories().await.unwrap();
        let common: Vec<&str> = all.iter().filter(|c| c.setting.category.common_property).map(|c| c.setting.category.code.as_str()).collect();
        assert_eq!(common, ["no_water", "no_heating", "no_power", "lift", "roof"]);
    }

    async fn my_data_comes_as_an_archive_with_the_photos(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 1).build().await;
        let (mut b, number) = app.resident(1).await;
        app.link(&number, 2).await;
        let filed = file_page(&mut b, crate::requests::LEAK, &[("photos", "a.jpg", jpeg(64, 48)), ("photos", "b.jpg", jpeg(48, 64))]).await;
        let id = number_of(filed.location());
        let zip = b.get("/settings/data.zip").await;
        assert_eq!(zip.status, StatusCode::OK);
        assert_eq!(zip.headers["content-type"], "application/zip");
        assert!(zip.headers["content-disposition"].to_str().unwrap().contains(&format!("kabinet-data-{number}.zip")));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).unwrap();
        let mut json = String::new();
        archive.by_name("data.json").unwrap().read_to_string(&mut json).unwrap();
        let v: Value = serde_json::from_str(&json).unwrap();
        let linked = v["linked_accounts"].as_array().unwrap();
        let by: Vec<(&str, &str)> = linked.iter().map(|l| (l["account"].as_str().unwrap(), l["linked_by"].as_str().unwrap())).collect();
        assert_eq!(by.len(), 2);
        assert!(by.contains(&(number.as_str(), "registration")), "{by:?}");
        assert!(by.iter().any(|(n, how)| *n != number && *how == "details"), "{by:?}");
        let photos: Vec<String> = v["requests"][0]["photos"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
        assert_eq!((v["requests"][0]["number"].as_i64(), photos.len()), (Some(id), 2));
        assert!(v["joined_requests"].as_array().unwrap().is_empty());
        // Each photo is in the archive, byte for byte what the page serves.
        for p in &photos {
            let mut inside = Vec::new();
            archive.by_name(&format!("photos/{id}/{p}.jpg")).unwrap().read_to_end(&mut inside).unwrap();
            assert_eq!(inside, b.get(&format!("/requests/photos/{p}")).await.bytes);
        }
        assert_eq!(archive.len(), 3);
        let me = user_of(&app, &number).await;
        let audit = app.db().audit().of_user(me.id, 5).await.unwrap();
        assert_eq!(audit[0].event, "data_downloaded", "{audit:?}");
        // Not signed in: to the sign-in page, nothing sent.
        let anon = Browser::new(&app).get("/settings/data.zip").await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER);
    }
}
