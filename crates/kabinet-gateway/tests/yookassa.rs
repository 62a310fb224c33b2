//! The YooKassa client against the local fake of YooKassa's API.

use kabinet_domain::payment_methods::PayMethod;
use kabinet_domain::refunds::RefundStatus;
use kabinet_domain::{GatewayState, Kopecks};
use kabinet_gateway::fake::FakeYooKassa;
use kabinet_gateway::yookassa::{YooKassa, YooKassaConfig};
use kabinet_gateway::{Gateway, GatewayError, NewPayment, NewRefund, Receipt, ReceiptItem};
use std::time::Duration;

fn client(fake: &FakeYooKassa, secret: &str) -> YooKassa {
    let mut c = YooKassaConfig::new("shop-1", secret);
    c.api_url = fake.url().to_string();
    c.timeout = Duration::from_millis(300);
    c.retry_delay = Duration::from_millis(10);
    YooKassa::new(c).expect("client")
}

fn payment(key: &str, lines: &[i64]) -> NewPayment {
    NewPayment {
        amount: Kopecks(lines.iter().sum()),
        description: "Оплата жилищно-коммунальных услуг".into(),
        return_url: "http://127.0.0.1/payments/card/x".into(),
        idempotence_key: key.into(),
        reference: format!("ref-{key}"),
        method: None,
        save_method: false,
        payment_method_id: None,
        receipt: Some(Receipt {
            email: Some("resident@example.ru".into()),
            phone: None,
            tax_system_code: None,
            items: lines
                .iter()
                .enumerate()
                .map(|(i, a)| ReceiptItem {
                    description: format!("Лицевой счёт {i}"),
                    amount: Kopecks(*a),
                    vat_code: 1,
                    payment_subject: "service".into(),
                    payment_mode: "full_payment".into(),
                    measure: "piece".into(),
                })
                .collect(),
        }),
    }
}

fn receipt_of(p: &mut NewPayment) -> &mut Receipt {
    p.receipt.as_mut().expect("a receipt")
}

#[tokio::test]
async fn a_payment_is_created_once_per_key_and_read_back() {
    let fake = FakeYooKassa::start("shop-1", "secret").await.expect("fake");
    let c = client(&fake, "secret");
    let p = payment("k1", &[123_456, 100]);
    let made = c.create(&p).await.expect("created");
    assert_eq!(made.state, GatewayState::Pending);
    assert_eq!(made.amount, Kopecks(123_556));
    assert_eq!(made.reference.as_deref(), Some("ref-k1"));
    assert!(made.confirmation_url.is_some_and(|u| u.starts_with("https://")));
    let again = c.create(&p).await.expect("same key");
    assert_eq!(again.id, made.id);
    assert_eq!(fake.payments().len(), 1);
    let stored = &fake.payments()[0];
    assert_eq!(stored.request["amount"]["value"], "1235.56");
    assert_eq!(stored.request["receipt"]["items"][1]["amount"]["value"], "1.00");

    fake.settle(&made.id, GatewayState::Succeeded);
    let read = c.get(&made.id).await.expect("read");
    assert_eq!(read.state, GatewayState::Succeeded);
    assert_eq!(read.card.as_deref(), Some("MasterCard *4444"));
    assert_eq!(c.get("no-such").await, Err(GatewayError::NotFound));
    assert_eq!(c.get("../etc").await, Err(GatewayError::NotFound));
}

#[tokio::test]
async fn refusals_are_final_and_not_retried() {
    let fake = FakeYooKassa::start("shop-1", "secret").await.expect("fake");
    let wrong = client(&fake, "not-the-secret");
    match wrong.create(&payment("k2", &[1000])).await {
        Err(GatewayError::Refused { status: 401, .. }) => {}
        other => panic!("expected a 401, got {other:?}"),
    }
    let c = client(&fake, "secret");
    let mut bad = payment("k3", &[1000]);
    bad.amount = Kopecks(999);
    match c.create(&bad).await {
        Err(GatewayError::Refused { status: 400, message }) => {
            assert!(message.contains("add up"), "{message}")
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    let mut anonymous = payment("k4", &[1000]);
    receipt_of(&mut anonymous).email = None;
    assert!(matches!(
        c.create(&anonymous).await,
        Err(GatewayError::Refused { status: 400, .. })
    ));
    assert_eq!(fake.rejections().len(), 2, "{:?}", fake.rejections());
    assert!(fake.payments().is_empty());
}

#[tokio::test]
async fn a_500_then_a_200_for_the_same_key_is_one_payment() {
    let fake = FakeYooKassa::start("shop-1", "secret").await.expect("fake");
    let c = client(&fake, "secret");
    fake.fail_next_creates(1);
    let made = c
        .create(&payment("k5", &[5000]))
        .await
        .expect("the retry succeeds");
    assert_eq!(fake.create_calls(), 2);
    assert_eq!(fake.payments().len(), 1);
    assert_eq!(fake.payments()[0].id, made.id);
}

#[tokio::test]
async fn an_answer_that_never_comes_is_unknown_and_the_same_key_finds_it_later() {
    let fake = FakeYooKassa::start("shop-1", "secret").await.expect("fake");
    let c = client(&fake, "secret");
    fake.hang_next_creates(3, Duration::from_secs(2));
    let p = payment("k6", &[5000]);
    assert!(matches!(c.create(&p).await, Err(GatewayError::Unavailable(_))));
    assert_eq!(fake.create_calls(), 3);
    assert_eq!(fake.payments().len(), 1, "made once however often it was asked");
    let found = c.create(&p).await.expect("answers now");
    assert_eq!(found.id, fake.payments()[0].id);
}

/// The fake refuses what YooKassa refuses of a receipt under ФФД 1.2, so a
/// bad request fails here before it fails at a live shop.
#[tokio::test]
async fn receipts_are_checked_as_ffd_1_2_asks() {
    let fake = FakeYooKassa::start("shop-1", "secret").await.expect("fake");
    let c = client(&fake, "secret");
    let refused = |r: Result<kabinet_gateway::GatewayPayment, GatewayError>, what: &str| match r {
        Err(GatewayError::Refused { status: 400, message }) => {
            assert!(message.contains(what), "{what}: {message}")
        }
        other => panic!("{what}: expected a 400, got {other:?}"),
    };
    let mut no_measure = payment("m1", &[1000]);
    receipt_of(&mut no_measure).items[0].measure = String::new();
    refused(c.create(&no_measure).await, "measure");
    let mut wrong_vat = payment("m2", &[1000]);
    receipt_of(&mut wrong_vat).items[0].vat_code = 13;
    refused(c.create(&wrong_vat).await, "vat_code");
    let mut subject = payment("m3", &[1000]);
    receipt_of(&mut subject).items[0].payment_subject = "services".into();
    refused(c.create(&subject).await, "payment_subject");
    let mut tax = payment("m4", &[1000]);
    receipt_of(&mut tax).tax_system_code = Some(7);
    refused(c.create(&tax).await, "tax_system_code");
    let mut none = payment("m5", &[1000]);
    none.receipt = None;
    refused(c.create(&none).await, "receipt is required");
    assert!(fake.payments().is_empty());
    // Three decimals never leave the client: amounts are kopecks.
    let body = kabinet_gateway::yookassa::create_body(&payment("m6", &[1001]));
    assert_eq!(body["amount"]["value"], "10.01");

    fake.receipts_optional(true);
    c.create(&none).await.expect("a shop without receipts takes it");
    let mut taxed = payment("m7", &[1000]);
    receipt_of(&mut taxed).tax_system_code = Some(2);
    let mut sbp = taxed.clone();
    sbp.method = Some(PayMethod::Sbp);
    let made = c.create(&sbp).await.expect("an СБП payment");
    let stored = fake.by_reference("ref-m7").expect("stored");
    assert_eq!(stored.request["payment_method_data"]["type"], "sbp");
    assert_eq!(stored.request["receipt"]["items"][0]["measure"], "piece");
    fake.settle(&made.id, GatewayState::Succeeded);
    assert_eq!(
        c.get(&made.id).await.expect("read").method.as_deref(),
        Some("sbp")
    );
}

#[tokio::test]
async fn refunds_are_made_once_per_key_and_never_beyond_the_payment() {
    let fake = FakeYooKassa::start("shop-1", "secret").await.expect("fake");
    let c = client(&fake, "secret");
    let made = c.create(&payment("r0", &[10_000])).await.expect("created");
    let refund = |key: &str, amount: i64| NewRefund {
        payment_id: made.id.clone(),
        amount: Kopecks(amount),
        description: "Переплата".into(),
        idempotence_key: key.into(),
        receipt: None,
    };
    let mut with_receipt = refund("r1", 4_000);
    with_receipt.receipt = payment("x", &[4_000]).receipt;
    assert!(
        matches!(
            c.refund(&with_receipt).await,
            Err(GatewayError::Refused { status: 400, .. })
        ),
        "a pending payment is not refunded"
    );
    fake.settle(&made.id, GatewayState::Succeeded);
    assert!(
        matches!(
            c.refund(&refund("r1", 4_000)).await,
            Err(GatewayError::Refused { status: 400, .. })
        ),
        "no receipt for a shop that sends them"
    );
    let first = c.refund(&with_receipt).await.expect("refunded");
    assert_eq!(
        (first.state, first.amount),
        (RefundStatus::Succeeded, Kopecks(4_000))
    );
    assert_eq!(c.refund(&with_receipt).await.expect("same key").id, first.id);
    let mut too_much = with_receipt.clone();
    too_much.idempotence_key = "r2".into();
    too_much.amount = Kopecks(6_001);
    too_much.receipt = payment("y", &[6_001]).receipt;
    assert!(matches!(
        c.refund(&too_much).await,
        Err(GatewayError::Refused { status: 400, .. })
    ));
    fake.refunds_pending(true);
    too_much.amount = Kopecks(6_000);
    too_much.receipt = payment("y", &[6_000]).receipt;
    let rest = c.refund(&too_much).await.expect("the rest");
    assert_eq!(rest.state, RefundStatus::Pending);
    fake.settle_refund(&rest.id, "succeeded");
    let read = c.get_refund(&rest.id).await.expect("read");
    assert_eq!(
        (read.state, read.payment_id.as_str()),
        (RefundStatus::Succeeded, made.id.as_str())
    );
    assert_eq!(fake.refunds().len(), 2);
    assert_eq!(c.get_refund("nope").await, Err(GatewayError::NotFound));
}
