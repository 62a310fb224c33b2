//! Refunds of card payments: where a refund stands, and which accounts a
//! refund takes its money back from.
//!
//! A payment's refunds are laid over its shares in order, then over the fee:
//! the first refunds come out of the first account's share, and only a
//! refund reaching past every share returns the fee (never credited, so it
//! is not taken back from an account either). Whatever the order refunds
//! arrive in, the accounts together give back exactly what was refunded of
//! the shares.

use crate::Kopecks;
use crate::payments::Share;

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Written by us; the gateway may not know it yet.
    Created,
    /// The gateway has it and the bank is processing it.
    Pending,
    /// The money went back to the payer.
    Succeeded,
    /// The gateway or the bank refused it.
    Canceled,
}

impl RefundStatus {
    /// Every status.
    pub const ALL: [RefundStatus; 4] = [
        RefundStatus::Created,
        RefundStatus::Pending,
        RefundStatus::Succeeded,
        RefundStatus::Canceled,
    ];

    /// The stored name (YooKassa's, with our `created`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Created => "created",
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Canceled => "canceled",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<RefundStatus> {
        RefundStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether nothing more will change.
    pub const fn is_final(self) -> bool {
        matches!(self, RefundStatus::Succeeded | RefundStatus::Canceled)
    }

    /// The states a refund may move to `self` from.
    pub const fn predecessors(self) -> &'static [RefundStatus] {
        use RefundStatus as S;
        match self {
            S::Created => &[],
            S::Pending => &[S::Created],
            S::Succeeded | S::Canceled => &[S::Created, S::Pending],
        }
    }
}

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRefund {
    /// Row id.
    pub id: i64,
    /// Our id (the idempotence key at the gateway).
    pub public_id: String,
    /// The payment refunded.
    pub payment_id: crate::CardPaymentId,
    /// The gateway's id, once known.
    pub gateway_id: Option<String>,
    /// Where it stands.
    pub status: RefundStatus,
    /// How much.
    pub amount: Kopecks,
    /// Why, in staff's words (or that it was made at the gateway).
    pub reason: String,
    /// Who started it (none: made in the gateway's own dashboard).
    pub staff_id: Option<i64>,
    /// Why the gateway refused it.
    pub failure: Option<String>,
    /// When it was started.
    pub created_at: time::OffsetDateTime,
    /// When it settled.
    pub settled_at: Option<time::OffsetDateTime>,
}

/// The accounts' parts of a refund of `amount` after `before` was refunded
/// already: the stretch `[before, before + amount)` laid over the shares in
/// order. What falls past the shares is the fee and belongs to no account.
pub fn allocate(shares: &[Share], before: Kopecks, amount: Kopecks) -> Vec<(crate::AccountId, Kopecks)> {
    let (start, end) = (before.get(), before.get() + amount.get());
    let mut at = 0i64;
    let mut out = Vec::new();
    for s in shares {
        let (from, to) = (at, at + s.amount.get());
        at = to;
        let part = end.min(to) - start.max(from);
        if part > 0 {
            out.push((s.account_id, Kopecks(part)));
        }
    }
    out
}

/// Why a refund of `amount` cannot be made of a payment of `paid` of which
/// `taken` is refunded or on its way back already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundProblem {
    /// Not a positive amount.
    Amount,
    /// More than is left to refund (`left`).
    TooMuch(Kopecks),
    /// The payment was not paid (or was a test).
    NotPaid,
}

/// Checks a refund against what is left of the payment.
pub fn check(amount: Kopecks, paid: Kopecks, taken: Kopecks) -> Result<(), RefundProblem> {
    if amount <= Kopecks::ZERO {
        return Err(RefundProblem::Amount);
    }
    let left = paid - taken;
    if amount > left {
        return Err(RefundProblem::TooMuch(left.max(Kopecks::ZERO)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;

    fn share(id: i64, k: i64) -> Share {
        Share {
            account_id: AccountId(id),
            account: id.to_string(),
            amount: Kopecks(k),
        }
    }

    #[test]
    fn refunds_are_laid_over_the_shares_in_order() {
        let shares = [share(1, 1_000), share(2, 500)];
        assert_eq!(
            allocate(&shares, Kopecks::ZERO, Kopecks(1_500)),
            vec![(AccountId(1), Kopecks(1_000)), (AccountId(2), Kopecks(500))]
        );
        assert_eq!(
            allocate(&shares, Kopecks::ZERO, Kopecks(300)),
            vec![(AccountId(1), Kopecks(300))]
        );
        assert_eq!(
            allocate(&shares, Kopecks(300), Kopecks(900)),
            vec![(AccountId(1), Kopecks(700)), (AccountId(2), Kopecks(200))]
        );
        // The fee (past the shares) belongs to no account.
        assert_eq!(
            allocate(&shares, Kopecks(1_400), Kopecks(130)),
            vec![(AccountId(2), Kopecks(100))]
        );
        assert!(allocate(&shares, Kopecks(1_500), Kopecks(30)).is_empty());
    }

    #[test]
    fn a_refund_takes_at_most_what_is_left() {
        assert_eq!(check(Kopecks(100), Kopecks(1_000), Kopecks(900)), Ok(()));
        assert_eq!(
            check(Kopecks(101), Kopecks(1_000), Kopecks(900)),
            Err(RefundProblem::TooMuch(Kopecks(100)))
        );
        assert_eq!(
            check(Kopecks::ZERO, Kopecks(1_000), Kopecks::ZERO),
            Err(RefundProblem::Amount)
        );
        assert_eq!(RefundStatus::from_stored("pending"), Some(RefundStatus::Pending));
        assert!(RefundStatus::Succeeded.is_final() && !RefundStatus::Created.is_final());
    }
}
