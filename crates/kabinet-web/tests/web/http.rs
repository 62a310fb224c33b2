//! The router against a real database, on SQLite and PostgreSQL.

use crate::common;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use kabinet_testkit::{TestDb, db_tests};
use tower::ServiceExt;

async fn get(t: &TestDb, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let app = common::TestApp::builder(&t.db).build().await;
    let res = app
        .router
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

db_tests! {
    async fn health_and_readiness(t: &TestDb) {
        let (status, _, body) = get(t, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("\"ok\""));
        let (status, _, body) = get(t, "/readyz").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("\"ready\""));
        // With the database gone, the process is still alive but not ready.
        t.db().close().await.unwrap();
        let (status, _, body) = get(t, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(!body.contains("pool"), "no internals leak: {body}");
        let (status, _, _) = get(t, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn start_page_shows_the_organization(t: &TestDb) {
        let (status, _, body) = get(t, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("ещё не загружены"));
        let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
        o.accounts = 2;
        o.months = 1;
        kabinet_demo::generate(&t.db, &o, |_, _| {}).await.unwrap();
        let (status, headers, body) = get(t, "/").await;
        assert_eq!(status, StatusCode::OK);
        // The name is escaped: «Управляющая компания „Северный квартал“» has no markup,
        // but the page must still be well-formed UTF-8 HTML with the contacts.
        assert!(body.contains("Северный квартал"), "{body}");
        assert!(body.contains("+7 (4822) 00-10-99"));
        let csp = headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
        assert!(headers.get("referrer-policy").is_some());
    }

    async fn unknown_paths_get_a_russian_404_page(t: &TestDb) {
        let (status, headers, body) = get(t, "/no/such/page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
        assert!(body.contains("Страница не найдена"));
    }

    async fn errors_from_the_layers_carry_the_headers_and_the_right_shape(t: &TestDb) {
        let app = common::TestApp::builder(&t.db).build().await;
        let secured = |h: &axum::http::HeaderMap| {
            for name in ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options", "cache-control"] {
                assert!(h.get(name).is_some(), "{name} missing: {h:?}");
            }
            assert_eq!(h.get("cache-control").unwrap(), "no-store");
        };
        let big = vec![b'a'; 3 * 1024 * 1024];
        // A 3 MiB body on the API: 413 as a problem document.
        let r = app.router.clone().oneshot(
            Request::post("/api/v1/auth/token").header("content-type", "application/json").header("content-length", big.len()).body(Body::from(big.clone())).unwrap(),
        ).await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        secured(r.headers());
        assert_eq!(r.headers().get("content-type").unwrap(), "application/problem+json");
        let body = to_bytes(r.into_body(), 1 << 20).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], 413);
        assert!(v["detail"].as_str().unwrap().contains("2 МБ"));
        // The same on a page: a Russian HTML page.
        let r = app.router.clone().oneshot(
            Request::post("/login").header("content-type", "application/x-www-form-urlencoded").header("content-length", big.len()).body(Body::from(big)).unwrap(),
        ).await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        secured(r.headers());
        assert!(r.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
        // A method the API does not have: 405 problem, with Allow.
        let r = app.router.clone().oneshot(Request::delete("/api/v1/me").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        secured(r.headers());
        assert_eq!(r.headers().get("content-type").unwrap(), "application/problem+json");
        assert!(r.headers().get("allow").unwrap().to_str().unwrap().contains("GET"));
        // The timeout (a body that never arrives): 503 with the headers, as a
        // problem or a page.
        let slow = common::TestApp::builder(&t.db)
            .configure(|s| s.web.request_timeout = std::time::Duration::from_millis(50))
            .build()
            .await
            .router;
        let never = || Body::from_stream(futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>());
        let r = slow.clone().oneshot(Request::post("/api/v1/auth/token").header("content-type", "application/json").body(never()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        secured(r.headers());
        assert_eq!(r.headers().get("content-type").unwrap(), "application/problem+json");
        let r = slow.clone().oneshot(Request::post("/login").header("content-type", "application/x-www-form-urlencoded").body(never()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        secured(r.headers());
        let body = to_bytes(r.into_body(), 1 << 20).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("Попробуйте позже"));
    }
}
