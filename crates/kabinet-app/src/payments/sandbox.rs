//! The sandbox gateway: test payments kept in Kabinet's own database, paid or
//! declined on a page Kabinet serves (clearly marked as a test), which then
//! notifies Kabinet the way a real gateway does. Everything after the
//! gateway — notification, read-back, settlement — is the same code as for
//! YooKassa.

use super::{Notified, Payments};
use crate::Error;
use crate::auth::Resident;
use futures::future::BoxFuture;
use kabinet_db::card_payments::{SandboxPayment, SandboxRefund};
use kabinet_db::{Db, Repos};
use kabinet_domain::GatewayState;
use kabinet_domain::refunds::RefundStatus;
use kabinet_gateway::{Gateway, GatewayError, GatewayPayment, GatewayRefund, NewPayment, NewRefund};

/// The sandbox's gateway name.
pub(super) const NAME: &str = "sandbox";

/// A kept sandbox method's id: this, then the test payment that kept it.
const KEPT: &str = "sbm-";

/// The sandbox provider.
pub struct Sandbox {
    db: Db,
}

impl Sandbox {
    /// The sandbox over Kabinet's database.
    pub fn new(db: Db) -> Sandbox {
        Sandbox { db }
    }
}

/// The sandbox page's path for a test payment.
pub fn page_path(id: &str) -> String {
    format!("/sandbox/pay/{id}")
}

fn to_gateway(p: SandboxPayment) -> Result<GatewayPayment, GatewayError> {
    let state = match p.status.as_str() {
        "pending" => GatewayState::Pending,
        "succeeded" => GatewayState::Succeeded,
        "canceled" => GatewayState::Canceled,
        other => return Err(GatewayError::Malformed(format!("status {other:?}"))),
    };
    Ok(GatewayPayment {
        confirmation_url: (state == GatewayState::Pending).then(|| page_path(&p.id)),
        card: (state == GatewayState::Succeeded && p.method.as_deref() != Some("sbp"))
            .then(|| "Sandbox *0000".to_string()),
        cancellation: (state == GatewayState::Canceled).then(|| "sandbox: general_decline".to_string()),
        test: true,
        captured_at: None,
        // Every paid test payment's method can be kept (for autopay's demo).
        saved_method: (state == GatewayState::Succeeded).then(|| kabinet_gateway::SavedMethod {
            id: format!("{KEPT}{}", p.id),
            title: if p.method.as_deref() == Some("sbp") {
                "Sandbox SBP".to_string()
            } else {
                "Sandbox *0000".to_string()
            },
        }),
        method: p.method.clone(),
        id: p.id,
        state,
        amount: p.amount,
        reference: Some(p.reference),
    })
}

fn refund_to_gateway(r: SandboxRefund) -> GatewayRefund {
    GatewayRefund {
        state: RefundStatus::from_stored(&r.status).unwrap_or(RefundStatus::Pending),
        id: r.id,
        payment_id: r.payment_id,
        amount: r.amount,
        cancellation: None,
    }
}

fn unavailable(e: kabinet_db::DbError) -> GatewayError {
    GatewayError::Unavailable(e.to_string())
}

impl Gateway for Sandbox {
    fn name(&self) -> &'static str {
        NAME
    }

    fn create<'a>(&'a self, p: &'a NewPayment) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>> {
        Box::pin(async move {
            // A kept method pays at once, as a bank does for autopay.
            let mut status = "pending";
            let mut method = p.method.map(|m| m.as_str().to_string());
            if let Some(kept) = &p.payment_method_id {
                let paid = match kept.strip_prefix(KEPT) {
                    Some(id) => self
                        .db
                        .card_payments()
                        .sandbox_get(id)
                        .await
                        .map_err(unavailable)?,
                    None => None,
                };
                let Some(paid) = paid.filter(|x| x.status == "succeeded") else {
                    return Err(GatewayError::Refused {
                        status: 400,
                        message: "payment_method_id is not a kept method".into(),
                    });
                };
                status = "succeeded";
                method = paid.method;
            }
            let candidate = SandboxPayment {
                id: format!("sbx-{}", crate::auth::secrets::new_public_id()),
                reference: p.reference.clone(),
                amount: p.amount,
                description: p.description.clone(),
                return_url: p.return_url.clone(),
                status: status.into(),
                method,
            };
            let made = self
                .db
                .card_payments()
                .sandbox_open(&candidate, &p.idempotence_key, time::OffsetDateTime::now_utc())
                .await
                .map_err(unavailable)?;
            to_gateway(made)
        })
    }

    fn refund<'a>(&'a self, r: &'a NewRefund) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>> {
        Box::pin(async move {
            let cards = self.db.card_payments();
            let paid = cards.sandbox_get(&r.payment_id).await.map_err(unavailable)?;
            if paid.is_none_or(|p| p.status != "succeeded") {
                return Err(GatewayError::Refused {
                    status: 400,
                    message: "only a succeeded payment can be refunded".into(),
                });
            }
            let candidate = SandboxRefund {
                id: format!("sbr-{}", crate::auth::secrets::new_public_id()),
                payment_id: r.payment_id.clone(),
                amount: r.amount,
                status: "succeeded".into(),
            };
            let made = cards
                .sandbox_refund_open(&candidate, &r.idempotence_key, time::OffsetDateTime::now_utc())
                .await
                .map_err(unavailable)?;
            Ok(refund_to_gateway(made))
        })
    }

    fn get_refund<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>> {
        Box::pin(async move {
            match self
                .db
                .card_payments()
                .sandbox_refund_get(id)
                .await
                .map_err(unavailable)?
            {
                Some(r) => Ok(refund_to_gateway(r)),
                None => Err(GatewayError::NotFound),
            }
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>> {
        Box::pin(async move {
            match self
                .db
                .card_payments()
                .sandbox_get(id)
                .await
                .map_err(unavailable)?
            {
                Some(p) => to_gateway(p),
                None => Err(GatewayError::NotFound),
            }
        })
    }
}

/// What the tester chose on the sandbox page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxAction {
    /// The card is charged.
    Pay,
    /// The bank declines.
    Decline,
    /// Nothing happens yet (the payment stays pending).
    LeavePending,
}

impl Payments {
    /// A sandbox test payment, for its page; not found unless the sandbox is
    /// the gateway in use and the payment is the signed-in resident's own.
    pub async fn sandbox_payment(&self, r: &Resident, id: &str) -> Result<SandboxPayment, Error> {
        if !self.is_test() || id.len() > 40 {
            return Err(Error::NotFound);
        }
        let p = self
            .db
            .card_payments()
            .sandbox_get(id)
            .await?
            .ok_or(Error::NotFound)?;
        // Who holds the link is not enough: it must be the payer.
        self.own(r, &p.reference).await?;
        Ok(p)
    }

    /// The full address of a sandbox payment's page (what its СБП QR code
    /// carries, as a bank's would carry the payment link).
    pub fn sandbox_url(&self, id: &str) -> String {
        format!("{}{}", self.public_url, page_path(id))
    }

    /// Acts on a sandbox payment as the payer and the bank would, sends the
    /// notification a gateway sends, and returns where the payer goes next
    /// (the return page).
    pub async fn sandbox_act(&self, r: &Resident, id: &str, action: SandboxAction) -> Result<String, Error> {
        let p = self.sandbox_payment(r, id).await?;
        let event = match action {
            SandboxAction::Pay => Some(("succeeded", "payment.succeeded")),
            SandboxAction::Decline => Some(("canceled", "payment.canceled")),
            SandboxAction::LeavePending => None,
        };
        if let Some((status, event)) = event {
            self.db.card_payments().sandbox_settle(&p.id, status).await?;
            let body = kabinet_gateway::notification_body(event, &p.id);
            if self.notify_from_gateway(body.as_bytes()).await? == Notified::Unknown {
                tracing::warn!(sandbox = %p.id, "the sandbox notified about a payment Kabinet does not have");
            }
        }
        Ok(self.return_path(&p.reference))
    }
}
