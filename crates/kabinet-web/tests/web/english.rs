//! Every resident and staff page in English — refused forms and API errors
//! included — holds no Russian word except those of data the organization
//! supplied (its name and address, payees and banks, services and units,
//! addresses and holders of accounts, where meters are, request categories,
//! the Rules) or a
//! person typed (a request's text, a staff member's name).

use crate::common::{self, Browser, Resp};
use crate::requests::{multipart, post_multipart};
use axum::http::StatusCode;
use kabinet_db::Repos;
use kabinet_domain::staff::Role;
use kabinet_testkit::db_tests;
use serde_json::json;

const REQUEST_TEXT: &str = "Не работает домофон во втором подъезде";

/// The visible text of a page and the texts of its attributes people read.
fn readable(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        out.push(' ');
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e + 1);
        let tag = &rest[at..tag_end];
        for attr in [
            "aria-label=\"",
            "title=\"",
            "placeholder=\"",
            "alt=\"",
            "value=\"",
        ] {
            if let Some(a) = tag.find(attr) {
                let v = &tag[a + attr.len()..];
                out.push_str(&v[..v.find('"').unwrap_or(v.len())]);
                out.push(' ');
            }
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&nbsp;", " ")
}

fn cyrillic(word: &str) -> bool {
    word.chars()
        .any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё'))
}

/// The Russian words of `body` that no data string holds.
fn foreign_words(body: &str, data: &str) -> Vec<String> {
    let mut found = Vec::new();
    for w in readable(body).split(|c: char| c.is_whitespace() || "()[]{},;:!?«»\"'/".contains(c)) {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if cyrillic(w) && !data.contains(w) && !found.contains(&w.to_string()) {
            found.push(w.to_string());
        }
    }
    found
}

fn check(found: &mut Vec<String>, what: &str, r: &Resp, data: &str) {
    let words = foreign_words(&r.body, data);
    if !words.is_empty() {
        found.push(format!("{what} ({}): {words:?}", r.status));
    }
}

/// Everything the organization supplied or people typed, joined.
async fn data_of(t: &kabinet_testkit::TestDb) -> String {
    let db = &t.db;
    // The language switch names each language in itself.
    let mut data = vec![
        REQUEST_TEXT.to_string(),
        "Мария Диспетчер".to_string(),
        "Русский".to_string(),
    ];
    if let Some(o) = db.organization().current().await.unwrap() {
        data.extend([o.name, o.short_name, o.address]);
    }
    for p in db.organization().payees().await.unwrap() {
        data.extend([p.name, p.bank_name]);
    }
    for s in db.organization().services().await.unwrap() {
        data.extend([s.name, s.unit]);
    }
    for c in db.requests().categories().await.unwrap() {
        data.push(c.name);
    }
    for id in 1..=10 {
        if let Some(u) = db.users().by_id(kabinet_domain::UserId(id)).await.unwrap() {
            for l in db.links().of_user(u.id).await.unwrap() {
                for m in db.meters().of_account(l.account.id).await.unwrap() {
                    data.push(m.location);
                }
                data.extend([l.account.holder_name, l.premises.full_address()]);
            }
        }
    }
    if let Some(r) = db.rules().current().await.unwrap() {
        data.extend([r.title, r.body]);
    }
    data.join("\n")
}

/// The first field whose name is `prefix` and a digit or `_`.
fn field_named<'a>(body: &'a str, prefix: &str) -> &'a str {
    let key = format!("name=\"{prefix}");
    let at = body
        .match_indices(&key)
        .map(|(i, _)| i)
        .find(|i| body[i + key.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '_'))
        .unwrap_or_else(|| panic!("no field {prefix}…"));
    let v = &body[at + 6..];
    &v[..v.find('"').unwrap()]
}

db_tests! {
    async fn english_pages_forms_and_errors_hold_no_russian_but_data(t: &TestDb) {
        let app = common::TestApp::builder(&t.db).demo(4, 3).build().await;
        let (mut me, account) = app.resident(1).await;
        // A request, filed in Russian by the resident: its text is data.
        let new = me.get("/requests/new").await;
        let body = multipart(&[("csrf", new.csrf().as_str()), ("category", "other"), ("text", REQUEST_TEXT), ("phone", "+7 912 345-67-89")], &[]);
        let filed = post_multipart(&mut me, "/requests", None, body).await;
        assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
        let request = filed.location().split('?').next().unwrap().to_string();
        let (mut staff, _, _) = app.staff("masha", Role::Administrator).await;
        let data = data_of(t).await;
        let mut found = Vec::new();

        for page in ["/", "/cabinet", "/invoices", "/charges", "/payments", "/pay", "/meters", "/requests", "/requests/new", "/settings", "/help", "/rules", request.as_str()] {
            let r = me.get(&format!("{page}?lang=en")).await;
            assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
            check(&mut found, page, &r, &data);
        }
        let staff_request = request.replace("/requests/", "/staff/requests/");
        for page in ["/staff", "/staff/requests", staff_request.as_str(), "/staff/members", "/staff/organization", "/staff/rules", "/staff/closing"] {
            let r = staff.get(&format!("{page}?lang=en")).await;
            assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
            check(&mut found, page, &r, &data);
        }

        // Refused forms.
        let r = me.submit("/settings?lang=en", "/settings/email?lang=en", &[("email", "new@example.ru"), ("current", "wrong password")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        check(&mut found, "wrong password", &r, &data);
        let form = me.get("/meters?lang=en").await;
        let meter = field_named(&form.body, "v").to_string();
        let r = me.submit("/meters?lang=en", "/meters?lang=en", &[(meter.as_str(), "abc")]).await;
        assert!(r.status.is_client_error(), "{}", r.body);
        assert!(r.body.contains("Enter a number"), "{}", r.body);
        check(&mut found, "bad reading", &r, &data);
        let pay = me.get("/pay?lang=en").await;
        let amount = field_named(&pay.body, "amount").to_string();
        let r = me.submit("/pay?lang=en", "/pay?lang=en", &[(amount.as_str(), "12,345")]).await;
        assert!(r.status.is_client_error(), "{}", r.body);
        check(&mut found, "bad amount", &r, &data);
        let new = me.get("/requests/new?lang=en").await;
        let body = multipart(&[("csrf", new.csrf().as_str()), ("category", "other"), ("text", ""), ("phone", "1")], &[("photos", "a.jpg", b"not a photo".to_vec())]);
        let r = post_multipart(&mut me, "/requests?lang=en", None, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("Describe what happened"), "{}", r.body);
        check(&mut found, "refused request", &r, &data);
        let r = me.get("/charges?from=2026-13&lang=en").await;
        check(&mut found, "bad period", &r, &data);
        let r = staff.submit(&format!("{}?lang=en", request.replace("/requests/", "/staff/requests/")), &format!("{}?lang=en", request.replace("/requests/", "/staff/requests/")), &[("action", "defer"), ("until", "")]).await;
        assert!(r.status.is_client_error(), "{}", r.body);
        check(&mut found, "refused deferral", &r, &data);
        for page in ["/no-such-page?lang=en", "/requests/999999?lang=en"] {
            let r = me.get(page).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            check(&mut found, page, &r, &data);
        }

        // API errors.
        let mut api = Browser::new(&app);
        let r = api.json("POST", "/api/v1/auth/token?lang=en", None, json!({"account": account, "password": "wrong password"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        check(&mut found, "API sign-in", &r, &data);
        let token = common::token(&mut api, &account).await;
        for (method, path, body) in [
            ("GET", "/api/v1/me?lang=en", json!(null)),
            ("GET", "/api/v1/accounts/999999999/overview?lang=en", json!(null)),
            ("POST", "/api/v1/payments?lang=en", json!({"shares": [{"account": account, "amount": "abc"}]})),
            ("POST", "/api/v1/payments?lang=en", json!([1])),
            ("POST", "/api/v1/settings/email?lang=en", json!({"email": "x", "password": "y"})),
            ("GET", "/api/v1/nothing-here?lang=en", json!(null)),
        ] {
            let r = api.json(method, path, Some(&token), body).await;
            check(&mut found, path, &r, &data);
        }
        let r = api.json("GET", "/api/v1/me?lang=en", None, json!(null)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("Please sign in"), "{}", r.body);
        assert!(found.is_empty(), "Russian outside data on English pages:\n{}", found.join("\n"));
    }
}
