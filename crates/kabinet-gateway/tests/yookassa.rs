//! The YooKassa client against the local fake of YooKassa's API.

use kabinet_domain::{GatewayState, Kopecks};
use kabinet_gateway::fake::FakeYooKassa;
use kabinet_gateway::yookassa::{YooKassa, YooKassaConfig};
use kabinet_gateway::{Gateway, GatewayError, NewPayment, Receipt, ReceiptItem};
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
        receipt: Receipt {
            email: Some("resident@example.ru".into()),
            phone: None,
            items: lines
                .iter()
                .enumerate()
                .map(|(i, a)| ReceiptItem {
                    description: format!("Лицевой счёт {i}"),
                    amount: Kopecks(*a),
                    vat_code: 1,
                    payment_subject: "service".into(),
                    payment_mode: "full_payment".into(),
                })
                .collect(),
        },
    }
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
    anonymous.receipt.email = None;
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
