//! The router against a real database, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, missing_docs)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use kabinet_testkit::{TestDb, db_tests};
use tower::ServiceExt;

mod common;

async fn get(t: &TestDb, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let app = common::app(&t.db);
    let res = app
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
        assert!(body.contains("страница не найдена"));
    }
}
