//! What the gateway is asked and what comes back, against the stricter fake
//! of YooKassa on both databases: the 54-ФЗ receipt under ФФД 1.2, the
//! method and its fee shown before paying (СБП through the sandbox too),
//! the reason of a canceled payment in words, and refunds — full and
//! partial, from the office, from the gateway's dashboard, pending then
//! reconciled, notified many times — taken back from the accounts once and
//! exported with both ids.

use crate::common::{Browser, TestApp, token};
use crate::payments::{Sink, api_pay, audit_count, credited, notification, notify, yookassa_settings};
use axum::http::StatusCode;
use kabinet_app::payments::MethodFee;
use kabinet_db::Repos;
use kabinet_domain::payment_methods::{Fee, PayMethod};
use kabinet_domain::payments::CardPaymentStatus;
use kabinet_domain::staff::Role;
use kabinet_domain::{AuditEvent, GatewayState, Kopecks};
use kabinet_gateway::fake::FakeYooKassa;
use kabinet_testkit::db_tests;
use serde_json::{Value, json};

/// СБП free, a card at 1.5 % and at least 10 ₽.
fn methods() -> Vec<MethodFee> {
    vec![
        MethodFee {
            method: PayMethod::Sbp,
            fee: Fee::NONE,
        },
        MethodFee {
            method: PayMethod::BankCard,
            fee: Fee {
                percent_hundredths: 150,
                min: Kopecks(1_000),
            },
        },
    ]
}

async fn get_json(b: &mut Browser, tk: &str, path: &str) -> Value {
    let r = b.json("GET", path, Some(tk), Value::Null).await;
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

db_tests! {
    async fn receipts_methods_and_fees_reach_the_gateway_as_documented(t: &TestDb) {
        let fake = FakeYooKassa::start(crate::payments::SHOP, crate::payments::SECRET).await.unwrap();
        let mut s = yookassa_settings(&fake, &[]);
        s.app.payments.methods = methods();
        s.app.payments.tax_system_code = Some(2);
        let app = TestApp::builder(&t.db).demo(2, 2).settings(s.clone()).build().await;
        let (mut b, number) = app.resident(1).await;
        let field = format!("amount_{number}");
        let before = credited(&t.db, 1).await;

        // The form says what each method costs; the review shows the amount,
        // the fee and the total before anything leaves for the gateway.
        let form = b.get("/pay").await;
        assert!(form.body.contains("СБП (Система быстрых платежей): без комиссии"), "{}", form.body);
        assert!(form.body.contains("комиссия 1,50 % от суммы, не меньше 10,00"), "{}", form.body);
        let review = b.submit("/pay", "/pay", &[(&field, "2000")]).await;
        assert_eq!(review.status, StatusCode::OK, "{}", review.body);
        assert!(review.body.contains("без комиссии") && review.body.contains("30,00") && review.body.contains("2\u{a0}030,00"), "{}", review.body);
        assert!(review.body.find("value=\"sbp\"") < review.body.find("value=\"bank_card\""), "СБП first");
        assert!(fake.payments().is_empty(), "nothing sent before the choice");
        // A bad amount still comes back to the form.
        let bad = b.submit("/pay", "/pay", &[(&field, "0,5")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

        let go = b.submit("/pay", "/pay", &[(&field, "2000"), ("method", "bank_card")]).await;
        assert_eq!(go.status, StatusCode::SEE_OTHER, "{} {:?}", go.body, fake.rejections());
        let gp = fake.payments().pop().unwrap();
        let req = &gp.request;
        assert_eq!(req["amount"]["value"], "2030.00");
        assert_eq!(req["payment_method_data"]["type"], "bank_card");
        assert_eq!(req["receipt"]["tax_system_code"], 2);
        let items = req["receipt"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "the account and the fee");
        assert_eq!(items[1]["amount"]["value"], "30.00");
        assert_eq!(items[1]["description"], "Комиссия за приём платежа");
        for i in items {
            assert_eq!((i["measure"].as_str(), i["payment_subject"].as_str(), i["payment_mode"].as_str()), (Some("piece"), Some("service"), Some("full_payment")));
        }
        fake.settle(&gp.id, GatewayState::Succeeded);
        assert_eq!(notify(&app, &notification("payment.succeeded", &gp.id)).await.status, StatusCode::OK);
        let after = credited(&t.db, 1).await;
        assert_eq!(after.1, before.1 + Kopecks(200_000), "the fee is not credited to the account");
        let page = b.get(&format!("/payments/card/{}", gp.reference)).await;
        assert!(page.body.contains("Комиссия") && page.body.contains("30,00") && page.body.contains("Банковская карта"), "{}", page.body);

        // The API prices the methods and takes the choice.
        let tk = token(&mut b, &number).await;
        let q = b.json("POST", "/api/v1/payments/quote", Some(&tk), json!({"shares": [{"account": number, "amount": "2000"}]})).await;
        assert_eq!(q.status, StatusCode::OK, "{}", q.body);
        let q: Value = serde_json::from_str(&q.body).unwrap();
        assert_eq!(q["methods"][0], json!({"method": "sbp", "amount_kopecks": 200_000, "fee_kopecks": 0, "total_kopecks": 200_000}));
        assert_eq!(q["methods"][1]["total_kopecks"], 203_000);
        let r = b.json("POST", "/api/v1/payments", Some(&tk), json!({"shares": [{"account": number, "amount": "100"}], "method": "cash"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("\"method\""), "{}", r.body);
        let r = b.json("POST", "/api/v1/payments", Some(&tk), json!({"shares": [{"account": number, "amount": "100"}], "method": "sbp"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let sbp = fake.by_reference(&id).unwrap();
        assert_eq!((sbp.request["payment_method_data"]["type"].as_str(), sbp.request["amount"]["value"].as_str()), (Some("sbp"), Some("100.00")));
        fake.settle(&sbp.id, GatewayState::Succeeded);
        let one = get_json(&mut b, &tk, &format!("/api/v1/payments/{id}")).await;
        assert_eq!((one["status"].as_str(), one["method"].as_str(), one["fee_kopecks"].as_i64()), (Some("succeeded"), Some("sbp"), Some(0)), "{one}");

        // A canceled payment says why in words.
        let r = b.json("POST", "/api/v1/payments", Some(&tk), json!({"shares": [{"account": number, "amount": "5"}]})).await;
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        fake.settle(&fake.by_reference(&id).unwrap().id, GatewayState::Canceled);
        let page = b.get(&format!("/payments/card/{id}")).await;
        assert!(page.body.contains("не был подтверждён вовремя"), "{}", page.body);
        let one = get_json(&mut b, &tk, &format!("/api/v1/payments/{id}")).await;
        assert_eq!(one["cancellation_reason"], "expired_on_confirmation");

        // A shop without receipts through the gateway: the stricter fake
        // refuses a payment without one until the shop is set so.
        let mut no_receipts = s.clone();
        no_receipts.app.payments.receipts = false;
        let bare = TestApp::builder(&t.db).settings(no_receipts).build().await;
        let (mut b2, number2) = bare.resident(2).await;
        let f2 = format!("amount_{number2}");
        let r = b2.submit("/pay", "/pay", &[(&f2, "50"), ("method", "sbp")]).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
        assert!(fake.rejections().iter().any(|x| x.contains("receipt is required")), "{:?}", fake.rejections());
        fake.receipts_optional(true);
        let r = b2.submit("/pay", "/pay", &[(&f2, "50"), ("method", "sbp")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(fake.payments().pop().unwrap().request.get("receipt").is_none());
    }

    async fn sbp_goes_through_the_sandbox(t: &TestDb) {
        let app = TestApp::builder(&t.db)
            .demo(2, 2)
            .configure(|s| s.app.payments.methods = methods())
            .build()
            .await;
        let (mut b, number) = app.resident(1).await;
        let field = format!("amount_{number}");
        let review = b.submit("/pay", "/pay", &[(&field, "300")]).await;
        assert_eq!(review.status, StatusCode::OK);
        let go = b.submit("/pay", "/pay", &[(&field, "300"), ("method", "sbp")]).await;
        assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
        let sandbox = go.location().to_string();
        let page = b.get(&sandbox).await;
        assert!(page.body.contains("Тестовое приложение банка (СБП)") && page.body.contains("<svg"), "{}", page.body);
        let back = b.submit(&sandbox, &sandbox, &[("action", "pay")]).await;
        let done = b.get(back.location()).await;
        assert!(done.body.contains("оплачено") && done.body.contains("СБП"), "{}", done.body);
        let id = back.location().trim_start_matches("/payments/card/");
        let p = t.db.card_payments().by_public_id(id).await.unwrap().unwrap();
        assert_eq!((p.method, p.card, p.fee), (Some(PayMethod::Sbp), None, Kopecks::ZERO));
    }

    async fn refunds_full_and_partial_are_taken_back_once_and_exported(t: &TestDb) {
        let fake = FakeYooKassa::start(crate::payments::SHOP, crate::payments::SECRET).await.unwrap();
        let app = TestApp::builder(&t.db).demo(3, 2).settings(yookassa_settings(&fake, &[])).build().await;
        let (mut b, number) = app.resident(1).await;
        let second = app.link(&number, 2).await;
        let tk = token(&mut b, &number).await;
        let (c1, c2) = (credited(&t.db, 1).await.1, credited(&t.db, 2).await.1);
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "100.10"}, {"account": second.number.to_string(), "amount": "200"}])).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let gp = fake.by_reference(&id).unwrap();
        fake.settle(&gp.id, GatewayState::Succeeded);
        notify(&app, &notification("payment.succeeded", &gp.id)).await;
        assert_eq!(credited(&t.db, 2).await.1, c2 + Kopecks(20_000));

        // Only staff with the payments permission see and refund.
        let (mut op, _, _) = app.staff("op", Role::Operator).await;
        assert_eq!(op.get("/staff/payments").await.status, StatusCode::FORBIDDEN);
        let (mut acc, _, _) = app.staff("acc", Role::Accountant).await;
        let list = acc.get("/staff/payments").await;
        assert!(list.body.contains(&id), "{}", list.body);
        let page_path = format!("/staff/payments/{id}");
        let action = format!("{page_path}/refund");
        let r = acc.submit(&page_path, &action, &[("amount", "300,11"), ("reason", "Переплата")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("не больше 300,10"), "{}", r.body);
        let r = acc.submit(&page_path, &action, &[("amount", "10"), ("reason", " ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(fake.refunds().is_empty());

        // A partial refund: laid over the first account first.
        let r = acc.submit(&page_path, &action, &[("amount", "150,10"), ("reason", "Переплата за ноябрь")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{} {:?}", r.body, fake.rejections());
        let made = fake.refunds();
        assert_eq!(made.len(), 1);
        let req = made[0].request.clone().unwrap();
        assert_eq!((req["amount"]["value"].as_str(), req["payment_id"].as_str()), (Some("150.10"), Some(gp.id.as_str())));
        assert_eq!(req["receipt"]["items"][0]["measure"], "piece");
        assert_eq!(credited(&t.db, 1).await.1, c1, "100,10 back from the first account");
        assert_eq!(credited(&t.db, 2).await.1, c2 + Kopecks(15_000), "50 from the second");
        // Told twenty times: nothing more.
        let body = kabinet_gateway::refund_notification_body(&made[0].id, &gp.id);
        for _ in 0..20 {
            assert_eq!(notify(&app, &body).await.status, StatusCode::OK);
        }
        assert_eq!(credited(&t.db, 2).await.1, c2 + Kopecks(15_000));
        let card = b.get(&format!("/payments/card/{id}")).await;
        assert!(card.body.contains("Возвращено частично: 150,10"), "{}", card.body);
        let history = b.get("/payments").await;
        assert!(history.body.contains("возврат"), "{}", history.body);
        assert_eq!(get_json(&mut b, &tk, &format!("/api/v1/payments/{id}")).await["refunded_kopecks"], 15_010);

        // Two refunds of everything left at once: one passes.
        let (mut a1, mut a2) = (acc.clone(), acc.clone());
        let (r1, r2) = tokio::join!(
            a1.submit(&page_path, &action, &[("amount", "150"), ("reason", "Дважды")]),
            a2.submit(&page_path, &action, &[("amount", "150"), ("reason", "Дважды")]),
        );
        let mut statuses = [r1.status, r2.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]);
        assert_eq!(credited(&t.db, 2).await.1, c2, "the rest came back once");
        let card = b.get(&format!("/payments/card/{id}")).await;
        assert!(card.body.contains("Возвращено полностью: 300,10"), "{}", card.body);
        assert_eq!(audit_count(&t.db, AuditEvent::RefundStarted, &id).await, 2);
        assert_eq!(audit_count(&t.db, AuditEvent::RefundSettled, &id).await, 2);

        // A refund made in the gateway's dashboard, and one the bank takes
        // its time over: the notification and reconciliation record them.
        let (status, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "500"}])).await;
        assert_eq!(status, StatusCode::CREATED);
        let id2 = v["payment"]["id"].as_str().unwrap().to_string();
        let gp2 = fake.by_reference(&id2).unwrap();
        fake.settle(&gp2.id, GatewayState::Succeeded);
        notify(&app, &notification("payment.succeeded", &gp2.id)).await;
        let dashboard = fake.refund_in_dashboard(&gp2.id, Kopecks(20_000)).unwrap();
        let body = kabinet_gateway::refund_notification_body(&dashboard, &gp2.id);
        assert_eq!(notify(&app, &body).await.body, "ok");
        assert_eq!(notify(&app, &body).await.body, "ok");
        assert_eq!(credited(&t.db, 1).await.1, c1 + Kopecks(30_000));
        let office = acc.get(&format!("/staff/payments/{id2}")).await;
        assert!(office.body.contains("Сделан в личном кабинете платёжного сервиса"), "{}", office.body);
        fake.refunds_pending(true);
        let page2 = format!("/staff/payments/{id2}");
        let r = acc.submit(&page2, &format!("{page2}/refund"), &[("amount", "300"), ("reason", "Ошибка платежа")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(acc.get(&page2).await.body.contains("в обработке"));
        assert_eq!(credited(&t.db, 1).await.1, c1 + Kopecks(30_000), "nothing back before it succeeds");
        let pending = fake.refunds().pop().unwrap();
        fake.settle_refund(&pending.id, "succeeded");
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(app.state.app.payments.reconcile(now).await.unwrap().checked, 0, "not due yet");
        app.state.app.payments.reconcile(now + time::Duration::minutes(6)).await.unwrap();
        assert_eq!(credited(&t.db, 1).await.1, c1);
        app.state.app.payments.reconcile(now + time::Duration::hours(2)).await.unwrap();
        assert_eq!(credited(&t.db, 1).await.1, c1, "once");
        let p2 = t.db.card_payments().by_public_id(&id2).await.unwrap().unwrap();
        assert_eq!((p2.status, p2.refunded), (CardPaymentStatus::Succeeded, Kopecks(50_000)));

        // The export carries each refund as a negative row with both ids.
        let run = t.db.exchange().start_run("export", "payments", "test.csv", "test").await.unwrap();
        let mut rows = Vec::new();
        t.db.exports().export_payments(run, kabinet_db::export::ExportFilter::default(), &mut Sink(&mut rows)).await.unwrap();
        assert_eq!(Kopecks::sum(rows.iter().map(|r| r.amount)), Kopecks::ZERO, "everything paid came back");
        let refunds: Vec<_> = rows.iter().filter(|r| r.amount.is_negative()).collect();
        assert_eq!(refunds.len(), 5, "{rows:?}");
        assert!(refunds.iter().all(|r| r.gateway_refund_id.is_some() && r.gateway_payment_id.is_some()));
        assert!(rows.iter().filter(|r| !r.amount.is_negative()).all(|r| r.gateway_payment_id.as_deref().is_some_and(|g| g == gp.id || g == gp2.id)));
    }

    async fn a_refund_the_gateway_never_answers_is_given_up_after_a_day(t: &TestDb) {
        let fake = FakeYooKassa::start(crate::payments::SHOP, crate::payments::SECRET).await.unwrap();
        let app = TestApp::builder(&t.db).demo(2, 2).settings(yookassa_settings(&fake, &[])).build().await;
        let (mut b, number) = app.resident(1).await;
        let tk = token(&mut b, &number).await;
        let (_, v) = api_pay(&mut b, &tk, json!([{"account": number, "amount": "100"}])).await;
        let id = v["payment"]["id"].as_str().unwrap().to_string();
        let gp = fake.by_reference(&id).unwrap();
        fake.settle(&gp.id, GatewayState::Succeeded);
        notify(&app, &notification("payment.succeeded", &gp.id)).await;
        let (mut acc, _, _) = app.staff("acc", Role::Accountant).await;
        let page = format!("/staff/payments/{id}");
        // The gateway answers "too many requests" to every attempt.
        fake.throttle_next(100);
        let r = acc.submit(&page, &format!("{page}/refund"), &[("amount", "100"), ("reason", "Ошибка")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(fake.refunds().is_empty());
        let r = acc.submit(&page, &format!("{page}/refund"), &[("amount", "1"), ("reason", "Ещё")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the unanswered refund holds the whole amount");
        let now = time::OffsetDateTime::now_utc();
        app.state.app.payments.reconcile(now + time::Duration::hours(1)).await.unwrap();
        assert!(fake.refunds().is_empty(), "still throttled");
        app.state.app.payments.reconcile(now + time::Duration::hours(30)).await.unwrap();
        let p = t.db.card_payments().by_public_id(&id).await.unwrap().unwrap();
        let refunds = t.db.card_refunds().of_payment(p.id).await.unwrap();
        assert_eq!(refunds[0].status, kabinet_domain::refunds::RefundStatus::Canceled);
        assert_eq!(p.refunded, Kopecks::ZERO);
        // What was held is free again.
        fake.throttle_next(0);
        let r = acc.submit(&page, &format!("{page}/refund"), &[("amount", "100"), ("reason", "Ошибка")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(fake.refunds().len(), 1);
    }
}
