//! Refunds of card payments (B10): staff with the payments permission return
//! all or part of a paid payment, with a reason; the gateway's answer, its
//! `refund.succeeded` notification or reconciliation settles the refund,
//! and the one caller that settles it takes the money back from the accounts
//! (negative payments, exported to billing with the gateway's ids) in the
//! same transaction. A refund made in the gateway's own dashboard is
//! recorded when its notification arrives.
//!
//! A notification can overtake the answer to our own call: an unknown
//! refund of a payment that has one of ours of the same amount still
//! waiting for its answer is taken to be that one.

use super::{Payments, Reconciled, fields};
use crate::staff::By;
use crate::{Error, FieldErrors};
use kabinet_db::Repos;
use kabinet_db::card_refunds::NewCardRefund;
use kabinet_domain as d;
use kabinet_domain::payments::{CardPayment, CardPaymentStatus};
use kabinet_domain::refunds::{CardRefund, RefundProblem, RefundStatus};
use kabinet_domain::staff::Permission;
use kabinet_gateway::{GatewayError, GatewayRefund, NewRefund};
use time::{Duration, OffsetDateTime};

/// A refund as staff typed it.
#[derive(Debug, Clone, Default)]
pub struct RefundInput {
    /// The amount (`1234,56`).
    pub amount: String,
    /// Why (required; the gateway and the audit keep it).
    pub reason: String,
}

/// The longest reason kept.
const MAX_REASON: usize = 250;

impl Payments {
    /// A payment with its refunds, for the office.
    pub async fn for_office(
        &self,
        by: By<'_>,
        public_id: &str,
    ) -> Result<(CardPayment, Vec<CardRefund>), Error> {
        by.require(Permission::Payments)?;
        if public_id.is_empty() || public_id.len() > 32 {
            return Err(Error::NotFound);
        }
        let p = self
            .db
            .card_payments()
            .by_public_id(public_id)
            .await?
            .ok_or(Error::NotFound)?;
        let refunds = self.db.card_refunds().of_payment(p.id).await?;
        Ok((p, refunds))
    }

    /// The newest card payments for the office (50), of one status or all.
    pub async fn newest_for_office(
        &self,
        by: By<'_>,
        status: Option<CardPaymentStatus>,
    ) -> Result<Vec<CardPayment>, Error> {
        by.require(Permission::Payments)?;
        Ok(self.db.card_payments().newest(status, 50).await?)
    }

    /// A payment's refunds, for its payer.
    pub async fn refunds_of(&self, p: &CardPayment) -> Result<Vec<CardRefund>, Error> {
        Ok(self.db.card_refunds().of_payment(p.id).await?)
    }

    /// Starts a refund of a paid payment: checks the amount against what is
    /// left (under the payment's lock, so two refunds never pass together),
    /// writes it with its audit line, asks the gateway and applies the
    /// answer. A gateway that does not answer leaves it to reconciliation,
    /// which asks again with the same key.
    pub async fn refund(
        &self,
        by: By<'_>,
        public_id: &str,
        input: &RefundInput,
    ) -> Result<CardRefund, Error> {
        by.require(Permission::Payments)?;
        let (p, _) = self.for_office(by, public_id).await?;
        let mut errors = FieldErrors::default();
        let amount = match d::Kopecks::parse(&input.amount) {
            Ok(a) => Some(a),
            Err(_) => {
                errors.add(fields::REFUND_AMOUNT, d::Text::new("error-refund-amount"));
                None
            }
        };
        let reason = input.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            errors.add(
                fields::REFUND_REASON,
                d::Text::new("error-refund-reason").with("max", MAX_REASON.to_string()),
            );
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let amount = amount.unwrap_or(d::Kopecks::ZERO);
        let Some(gateway_id) = p
            .gateway_id
            .clone()
            .filter(|_| p.status == CardPaymentStatus::Succeeded)
        else {
            return Err(refund_problem(RefundProblem::NotPaid));
        };
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        tx.card_refunds().lock_payment(p.id).await?;
        let taken = tx.card_refunds().taken(p.id).await?;
        d::refunds::check(amount, p.amount, taken).map_err(refund_problem)?;
        let refund = tx
            .card_refunds()
            .insert(&NewCardRefund {
                public_id: crate::auth::secrets::new_public_id(),
                payment_id: p.id,
                gateway_id: None,
                amount,
                reason: reason.to_string(),
                staff_id: by.member().map(|m| m.id.0),
                now,
                first_check: now + Duration::minutes(5),
            })
            .await?;
        let entry = by.entry(
            d::AuditEvent::RefundStarted,
            format!(
                "{}: {} of {} ({})",
                refund.public_id,
                amount.to_decimal_string(),
                p.public_id,
                reason
            ),
        );
        let entry = d::AuditEntry {
            user_id: Some(p.user_id),
            account_id: p.shares.first().map(|s| s.account_id),
            ..entry
        };
        tx.audit().record(&entry, now).await?;
        tx.commit().await?;
        self.send_refund(&p, refund, &gateway_id).await
    }

    /// Asks the gateway for a written refund and applies its answer.
    async fn send_refund(
        &self,
        p: &CardPayment,
        r: CardRefund,
        gateway_id: &str,
    ) -> Result<CardRefund, Error> {
        let request = NewRefund {
            payment_id: gateway_id.to_string(),
            amount: r.amount,
            description: r.reason.clone(),
            idempotence_key: r.public_id.clone(),
            receipt: self.receipt(
                p.email.clone(),
                vec![(d::payments::RECEIPT_REFUND_NAME.to_string(), r.amount)],
            ),
        };
        match self.gateway.refund(&request).await {
            Ok(gr) => self.learn_refund(p, &r, &gr).await,
            Err(GatewayError::Refused { message, .. }) => {
                let now = self.clock.now();
                let tx = self.db.begin().await?;
                if tx
                    .card_refunds()
                    .transition(r.id, RefundStatus::Canceled, None, Some(&message), now)
                    .await?
                {
                    tx.audit()
                        .record(&refund_entry(p, &r, &format!("refused: {message}")), now)
                        .await?;
                }
                tx.commit().await?;
                Err(Error::RefundRefused)
            }
            Err(e) => {
                tracing::warn!(refund = %r.public_id, error = %e, "refund not made at the gateway yet");
                Ok(r)
            }
        }
    }

    /// Applies what the gateway says of refund `r` of payment `p`.
    async fn learn_refund(
        &self,
        p: &CardPayment,
        r: &CardRefund,
        gr: &GatewayRefund,
    ) -> Result<CardRefund, Error> {
        if gr.amount != r.amount || p.gateway_id.as_deref() != Some(gr.payment_id.as_str()) {
            tracing::error!(refund = %r.public_id, gateway_id = %gr.id, "the gateway's refund does not match ours; left as it is");
            return Err(Error::Internal("the gateway's refund does not match".into()));
        }
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        let refunds = tx.card_refunds();
        match gr.state {
            RefundStatus::Created | RefundStatus::Pending => {
                refunds
                    .transition(r.id, RefundStatus::Pending, Some(&gr.id), None, now)
                    .await?;
            }
            RefundStatus::Canceled => {
                if refunds
                    .transition(
                        r.id,
                        RefundStatus::Canceled,
                        Some(&gr.id),
                        gr.cancellation.as_deref(),
                        now,
                    )
                    .await?
                {
                    tx.audit()
                        .record(&refund_entry(p, r, &format!("canceled: {}", gr.id)), now)
                        .await?;
                }
            }
            RefundStatus::Succeeded => {
                if refunds
                    .transition(r.id, RefundStatus::Succeeded, Some(&gr.id), None, now)
                    .await?
                {
                    let before = refunds.add_refunded(p.id, r.amount).await?;
                    let parts = d::refunds::allocate(&p.shares, before, r.amount);
                    refunds.debit(p, r, &gr.id, &parts, now).await?;
                    tx.audit()
                        .record(&refund_entry(p, r, &format!("succeeded: {}", gr.id)), now)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        tracing::info!(refund = %r.public_id, status = gr.state.as_str(), "refund learned");
        self.db
            .card_refunds()
            .by_public_id(&r.public_id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// A refund notification: the refund is read at the gateway; one we
    /// did not start (the gateway's dashboard) is recorded first.
    pub(super) async fn notified_refund(&self, refund_id: &str) -> Result<super::Notified, Error> {
        let gr = match self.gateway.get_refund(refund_id).await {
            Ok(gr) => gr,
            Err(GatewayError::NotFound) => return Ok(super::Notified::Unknown),
            Err(e) => {
                tracing::warn!(error = %e, "could not read back a notified refund");
                return Err(Error::GatewayUnavailable);
            }
        };
        let Some(p) = self.db.card_payments().by_gateway_id(&gr.payment_id).await? else {
            tracing::warn!(gateway_id = %gr.payment_id, "a refund of a payment that is not ours");
            return Ok(super::Notified::Unknown);
        };
        let refunds = self.db.card_refunds();
        let ours = match refunds.by_gateway_id(&gr.id).await? {
            Some(r) => r,
            None => match refunds.unanswered(p.id, gr.amount).await? {
                Some(r) => r,
                None => self.record_outside_refund(&p, &gr).await?,
            },
        };
        self.learn_refund(&p, &ours, &gr).await?;
        Ok(super::Notified::Applied)
    }

    /// Marks a refund the gateway never answered about as canceled.
    async fn give_up_refund(
        &self,
        p: &CardPayment,
        r: &CardRefund,
        now: OffsetDateTime,
    ) -> Result<CardRefund, Error> {
        let tx = self.db.begin().await?;
        if tx
            .card_refunds()
            .transition(
                r.id,
                RefundStatus::Canceled,
                None,
                Some("never reached the gateway"),
                now,
            )
            .await?
        {
            tx.audit()
                .record(&refund_entry(p, r, "given up: never reached the gateway"), now)
                .await?;
        }
        tx.commit().await?;
        self.db
            .card_refunds()
            .by_public_id(&r.public_id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Records a refund made at the gateway without us (its dashboard).
    async fn record_outside_refund(&self, p: &CardPayment, gr: &GatewayRefund) -> Result<CardRefund, Error> {
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        let r = tx
            .card_refunds()
            .insert(&NewCardRefund {
                public_id: crate::auth::secrets::new_public_id(),
                payment_id: p.id,
                gateway_id: Some(gr.id.clone()),
                amount: gr.amount,
                reason: String::new(),
                staff_id: None,
                now,
                first_check: now + Duration::hours(1),
            })
            .await?;
        tx.audit()
            .record(
                &refund_entry(p, &r, &format!("made at the gateway: {}", gr.id)),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Asks about refunds still unsettled whose time has come: one the
    /// gateway never answered is sent again with the same key (within the
    /// key's lifetime), one it has is read back.
    pub(super) async fn reconcile_refunds(
        &self,
        now: OffsetDateTime,
        done: &mut Reconciled,
    ) -> Result<(), Error> {
        for (r, checks) in self.db.card_refunds().due(now, 100).await? {
            done.checked += 1;
            let Some(p) = self.db.card_payments().by_id(r.payment_id).await? else {
                continue;
            };
            let outcome = match (&r.gateway_id, &p.gateway_id) {
                (Some(id), _) => match self.gateway.get_refund(id).await {
                    Ok(gr) => self.learn_refund(&p, &r, &gr).await.map(Some),
                    Err(e) => Err(Error::Internal(e.to_string())),
                },
                (None, Some(pid)) if now - r.created_at <= super::KEY_LIFETIME => {
                    self.send_refund(&p, r.clone(), pid).await.map(Some)
                }
                // Never answered within the key's lifetime: given up, so what
                // is left of the payment can be refunded again. Should the
                // gateway have made it after all, its notification records it
                // as one made at the gateway.
                _ => self.give_up_refund(&p, &r, now).await.map(Some),
            };
            match outcome {
                Ok(Some(after)) if after.status.is_final() => {
                    done.settled += 1;
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(refund = %r.public_id, error = %e, "reconciliation could not settle a refund")
                }
            }
            match d::payments::next_check(checks, now, self.settings.give_up_after_days) {
                Some(next) => self.db.card_refunds().reschedule(r.id, checks + 1, next).await?,
                None => {
                    // Left for staff: the office shows it as still on its way.
                    self.db
                        .card_refunds()
                        .reschedule(r.id, checks + 1, now + Duration::days(1))
                        .await?
                }
            }
        }
        Ok(())
    }
}

/// The form error for a refund the payment does not allow.
fn refund_problem(p: RefundProblem) -> Error {
    let text = match p {
        RefundProblem::Amount => d::Text::new("error-refund-amount"),
        RefundProblem::TooMuch(left) => d::Text::new("error-refund-too-much").with("max", left),
        RefundProblem::NotPaid => d::Text::new("error-refund-not-paid"),
    };
    Error::Invalid(FieldErrors::single(fields::REFUND_AMOUNT, text))
}

/// An audit line written by Kabinet itself about a refund.
fn refund_entry(p: &CardPayment, r: &CardRefund, details: &str) -> d::AuditEntry {
    d::AuditEntry {
        actor: d::Actor::System,
        user_id: Some(p.user_id),
        account_id: p.shares.first().map(|s| s.account_id),
        event: d::AuditEvent::RefundSettled,
        ip: String::new(),
        user_agent: String::new(),
        details: format!("{} of {}: {details}", r.public_id, p.public_id),
    }
}
