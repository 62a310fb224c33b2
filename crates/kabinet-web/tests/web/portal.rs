//! The resident portal end to end on both databases: every page and API
//! operation of the overview, invoices, charges, payments, settings, linked
//! accounts, help, suspension and the data download — and that none of them
//! shows an account that is not the resident's.

use crate::common;
use crate::common::{Browser, TestApp, account_and_amount, token};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_testkit::db_tests;
use serde_json::{Value, json};

fn newest_period(body: &str) -> String {
    let at = body.find("/invoices/").unwrap();
    body[at + 10..at + 17].to_string()
}

db_tests! {
    async fn pages_and_api_are_scoped_to_linked_accounts(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(4, 14).build().await;
        let (mut me, mine) = app.resident(1).await;
        let (_other_browser, theirs) = app.resident(2).await;
        let (third, amount) = account_and_amount(&t.db, 3).await;
        for path in ["/cabinet", "/invoices", "/charges", "/payments", "/settings", "/help", "/meters", "/requests"] {
            let r = me.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            assert!(r.body.contains("href=\"#main\""), "{path}: skip link");
        }
        let invoices = me.get("/invoices").await;
        let period = newest_period(&invoices.body);
        let invoice = me.get(&format!("/accounts/{mine}/invoices/{period}")).await;
        assert_eq!(invoice.status, StatusCode::OK, "{}", invoice.body);
        assert!(invoice.body.contains("Итого к оплате"));
        // Another resident's account: 404 everywhere, pages and API alike.
        let token = token(&mut me, &mine).await;
        for path in [
            format!("/cabinet?account={theirs}"),
            format!("/invoices?account={theirs}"),
            format!("/charges?account={theirs}"),
            format!("/charges.csv?account={theirs}"),
            format!("/payments?account={theirs}"),
            format!("/accounts/{theirs}/invoices/{period}"),
            format!("/accounts/{theirs}/receipts/{period}.pdf"),
            "/cabinet?account=no-such".to_string(),
        ] {
            let r = me.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!r.body.contains(&theirs), "{path} leaks the number");
        }
        for path in ["overview", "invoices", "charges", "payments"] {
            let r = me.json("GET", &format!("/api/v1/accounts/{theirs}/{path}"), Some(&token), json!(null)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        }
        // Linking: a wrong value and an unknown account get the same answer.
        let wrong = me.submit("/settings", "/settings/accounts", &[("account", &third), ("check", "1,00")]).await;
        let unknown = me.submit("/settings", "/settings/accounts", &[("account", "999999999"), ("check", "1,00")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        let refusal = "не подходят друг к другу";
        assert!(wrong.body.contains(refusal) && unknown.body.contains(refusal));
        assert!(wrong.body.contains(&format!("value=\"{third}\"")), "the typed number stays");
        assert_eq!(me.get(&format!("/cabinet?account={third}")).await.status, StatusCode::NOT_FOUND);
        let linked = me.submit("/settings", "/settings/accounts", &[("account", &third), ("check", &amount)]).await;
        assert_eq!((linked.status, linked.location()), (StatusCode::SEE_OTHER, "/settings?done=linked"));
        let overview = me.get(&format!("/cabinet?account={third}")).await;
        assert_eq!(overview.status, StatusCode::OK);
        assert!(overview.body.contains(&format!("Лицевой счёт {third}")));
        assert!(overview.body.contains("id=\"account-switch\""), "the switcher shows with two accounts");
        let list = me.json("GET", "/api/v1/accounts", Some(&token), json!(null)).await;
        let list: Value = serde_json::from_str(&list.body).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[0]["account"], mine.as_str());
        assert_eq!(list[0]["primary"], true);
        let api = me.json("GET", &format!("/api/v1/accounts/{third}/overview"), Some(&token), json!(null)).await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        // The same through the API: a wrong value is refused alike, the right one links.
        let (fourth, fourth_amount) = account_and_amount(&t.db, 4).await;
        let r = me.json("POST", "/api/v1/accounts", Some(&token), json!({"account": fourth, "check": "1,00"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(refusal), "{}", r.body);
        let r = me.json("POST", "/api/v1/accounts", Some(&token), json!({"account": fourth, "check": fourth_amount})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let detail = me.json("GET", &format!("/api/v1/accounts/{fourth}/invoices/{period}"), Some(&token), json!(null)).await;
        assert_eq!(detail.status, StatusCode::OK);
        let detail: Value = serde_json::from_str(&detail.body).unwrap();
        let lines: i64 = detail["lines"].as_array().unwrap().iter().map(|l| l["total_kopecks"].as_i64().unwrap()).sum();
        assert_eq!(lines, detail["invoice"]["charged_kopecks"].as_i64().unwrap(), "the lines add up to the invoice");
        // The sign-in account cannot be removed; the linked one can.
        let keep = me.submit("/settings", "/settings/accounts/remove", &[("account", &mine)]).await;
        assert_eq!(keep.status, StatusCode::UNPROCESSABLE_ENTITY);
        let removed = me.json("DELETE", &format!("/api/v1/accounts/{third}"), Some(&token), json!(null)).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        assert_eq!(me.get(&format!("/cabinet?account={third}")).await.status, StatusCode::NOT_FOUND);
        let events: Vec<String> = t.db.audit().lines(None, 50).await.unwrap().into_iter().map(|l| l.event).collect();
        for e in ["account_link_failed", "account_linked", "account_unlinked"] {
            assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
        }
    }

    async fn linking_a_registered_account_needs_its_residents_consent(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(5, 3).build().await;
        let (mut me, mine) = app.resident(1).await;
        let (mut owner, _) = app.resident(2).await;
        let (mut stranger, _) = app.resident(3).await;
        let (acc2, amount2) = account_and_amount(&t.db, 2).await;
        let requests_mailed = |db: kabinet_db::Db| async move {
            db.outbox()
                .messages(None, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.email.to.as_str() == "r2@example.ru" && m.email.subject.contains("Запрос доступа"))
                .map(|m| m.email.text)
                .collect::<Vec<_>>()
        };
        let path_in = |text: &str| -> String {
            let at = text.find("/settings/access/").unwrap();
            text[at..].chars().take_while(|c| !c.is_whitespace()).collect()
        };

        // The right receipt amount no longer links it: its resident is asked.
        let asked = me.submit("/settings", "/settings/accounts", &[("account", &acc2), ("check", &amount2)]).await;
        assert_eq!((asked.status, asked.location()), (StatusCode::SEE_OTHER, "/settings?done=asked"));
        assert_eq!(me.get(&format!("/cabinet?account={acc2}")).await.status, StatusCode::NOT_FOUND, "nothing before consent");
        let page = me.get("/settings?done=asked").await;
        assert!(page.body.contains("Ждут разрешения") && page.body.contains(&acc2), "{}", page.body);
        let tk = token(&mut me, &mine).await;
        let again = me.json("POST", "/api/v1/accounts", Some(&tk), json!({"account": acc2, "check": amount2})).await;
        assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
        let api = me.json("GET", &format!("/api/v1/accounts/{acc2}/overview"), Some(&tk), json!(null)).await;
        assert_eq!(api.status, StatusCode::NOT_FOUND);
        let mails = requests_mailed(t.db.clone()).await;
        assert_eq!(mails.len(), 1, "asking twice mails the owner once");
        assert!(mails[0].contains("r1***@example.ru") && !mails[0].contains("r1@example.ru"), "{}", mails[0]);
        let link = path_in(&mails[0]);

        // Only the owner can open the link.
        assert_eq!(stranger.get(&link).await.status, StatusCode::NOT_FOUND);
        assert_eq!(me.get(&link).await.status, StatusCode::NOT_FOUND);
        let decide = owner.get(&link).await;
        assert_eq!(decide.status, StatusCode::OK, "{}", decide.body);
        assert!(decide.body.contains("r1***@example.ru") && decide.body.contains(&acc2));
        let id: String = {
            let at = decide.body.find("name=\"id\" value=\"").unwrap() + 17;
            decide.body[at..].chars().take_while(|c| c.is_ascii_digit()).collect()
        };
        // A stranger cannot answer it either.
        let r = stranger.submit("/settings", "/settings/access", &[("action", "approve"), ("id", &id)]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Declined: nothing is shown; the link is spent.
        let r = owner.submit(&link, "/settings/access", &[("action", "decline"), ("id", &id)]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/settings?done=declined"));
        assert_eq!(owner.get(&link).await.status, StatusCode::NOT_FOUND);
        assert_eq!(me.get(&format!("/cabinet?account={acc2}")).await.status, StatusCode::NOT_FOUND);

        // Asked again and approved in the settings: now it is shown.
        me.submit("/settings", "/settings/accounts", &[("account", &acc2), ("check", &amount2)]).await;
        let mails = requests_mailed(t.db.clone()).await;
        assert_eq!(mails.len(), 2);
        let settings = owner.get("/settings").await;
        assert!(settings.body.contains("Просят доступ") && settings.body.contains("r1***@example.ru"), "{}", settings.body);
        let at = settings.body.find("value=\"approve\"").unwrap();
        let before = &settings.body[..at];
        let idat = before.rfind("name=\"id\" value=\"").unwrap() + 17;
        let id2: String = before[idat..].chars().take_while(|c| c.is_ascii_digit()).collect();
        let r = owner.submit("/settings", "/settings/access", &[("action", "approve"), ("id", &id2)]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/settings?done=approved"));
        let seen = me.get(&format!("/cabinet?account={acc2}")).await;
        assert_eq!(seen.status, StatusCode::OK);
        // Linking it again asks nobody.
        let again = me.submit("/settings", "/settings/accounts", &[("account", &acc2), ("check", &amount2)]).await;
        assert_eq!(again.location(), "/settings?done=linked");
        assert_eq!(requests_mailed(t.db.clone()).await.len(), 2);
        // The owner sees who sees the account and can take it back.
        let settings = owner.get("/settings").await;
        assert!(settings.body.contains("видит счёт с"), "{}", settings.body);
        let me_id = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&mine).unwrap()).await.unwrap().unwrap().id;
        let owner_id = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&acc2).unwrap()).await.unwrap().unwrap().id;
        let r = stranger.submit("/settings", "/settings/access", &[("action", "remove"), ("id", &me_id.0.to_string())]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "not the stranger's account");
        let r = owner.submit("/settings", "/settings/access", &[("action", "remove"), ("id", &owner_id.0.to_string())]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the owner is no viewer of their own");
        let r = owner.submit("/settings", "/settings/access", &[("action", "remove"), ("id", &me_id.0.to_string())]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/settings?done=revoked"));
        assert_eq!(me.get(&format!("/cabinet?account={acc2}")).await.status, StatusCode::NOT_FOUND);
        let events: Vec<String> = t.db.audit().lines(None, 200).await.unwrap().into_iter().map(|l| l.event).collect();
        for e in ["account_link_requested", "account_link_declined", "account_link_approved", "account_access_removed"] {
            assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
        }

        // A zero amount proves nothing, whatever the receipt says.
        let (acc4, _) = account_and_amount(&t.db, 4).await;
        let zero = me.submit("/settings", "/settings/accounts", &[("account", &acc4), ("check", "0,00")]).await;
        assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(zero.body.contains("улевая сумма"), "{}", zero.body);
        // Five failed attempts a day per user, over every account.
        for n in 0..5 {
            let r = me.submit("/settings", "/settings/accounts", &[("account", &acc4), ("check", &format!("{}1,00", n + 1))]).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{n}");
        }
        let (acc5, amount5) = account_and_amount(&t.db, 5).await;
        let r = me.submit("/settings", "/settings/accounts", &[("account", &acc5), ("check", &amount5)]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(r.body.contains("лишком много неудачных попыток"), "{}", r.body);
        let r = me.json("POST", "/api/v1/accounts", Some(&tk), json!({"account": acc5, "check": amount5})).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn invoices_charges_and_payments_show_the_billing_data(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 14).build().await;
        let (mut me, mine) = app.resident(1).await;
        let invoices = t.db.billing().invoices(kabinet_domain::AccountId(1), 100).await.unwrap();
        let token = token(&mut me, &mine).await;
        let api = me.json("GET", &format!("/api/v1/accounts/{mine}/invoices"), Some(&token), json!(null)).await;
        let api: Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(api.as_array().unwrap().len(), invoices.len());
        assert_eq!(api[0]["period"], invoices[0].period.to_string());
        assert_eq!(api[0]["total_due_kopecks"], invoices[0].total_due.get());
        // An older invoice: what the next month recorded as paid went towards it.
        assert_eq!(api[1]["paid_towards_kopecks"], invoices[0].paid.get());
        let statuses = ["unpaid", "partly_paid", "paid", "overdue"];
        assert!(api.as_array().unwrap().iter().all(|i| statuses.contains(&i["status"].as_str().unwrap())));
        // Charges: the default twelve months, the chart, the CSV.
        let charges = me.get("/charges").await;
        assert_eq!(charges.status, StatusCode::OK);
        assert!(charges.body.contains("<svg") && charges.body.contains("role=\"img\""));
        assert!(charges.body.contains("id=\"chart-alt\""));
        let to = invoices[0].period;
        let from = to.add_months(-11);
        let csv = me.get(&format!("/charges.csv?from={from}&to={to}")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
        let text = csv.body.trim_start_matches('\u{feff}');
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Месяц;Услуга;Объём"), "{}", lines[0]);
        let expected = t.db.billing().charges(kabinet_domain::AccountId(1), from, to).await.unwrap();
        assert_eq!(lines.len() - 1, expected.len());
        let sum: i64 = lines[1..].iter().map(|l| {
            let total = l.rsplit(';').next().unwrap().replace(',', ".");
            (total.parse::<f64>().unwrap() * 100.0).round() as i64
        }).sum();
        assert_eq!(sum, expected.iter().map(|l| l.charge.total.get()).sum::<i64>());
        let api = me.json("GET", &format!("/api/v1/accounts/{mine}/charges?from={from}&to={to}"), Some(&token), json!(null)).await;
        let api: Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(api["total_kopecks"], sum);
        assert_eq!(api["months"].as_array().unwrap().len(), 12);
        // Bad ranges: a clear message, never a 500.
        for (q, says) in [
            ("from=2026-13", "такого месяца нет"),
            ("from=1926-01&to=2026-01", "не больше 60 месяцев"),
            ("from=2026-05&to=2026-01", "раньше первого"),
        ] {
            let r = me.get(&format!("/charges?{q}")).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
            assert!(r.body.to_lowercase().contains(says), "{q}: {says}");
            let r = me.json("GET", &format!("/api/v1/accounts/{mine}/charges?{q}"), Some(&token), json!(null)).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        }
        let en = me.get("/charges?from=2026-13&lang=en").await;
        assert!(en.body.contains("There is no such month"), "{}", en.body);
        let empty = me.get("/charges?from=2000-01&to=2000-12&lang=ru").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.body.contains("начислений нет"));
        let empty_csv = me.get("/charges.csv?from=2000-01&to=2000-12&lang=ru").await;
        assert_eq!(empty_csv.status, StatusCode::NOT_FOUND);
        assert!(empty_csv.body.contains("За выбранные месяцы начислений нет"));
        let empty_en = me.get("/charges.csv?from=2000-01&to=2000-12&lang=en").await;
        assert!(empty_en.body.contains("There are no charges for the chosen months"), "{}", empty_en.body);
        me.get("/cabinet?lang=ru").await;
        // Payments, paged.
        let total = t.db.payments().page(kabinet_domain::AccountId(1), 0, 1).await.unwrap().1;
        let payments = me.get("/payments").await;
        assert_eq!(payments.status, StatusCode::OK);
        assert_eq!(payments.body.matches("<td class=\"num\">").count() as u64, total.min(20));
        assert_eq!(me.get("/payments?page=999").await.status, StatusCode::NOT_FOUND);
        assert_eq!(me.get("/payments?page=abc").await.status, StatusCode::NOT_FOUND);
        assert_eq!(me.get("/payments?page=18446744073709551615").await.status, StatusCode::NOT_FOUND);
        let api = me.json("GET", &format!("/api/v1/accounts/{mine}/payments"), Some(&token), json!(null)).await;
        let api: Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(api["total"], total);
    }

    async fn settings_email_change_and_my_data(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 3).build().await;
        let (mut me, mine) = app.resident(1).await;
        // Preferences: a bad phone is refused, a good one kept; English sticks.
        let bad = me.submit("/settings", "/settings", &[("phone", "12345"), ("language", "")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Номер телефона указан неверно"));
        assert!(bad.body.contains("value=\"12345\""), "what was typed stays in the field");
        let ok = me
            .submit("/settings", "/settings", &[("phone", "8 912 345-67-89"), ("language", "en"), ("paperless", "on"), ("notify_new_invoice", "on"), ("notify_announcements", "on")])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let page = me.get("/cabinet").await;
        assert!(page.body.contains("<html lang=\"en\">") && page.body.contains(">Overview<"));
        let token = token(&mut me, &mine).await;
        let s = me.json("GET", "/api/v1/settings", Some(&token), json!(null)).await;
        let s: Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(s["phone"], "+79123456789");
        assert_eq!(s["paperless"], true);
        // Every box the page offers is read back, the announcements' too.
        assert_eq!(s["notifications"], json!(["new_invoice", "announcements"]));
        let put = me.json("PUT", "/api/v1/settings", Some(&token), json!({"language": "klingon"})).await;
        assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
        // E-mail: the password is asked; the link goes to the new address.
        let wrong = me.submit("/settings", "/settings/email", &[("email", "new@example.ru"), ("current", "nope-nope-nope")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        let asked = me.submit("/settings", "/settings/email", &[("email", "new@example.ru"), ("current", common::OWN_PASSWORD)]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        let mails = t.db.outbox().messages(None, 10).await.unwrap();
        let confirm = mails.iter().find(|m| m.email.to.as_str() == "new@example.ru").expect("a link to the new address");
        let at = confirm.email.text.find("/settings/email/").unwrap();
        let link: String = confirm.email.text[at..].chars().take_while(|c| !c.is_whitespace()).collect();
        let user = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&mine).unwrap()).await.unwrap().unwrap();
        assert_eq!(user.email.as_str(), "r1@example.ru", "unchanged until confirmed");
        let mut mail_client = Browser::new(&me.app);
        let done = mail_client.submit(&link, &link, &[]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let user = t.db.users().by_account_number(&kabinet_domain::AccountNumber::parse(&mine).unwrap()).await.unwrap().unwrap();
        assert_eq!(user.email.as_str(), "new@example.ru");
        let mails = t.db.outbox().messages(None, 10).await.unwrap();
        // The resident chose English above: both e-mails are written in it.
        assert!(mails.iter().any(|m| m.email.to.as_str() == "r1@example.ru" && m.email.subject.starts_with("E-mail address changed")), "the old address is told, in English");
        assert!(mails.iter().any(|m| m.email.to.as_str() == "new@example.ru" && m.email.text.starts_with("Hello,")), "the link too");
        // Links to typed addresses share the account's limit of 3 e-mails an hour.
        for (i, expected) in [(2, StatusCode::SEE_OTHER), (3, StatusCode::SEE_OTHER), (4, StatusCode::UNPROCESSABLE_ENTITY)] {
            let to = format!("spam{i}@example.ru");
            let r = me.submit("/settings", "/settings/email", &[("email", &to), ("current", common::OWN_PASSWORD)]).await;
            assert_eq!(r.status, expected, "change {i}");
        }
        let again = mail_client.submit(&link, &link, &[]).await;
        assert!(again.body.contains("The link has been used") || again.body.contains("уже использована"));
        // My data.
        let data = me.get("/settings/data.json").await;
        assert_eq!(data.status, StatusCode::OK);
        let data: Value = serde_json::from_str(&data.body).unwrap();
        assert_eq!(data["profile"]["account"], mine.as_str());
        assert_eq!(data["profile"]["email"], "new@example.ru");
        assert_eq!(data["linked_accounts"].as_array().unwrap().len(), 1);
        assert_eq!(data["settings"]["phone"], "+79123456789");
        let events: Vec<&str> = data["activity"].as_array().unwrap().iter().map(|a| a["event"].as_str().unwrap()).collect();
        for e in ["settings_changed", "email_change_requested", "email_changed"] {
            assert!(events.contains(&e), "{e} in {events:?}");
        }
        assert!(data["notifications"].as_array().unwrap().iter().all(|n| n.get("text").is_none()), "no bodies");
        let api = me.json("GET", "/api/v1/my-data", Some(&token), json!(null)).await;
        assert_eq!(api.status, StatusCode::OK);
        let api: Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(api["profile"]["account"], mine.as_str());
        // The API's e-mail change asks for the password too; the limit is spent by now.
        let r = me.json("POST", "/api/v1/settings/email", Some(&token), json!({"email": "api@example.ru", "password": "wrong password"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = me.json("POST", "/api/v1/settings/email", Some(&token), json!({"email": "api@example.ru", "password": common::OWN_PASSWORD})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Слишком много писем") || r.body.contains("Too many e-mails"), "{}", r.body);
    }

    async fn suspension_closes_resident_pages_not_health(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 2).build().await;
        let (mut me, mine) = app.resident(1).await;
        let token = token(&mut me, &mine).await;
        let now = time::OffsetDateTime::now_utc();
        let portal = &app.state.app.site;
        portal.suspend(kabinet_app::staff::By::Cli, &kabinet_domain::Suspension {
            starts_at: now + time::Duration::days(2),
            ends_at: Some(now + time::Duration::days(2) + time::Duration::hours(8)),
            message: "Обновляем систему.".into(),
        }).await.unwrap();
        let page = me.get("/cabinet").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("class=\"banner\"") && page.body.contains("Обновляем систему."));
        // Apps are told of a planned closing.
        let status = me.json("GET", "/api/v1/status", None, json!(null)).await;
        let status: Value = serde_json::from_str(&status.body).unwrap();
        assert_eq!((status["open"].as_bool(), status["closing"]["phase"].as_str()), (Some(true), Some("announced")), "{status}");
        portal.suspend(kabinet_app::staff::By::Cli, &kabinet_domain::Suspension {
            starts_at: now - time::Duration::minutes(1),
            ends_at: Some(now + time::Duration::hours(2)),
            message: "Обновляем систему.".into(),
        }).await.unwrap();
        let closed = me.get("/cabinet").await;
        assert_eq!(closed.status, StatusCode::SERVICE_UNAVAILABLE);
        let retry: i64 = closed.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((7000..=7200).contains(&retry), "{retry}");
        assert!(closed.body.contains("Обновляем систему."));
        let api = me.json("GET", "/api/v1/me", Some(&token), json!(null)).await;
        assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(api.headers.get("content-type").unwrap(), "application/problem+json");
        assert!(api.headers.get("retry-after").is_some());
        assert_eq!(me.get("/healthz").await.status, StatusCode::OK);
        assert_eq!(me.get("/readyz").await.status, StatusCode::OK);
        // The closed page gives the emergency dispatch phone.
        let org = t.db.organization().current().await.unwrap().unwrap();
        assert!(closed.body.contains(&org.dispatch_phone), "{}", closed.body);
        // Staff keep working, and apps learn why.
        assert_eq!(me.get("/staff/login").await.status, StatusCode::OK);
        let status = me.json("GET", "/api/v1/status", None, json!(null)).await;
        assert_eq!(status.status, StatusCode::OK);
        let status: Value = serde_json::from_str(&status.body).unwrap();
        assert_eq!((status["open"].as_bool(), status["closing"]["phase"].as_str()), (Some(false), Some("closed")), "{status}");
        assert_eq!(status["closing"]["message"], "Обновляем систему.");
        portal.resume(kabinet_app::staff::By::Cli).await.unwrap();
        assert_eq!(me.get("/cabinet").await.status, StatusCode::OK);
        let events: Vec<String> = t.db.audit().lines(None, 10).await.unwrap().into_iter().map(|l| l.event).collect();
        assert!(events.contains(&"suspension_set".to_string()) && events.contains(&"suspension_lifted".to_string()));
    }

    async fn an_invoice_turns_overdue_at_the_organizations_midnight(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(30, 3).build().await;
        // An account nothing was paid towards since its current invoice.
        let mut chosen = None;
        for id in 1..=30 {
            let o = t.db.overview().of_account(kabinet_domain::AccountId(id), 1, kabinet_domain::OrgClock::default()).await.unwrap().unwrap();
            if let Some(i) = o.current_invoice()
                && o.paid_since_invoice == kabinet_domain::Kopecks::ZERO
                && i.total_due > kabinet_domain::Kopecks::ZERO
            {
                chosen = Some((id, i.due_date));
                break;
            }
        }
        let (id, due) = chosen.expect("a demo account with an unpaid invoice");
        let moscow = time::UtcOffset::from_hms(3, 0, 0).unwrap();
        let last_second = time::PrimitiveDateTime::new(due, time::macros::time!(23:59:59)).assume_offset(moscow);
        let next_day = last_second + time::Duration::seconds(1);
        let (mut b, account) = app.resident(id).await;
        let mut token = None;
        for (moment, status, text) in [(last_second, "unpaid", "не оплачен"), (next_day, "overdue", "просрочен")] {
            let mut settings = common::server_settings(common::settings(kabinet_app::auth::RegistrationMode::Amount), 1000);
            settings.app.clock = kabinet_domain::OrgClock { offset: moscow, stopped_at: Some(moment) };
            let at = TestApp::builder(&t.db).settings(settings).build().await;
            b.app = at.router.clone();
            let page = b.get("/cabinet").await;
            assert!(page.body.contains(&format!("class=\"status {status}\">{text}<")), "{moment}: {status}");
            if token.is_none() {
                token = Some(common::token(&mut b, &account).await);
            }
            let api = b.json("GET", &format!("/api/v1/accounts/{account}/overview"), token.as_deref(), json!(null)).await;
            let api: Value = serde_json::from_str(&api.body).unwrap();
            assert_eq!(api["current_invoice"]["status"], status, "{moment}");
        }
    }

    async fn the_demo_resident_signs_in_with_three_accounts(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(5, 3).build().await;
        let login = kabinet_app::demo::ensure_demo_resident(&t.db).await.unwrap().unwrap();
        assert_eq!(kabinet_app::demo::ensure_demo_resident(&t.db).await.unwrap(), Some(login.clone()), "idempotent");
        let mut b = Browser::new(&app);
        let page = b.get("/login").await;
        assert!(page.body.contains(&login.account) && page.body.contains(&login.password));
        let signed = b.submit("/login", "/login", &[("account", &login.account), ("password", &login.password)]).await;
        assert_eq!((signed.status, signed.location()), (StatusCode::SEE_OTHER, "/cabinet"));
        let overview = b.get("/cabinet").await;
        assert_eq!(overview.status, StatusCode::OK);
        assert_eq!(overview.body.matches("<option ").count(), 3);
    }
}

#[tokio::test]
async fn a_database_that_is_not_a_demo_shows_no_demo_sign_in() {
    let t = kabinet_testkit::TestDb::sqlite().await;
    assert_eq!(
        kabinet_app::demo::ensure_demo_resident(&t.db).await.unwrap(),
        None
    );
    let app = TestApp::builder(&t.db).settings(Default::default()).build().await;
    let mut b = Browser::new(&app);
    let page = b.get("/login").await;
    assert!(!page.body.contains(kabinet_app::site::DEMO_PASSWORD));
}
