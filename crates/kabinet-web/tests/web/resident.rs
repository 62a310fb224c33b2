//! The resident route group: guarded once for every page and API operation
//! in it, and the overview's cost in queries. Residents are seeded straight
//! into the database (`TestApp::resident`), so no SMTP server is needed.

use crate::common;
use crate::common::{Browser, TestApp};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_testkit::db_tests;
use serde_json::json;

/// A concrete path for a route pattern.
/// Ids to put into a route pattern.
struct Ids<'a> {
    account: &'a str,
    meter: i64,
    payment: &'a str,
    request: i64,
    photo: &'a str,
    sandbox: &'a str,
    token: &'a str,
}

fn sample(pattern: &str, ids: &Ids<'_>) -> String {
    let id = if pattern.contains("sandbox/") {
        ids.sandbox.to_string()
    } else if pattern.contains("photos/") {
        ids.photo.to_string()
    } else if pattern.contains("requests/") {
        ids.request.to_string()
    } else if pattern.contains("payments/") {
        ids.payment.to_string()
    } else {
        ids.meter.to_string()
    };
    let number = if pattern.contains("requests/") {
        ids.request.to_string()
    } else {
        ids.account.to_string()
    };
    pattern
        .replace("{number}", &number)
        .replace("{id}", &id)
        .replace("{token}", ids.token)
        .replace("{action}", "comment")
        .replace("{file}", "2026-10.pdf")
        .replace("{period}", "2026-10")
}

db_tests! {
    async fn every_resident_route_is_guarded(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(2, 2).build().await;
        let patterns = kabinet_web::resident_route_patterns();
        assert!(patterns.iter().any(|p| p == "/cabinet"), "{patterns:?}");
        assert!(patterns.iter().any(|p| p.starts_with("/api/v1/")), "{patterns:?}");
        let (mut resident, account) = app.resident(1).await;
        let r = resident.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": common::OWN_PASSWORD})).await;
        let token: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let token = token["token"].as_str().unwrap().to_string();
        let meter = t.db.meters().of_account(kabinet_domain::AccountId(1)).await.unwrap()[0].id.0;
        let paid = resident
            .json("POST", "/api/v1/payments", Some(&token), json!({"shares": [{"account": account, "amount": "10"}]}))
            .await;
        let paid: serde_json::Value = serde_json::from_str(&paid.body).unwrap();
        let payment = paid["payment"]["id"].as_str().unwrap().to_string();
        let jpeg = {
            let img = image::RgbImage::from_pixel(40, 30, image::Rgb([200, 100, 50]));
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new(&mut out).encode_image(&img).unwrap();
            out
        };
        let boundary = "xyz-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nlift\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nЛифт стоит\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+79120000000\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.jpg\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&jpeg);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let filed = resident
            .send(
                axum::http::Request::post("/api/v1/requests")
                    .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                    .header("authorization", format!("Bearer {token}"))
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
        let request = serde_json::from_str::<serde_json::Value>(&filed.body).unwrap()["number"].as_i64().unwrap();
        let detail = resident.json("GET", &format!("/api/v1/requests/{request}"), Some(&token), json!(null)).await;
        let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
        let photo = detail["photos"][0]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        let sandbox = t.db.card_payments().by_public_id(&payment).await.unwrap().unwrap().gateway_id.unwrap();
        // Another resident asks to see this resident's account: the link
        // in the e-mail opens a page of the owner's.
        let (mut asker, _) = app.resident(2).await;
        let (_, amount) = common::account_and_amount(&t.db, 1).await;
        let asked = asker.submit("/settings", "/settings/accounts", &[("account", &account), ("check", &amount)]).await;
        assert_eq!(asked.location(), "/settings?done=asked");
        let mail = t.db.outbox().messages(None, 50).await.unwrap().into_iter().find(|m| m.email.subject.contains("Запрос доступа")).unwrap();
        let at = mail.email.text.find("/settings/access/").unwrap() + "/settings/access/".len();
        let link_token: String = mail.email.text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        let ids = Ids {
            account: &account,
            meter,
            payment: &payment,
            request,
            photo: &photo,
            sandbox: &sandbox,
            token: &link_token,
        };
        let mut stranger = Browser::new(&app);
        for pattern in &patterns {
            let path = sample(pattern, &ids);
            let mut r = stranger.get(&path).await;
            if r.status == StatusCode::METHOD_NOT_ALLOWED {
                // A route without GET: its own method meets the guard too;
                // the resident's side of it has tests of its own.
                let method = match pattern.as_str() {
                    p if p.starts_with("/api/") && p.ends_with("{number}") => "DELETE",
                    "/api/v1/settings/max" => "DELETE",
                    p if p.starts_with("/api/v1/payment-methods/") => "DELETE",
                    p if p.starts_with("/api/") && p.ends_with("/join") => "PUT",
                    _ => "POST",
                };
                r = stranger.json(method, &path, None, json!({})).await;
                if path.starts_with("/api/") {
                    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
                } else {
                    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/login"), "{method} {path}");
                }
                continue;
            }
            // The signed-in resident gets through: the session on pages, the
            // bearer token on the API.
            let through = if path.starts_with("/api/") {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
                assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json", "{path}");
                resident.json("GET", &path, Some(&token), json!(null)).await
            } else {
                assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/login"), "{path}");
                resident.get(&path).await
            };
            assert_eq!(through.status, StatusCode::OK, "{path}: {}", through.body);
        }
        // A new version of the Rules: every resident page sends to accept it first.
        kabinet_app::rules::Rules::new(t.db.clone(), kabinet_domain::Document::Rules).publish(kabinet_app::staff::By::Cli, "Правила", "Текст.").await.unwrap();
        for pattern in patterns.iter().filter(|p| !p.starts_with("/api/")) {
            let path = sample(pattern, &ids);
            let r = resident.get(&path).await;
            if r.status == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            assert_eq!(r.location(), "/rules/accept", "{path}");
        }
    }

    async fn the_overview_reads_four_statements_and_shows_the_account(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(3, 14).build().await;
        let (mut b, account) = app.resident(2).await;
        // Warm: the organization, the closing, the readings settings and the
        // newest billing period are read once per few seconds, and the
        // session was just opened, so no "last seen" write.
        b.get("/help").await;
        b.get("/meters").await;
        b.get("/cabinet").await;
        let before = app.db().statements();
        let page = b.get("/cabinet").await;
        let statements = app.db().statements() - before;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        // Session, linked accounts (with the account and its premises), the
        // newest invoices with the payments since, the resident's unfinished
        // requests (by `ix_requests_user_created`); card payments in progress
        // only for an account paid by card lately (see tests/payments.rs).
        assert!(statements <= 4, "GET /cabinet ran {statements} statements");
        assert!(page.body.contains(&format!("Лицевой счёт {account}")));
        // Twelve receipts of fourteen months, newest first, each a working link.
        let invoices = t.db.billing().invoices(kabinet_domain::AccountId(2), 100).await.unwrap();
        assert_eq!(invoices.len(), 14);
        let links: Vec<&str> = page.body.match_indices("/receipts/").map(|(i, _)| &page.body[i + 10..i + 17]).collect();
        let expected: Vec<String> = invoices.iter().take(12).map(|i| i.period.to_string()).collect();
        assert_eq!(links, expected);
        let pdf = b.get(&format!("/accounts/{account}/receipts/{}.pdf", expected[11])).await;
        assert!(pdf.bytes.starts_with(b"%PDF"), "{}", pdf.status);
        // The API's overview is the same read.
        let r = b.json("POST", "/api/v1/auth/token", None, json!({"account": account, "password": common::OWN_PASSWORD})).await;
        let token: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let token = token["token"].as_str().unwrap().to_string();
        let before = app.db().statements();
        let me = b.json("GET", "/api/v1/me", Some(&token), json!(null)).await;
        assert_eq!(me.status, StatusCode::OK);
        assert!(app.db().statements() - before <= 3, "the API overview is the same three statements");
        let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
        assert_eq!(me["current_period"], invoices[0].period.to_string());
    }
}
