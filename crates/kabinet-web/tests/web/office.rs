//! The organization's office on both databases: every staff route with
//! every role (allowed works, refused is a 403 and changes nothing), the
//! navigation by role, staff members, the organization's details seen by a
//! second server, the Rules with a preview, the closing, the audit log with
//! its CSV, and a real installation from an imported package to a receipt.

use crate::common::{Browser, TestApp};
use crate::requests::{LEAK, file_page, jpeg, multipart, number_of, post_multipart};
use axum::http::StatusCode;
use kabinet_app::staff::By;
use kabinet_db::Repos;
use kabinet_domain::staff::Role;
use kabinet_testkit::db_tests;

/// A route case of the role matrix: method, path, form, the roles allowed.
type Case = (&'static str, String, Vec<(&'static str, &'static str)>, Vec<Role>);

/// How many audit lines there are (a refused action must add none).
async fn audit_lines(app: &TestApp) -> usize {
    app.db().audit().lines(None, 100_000).await.unwrap().len()
}

const ORG: &[(&str, &str)] = &[
    ("name", "ООО «Управляющая компания „Новый дом“»"),
    ("short_name", "УК «Новый дом»"),
    ("inn", "7707083893"),
    ("kpp", "773601001"),
    ("ogrn", "1027700132195"),
    ("address", "г. Москва, ул. Примерная, д. 1"),
    ("phone", "+7 495 000-00-00"),
    ("dispatch_phone", "+7 495 000-00-01"),
    ("email", "office@example.ru"),
    ("website", "https://example.ru"),
];

db_tests! {
    async fn every_staff_route_answers_every_role_by_its_permission(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(4, 2).build().await;
        let (mut resident, number_1) = app.resident(1).await;
        let filed = file_page(&mut resident, LEAK, &[("photos", "a.jpg", jpeg(64, 48))]).await;
        let emergency = number_of(filed.location());
        let office_form = [("category", "charges"), ("text", "Прошу пересчитать начисления за воду"), ("phone", "+7 912 345-67-89")];
        let filed = file_page(&mut resident, &office_form, &[]).await;
        assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
        let office = number_of(filed.location());
        let photo = app.db().requests().photos(kabinet_domain::RequestId(emergency)).await.unwrap()[0].public_id.clone();
        let rules_before = app.db().rules().all().await.unwrap().len();
        let (run, _) = app
            .state
            .app
            .office
            .export(By::Cli, kabinet_app::office::ExportKind::Paperless, kabinet_app::office::TextEncoding::Utf8)
            .await
            .unwrap();
        let target = app.state.app.staff.add(By::Cli, "target", "Цель Проверки", Role::Operator).await.unwrap().0.id;
        let package = demo_package(2);
        let payees = std::fs::read(package.join("payees.csv")).unwrap();
        let mut upload = app.state.app.imports.upload(By::Cli).await.unwrap();
        upload.file("payees.csv").await.unwrap();
        upload.write(&payees).await.unwrap();
        let checked = upload.finish(By::Cli).await.unwrap();
        run_packages(&app).await;
        let i = checked.to_string();
        let resident_id = app.db().users().by_account_number(&kabinet_domain::AccountNumber::parse(&number_1).unwrap()).await.unwrap().unwrap().id;
        let announcement = {
            let now = time::OffsetDateTime::now_utc();
            let draft = kabinet_domain::announcements::AnnouncementDraft {
                kind: kabinet_domain::announcements::AnnouncementKind::News,
                service: None,
                title: "Новость".into(),
                body: "Текст.".into(),
                buildings: Vec::new(),
                starts_at: now,
                ends_at: None,
            };
            app.state.app.announcements.publish(By::Cli, &draft).await.unwrap()
        };
        let category = app.db().requests().all_categories().await.unwrap().into_iter().find(|c| c.setting.category.code == "other").unwrap().id;
        // A paid (sandbox) card payment to look at and refund.
        let paid = resident.submit("/pay", "/pay", &[(&format!("amount_{number_1}"), "500")]).await;
        assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
        let sandbox = paid.location().to_string();
        let back = resident.submit(&sandbox, &sandbox, &[("action", "pay")]).await;
        let pid = back.location().trim_start_matches("/payments/card/").to_string();

        use Role::{Accountant as Acc, Administrator as Adm, Dispatcher as Dis, Operator as Op};
        // (method, path, form, roles allowed)
        let e = emergency.to_string();
        let o = office.to_string();
        let routes: Vec<Case> = vec![
            ("GET", "/staff".into(), vec![], vec![Adm, Acc, Op, Dis]),
            ("GET", "/staff/requests".into(), vec![], vec![Adm, Op, Dis]),
            ("GET", format!("/staff/requests/{e}"), vec![], vec![Adm, Dis]),
            ("GET", format!("/staff/requests/{o}"), vec![], vec![Adm, Op]),
            ("POST", format!("/staff/requests/{e}/note"), vec![("body", "заметка")], vec![Adm, Dis]),
            ("POST", format!("/staff/requests/{o}/note"), vec![("body", "заметка")], vec![Adm, Op]),
            ("GET", format!("/staff/photos/{photo}"), vec![], vec![Adm, Dis]),
            ("GET", "/staff/members".into(), vec![], vec![Adm]),
            ("POST", "/staff/members".into(), vec![("login", "new-one"), ("name", "Новый"), ("role", "operator")], vec![Adm]),
            ("GET", format!("/staff/members/{target}"), vec![], vec![Adm]),
            ("POST", format!("/staff/members/{target}/role"), vec![("role", "dispatcher")], vec![Adm]),
            ("GET", "/staff/organization".into(), vec![], vec![Adm]),
            ("POST", "/staff/organization".into(), ORG.to_vec(), vec![Adm]),
            ("GET", "/staff/settings".into(), vec![], vec![Adm]),
            ("POST", "/staff/settings".into(), vec![("from", "14"), ("to", "24")], vec![Adm]),
            ("GET", "/staff/categories".into(), vec![], vec![Adm]),
            ("POST", "/staff/categories".into(), vec![("code", "roof"), ("name", "Крыша"), ("desk", "office"), ("position", "20"), ("active", "1")], vec![Adm]),
            ("GET", format!("/staff/categories/{category}"), vec![], vec![Adm]),
            ("POST", format!("/staff/categories/{category}"), vec![("name", "Другое, прочее"), ("desk", "office"), ("position", "30"), ("active", "1")], vec![Adm]),
            ("GET", "/staff/rules".into(), vec![], vec![Adm]),
            ("POST", "/staff/rules".into(), vec![("title", "Правила"), ("body", "Текст."), ("intent", "publish")], vec![Adm]),
            ("GET", "/staff/consent".into(), vec![], vec![Adm]),
            ("GET", "/staff/help".into(), vec![], vec![Adm]),
            ("POST", "/staff/help".into(), vec![("guide_en", "## Help\n\nText."), ("intent", "save")], vec![Adm]),
            ("POST", "/staff/consent".into(), vec![("title", "Согласие"), ("body", "Текст."), ("intent", "publish")], vec![Adm]),
            ("GET", "/staff/closing".into(), vec![], vec![Adm]),
            ("POST", "/staff/closing".into(), vec![("from", "2099-01-01T22:00"), ("until", ""), ("message", "Работы"), ("intent", "save")], vec![Adm]),
            ("GET", "/staff/import".into(), vec![], vec![Adm, Acc]),
            ("GET", format!("/staff/import/{i}"), vec![], vec![Adm, Acc]),
            ("POST", format!("/staff/import/{i}/confirm"), vec![], vec![Adm, Acc]),
            ("GET", format!("/staff/import/{i}/problems.csv"), vec![], vec![Adm, Acc]),
            ("POST", "/staff/import/upload".into(), vec![], vec![Adm, Acc]),
            ("GET", "/staff/exchange".into(), vec![], vec![Adm, Acc]),
            ("POST", "/staff/exchange".into(), vec![("kind", "paperless"), ("encoding", "utf-8")], vec![Adm, Acc]),
            ("GET", format!("/staff/exchange/files/{run}"), vec![], vec![Adm, Acc]),
            ("GET", "/staff/payments".into(), vec![], vec![Adm, Acc]),
            ("GET", format!("/staff/payments/{pid}"), vec![], vec![Adm, Acc]),
            ("POST", format!("/staff/payments/{pid}/refund"), vec![("amount", "1"), ("reason", "Проверка")], vec![Adm, Acc]),
            ("GET", "/staff/residents".into(), vec![], vec![Adm, Acc, Op]),
            ("GET", format!("/staff/residents/{resident_id}"), vec![], vec![Adm, Acc, Op]),
            ("POST", format!("/staff/residents/{resident_id}/sessions"), vec![], vec![Adm, Acc, Op]),
            ("POST", "/staff/accounts/4/unlock".into(), vec![], vec![Adm, Acc, Op]),
            ("GET", "/staff/announcements".into(), vec![], vec![Adm, Op, Dis]),
            ("POST", "/staff/announcements".into(), vec![("kind", "news"), ("service", ""), ("title", "Новость"), ("body", "Текст."), ("buildings", ""), ("starts_at", ""), ("ends_at", "")], vec![Adm, Op, Dis]),
            ("GET", format!("/staff/announcements/{announcement}"), vec![], vec![Adm, Op, Dis]),
            ("POST", format!("/staff/announcements/{announcement}"), vec![("kind", "news"), ("service", ""), ("title", "Новость дня"), ("body", "Текст."), ("buildings", ""), ("starts_at", ""), ("ends_at", "")], vec![Adm, Op, Dis]),
            ("POST", format!("/staff/announcements/{announcement}/end"), vec![], vec![Adm, Op, Dis]),
            ("GET", "/staff/calendar".into(), vec![], vec![Adm]),
            ("POST", "/staff/calendar".into(), vec![("days", kabinet_domain::workdays::BUILT_IN)], vec![Adm]),
            ("GET", "/staff/texts".into(), vec![], vec![Adm]),
            ("GET", "/staff/texts/new_invoice/sms/ru".into(), vec![], vec![Adm]),
            ("POST", "/staff/texts/new_invoice/sms/ru".into(), vec![("body", "Счёт {account}"), ("action", "save")], vec![Adm]),
            ("POST", "/staff/texts/new_invoice/sms/ru/reset".into(), vec![], vec![Adm]),
            ("GET", "/staff/audit".into(), vec![], vec![Adm]),
            ("GET", "/staff/audit.csv".into(), vec![], vec![Adm]),
        ];
        // The table covers every staff route pattern.
        for pattern in kabinet_web::staff_route_patterns() {
            let prefix = pattern.split('{').next().unwrap().trim_end_matches('/');
            assert!(
                routes.iter().any(|(_, p, _, _)| p == &pattern || (pattern.contains('{') && p.starts_with(prefix) && p.len() > prefix.len())),
                "{pattern} is not in the matrix"
            );
        }
        for role in Role::ALL {
            let (mut b, _, _) = app.staff(&format!("m-{}", role.as_str()), role).await;
            for (method, path, form, allowed) in &routes {
                let before = audit_lines(&app).await;
                let r = if *method == "GET" {
                    b.get(path).await
                } else if path.ends_with("/upload") {
                    let token = b.get(if allowed.contains(&role) { "/staff/import" } else { "/staff" }).await.csrf();
                    let body = multipart(&[("csrf", token.as_str())], &[("files", "payees.csv", payees.clone())]);
                    post_multipart(&mut b, path, None, body).await
                } else if path.ends_with("/confirm") {
                    let token_page = if allowed.contains(&role) { path.trim_end_matches("/confirm").to_string() } else { "/staff".to_string() };
                    b.submit(&token_page, path, form).await
                } else {
                    let page = if path.contains("/note") { path.trim_end_matches("/note").to_string() } else if path.ends_with("/role") { path.trim_end_matches("/role").to_string() } else if path.ends_with("/sessions") { path.trim_end_matches("/sessions").to_string() } else if path.ends_with("/unlock") { "/staff/residents".to_string() } else if path.ends_with("/end") { path.trim_end_matches("/end").to_string() } else if path.ends_with("/reset") { path.trim_end_matches("/reset").to_string() } else if path.ends_with("/refund") { path.trim_end_matches("/refund").to_string() } else { path.clone() };
                    // A refused page has no form: take the token from the home page.
                    let token_page = if allowed.contains(&role) { page } else { "/staff".to_string() };
                    b.submit(&token_page, path, form).await
                };
                if allowed.contains(&role) {
                    assert!(
                        r.status == StatusCode::OK || r.status == StatusCode::SEE_OTHER,
                        "{role:?} {method} {path}: {} {}", r.status, r.body
                    );
                } else {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?} {method} {path}: {}", r.body);
                    assert_eq!(audit_lines(&app).await, before, "{role:?} {method} {path} changed nothing");
                }
            }
            // Put back what the administrator changed, so each role meets the same.
            if matches!(role, Adm | Acc) {
                // The confirmed package back to checked, the upload's check done.
                let now = time::OffsetDateTime::now_utc();
                use kabinet_domain::imports::ImportState as S;
                assert!(app.db().imports().transition(checked, &[S::Confirmed], S::Checked, now).await.unwrap(), "{role:?} confirmed it");
                run_packages(&app).await;
                assert!(app.db().imports().transition(checked, &[S::Replaced], S::Checked, now).await.unwrap(), "{role:?}'s upload replaced it");
            }
            if role == Adm {
                let id = app.state.app.staff.by_login("new-one").await.unwrap().id;
                app.state.app.staff.set_disabled(By::Cli, id, true).await.unwrap();
                app.db().staff().set_role(target, Role::Operator).await.unwrap();
            }
        }
        // The members the administrator added exists once; a refused add left none.
        assert_eq!(app.db().staff().all().await.unwrap().iter().filter(|m| m.login == "new-one").count(), 1);
        assert_eq!(app.db().rules().all().await.unwrap().len(), rules_before + 1, "published once, by the administrator");
    }

    async fn an_operator_with_buildings_sees_only_their_requests(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(300, 1).build().await;
        let form = [("category", "charges"), ("text", "Прошу пересчитать начисления за воду"), ("phone", "+7 912 345-67-89")];
        let address = |i: i64| {
            let db = app.db().clone();
            async move {
                let a = db.accounts().by_id(kabinet_domain::AccountId(i)).await.unwrap().unwrap();
                db.accounts().premises(a.premises_id).await.unwrap().unwrap().address
            }
        };
        let first_address = address(1).await;
        let mut far = None;
        for i in 2..=300 {
            if address(i).await != first_address {
                far = Some(i);
                break;
            }
        }
        let far = far.expect("an account in another building");
        let (mut first, _) = app.resident(1).await;
        let mine = number_of(file_page(&mut first, &form, &[]).await.location());
        let building = app.db().requests().building(kabinet_domain::RequestId(mine)).await.unwrap().unwrap();
        assert_eq!(building, first_address);
        let (mut b, _) = app.resident(far).await;
        let other = number_of(file_page(&mut b, &form, &[]).await.location());
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let (mut op, _, _) = app.staff("ops", Role::Operator).await;
        let ops = app.state.app.staff.by_login("ops").await.unwrap().id;
        let page = format!("/staff/members/{ops}");
        assert!(admin.get(&page).await.body.contains("id=\"m-buildings\""));
        let r = admin.submit(&page, &format!("{page}/buildings"), &[("buildings", &format!("\n {building} \n"))]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(app.state.app.staff.by_login("ops").await.unwrap().buildings, vec![building.clone()]);
        // The scope holds from the member's next request (the session reads the member).
        let queue = op.get("/staff/requests").await;
        assert!(queue.body.contains(&format!("№ {mine}<")) && !queue.body.contains(&format!("№ {other}<")), "{}", queue.body);
        assert_eq!(op.get(&format!("/staff/requests/{other}")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(op.get(&format!("/staff/requests/{mine}")).await.status, StatusCode::OK);
        let before = audit_lines(&app).await;
        let r = op.submit(&format!("/staff/requests/{mine}"), &format!("/staff/requests/{other}/note"), &[("body", "чужое")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(audit_lines(&app).await, before);
        assert!(op.get("/staff").await.body.contains("открыто 1,"), "the home page counts the buildings only");
        // An administrator is never scoped; an accountant cannot be.
        assert!(admin.get("/staff/requests").await.body.contains(&format!("№ {other}<")));
        let books = app.state.app.staff.add(By::Cli, "books", "Бух", Role::Accountant).await.unwrap().0.id;
        let r = admin.submit(&format!("/staff/members/{books}"), &format!("/staff/members/{books}/buildings"), &[("buildings", &building)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("только оператору и диспетчеру"));
        let line = app.db().audit().lines(None, 20).await.unwrap().into_iter().find(|l| l.details.contains("buildings of staff ops")).unwrap();
        assert!(line.details.ends_with(&format!("[] → [{building}]")), "{}", line.details);
    }

    async fn the_navigation_shows_what_the_role_may_use(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let home = admin.get("/staff").await;
        for link in ["/staff/requests\"", "/staff/exchange\"", "/staff/settings\"", "/staff/members\"", "/staff/organization\"", "/staff/rules\"", "/staff/consent\"", "/staff/help\"", "/staff/closing\"", "/staff/audit\""] {
            assert!(home.body.contains(link), "{link}");
        }
        assert!(home.body.contains("aria-current=\"page\""));
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let home = acc.get("/staff").await;
        assert_eq!(home.status, StatusCode::OK);
        for link in ["/staff/requests\"", "/staff/members\"", "/staff/audit\""] {
            assert!(!home.body.contains(link), "{link}");
        }
        assert!(home.body.contains("Зарегистрировано жителей"), "{}", home.body);
        let (mut dis, _, _) = app.staff("disp", Role::Dispatcher).await;
        let home = dis.get("/staff").await;
        assert!(home.body.contains("/staff/requests\"") && !home.body.contains("Зарегистрировано жителей"));
        assert!(home.body.contains("Заявки аварийно-диспетчерской службы") && !home.body.contains("Заявки в организацию"));
    }

    async fn staff_members_are_added_reset_disabled_and_given_roles(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let bad = admin.submit("/staff/members", "/staff/members", &[("login", "не латиница"), ("name", "Х"), ("role", "operator")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("не латиница"), "the form keeps what was typed");
        let added = admin.submit("/staff/members", "/staff/members", &[("login", "Petrov"), ("name", "Пётр Петров"), ("role", "accountant")]).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let password = crate::common::between(&added.body, "<code id=\"one-time-password\">", "</code>").to_string();
        assert!(password.len() >= 12);
        let m = app.state.app.staff.by_login("petrov").await.unwrap();
        assert_eq!(m.role, Role::Accountant);
        // The one-time password works for the first step.
        let mut p = Browser::from_ip(&app, "192.0.2.80");
        let r = p.submit("/staff/login", "/staff/login", &[("login", "petrov"), ("password", &password)]).await;
        assert_eq!(r.location(), "/staff/second-factor");
        // A role change, a reset and disabling, each audited.
        let page = format!("/staff/members/{}", m.id);
        let r = admin.submit(&page, &format!("{page}/role"), &[("role", "operator")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(app.state.app.staff.by_login("petrov").await.unwrap().role, Role::Operator);
        assert_eq!(p.get("/staff").await.location(), "/staff/login", "the sessions ended with the role change");
        let r = admin.submit(&page, &format!("{page}/reset"), &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        let second = crate::common::between(&r.body, "<code id=\"one-time-password\">", "</code>").to_string();
        assert_ne!(second, password);
        let r = admin.submit(&page, &format!("{page}/disable"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(app.state.app.staff.by_login("petrov").await.unwrap().disabled);
        let r = p.submit("/staff/login", "/staff/login", &[("login", "petrov"), ("password", &second)]).await;
        assert_ne!(r.location(), "/staff/second-factor", "a disabled member cannot sign in");
        let lines = app.db().audit().lines(None, 50).await.unwrap();
        let staff_lines: Vec<_> = lines.iter().filter(|l| l.event == "staff_changed").map(|l| l.details.clone()).collect();
        for what in ["staff boss: added staff petrov (accountant)", "staff boss: role of staff petrov: accountant → operator", "staff boss: reset staff petrov", "staff boss: disabled staff petrov"] {
            assert!(staff_lines.iter().any(|d| d == what), "{what} in {staff_lines:?}");
        }
        // Nobody changes their own standing, and the last administrator stays one.
        let me = app.state.app.staff.by_login("boss").await.unwrap().id;
        let mine = format!("/staff/members/{me}");
        let r = admin.submit(&mine, &format!("{mine}/disable"), &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("другой администратор"));
        let r = app.state.app.staff.set_role(By::Cli, me, Role::Operator).await;
        assert!(matches!(r, Err(kabinet_app::Error::Conflict(_))), "{r:?}");
        assert_eq!(admin.get("/staff/members/999999").await.status, StatusCode::NOT_FOUND);
    }

    async fn organization_details_are_checked_and_reach_a_second_server(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let other = TestApp::builder(&t.db).build().await;
        let mut visitor = Browser::new(&other);
        assert!(!visitor.get("/login").await.body.contains("УК «Новый дом»"));
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        // The payees billing sent, each checked for the receipts' QR code.
        let page = admin.get("/staff/organization").await.body;
        let payees = app.db().organization().payees().await.unwrap();
        assert!(!payees.is_empty());
        let table = crate::common::between(&page, "Получатели платежей в квитанциях", "</table>");
        for p in &payees {
            assert!(table.contains(&p.settlement_account) && table.contains(&p.bic), "{table}");
        }
        assert_eq!(table.matches("<td>верно</td>").count(), payees.len(), "{table}");
        let mut bad = ORG.to_vec();
        bad[2] = ("inn", "7707083894");
        bad[3] = ("kpp", "77360100");
        bad[7] = ("dispatch_phone", " ");
        let r = admin.submit("/staff/organization", "/staff/organization", &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        for msg in ["ИНН указан неверно", "КПП указан неверно", "Заполните поле"] {
            assert!(r.body.contains(msg), "{msg}");
        }
        assert_ne!(app.db().organization().current().await.unwrap().unwrap().inn, "7707083894");
        let r = admin.submit("/staff/organization", "/staff/organization", ORG).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(admin.get(r.location()).await.body.contains("Реквизиты сохранены"));
        let line = app.db().audit().lines(None, 5).await.unwrap().into_iter().find(|l| l.event == "organization_changed").unwrap();
        assert!(line.details.contains("before: name=") && line.details.contains("after: name=\"ООО «Управляющая компания „Новый дом“»\""));
        // The second server sees it once its cache has turned over.
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        assert!(visitor.get("/login").await.body.contains("УК «Новый дом»"));
    }

    async fn the_readings_window_changes_on_every_server_unless_configured(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let other = TestApp::builder(&t.db).build().await;
        let before = other.state.app.readings.settings().current().await.unwrap().window;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let page = admin.get("/staff/settings").await;
        assert!(page.body.contains(&format!("value=\"{}\"", before.first_day)));
        let r = admin.submit("/staff/settings", "/staff/settings", &[("from", "40"), ("to", "26")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("числа от 1 до 31") && r.body.contains("value=\"40\""));
        let r = admin.submit("/staff/settings", "/staff/settings", &[("from", "20"), ("to", "26"), ("strict", "1")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let now = app.state.app.readings.settings().current().await.unwrap();
        assert_eq!((now.window.first_day, now.window.last_day, now.strict), (20, 26, true));
        let line = app.db().audit().lines(None, 5).await.unwrap().into_iter().find(|l| l.event == "org_settings_changed").unwrap();
        assert_eq!(line.details, format!("staff boss: readings window {}-{} → 20-26; readings strict false → true", before.first_day, before.last_day));
        // The second server, which read the old window, sees the new one.
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        let seen = other.state.app.readings.settings().current().await.unwrap();
        assert_eq!((seen.window.first_day, seen.window.last_day, seen.strict), (20, 26, true));
        // A window the configuration gives stays, and the page says so.
        let fixed = TestApp::builder(&t.db).configure(|s| s.app.readings.fixed_window = true).build().await;
        let (mut boss2, _, _) = fixed.staff("boss2", Role::Administrator).await;
        let page = boss2.get("/staff/settings").await;
        assert!(page.body.contains("Задано в файле конфигурации") && page.body.contains("disabled"));
        let r = boss2.submit("/staff/settings", "/staff/settings", &[("strict", "")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let s = fixed.state.app.readings.settings().current().await.unwrap();
        assert_eq!((s.window, s.strict), (fixed.state.app.readings.settings().base().window, false));
    }

    async fn receipt_and_due_days_reach_the_next_import_on_every_server(t: &TestDb) {
        let app = TestApp::builder(&t.db).build().await;
        let other = TestApp::builder(&t.db).build().await;
        assert_eq!(other.state.app.settings.billing.current().await.unwrap().due_day, 15);
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let page = admin.get("/staff/settings").await;
        assert!(page.body.contains("id=\"s-due\"") && page.body.contains("value=\"15\""), "{}", page.body);
        let r = admin.submit("/staff/settings", "/staff/settings", &[("receipt_day", "12"), ("due_day", "3")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("оплата не раньше выставления") && r.body.contains("value=\"12\""), "{}", r.body);
        assert_eq!(app.state.app.settings.billing.current().await.unwrap().receipt_day, 5, "nothing saved");
        let r = admin.submit("/staff/settings", "/staff/settings", &[("receipt_day", "3"), ("due_day", "12")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let line = app.db().audit().lines(None, 5).await.unwrap().into_iter().find(|l| l.event == "org_settings_changed").unwrap();
        assert_eq!(line.details, "staff boss: receipt day 5 → 3; due day 15 → 12");
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        let seen = other.state.app.settings.billing.current().await.unwrap();
        assert_eq!((seen.receipt_day, seen.due_day), (3, 12));
        // The package imported through the other server gets the new days.
        let dir = demo_package(2);
        let mut upload = other.state.app.imports.upload(By::Cli).await.unwrap();
        for kind in kabinet_domain_kinds() {
            upload.file(&format!("{kind}.csv")).await.unwrap();
            upload.write(&std::fs::read(dir.join(format!("{kind}.csv"))).unwrap()).await.unwrap();
        }
        let id = upload.finish(By::Cli).await.unwrap();
        run_packages(&other).await;
        other.state.app.imports.confirm(By::Cli, id).await.unwrap();
        run_packages(&other).await;
        let period = app.db().organization().latest_period().await.unwrap().unwrap();
        assert_eq!((period.issued_on.day(), period.due_date.day()), (3, 12));
        // Days the configuration gives stay, and the page says so.
        let fixed = TestApp::builder(&t.db).configure(|s| s.app.billing_days_fixed = true).build().await;
        let (mut boss2, _, _) = fixed.staff("boss2", Role::Administrator).await;
        let page = boss2.get("/staff/settings").await;
        assert!(crate::common::between(&page.body, "id=\"s-due\"", ">").contains("disabled"));
        assert_eq!(fixed.state.app.settings.billing.current().await.unwrap().due_day, 15);
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn the_registration_mode_switches_to_passports_once_they_are_loaded(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let other = TestApp::builder(&t.db).build().await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let page = admin.get("/staff/settings").await;
        assert!(page.body.contains("value=\"amount\" checked") && page.body.contains("загружены для 0 "), "{}", page.body);
        // Without passport data nobody could register: refused, nothing saved.
        let r = admin.submit("/staff/settings", "/staff/settings", &[("registration", "passport")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Паспортные данные ещё не загружены") && r.body.contains("value=\"passport\" checked"), "{}", r.body);
        assert_eq!(app.db().org_settings().all().await.unwrap(), vec![]);
        let r = admin.submit("/staff/settings", "/staff/settings", &[("registration", "ring")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Loaded: the switch is taken, audited, and every server asks for a passport.
        let passport = kabinet_domain::Passport::parse("2815 123456").unwrap();
        kabinet_app::support::store_passports(&t.db, &crate::common::key(), &[(kabinet_domain::AccountId(2), passport)]).await.unwrap();
        let r = admin.submit("/staff/settings", "/staff/settings", &[("registration", "passport")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let line = app.db().audit().lines(None, 5).await.unwrap().into_iter().find(|l| l.event == "org_settings_changed").unwrap();
        assert_eq!(line.details, "staff boss: registration mode amount → passport");
        let mut resident = Browser::new(&app);
        assert!(resident.get("/register").await.body.contains("Серия и номер паспорта"));
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        let mut elsewhere = Browser::new(&other);
        assert!(elsewhere.get("/register").await.body.contains("Серия и номер паспорта"), "the other server after its cache");
        let r = elsewhere.submit("/register", "/register", &[("account", "1"), ("email", "a@example.ru"), ("check", "12,50"), ("accept_rules", "on"), ("personal_data", "on"), ("consent", "on")]).await;
        assert!(r.body.contains("10 цифр"), "an amount is no passport now: {}", r.body);
        // A mode the configuration gives stays and shows read-only.
        let fixed = TestApp::builder(&t.db).configure(|s| s.app.auth.registration_mode_fixed = true).build().await;
        assert_eq!(fixed.state.app.auth.registration_mode().await.unwrap(), kabinet_app::auth::RegistrationMode::Amount);
        let (mut boss2, _, _) = fixed.staff("boss2", Role::Administrator).await;
        let page = boss2.get("/staff/settings").await;
        assert!(crate::common::between(&page.body, "value=\"passport\"", ">").contains("disabled"), "{}", page.body);
    }

    async fn e_mails_go_out_under_the_sender_name_the_office_chose(t: &TestDb) {
        let Some(mut smtp) = crate::common::Smtp::start() else { return };
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (_, account) = app.resident(1).await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let r = admin.submit("/staff/settings", "/staff/settings", &[("sender", "УК\r\nBcc: x@example.ru")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Имя отправителя — одна строка"), "{}", r.body);
        let r = admin.submit("/staff/settings", "/staff/settings", &[("sender", "  УК «Новый дом» ")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let line = app.db().audit().lines(None, 5).await.unwrap().into_iter().find(|l| l.event == "org_settings_changed").unwrap();
        assert_eq!(line.details, "staff boss: sender name \"\" → \"УК «Новый дом»\"");
        assert!(admin.get("/staff/settings").await.body.contains("value=\"УК «Новый дом»\""));
        let mut b = Browser::new(&app);
        b.submit("/password/reset", "/password/reset", &[("account", &account)]).await;
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].from_header, "УК «Новый дом» <noreply@lk.example.ru>");
        // Emptied: the configured From again.
        admin.submit("/staff/settings", "/staff/settings", &[("sender", "")]).await;
        b.submit("/password/reset", "/password/reset", &[("account", &account)]).await;
        let mails = smtp.deliver(&app).await;
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert_eq!(mails[0].from_header, "Личный кабинет <noreply@lk.example.ru>");
    }

    async fn the_help_guide_is_written_in_the_office_in_both_languages(t: &TestDb) {
        let app = TestApp::builder(&t.db).build().await;
        let other = TestApp::builder(&t.db).build().await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let page = admin.get("/staff/help").await;
        assert!(page.body.contains("name=\"guide_ru\"") && page.body.contains("## Регистрация"), "the built-in text to start from");
        // Each problem is named by language, nothing is stored.
        let r = admin.submit("/staff/help", "/staff/help", &[("guide_ru", "Без заголовка."), ("guide_en", &"x".repeat(100_001)), ("intent", "save")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("начинается с заголовка") && r.body.contains("длиннее 100 КБ"), "{}", r.body);
        assert_eq!(app.db().org_settings().all().await.unwrap(), vec![]);
        let own = "## Как с нами связаться\n\nПишите в управляющую компанию.\n- по почте\n- по телефону";
        let r = admin.submit("/staff/help", "/staff/help", &[("guide_ru", own), ("intent", "preview")]).await;
        assert!(r.body.contains("<h3>Как с нами связаться</h3>") && r.body.contains("<li>по телефону</li>"), "{}", r.body);
        assert_eq!(app.db().org_settings().all().await.unwrap(), vec![], "a preview stores nothing");
        // The English text comes back as a browser sends it (CRLF), unchanged.
        let en_text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../kabinet-app/help/guide.en.txt")).replace('\n', "\r\n");
        let r = admin.submit("/staff/help", "/staff/help", &[("guide_ru", own), ("guide_en", &en_text), ("intent", "save")]).await;
        assert_eq!(r.location(), "/staff/help?saved=1");
        let line = app.db().audit().lines(None, 5).await.unwrap().into_iter().find(|l| l.event == "org_settings_changed").unwrap();
        assert!(line.details.starts_with("staff boss: help guide ru: own text, ") && !line.details.contains("help guide en"), "{}", line.details);
        let mut resident = Browser::new(&app);
        let help = resident.get("/help?lang=ru").await.body;
        assert!(help.contains("Как с нами связаться") && !help.contains("Показания приборов учёта"), "{help}");
        assert!(resident.get("/help?lang=en").await.body.contains("Meter readings"), "English stays built in");
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        assert!(Browser::new(&other).get("/help?lang=ru").await.body.contains("Как с нами связаться"), "the other server after its cache");
        // Emptied: the built-in guide again.
        admin.submit("/staff/help", "/staff/help", &[("guide_ru", ""), ("intent", "save")]).await;
        assert!(resident.get("/help?lang=ru").await.body.contains("Регистрация"));
    }

    async fn building_windows_and_floors_are_checked_and_reach_every_server(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 1).build().await;
        let other = TestApp::builder(&t.db).build().await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let account = app.db().accounts().by_id(kabinet_domain::AccountId(1)).await.unwrap().unwrap();
        let address = app.db().accounts().premises(account.premises_id).await.unwrap().unwrap().address;
        let page = admin.get("/staff/settings").await.body;
        assert!(page.contains("name=\"buildings\"") && page.contains("name=\"floor_gas\"") && page.contains("Встроенный: 150."), "{page}");
        for (form, said) in [
            (vec![("buildings", "20 ул. Ленина")], "Строка 1 окон домов не читается"),
            (vec![("buildings", "20-25 ул. Несуществующая, д. 1")], "Нет помещений с адресом «ул. Несуществующая, д. 1»"),
            (vec![("floor_gas", "0")], "Порог — целое число от 1 до 100000"),
            (vec![("floor_heat", "три")], "Порог — целое число"),
        ] {
            let r = admin.submit("/staff/settings", "/staff/settings", &form).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
            assert!(r.body.contains(said), "{said}: {}", r.body);
        }
        assert_eq!(app.db().org_settings().all().await.unwrap(), vec![], "nothing stored");
        let lines = format!("\r\n 20–26 {address} \r\n");
        let r = admin.submit("/staff/settings", "/staff/settings", &[("buildings", lines.as_str()), ("floor_gas", "90"), ("floor_heat", "")]).await;
        assert_eq!(r.location(), "/staff/settings?saved=1", "{}", r.body);
        let line = app.db().audit().lines(None, 1).await.unwrap().remove(0);
        assert!(line.details.contains(&format!("building windows [] → [20-26 {address}]")) && line.details.contains("floor gas built-in → 90"), "{}", line.details);
        assert!(!line.details.contains("floor heat"), "an unchanged floor is not a change: {}", line.details);
        assert!(admin.get("/staff/settings").await.body.contains(&format!("20-26 {address}</textarea>")));
        // Another server has them after its cache.
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        let rules = other.state.app.settings.readings.current().await.unwrap();
        assert_eq!(rules.rule(&address).window, kabinet_domain::ReadingsWindow { first_day: 20, last_day: 26 });
        assert_eq!(rules.floor(kabinet_domain::Resource::Gas), 90);
        assert_eq!(rules.floor(kabinet_domain::Resource::Heat), 3, "the built-in one");
        // Emptied: every building keeps the organization's window.
        admin.submit("/staff/settings", "/staff/settings", &[("buildings", ""), ("floor_gas", "")]).await;
        let rules = app.state.app.settings.readings.current().await.unwrap();
        assert!(rules.buildings.is_empty() && rules.floor(kabinet_domain::Resource::Gas) == 150);
        // A listed building billing no longer sends does not block the rest.
        let gone = "1-5 ул. Снесённая, д. 9";
        app.db().org_settings().put("readings.buildings", gone, time::OffsetDateTime::now_utc()).await.unwrap();
        let r = admin.submit("/staff/settings", "/staff/settings", &[("buildings", gone), ("floor_gas", "80")]).await;
        assert_eq!(r.location(), "/staff/settings?saved=1", "{}", r.body);
        assert_eq!(app.state.app.settings.readings.current().await.unwrap().floor(kabinet_domain::Resource::Gas), 80);
    }

    async fn request_categories_are_kept_in_the_office(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let other = TestApp::builder(&t.db).build().await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let list = admin.get("/staff/categories").await;
        assert!(list.body.contains("Протечка, затопление") && list.body.contains("<code>leak</code>"), "{}", list.body);
        let count = || async { app.db().requests().all_categories().await.unwrap().len() };
        let before = (count().await, audit_lines(&app).await);
        // Every problem at once, nothing stored.
        let bad = [("code", "Roof-1"), ("name", " "), ("desk", "office"), ("emergency", "1"), ("deadline", "0"), ("position", "x"), ("active", "1")];
        let r = admin.submit("/staff/categories", "/staff/categories", &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        for said in ["Код — от 1 до 32", "Заполните поле", "Срок — целое число часов от 1 до 8760", "Место — целое число от 0 до 999", "Аварийными могут быть только"] {
            assert!(r.body.contains(said), "{said}: {}", r.body);
        }
        assert!(r.body.contains("value=\"Roof-1\""), "the typed code is kept");
        let taken = [("code", "leak"), ("name", "Ещё протечка"), ("desk", "dispatch"), ("position", "1"), ("active", "1")];
        let r = admin.submit("/staff/categories", "/staff/categories", &taken).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Категория с таким кодом уже есть"), "{}", r.body);
        assert_eq!((count().await, audit_lines(&app).await), before);
        // A new emergency category with its own deadline, first in the list.
        let roof = [("code", "roof"), ("name", " Протекает крыша "), ("desk", "dispatch"), ("emergency", "1"), ("deadline", "4"), ("position", "0"), ("active", "1")];
        let r = admin.submit("/staff/categories", "/staff/categories", &roof).await;
        assert_eq!(r.location(), "/staff/categories?saved=1", "{}", r.body);
        let line = app.db().audit().lines(None, 1).await.unwrap().remove(0);
        assert_eq!(line.event, "org_settings_changed");
        assert!(line.details.contains("request category roof added: name \"Протекает крыша\", desk dispatch, emergency true, deadline 4 h"), "{}", line.details);
        // Residents of any server choose it on their next form, and it keeps its clock.
        let (mut resident, _) = other.resident(1).await;
        let form = resident.get("/requests/new").await.body;
        assert!(form.contains("value=\"roof\"") && form.contains("Протекает крыша"), "{form}");
        let filed = file_page(&mut resident, &[("category", "roof"), ("text", "Течёт крыша над подъездом, мокнет стена"), ("phone", "+7 912 345-67-89")], &[]).await;
        assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
        let request = app.db().requests().get(kabinet_domain::RequestId(number_of(filed.location()))).await.unwrap().unwrap();
        assert!(request.emergency && request.desk == kabinet_domain::requests::Desk::Dispatch);
        // An emergency is to be taken within 30 minutes; its own 4 hours
        // count from its filing once it is taken.
        assert_eq!((request.due_at - request.created_at).whole_minutes(), 30);
        let d = kabinet_domain::requests::Deadlines::default();
        let clock = app.state.app.requests.clock();
        let worked = d.for_work(request.desk, Some(4), request.created_at, clock, &kabinet_domain::workdays::WorkCalendar::built_in());
        assert_eq!((worked - request.created_at).whole_minutes(), 4 * 60, "the category's own deadline");
        // Switched off: no longer offered; its code stays whatever is typed.
        let id = app.db().requests().all_categories().await.unwrap().into_iter().find(|c| c.setting.category.code == "roof").unwrap().id;
        let page = admin.get(&format!("/staff/categories/{id}")).await;
        assert!(page.body.contains("<code>roof</code>") && page.body.contains("value=\"4\""), "{}", page.body);
        let off = [("code", "changed"), ("name", "Протекает крыша"), ("desk", "dispatch"), ("emergency", "1"), ("deadline", ""), ("position", "0")];
        let r = admin.submit(&format!("/staff/categories/{id}"), &format!("/staff/categories/{id}"), &off).await;
        assert_eq!(r.location(), "/staff/categories?saved=1", "{}", r.body);
        let stored = app.db().requests().category(id).await.unwrap().unwrap().setting;
        assert_eq!((stored.category.code.as_str(), stored.active, stored.category.deadline_hours), ("roof", false, None));
        assert!(app.db().audit().lines(None, 1).await.unwrap()[0].details.contains("before: name \"Протекает крыша\", desk dispatch, emergency true, deadline 4 h, position 0, active true; after: name \"Протекает крыша\", desk dispatch, emergency true, deadline desk's, position 0, active false"));
        assert!(!resident.get("/requests/new").await.body.contains("value=\"roof\""));
        // The queue still filters by it: its request is there.
        assert!(admin.get("/staff/requests").await.body.contains("value=\"roof\""));
        // The last category offered cannot be switched off.
        for c in app.db().requests().all_categories().await.unwrap() {
            if c.setting.category.code != "other" {
                let mut s = c.setting.clone();
                s.active = false;
                app.db().requests().update_category(c.id, &s).await.unwrap();
            }
        }
        let last = app.db().requests().all_categories().await.unwrap().into_iter().find(|c| c.setting.category.code == "other").unwrap().id;
        let r = admin.submit(&format!("/staff/categories/{last}"), &format!("/staff/categories/{last}"), &[("name", "Другое"), ("desk", "office"), ("position", "11")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Хотя бы одна категория"), "{}", r.body);
        assert!(app.db().requests().category(last).await.unwrap().unwrap().setting.active);
        assert_eq!(admin.get("/staff/categories/99999").await.status, StatusCode::NOT_FOUND);
    }

    async fn rules_are_previewed_then_published(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (mut resident, _) = app.resident(1).await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let before = app.db().rules().all().await.unwrap().len();
        let form = [("title", "Правила, редакция 2"), ("body", "Первый абзац\nпродолжается.\n\nВторой абзац."), ("intent", "preview")];
        let r = admin.submit("/staff/rules", "/staff/rules", &form).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("<p>Первый абзац продолжается.</p>") && r.body.contains("<p>Второй абзац.</p>"));
        assert_eq!(app.db().rules().all().await.unwrap().len(), before, "a preview stores nothing");
        let r = admin.submit("/staff/rules", "/staff/rules", &[("title", ""), ("body", ""), ("intent", "publish")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut publish = form;
        publish[2] = ("intent", "publish");
        let r = admin.submit("/staff/rules", "/staff/rules", &publish).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = admin.get("/staff/rules").await;
        assert!(page.body.contains("Правила, редакция 2"));
        assert_eq!(resident.get("/cabinet").await.location(), "/rules/accept", "the resident accepts at the next request");

        // The personal-data consent has its own page, numbering and count.
        let r = admin.submit("/staff/consent", "/staff/consent", &[("title", "Согласие"), ("body", ""), ("intent", "publish")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Укажите текст согласия"), "{}", r.body);
        let r = admin.submit("/staff/consent", "/staff/consent", &[("title", "Согласие на обработку ПД"), ("body", "Цели и сроки."), ("intent", "publish")]).await;
        assert_eq!(r.location(), "/staff/consent");
        let page = admin.get("/staff/consent").await;
        assert!(page.body.contains("Согласие на обработку ПД") && page.body.contains("href=\"/consent/1\""), "{}", page.body);
        assert!(!page.body.contains("Правила, редакция 2"), "{}", page.body);
        assert_eq!(app.db().documents(kabinet_domain::Document::Consent).all().await.unwrap().len(), 1);
        let r = resident.submit("/rules/accept", "/rules/accept", &[("version", &(before + 1).to_string())]).await;
        assert_eq!(r.location(), "/consent/accept", "then the consent");
        let events: Vec<String> = app.db().audit().lines(None, 50).await.unwrap().into_iter().map(|l| l.event).collect();
        assert!(events.contains(&"consent_published".to_string()));
    }

    async fn a_closing_is_previewed_set_and_lifted(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (mut resident, _) = app.resident(1).await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let soon = app.state.app.accounts.clock().local(time::OffsetDateTime::now_utc() + time::Duration::days(2));
        let from = format!("{:04}-{:02}-{:02}T22:00", soon.year(), u8::from(soon.month()), soon.day());
        let form = [("from", from.as_str()), ("until", "2000-01-01T00:00"), ("message", "Обновляем систему."), ("intent", "save")];
        let r = admin.submit("/staff/closing", "/staff/closing", &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("позже начала"));
        let r = admin.submit("/staff/closing", "/staff/closing", &[("from", "вчера"), ("intent", "save")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let preview = [("from", from.as_str()), ("until", ""), ("message", "Обновляем систему."), ("intent", "preview")];
        let r = admin.submit("/staff/closing", "/staff/closing", &preview).await;
        assert!(r.body.contains("Обновляем систему.") && r.body.contains("class=\"banner\""));
        assert!(app.db().suspensions().current().await.unwrap().is_none(), "a preview stores nothing");
        let mut save = preview;
        save[3] = ("intent", "save");
        assert_eq!(admin.submit("/staff/closing", "/staff/closing", &save).await.status, StatusCode::SEE_OTHER);
        app.state.app.site.suspension().await.unwrap();
        tokio::time::sleep(kabinet_app::site::REFRESH + std::time::Duration::from_millis(200)).await;
        assert!(resident.get("/cabinet").await.body.contains("Обновляем систему."), "the banner");
        let r = admin.submit("/staff/closing", "/staff/closing", &[("intent", "lift")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(app.db().suspensions().current().await.unwrap().is_none());
        let events: Vec<_> = app.db().audit().lines(None, 10).await.unwrap().into_iter().map(|l| (l.event, l.details)).collect();
        assert!(events.iter().any(|(e, d)| e == "suspension_set" && d.starts_with("staff boss")), "{events:?}");
        assert!(events.iter().any(|(e, _)| e == "suspension_lifted"));
    }

    async fn the_audit_log_is_filtered_paged_and_downloaded(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 1).build().await;
        let (_resident, number) = app.resident(1).await;
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let account = app.db().accounts().by_id(kabinet_domain::AccountId(1)).await.unwrap().unwrap();
        for i in 0..55 {
            app.db().audit().record(
                &kabinet_domain::AuditEntry::system(kabinet_domain::AuditEvent::DataDownloaded, Some(account.id), format!("=HYPERLINK(\"x\") {i}")),
                time::OffsetDateTime::now_utc(),
            ).await.unwrap();
        }
        let page = admin.get(&format!("/staff/audit?event=data_downloaded&account={}", number.replace(' ', "+"))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("55 записей"), "{}", page.body);
        assert!(page.body.contains("rel=\"next\""));
        assert!(page.body.contains("<td>Скачаны «мои данные»</td>"), "the event in words: {}", page.body);
        assert!(page.body.contains("<option value=\"data_downloaded\" selected>Скачаны «мои данные»</option>"));
        let second = admin.get("/staff/audit?event=data_downloaded&page=2").await;
        assert!(second.body.contains("HYPERLINK(&quot;x&quot;) 0") || second.body.contains("HYPERLINK(&#34;x&#34;) 0"), "the oldest is on page 2");
        let none = admin.get("/staff/audit?account=NO-SUCH-1").await;
        assert!(none.body.contains("Такого лицевого счёта нет"));
        let csv = admin.get("/staff/audit.csv?event=data_downloaded").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with('\u{feff}'));
        assert!(csv.body.lines().nth(1).unwrap().contains(&format!(";{number};")), "the account's number, not its id");
        assert_eq!(csv.body.lines().count(), 56);
        assert!(csv.body.contains(";\"'=HYPERLINK(\"\"x\"\") 0\""), "formula cells are defused: {}", csv.body);
        let exported = app.db().audit().lines(None, 1).await.unwrap();
        assert_eq!(exported[0].event, "audit_exported");
        assert!(exported[0].details.starts_with("staff boss"));
    }

    async fn a_billing_package_is_checked_then_imported_on_confirmation(t: &TestDb) {
        let app = TestApp::builder(&t.db).build().await;
        let dir = demo_package(3);
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let form = acc.get("/staff/import").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("Пакетов ещё не загружали"));

        // A zip with one broken line: checked, refused, nothing written.
        let broken = parts(&dir, |text| {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let mut cells: Vec<String> = lines[2].split(';').map(str::to_string).collect();
            cells[2] = "много".into();
            lines[2] = cells.join(";");
            lines.join("\n") + "\n"
        });
        let body = multipart(&[("csrf", form.csrf().as_str())], &[("files", "package.zip", zipped(&broken))]);
        let r = post_multipart(&mut acc, "/staff/import/upload", None, body).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let first = r.location().to_string();
        assert!(acc.get(&first).await.body.contains("ждёт проверки"));
        run_packages(&app).await;
        let page = acc.get(&first).await;
        assert!(page.body.contains("есть ошибки") && page.body.contains("ничего не изменено"), "{}", page.body);
        assert!(page.body.contains("<td>accounts.csv</td><td>UTF-8</td><td>3</td><td>0</td><td>1</td>"), "the file's counts: {}", page.body);
        let row = crate::common::between(&page.body, "<td>accounts.csv</td><td>3</td>", "</tr>");
        assert!(row.starts_with("<td>total_area</td>"), "file, line and column: {row}");
        assert!(!page.body.contains("Подтвердить загрузку"));
        assert_eq!(app.db().accounts().count().await.unwrap(), 0, "nothing written");
        let csv = acc.get(&format!("{first}/problems.csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.lines().nth(1).unwrap().starts_with("accounts.csv;3;total_area;"), "{}", csv.body);
        let refused = acc.submit(&first, &format!("{first}/confirm"), &[]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);

        // A file that is not part of a package is named.
        let mut odd = parts(&dir, |t| t);
        odd.push(("files", "notes.txt".into(), b"x".to_vec()));
        let token = acc.get("/staff/import").await.csrf();
        let r = post_multipart(&mut acc, "/staff/import/upload", None, multipart(&[("csrf", token.as_str())], &borrowed(&odd))).await;
        let odd_page = r.location().to_string();
        run_packages(&app).await;
        assert!(acc.get(&odd_page).await.body.contains("Файл «notes.txt» не входит в пакет обмена"));

        // The fixed files, one part each: checked, confirmed, imported.
        let token = acc.get("/staff/import").await.csrf();
        let r = post_multipart(&mut acc, "/staff/import/upload", None, multipart(&[("csrf", token.as_str())], &borrowed(&parts(&dir, |t| t)))).await;
        let fixed = r.location().to_string();
        run_packages(&app).await;
        let page = acc.get(&fixed).await;
        assert!(page.body.contains("Пакет проверен: ошибок нет"), "{}", page.body);
        assert!(page.body.contains("<td>accounts.csv</td><td>UTF-8</td><td>3</td><td>3</td><td>0</td>"), "{}", page.body);
        assert_eq!(app.db().accounts().count().await.unwrap(), 0, "a check writes nothing");
        let r = acc.submit(&fixed, &format!("{fixed}/confirm"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(acc.get(&fixed).await.body.contains("ждёт загрузки"));
        run_packages(&app).await;
        let page = acc.get(&fixed).await;
        assert!(page.body.contains("Пакет загружен"), "{}", page.body);
        assert_eq!(app.db().accounts().count().await.unwrap(), 3);
        assert!(app.db().organization().latest_period().await.unwrap().is_some());
        let id = kabinet_domain::ImportId(fixed.rsplit('/').next().unwrap().parse().unwrap());
        assert!(app.db().imports().chunk(id, 0, 0).await.unwrap().is_none(), "the bytes are dropped once imported");
        let again = acc.submit(&fixed, &format!("{fixed}/confirm"), &[]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "imported once");

        // The home page leads to the newest package.
        let home = acc.get("/staff").await.body;
        let figure = crate::common::between(&home, "<dt>Последний пакет из биллинга</dt>", "</dd>");
        assert!(figure.contains(&format!("href=\"{fixed}\"")) && figure.contains("загружен"), "{figure}");
        // The history: who, files, result; the exchange log and the audit.
        let history = acc.get("/staff/import").await.body;
        assert!(history.contains("package.zip") && history.contains("есть ошибки") && history.contains("загружен"), "{history}");
        assert_eq!(history.matches("<td>books</td>").count(), 3);
        let runs = app.db().exchange().runs_of("import", 20).await.unwrap();
        assert_eq!(runs.len(), 8, "one run a file, of the imported package only");
        assert!(runs.iter().all(|r| r.status == "ok" && r.actor == "books" && r.message.is_empty()), "{runs:?}");
        let events: Vec<String> = app.db().audit().lines(None, 50).await.unwrap().into_iter().map(|l| l.event).collect();
        assert_eq!(events.iter().filter(|e| *e == "billing_uploaded").count(), 3);
        assert_eq!(events.iter().filter(|e| *e == "billing_import_confirmed").count(), 1);

        // A dispatcher is refused the page.
        let (mut dispatcher, _, _) = app.staff("night", Role::Dispatcher).await;
        assert_eq!(dispatcher.get("/staff/import").await.status, StatusCode::FORBIDDEN);
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn a_real_installation_serves_receipts_once_its_details_are_set(t: &TestDb) {
        // A package of the demo, imported into an empty database.
        let dir = std::env::temp_dir().join(format!("kabinet-install-{}", std::process::id() as u64 * 1000 + u64::from(rand_byte())));
        let today = time::OffsetDateTime::now_utc().date();
        kabinet_exchange::package::write_demo_package(
            &kabinet_demo::DemoOptions { accounts: 3, months: 1, ..kabinet_demo::DemoOptions::new(today) },
            &dir,
            kabinet_exchange::source::TextEncoding::Utf8,
            &mut |_, _| {},
        ).unwrap();
        let reports = kabinet_exchange::import::import_dir(&t.db, &dir, &Default::default(), &mut |_, _, _| {}).await.unwrap();
        assert!(reports.iter().all(|r| r.committed), "{reports:?}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!t.db.organization().is_demo().await.unwrap());
        let app = TestApp::builder(&t.db).build().await;
        let first = app.state.app.staff.first_administrator().await.unwrap().expect("the first administrator");
        assert_eq!(first.0.role, Role::Administrator);
        assert!(app.state.app.staff.first_administrator().await.unwrap().is_none(), "only once");
        let (mut resident, number) = app.resident(1).await;
        let overview = resident.get("/cabinet").await;
        assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
        assert!(overview.body.contains("Портал настраивается"));
        let period = app.db().organization().latest_period().await.unwrap().unwrap().period;
        let receipt = format!("/accounts/{}/receipts/{period}.pdf", number.replace(' ', "%20"));
        let r = resident.get(&receipt).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("ещё настраивается"));
        let mut api = Browser::new(&app);
        let tok = crate::common::token(&mut api, &number).await;
        let api_path = format!("/api/v1/accounts/{}/receipts/{period}", number.replace(' ', "%20"));
        let r = api.json("GET", &api_path, Some(&tok), serde_json::Value::Null).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("ещё настраивается") && r.headers[axum::http::header::CONTENT_TYPE] == "application/problem+json");
        let (mut admin, _, _) = app.staff("boss", Role::Administrator).await;
        let home = admin.get("/staff").await;
        assert!(home.body.contains("не заполнены реквизиты организации"), "{}", home.body);
        assert_eq!(admin.submit("/staff/organization", "/staff/organization", ORG).await.status, StatusCode::SEE_OTHER);
        let r = resident.get(&receipt).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.bytes.starts_with(b"%PDF"));
        assert!(!resident.get("/cabinet").await.body.contains("Портал настраивается"));
    }
}

/// The demo organization of `accounts` accounts and one month as a billing
/// package in a new folder.
fn demo_package(accounts: u32) -> std::path::PathBuf {
    demo_package_at(accounts, time::OffsetDateTime::now_utc().date(), 1)
}

/// The demo package of `accounts` accounts and `months` months ending with
/// the month before `today`'s.
pub(crate) fn demo_package_at(accounts: u32, today: time::Date, months: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kabinet-package-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 1000 + u64::from(rand_byte())
    ));
    kabinet_exchange::package::write_demo_package(
        &kabinet_demo::DemoOptions {
            accounts,
            months,
            ..kabinet_demo::DemoOptions::new(today)
        },
        &dir,
        kabinet_exchange::source::TextEncoding::Utf8,
        &mut |_, _| {},
    )
    .unwrap();
    dir
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Uploads the package in `dir` through the office as accountant `acc`,
/// confirms it once checked, and imports it.
pub(crate) async fn import_through_office(
    app: &TestApp,
    acc: &mut crate::common::Browser,
    dir: &std::path::Path,
) {
    let token = acc.get("/staff/import").await.csrf();
    let files = parts(dir, |t| t);
    let r = post_multipart(
        acc,
        "/staff/import/upload",
        None,
        multipart(&[("csrf", token.as_str())], &borrowed(&files)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location().to_string();
    run_packages(app).await;
    let confirmed = acc.submit(&page, &format!("{page}/confirm"), &[]).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.body);
    run_packages(app).await;
    assert!(acc.get(&page).await.body.contains("Пакет загружен"));
}

/// Runs the queued checks and imports of billing packages to the end.
async fn run_packages(app: &TestApp) {
    let env = kabinet_app::jobs::JobEnv {
        app: app.state.app.clone(),
        mailer: std::sync::Arc::new(
            kabinet_notify::Mailer::new(&kabinet_notify::MailConfig::Files {
                dir: std::env::temp_dir().join("kabinet-office-mail"),
                from: "Кабинет <noreply@example.ru>".into(),
            })
            .unwrap(),
        ),
    };
    let runner = kabinet_app::jobs::Runner::new(env, Default::default()).unwrap();
    let ran = runner
        .run_due(Some(&["billing_package"]), time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(ran.iter().all(|r| *r == kabinet_app::jobs::Ran::Done), "{ran:?}");
}

/// The package's files as form parts, `accounts.csv` changed by `edit`.
fn parts(dir: &std::path::Path, edit: impl Fn(String) -> String) -> Vec<(&'static str, String, Vec<u8>)> {
    kabinet_domain_kinds()
        .into_iter()
        .map(|kind| {
            let name = format!("{kind}.csv");
            let mut data = std::fs::read(dir.join(&name)).unwrap();
            if kind == "accounts" {
                data = edit(String::from_utf8(data).unwrap()).into_bytes();
            }
            ("files", name, data)
        })
        .collect()
}

fn kabinet_domain_kinds() -> Vec<&'static str> {
    kabinet_exchange::ImportKind::ALL
        .iter()
        .map(|k| k.name())
        .collect()
}

/// `files` as the form helper takes them.
fn borrowed<'a>(files: &'a [(&'static str, String, Vec<u8>)]) -> Vec<crate::requests::FilePart<'a>> {
    files
        .iter()
        .map(|(f, n, d)| (*f, n.as_str(), d.clone()))
        .collect()
}

/// A zip archive of `files`.
fn zipped(files: &[(&'static str, String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (_, name, data) in files {
        zip.start_file(
            format!("package/{name}"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn rand_byte() -> u8 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    (t % 251) as u8
}
