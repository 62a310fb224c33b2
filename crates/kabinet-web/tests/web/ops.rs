//! What the operator sees: `/metrics` (private by default, behind a token
//! or on a listener of its own) and the request id on responses, error
//! pages, problem documents and log lines.

use crate::common::{self, Browser, TestApp};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use kabinet_db::Repos;
use kabinet_testkit::db_tests;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const TOKEN: &str = "scrape-0123456789abcdef";

/// The value of the sample `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(b: &mut Browser) -> String {
    b.extra = vec![("authorization", format!("Bearer {TOKEN}"))];
    let r = b.get("/metrics").await;
    b.extra.clear();
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers
    );
    r.body
}

/// Log lines written while a test runs, as the server's JSON log has them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

db_tests! {
    async fn metrics_are_private_unless_a_token_or_listener_is_set(t: &TestDb) {
        // By default nobody gets them from the main listener.
        let app = TestApp::builder(&t.db).build().await;
        let mut b = Browser::new(&app);
        assert_eq!(b.get("/metrics").await.status, StatusCode::NOT_FOUND);
        b.extra = vec![("authorization", format!("Bearer {TOKEN}"))];
        assert_eq!(b.get("/metrics").await.status, StatusCode::NOT_FOUND);
        // The listener of its own serves them without a token, and nothing else.
        let open = kabinet_web::metrics_router(app.state.clone());
        let res = open
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let text = String::from_utf8(to_bytes(res.into_body(), 1 << 22).await.unwrap().to_vec()).unwrap();
        assert!(text.contains("kabinet_jobs{state=\"waiting\"}"), "{text}");
        let res = open
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // With a token, only a request bearing it gets them.
        let app = TestApp::builder(&t.db)
            .configure(|s| s.app.metrics_token = Some(TOKEN.into()))
            .build()
            .await;
        let mut b = Browser::new(&app);
        let r = b.get("/metrics").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        assert!(!r.body.contains("kabinet_"), "{}", r.body);
        b.extra = vec![("authorization", format!("Bearer {TOKEN}x"))];
        assert_eq!(b.get("/metrics").await.status, StatusCode::UNAUTHORIZED);
        b.extra = vec![("authorization", TOKEN.to_string())];
        assert_eq!(b.get("/metrics").await.status, StatusCode::UNAUTHORIZED);
        b.extra.clear();
        let text = scrape(&mut b).await;
        // No cookie is set by a scrape.
        let r = {
            b.extra = vec![("authorization", format!("Bearer {TOKEN}"))];
            let r = b.get("/metrics").await;
            b.extra.clear();
            r
        };
        assert!(r.headers.get(header::SET_COOKIE).is_none());
        let max = sample(&text, "kabinet_db_pool_connections", &[("state", "max")]).unwrap();
        let open = sample(&text, "kabinet_db_pool_connections", &[("state", "open")]).unwrap();
        let idle = sample(&text, "kabinet_db_pool_connections", &[("state", "idle")]).unwrap();
        let in_use = sample(&text, "kabinet_db_pool_connections", &[("state", "in_use")]).unwrap();
        assert!(max >= 4.0 && open >= 1.0 && open <= max, "{text}");
        assert_eq!(idle + in_use, open);
        assert!(sample(&text, "kabinet_db_pool_acquire_seconds", &[]).is_some());
        for channel in ["email", "sms", "max"] {
            assert_eq!(
                sample(&text, "kabinet_deliveries", &[("channel", channel), ("state", "pending")]),
                Some(0.0),
                "{text}"
            );
        }
        assert_eq!(sample(&text, "kabinet_card_payments_open", &[("status", "created")]), Some(0.0));
        assert_eq!(sample(&text, "kabinet_jobs", &[("state", "dead")]), Some(0.0));
        assert_eq!(sample(&text, "kabinet_jobs_oldest_due_seconds", &[]), Some(0.0));
    }

    async fn metrics_count_requests_sign_in_failures_and_the_queue(t: &TestDb) {
        let app = TestApp::builder(&t.db)
            .demo(3, 2)
            .configure(|s| s.app.metrics_token = Some(TOKEN.into()))
            .build()
            .await;
        let mut b = Browser::new(&app);
        let before = scrape(&mut b).await;
        let failures = |text: &str| {
            sample(text, "kabinet_sign_in_failures_total", &[("who", "resident"), ("reason", "credentials")])
                .unwrap_or(0.0)
        };
        let healthz = |text: &str| {
            sample(
                text,
                "kabinet_http_request_duration_seconds_count",
                &[("route", "/healthz"), ("method", "GET"), ("status", "200")],
            )
            .unwrap_or(0.0)
        };
        for _ in 0..3 {
            assert_eq!(b.get("/healthz").await.status, StatusCode::OK);
        }
        // A resident who mistypes the password twice.
        let (_, number) = app.resident(1).await;
        let mut stranger = Browser::from_ip(&app, "192.0.2.77");
        for _ in 0..2 {
            let r = stranger
                .submit("/login", "/login", &[("account", &number), ("password", "not-the-password-1")])
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        }
        // An unknown path, and a link's secret that must not become a label.
        assert_eq!(b.get("/no-such-page-here").await.status, StatusCode::NOT_FOUND);
        b.get("/password/reset/secret-token-do-not-label").await;
        // A job due ten minutes ago that nobody took yet.
        let now = time::OffsetDateTime::now_utc();
        t.db.jobs()
            .enqueue(
                &kabinet_domain::jobs::NewJob {
                    kind: "ops_test".into(),
                    payload: "{}".into(),
                    run_at: now - time::Duration::minutes(10),
                    max_attempts: 1,
                    unique_key: None,
                },
                now,
            )
            .await
            .unwrap();

        let after = scrape(&mut b).await;
        assert_eq!(failures(&after) - failures(&before), 2.0, "{after}");
        assert_eq!(healthz(&after) - healthz(&before), 3.0, "{after}");
        assert!(
            sample(&after, "kabinet_http_request_duration_seconds_bucket", &[("route", "/healthz"), ("le", "+Inf")])
                .is_some(),
            "{after}"
        );
        assert!(
            sample(
                &after,
                "kabinet_http_request_duration_seconds_count",
                &[("route", "unmatched"), ("status", "404")]
            )
            .is_some_and(|n| n >= 1.0),
            "{after}"
        );
        assert!(!after.contains("secret-token-do-not-label"), "a path became a label");
        assert!(!after.contains("no-such-page-here"), "a path became a label");
        assert!(sample(&after, "kabinet_jobs", &[("state", "waiting")]).unwrap() >= 1.0);
        let age = sample(&after, "kabinet_jobs_oldest_due_seconds", &[]).unwrap();
        assert!((590.0..3600.0).contains(&age), "{age}");
        // A receipt rendered is counted with its time.
        let (mut resident, number) = app.resident(2).await;
        let cabinet = resident.get("/cabinet").await;
        let link = format!("/accounts/{number}/receipts/");
        let period = common::between(&cabinet.body, &link, ".pdf").to_string();
        let r = resident.get(&format!("{link}{period}.pdf")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.bytes.starts_with(b"%PDF"));
        let last = scrape(&mut b).await;
        assert_eq!(
            sample(&last, "kabinet_receipt_renders_total", &[("outcome", "ok")]).unwrap_or(0.0)
                - sample(&after, "kabinet_receipt_renders_total", &[("outcome", "ok")]).unwrap_or(0.0),
            1.0,
            "{last}"
        );
        assert!(sample(&last, "kabinet_receipt_render_seconds_count", &[]).is_some_and(|n| n >= 1.0));
    }

    async fn every_request_has_an_id_in_its_answer_and_its_log(t: &TestDb) {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);

        let app = TestApp::builder(&t.db)
            .configure(|s| s.web.trusted_proxies = vec!["192.0.2.1".parse().unwrap()])
            .build()
            .await;
        let mut b = Browser::new(&app);
        let id = |r: &common::Resp| r.headers["x-request-id"].to_str().unwrap().to_string();
        let first = id(&b.get("/healthz").await);
        let second = id(&b.get("/healthz").await);
        assert_eq!(first.len(), 16, "{first}");
        assert!(first.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
        // Somebody else's id is not believed from a client…
        b.extra = vec![("x-request-id", "forged-by-a-client".into())];
        assert_ne!(id(&b.get("/healthz").await), "forged-by-a-client");
        // …but is from the trusted proxy, when it is a plain one.
        let mut proxy = Browser::from_ip(&app, "192.0.2.1");
        proxy.extra = vec![("x-request-id", "lb-7f3a.2_9".into())];
        assert_eq!(id(&proxy.get("/healthz").await), "lb-7f3a.2_9");
        proxy.extra = vec![("x-request-id", "<script>alert(1)</script>".into())];
        let made = id(&proxy.get("/healthz").await);
        assert_eq!(made.len(), 16, "{made}");

        // The error page and the problem document name it.
        let mut b = Browser::new(&app);
        let page = b.get("/no-such-page").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let rid = id(&page);
        assert!(page.body.contains(&format!("Номер запроса {rid}")), "{}", page.body);
        let problem = b.get("/api/v1/no-such-operation").await;
        assert_eq!(problem.status, StatusCode::NOT_FOUND);
        let body: serde_json::Value = serde_json::from_str(&problem.body).unwrap();
        assert_eq!(body["request_id"], id(&problem));
        b.extra = vec![("accept-language", "en".into())];
        let page = b.get("/no-such-page").await;
        assert!(page.body.contains(&format!("Request number {}", id(&page))), "{}", page.body);

        // A failure's log line carries the request's id.
        t.db().close().await.unwrap();
        let r = b.get("/readyz").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        let rid = id(&r);
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains("readiness check failed"))
            .unwrap_or_else(|| panic!("no log line: {text}"));
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["span"]["id"], rid, "{line}");
        assert_eq!(v["span"]["route"], "/readyz", "{line}");
    }

    async fn the_address_limit_holds_across_servers(t: &TestDb) {
        // Two servers of one installation, 30 sign-in requests a minute per address.
        let one = TestApp::builder(&t.db).demo(1, 1).address_limit(30).build().await;
        let two = TestApp::builder(&t.db).address_limit(30).build().await;
        let mut a = Browser::from_ip(&one, "198.51.100.7");
        let mut b = Browser::from_ip(&two, "198.51.100.7");
        let body = serde_json::json!({"account": "999999999", "password": "wrong-password-1"});
        for i in 0..30 {
            let r = if i % 2 == 0 { &mut a } else { &mut b }
                .json("POST", "/api/v1/auth/token", None, body.clone())
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {}: {}", i + 1, r.body);
        }
        // The 31st is refused whichever server gets it.
        for browser in [&mut a, &mut b] {
            let r = browser.json("POST", "/api/v1/auth/token", None, body.clone()).await;
            assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        }
        let r = b.submit("/login", "/login", &[("account", "999999999"), ("password", "x")]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        // Another address is not affected.
        let mut c = Browser::from_ip(&two, "198.51.100.8");
        let r = c.json("POST", "/api/v1/auth/token", None, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // Concurrent requests from a third address on both servers: exactly 30 pass.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let mut x = Browser::from_ip(if i % 2 == 0 { &one } else { &two }, "198.51.100.9");
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                x.json("POST", "/api/v1/auth/token", None, body).await.status
            }));
        }
        let mut passed = 0;
        for task in tasks {
            if task.await.unwrap() != StatusCode::TOO_MANY_REQUESTS {
                passed += 1;
            }
        }
        assert_eq!(passed, 30);
    }

    async fn read_only_pages_read_the_replica_unless_the_browser_just_wrote(t: &TestDb) {
        // A second pool on the same database stands for the replica: its
        // statements are counted apart, so what each page read is known.
        let replica = kabinet_db::Db::connect(&kabinet_db::DbOptions::new(t.url.clone())).await.unwrap();
        let db = t.db.clone().with_replica(replica.clone());
        let app = TestApp::builder(&db).demo(2, 2).build().await;
        let (mut b, _) = app.resident(1).await;
        for page in ["/cabinet", "/invoices", "/charges", "/meters"] {
            let before = replica.statements();
            let r = b.get(page).await;
            assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
            assert!(replica.statements() > before, "{page} did not read the replica");
        }
        // A write: for the next seconds this browser reads the primary.
        assert!(!b.cookies.contains_key("kabinet_wrote"));
        let r = b.submit("/settings", "/settings", &[("notify_new_invoice", "on")]).await;
        assert!(r.status.is_redirection(), "{}", r.body);
        let cookie = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("kabinet_wrote="))
            .expect("the write marks the browser");
        assert!(cookie.contains("Max-Age=10") && cookie.contains("HttpOnly"), "{cookie}");
        for page in ["/cabinet", "/invoices", "/charges", "/meters"] {
            let before = replica.statements();
            assert_eq!(b.get(page).await.status, StatusCode::OK);
            assert_eq!(replica.statements(), before, "{page} read the replica right after a write");
        }
        // Once the mark is gone (10 s later), the replica again.
        b.cookies.remove("kabinet_wrote");
        let before = replica.statements();
        assert_eq!(b.get("/cabinet").await.status, StatusCode::OK);
        assert!(replica.statements() > before);
        // A replica that stops answering is stepped around.
        replica.close().await.unwrap();
        for page in ["/cabinet", "/invoices", "/charges", "/meters"] {
            let r = b.get(page).await;
            assert_eq!(r.status, StatusCode::OK, "{page} without the replica: {}", r.body);
        }
        // Without a replica nothing marks a browser.
        let plain = TestApp::builder(&t.db).build().await;
        let (mut c, _) = plain.resident(2).await;
        let r = c.submit("/settings", "/settings", &[("notify_new_invoice", "on")]).await;
        assert!(r.status.is_redirection());
        assert!(!c.cookies.contains_key("kabinet_wrote"));
    }
}
