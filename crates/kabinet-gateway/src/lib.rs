//! Card payment gateways behind one interface ([`Gateway`]): create a payment
//! on the gateway's hosted page and read back what became of it. Kabinet never
//! sees card data; the resident pays on the gateway's page.
//!
//! Providers: [`yookassa::YooKassa`] (YooKassa API v3, over HTTP) here, and the
//! sandbox, which keeps its test payments in Kabinet's own database and so
//! lives in the application crate. Both are driven by the same code there.
//! With the `fake` feature, [`fake::FakeYooKassa`] serves a local imitation of
//! YooKassa's API for tests.

#[cfg(feature = "fake")]
pub mod fake;
pub mod yookassa;

use futures::future::BoxFuture;
use kabinet_domain::payment_methods::PayMethod;
use kabinet_domain::refunds::RefundStatus;
use kabinet_domain::{GatewayState, Kopecks};

/// A payment to create on the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The amount, in roubles.
    pub amount: Kopecks,
    /// What the payer sees on the gateway's page and in their bank statement.
    pub description: String,
    /// Where the gateway sends the payer back.
    pub return_url: String,
    /// The same key makes the same payment, however often it is sent.
    pub idempotence_key: String,
    /// Our id of the payment, stored by the gateway beside its own.
    pub reference: String,
    /// The way to pay, when the resident chose one on our page (none: the
    /// gateway's page offers its own choice).
    pub method: Option<PayMethod>,
    /// Ask the gateway to keep the method for later payments without the
    /// payer (autopay); it says whether it did.
    pub save_method: bool,
    /// Pay with a method kept before (autopay): no page, no confirmation.
    pub payment_method_id: Option<String>,
    /// The fiscal receipt (54-ФЗ) the gateway's cash register issues; none
    /// for a shop that sends no receipts through the gateway.
    pub receipt: Option<Receipt>,
}

/// A fiscal receipt: who gets it and what was paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The payer's e-mail address, where the receipt goes.
    pub email: Option<String>,
    /// Or their phone number (`79001234567`).
    pub phone: Option<String>,
    /// The organization's tax system (1–6), when its register needs it.
    pub tax_system_code: Option<u8>,
    /// One line per account paid for (and one for the fee, if any).
    pub items: Vec<ReceiptItem>,
}

/// One line of a fiscal receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptItem {
    /// What is paid for (at most 128 characters).
    pub description: String,
    /// The line's amount (quantity is 1).
    pub amount: Kopecks,
    /// The VAT code of the organization's register (1 = no VAT, … 6).
    pub vat_code: u8,
    /// What is sold (`service`, `commodity`, …).
    pub payment_subject: String,
    /// How it is paid (`full_payment`, `full_prepayment`, …).
    pub payment_mode: String,
    /// The unit of the quantity (ФФД 1.2: `piece`, …).
    pub measure: String,
}

/// What the gateway says of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    /// The gateway's id.
    pub id: String,
    /// Its state.
    pub state: GatewayState,
    /// The amount.
    pub amount: Kopecks,
    /// Our reference (from the metadata), if the gateway returned it.
    pub reference: Option<String>,
    /// The page to send the payer to, while it is pending.
    pub confirmation_url: Option<String>,
    /// The card, masked as the gateway gives it (`Visa *4444`).
    pub card: Option<String>,
    /// Why it was canceled, in the gateway's words.
    pub cancellation: Option<String>,
    /// A payment of the gateway's test mode (YooKassa's `test: true`, every
    /// sandbox payment): no money moved, so it is never credited.
    pub test: bool,
    /// When the money was taken (YooKassa's `captured_at`), if the gateway
    /// says; the day a payment counts for.
    pub captured_at: Option<time::OffsetDateTime>,
    /// How it was paid (`sbp`, `bank_card`), once the gateway says.
    pub method: Option<String>,
    /// The method the gateway kept for later payments, when asked to.
    pub saved_method: Option<SavedMethod>,
}

/// A payment method the gateway keeps for payments without the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMethod {
    /// The gateway's id of the method (`payment_method.id`).
    pub id: String,
    /// How it shows to the payer (`MasterCard *4444`, `СБП`).
    pub title: String,
}

/// A refund to make of a paid payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    /// The gateway's id of the payment.
    pub payment_id: String,
    /// How much goes back.
    pub amount: Kopecks,
    /// Why (the gateway keeps it; at most 250 characters).
    pub description: String,
    /// The same key makes the same refund, however often it is sent.
    pub idempotence_key: String,
    /// The fiscal receipt of the refund, like the payment's.
    pub receipt: Option<Receipt>,
}

/// What the gateway says of a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRefund {
    /// The gateway's id of the refund.
    pub id: String,
    /// The payment it refunds.
    pub payment_id: String,
    /// Where it stands (`pending`, `succeeded` or `canceled`).
    pub state: RefundStatus,
    /// How much.
    pub amount: Kopecks,
    /// Why it was canceled, in the gateway's words.
    pub cancellation: Option<String>,
}

/// A notification from the gateway, reduced to which payment it is about:
/// its body is not trusted, the payment is read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The event (`payment.succeeded`, `refund.succeeded`, …).
    pub event: String,
    /// The gateway's id of the payment concerned.
    pub payment_id: String,
    /// For refund events, the gateway's id of the refund.
    pub refund_id: Option<String>,
}

/// What went wrong talking to a gateway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The gateway refused the request (4xx): retrying it the same way will
    /// not help.
    #[error("the gateway refused the request ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The gateway's explanation.
        message: String,
    },
    /// The gateway does not know the payment.
    #[error("the gateway does not know this payment")]
    NotFound,
    /// No answer, a timeout or a 5xx after every retry: the outcome is unknown.
    #[error("the gateway did not answer: {0}")]
    Unavailable(String),
    /// An answer that is not what the gateway's API describes.
    #[error("the gateway's answer is not understood: {0}")]
    Malformed(String),
}

/// A payment gateway.
pub trait Gateway: Send + Sync {
    /// The provider's name (`yookassa`, `sandbox`), stored with each payment.
    fn name(&self) -> &'static str;

    /// Creates a payment, or returns the one created before with the same
    /// idempotence key.
    fn create<'a>(&'a self, payment: &'a NewPayment) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>>;

    /// Reads a payment as the gateway has it now.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>>;

    /// Refunds (part of) a paid payment, or returns the refund made before
    /// with the same idempotence key.
    fn refund<'a>(&'a self, refund: &'a NewRefund) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>>;

    /// Reads a refund as the gateway has it now.
    fn get_refund<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>>;

    /// The origins of the gateway's payment pages: the payment form's
    /// redirect goes there, so the Content-Security-Policy's `form-action`
    /// must allow them.
    fn page_origins(&self) -> &'static [&'static str] {
        &[]
    }
}

/// Parses a notification body in YooKassa's shape (the sandbox sends the
/// same): `{"type":"notification","event":…,"object":{"id":…}}`; for refund
/// events the payment is `object.payment_id`.
pub fn parse_notification(body: &[u8]) -> Result<Notification, GatewayError> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(rename = "type")]
        kind: String,
        event: String,
        object: Object,
    }
    #[derive(serde::Deserialize)]
    struct Object {
        id: String,
        #[serde(default)]
        payment_id: Option<String>,
    }
    let b: Body = serde_json::from_slice(body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
    if b.kind != "notification" {
        return Err(GatewayError::Malformed(format!("type {:?}", b.kind)));
    }
    let (payment_id, refund_id) = if b.event.starts_with("refund.") {
        let payment = b
            .object
            .payment_id
            .ok_or_else(|| GatewayError::Malformed("a refund without payment_id".into()))?;
        (payment, Some(b.object.id))
    } else {
        (b.object.id, None)
    };
    let bad = |id: &str| id.is_empty() || id.len() > 64;
    if bad(&payment_id) || refund_id.as_deref().is_some_and(bad) {
        return Err(GatewayError::Malformed("payment id".into()));
    }
    Ok(Notification {
        event: b.event,
        payment_id,
        refund_id,
    })
}

/// A notification body in YooKassa's shape, as the sandbox sends it.
pub fn notification_body(event: &str, payment_id: &str) -> String {
    serde_json::json!({
        "type": "notification",
        "event": event,
        "object": { "id": payment_id },
    })
    .to_string()
}

/// A `refund.succeeded` notification body in YooKassa's shape, as the
/// sandbox sends it.
pub fn refund_notification_body(refund_id: &str, payment_id: &str) -> String {
    serde_json::json!({
        "type": "notification",
        "event": "refund.succeeded",
        "object": { "id": refund_id, "payment_id": payment_id, "status": "succeeded" },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_name_the_payment() {
        let n = parse_notification(notification_body("payment.succeeded", "2f-1").as_bytes()).unwrap();
        assert_eq!(n.event, "payment.succeeded");
        assert_eq!(n.payment_id, "2f-1");
        let refund = br#"{"type":"notification","event":"refund.succeeded","object":{"id":"r1","payment_id":"p9","status":"succeeded"}}"#;
        let r = parse_notification(refund).unwrap();
        assert_eq!(
            (r.payment_id.as_str(), r.refund_id.as_deref()),
            ("p9", Some("r1"))
        );
        let sandbox = parse_notification(refund_notification_body("r2", "p2").as_bytes()).unwrap();
        assert_eq!(sandbox.refund_id.as_deref(), Some("r2"));
        assert!(parse_notification(b"{}").is_err());
        assert!(
            parse_notification(br#"{"type":"x","event":"payment.succeeded","object":{"id":"a"}}"#).is_err()
        );
        assert!(
            parse_notification(br#"{"type":"notification","event":"payment.succeeded","object":{"id":""}}"#)
                .is_err()
        );
    }
}
