//! Card payments made through a payment gateway: the states a payment goes
//! through, which moves between them are allowed, and when a payment the
//! gateway has not settled is asked about again.
//!
//! A payment only ever moves forward: `created` (our row exists, the gateway
//! may not know it yet) → `pending` (the gateway has it; the resident is on
//! its page) → `succeeded` | `canceled` | `failed`. `expired` is our own
//! verdict on a payment the gateway never settled; the gateway's word still
//! wins over it, so a late success is recorded and no money is lost.

use crate::Kopecks;
use time::{Duration, OffsetDateTime};

/// Where a card payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardPaymentStatus {
    /// Written by us; the gateway has not (yet) confirmed it created it.
    Created,
    /// The gateway has it and waits for the resident (or for the bank).
    Pending,
    /// Paid: the money is the organization's.
    Succeeded,
    /// The resident or the bank declined it, or it timed out at the gateway.
    Canceled,
    /// The gateway refused to create it.
    Failed,
    /// Never settled after every reconciliation attempt.
    Expired,
}

impl CardPaymentStatus {
    /// Every status, in order.
    pub const ALL: [CardPaymentStatus; 6] = [
        CardPaymentStatus::Created,
        CardPaymentStatus::Pending,
        CardPaymentStatus::Succeeded,
        CardPaymentStatus::Canceled,
        CardPaymentStatus::Failed,
        CardPaymentStatus::Expired,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CardPaymentStatus::Created => "created",
            CardPaymentStatus::Pending => "pending",
            CardPaymentStatus::Succeeded => "succeeded",
            CardPaymentStatus::Canceled => "canceled",
            CardPaymentStatus::Failed => "failed",
            CardPaymentStatus::Expired => "expired",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<CardPaymentStatus> {
        CardPaymentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether nothing more is expected of the gateway: the return page stops
    /// refreshing and reconciliation leaves it alone.
    pub const fn is_final(self) -> bool {
        !matches!(self, CardPaymentStatus::Created | CardPaymentStatus::Pending)
    }

    /// The states a payment may move to `self` from. Moves go only forward;
    /// `expired` (our guess) may still become what the gateway says.
    pub const fn predecessors(self) -> &'static [CardPaymentStatus] {
        use CardPaymentStatus as S;
        match self {
            S::Created => &[],
            S::Pending => &[S::Created],
            S::Succeeded | S::Canceled => &[S::Created, S::Pending, S::Expired],
            S::Failed => &[S::Created],
            S::Expired => &[S::Created, S::Pending],
        }
    }

    /// Whether a payment in `self` may move to `to`.
    pub fn may_become(self, to: CardPaymentStatus) -> bool {
        to.predecessors().contains(&self)
    }
}

/// What a gateway says of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayState {
    /// Waiting for the payer.
    Pending,
    /// Authorized and waiting to be captured (not used with automatic
    /// capture, but a gateway may report it).
    WaitingForCapture,
    /// Paid.
    Succeeded,
    /// Not paid, and it will not be.
    Canceled,
}

impl GatewayState {
    /// The status this makes of ours: money held for capture is not paid yet.
    pub const fn status(self) -> CardPaymentStatus {
        match self {
            GatewayState::Pending | GatewayState::WaitingForCapture => CardPaymentStatus::Pending,
            GatewayState::Succeeded => CardPaymentStatus::Succeeded,
            GatewayState::Canceled => CardPaymentStatus::Canceled,
        }
    }
}

/// A card payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPayment {
    /// Row id.
    pub id: crate::CardPaymentId,
    /// The id residents and the gateway see (in URLs, the gateway's metadata
    /// and as the idempotence key).
    pub public_id: String,
    /// Who pays.
    pub user_id: crate::UserId,
    /// The provider (`yookassa`, `sandbox`).
    pub gateway: String,
    /// The gateway's id, once known.
    pub gateway_id: Option<String>,
    /// Where it stands.
    pub status: CardPaymentStatus,
    /// The whole amount.
    pub amount: Kopecks,
    /// What the payer sees at the gateway.
    pub description: String,
    /// Where the fiscal receipt goes.
    pub email: Option<String>,
    /// The gateway's page for the payer.
    pub confirmation_url: Option<String>,
    /// The card, masked.
    pub card: Option<String>,
    /// Why it failed or was canceled.
    pub failure: Option<String>,
    /// When the resident started it.
    pub created_at: OffsetDateTime,
    /// When it settled.
    pub settled_at: Option<OffsetDateTime>,
    /// When reconciliation asks the gateway next.
    pub next_check_at: Option<OffsetDateTime>,
    /// How often reconciliation has asked.
    pub checks: u32,
    /// A test payment (the sandbox, or the gateway's test mode): no money
    /// moved, so it is never credited to an account nor exported to billing.
    pub test: bool,
    /// The accounts paid for.
    pub shares: Vec<Share>,
    /// The method the resident chose (none: the gateway's page offered its own).
    pub method: Option<crate::payment_methods::PayMethod>,
    /// The fee paid on top of the shares (part of `amount`, never credited).
    pub fee: Kopecks,
    /// How much of it was refunded.
    pub refunded: Kopecks,
    /// The resident asked the gateway to keep the method (for autopay).
    pub save_method: bool,
    /// The kept method that pays it (an autopay debit), by row id.
    pub saved_method_id: Option<i64>,
}

/// One account's part of a card payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The account.
    pub account_id: crate::AccountId,
    /// Its number.
    pub account: String,
    /// Its amount.
    pub amount: Kopecks,
}

impl CardPayment {
    /// What the accounts were paid: the amount without the fee.
    pub fn shares_total(&self) -> Kopecks {
        self.amount - self.fee
    }

    /// Why the gateway canceled it, as one of its documented reasons
    /// (`insufficient_funds`, …), for a message in the resident's words.
    pub fn cancellation_reason(&self) -> Option<&'static str> {
        let stored = self.failure.as_deref()?;
        let reason = stored.rsplit(": ").next()?.trim();
        CANCELLATION_REASONS.iter().copied().find(|r| *r == reason)
    }

    /// The id of the payment row one share is credited as (unique per
    /// source): the public id and the account number.
    pub fn credit_id(&self, share: &Share) -> String {
        format!("{}/{}", self.public_id, share.account)
    }
}

/// The reasons a gateway gives for a canceled payment (YooKassa's
/// `cancellation_details.reason`), each shown in words; another reason is
/// shown as "declined".
pub const CANCELLATION_REASONS: &[&str] = &[
    "3d_secure_failed",
    "call_issuer",
    "canceled_by_merchant",
    "card_expired",
    "country_forbidden",
    "deal_expired",
    "expired_on_capture",
    "expired_on_confirmation",
    "fraud_suspected",
    "general_decline",
    "identification_required",
    "insufficient_funds",
    "internal_timeout",
    "invalid_card_number",
    "invalid_csc",
    "issuer_unavailable",
    "payment_method_limit_exceeded",
    "payment_method_restricted",
    "permission_revoked",
    "unsupported_mobile_operator",
];

/// The smallest amount one can pay for an account (1 ₽).
pub const MIN_SHARE: Kopecks = Kopecks(100);

/// Why an amount cannot be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountProblem {
    /// Not a number of roubles and kopecks.
    #[error("not an amount")]
    Malformed,
    /// Less than [`MIN_SHARE`].
    #[error("less than 1 rouble")]
    TooSmall,
    /// More than the organization accepts in one payment.
    #[error("more than the largest payment")]
    TooLarge,
}

/// Parses what a resident typed as the amount for one account (`1 234,56`,
/// `1234.5`, `500`) and checks it against the smallest share and `max`.
pub fn parse_share(text: &str, max: Kopecks) -> Result<Kopecks, AmountProblem> {
    let k = Kopecks::parse(text).map_err(|e| match e {
        crate::KopecksError::TooLarge => AmountProblem::TooLarge,
        _ => AmountProblem::Malformed,
    })?;
    if k.is_negative() || k < MIN_SHARE {
        return Err(AmountProblem::TooSmall);
    }
    if k > max {
        return Err(AmountProblem::TooLarge);
    }
    Ok(k)
}

/// One account's line of the payment form, as typed.
#[derive(Debug, Clone, Copy)]
pub struct TypedShare<'a> {
    /// The account number.
    pub account: &'a str,
    /// The amount (empty: this account is not paid for).
    pub amount: &'a str,
}

/// A share that passed [`check_shares`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedShare {
    /// The account.
    pub account: crate::AccountId,
    /// Its number, for the description and the audit.
    pub number: crate::AccountNumber,
    /// The amount.
    pub amount: Kopecks,
}

/// What is wrong with a payment form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharesProblem {
    /// A number that is not one of the payer's accounts (a forged form).
    UnknownAccount,
    /// Every problem of the amounts, in form order.
    Amounts(Vec<ShareProblem>),
}

/// One problem of the amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareProblem {
    /// The same account appears twice.
    Twice(crate::AccountNumber),
    /// The amount for an account cannot be paid.
    Amount(crate::AccountNumber, AmountProblem),
    /// Nothing to pay.
    Nothing,
    /// The sum is over the largest payment.
    TotalTooLarge,
}

/// Checks a payment form against the payer's accounts (`linked`) and the
/// largest payment `max`: the shares to pay, or every problem at once.
/// Lines with an empty amount are skipped.
pub fn check_shares(
    linked: &[(crate::AccountId, crate::AccountNumber)],
    input: &[TypedShare<'_>],
    max: Kopecks,
) -> Result<Vec<CheckedShare>, SharesProblem> {
    let mut shares: Vec<CheckedShare> = Vec::new();
    let mut problems = Vec::new();
    for s in input {
        let text = s.amount.trim();
        if text.is_empty() {
            continue;
        }
        let Some((id, number)) = crate::AccountNumber::parse(s.account.trim())
            .ok()
            .and_then(|n| linked.iter().find(|(_, l)| *l == n))
        else {
            return Err(SharesProblem::UnknownAccount);
        };
        if shares.iter().any(|c| c.account == *id) {
            problems.push(ShareProblem::Twice(number.clone()));
            continue;
        }
        match parse_share(text, max) {
            Ok(amount) => shares.push(CheckedShare {
                account: *id,
                number: number.clone(),
                amount,
            }),
            Err(p) => problems.push(ShareProblem::Amount(number.clone(), p)),
        }
    }
    if shares.is_empty() && problems.is_empty() {
        problems.push(ShareProblem::Nothing);
    }
    if problems.is_empty() && Kopecks::sum(shares.iter().map(|c| c.amount)) > max {
        problems.push(ShareProblem::TotalTooLarge);
    }
    if problems.is_empty() {
        Ok(shares)
    } else {
        Err(SharesProblem::Amounts(problems))
    }
}

/// The longest payment description the gateway takes (YooKassa: 128).
pub const MAX_DESCRIPTION_CHARS: usize = 128;

/// What a card payment is called at the gateway: the purpose the payer's
/// bank shows and the organization's accountant reconciles by. Always in
/// Russian, whatever the payer reads the portal in: it is a payment
/// document's text, like the receipt QR's purpose, not a page's.
pub fn gateway_description(numbers: &[crate::AccountNumber]) -> String {
    let numbers: Vec<&str> = numbers.iter().map(crate::AccountNumber::as_str).collect();
    format!("Оплата ЖКУ, лицевой счёт {}", numbers.join(", "))
        .chars()
        .take(MAX_DESCRIPTION_CHARS)
        .collect()
}

/// The name of one account's item on the fiscal receipt (54-ФЗ): in
/// Russian, as the fiscal documents are.
pub fn receipt_item_name(account: &str) -> String {
    format!("Жилищно-коммунальные услуги, лицевой счёт {account}")
}

/// The fee's line on the fiscal receipt, in Russian as the fiscal
/// documents are.
pub const RECEIPT_FEE_NAME: &str = "Комиссия за приём платежа";

/// A refund's line on the fiscal receipt.
pub const RECEIPT_REFUND_NAME: &str = "Возврат оплаты жилищно-коммунальных услуг";

/// What a payment of `shares` costs by `method` with `fee`.
pub fn quote_shares(
    shares: &[CheckedShare],
    method: crate::payment_methods::PayMethod,
    fee: crate::payment_methods::Fee,
) -> crate::payment_methods::Quote {
    crate::payment_methods::quote(method, fee, Kopecks::sum(shares.iter().map(|s| s.amount)))
}

/// When reconciliation asks the gateway about an unsettled payment again,
/// having asked `checks` times already: after 5 minutes, then an hour, then
/// daily; `None` once `give_up_after_days` daily checks are spent, when the
/// payment is marked expired.
pub fn next_check(checks: u32, now: OffsetDateTime, give_up_after_days: u32) -> Option<OffsetDateTime> {
    let wait = match checks {
        0 => Duration::minutes(5),
        1 => Duration::hours(1),
        n if n < 2 + give_up_after_days => Duration::days(1),
        _ => return None,
    };
    Some(now + wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CardPaymentStatus as S;

    #[test]
    fn moves_only_forward() {
        for from in S::ALL {
            for to in S::ALL {
                let allowed = from.may_become(to);
                if from == to {
                    assert!(!allowed, "{from:?} to itself");
                }
                if matches!(from, S::Succeeded | S::Canceled | S::Failed) {
                    assert!(!allowed, "{from:?} is settled, yet may become {to:?}");
                }
                if to == S::Created {
                    assert!(!allowed, "nothing goes back to created");
                }
            }
        }
        assert!(S::Created.may_become(S::Pending));
        assert!(S::Pending.may_become(S::Succeeded));
        assert!(
            S::Created.may_become(S::Succeeded),
            "a notification may beat our own create call"
        );
        assert!(
            S::Expired.may_become(S::Succeeded),
            "the gateway's success wins over our guess"
        );
        assert!(
            !S::Pending.may_become(S::Failed),
            "a payment the gateway has cannot fail to be created"
        );
        assert!(!S::Succeeded.may_become(S::Canceled));
    }

    #[test]
    fn stored_names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::from_stored(s.as_str()), Some(s));
        }
        assert_eq!(S::from_stored("paid"), None);
    }

    #[test]
    fn shares_are_checked() {
        let max = Kopecks::from_rubles(100_000, 0);
        assert_eq!(parse_share("1 234,56", max), Ok(Kopecks(123_456)));
        assert_eq!(parse_share("1", max), Ok(Kopecks(100)));
        assert_eq!(parse_share("0,99", max), Err(AmountProblem::TooSmall));
        assert_eq!(parse_share("-5", max), Err(AmountProblem::TooSmall));
        assert_eq!(parse_share("abc", max), Err(AmountProblem::Malformed));
        assert_eq!(parse_share("1,234", max), Err(AmountProblem::Malformed));
        assert_eq!(parse_share("100000,01", max), Err(AmountProblem::TooLarge));
        assert_eq!(
            parse_share("99999999999999999999", max),
            Err(AmountProblem::TooLarge)
        );
    }

    #[test]
    fn checks_back_off_then_give_up() {
        let t = time::macros::datetime!(2026-11-26 10:00 UTC);
        assert_eq!(next_check(0, t, 3), Some(t + Duration::minutes(5)));
        assert_eq!(next_check(1, t, 3), Some(t + Duration::hours(1)));
        assert_eq!(next_check(2, t, 3), Some(t + Duration::days(1)));
        assert_eq!(next_check(4, t, 3), Some(t + Duration::days(1)));
        assert_eq!(next_check(5, t, 3), None);
        assert_eq!(next_check(2, t, 0), None);
    }

    #[test]
    fn shares_are_checked_all_at_once() {
        let n = |s: &str| crate::AccountNumber::parse(s).unwrap();
        let linked = vec![(crate::AccountId(1), n("1001")), (crate::AccountId(2), n("1002"))];
        let max = Kopecks(10_000_000);
        let line = |account, amount| TypedShare { account, amount };
        let ok = check_shares(&linked, &[line("1001", "100"), line("1002", " ")], max).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(
            (ok[0].account, ok[0].amount),
            (crate::AccountId(1), Kopecks(10_000))
        );
        assert_eq!(
            check_shares(&linked, &[line("1001", "5"), line("9999", "100")], max),
            Err(SharesProblem::UnknownAccount)
        );
        assert_eq!(
            check_shares(
                &linked,
                &[line("1001", "5"), line("1001", "6"), line("1002", "0,5")],
                max
            ),
            Err(SharesProblem::Amounts(vec![
                ShareProblem::Twice(n("1001")),
                ShareProblem::Amount(n("1002"), AmountProblem::TooSmall),
            ]))
        );
        assert_eq!(
            check_shares(&linked, &[line("1001", "")], max),
            Err(SharesProblem::Amounts(vec![ShareProblem::Nothing]))
        );
        assert_eq!(
            check_shares(&linked, &[line("1001", "60000"), line("1002", "50000")], max),
            Err(SharesProblem::Amounts(vec![ShareProblem::TotalTooLarge]))
        );
    }

    #[test]
    fn the_gateway_description_names_the_accounts_within_its_limit() {
        let n = |s: &str| crate::AccountNumber::parse(s).unwrap();
        assert_eq!(
            gateway_description(&[n("1001"), n("1002")]),
            "Оплата ЖКУ, лицевой счёт 1001, 1002"
        );
        let many: Vec<_> = (0..20).map(|i| n(&format!("71000000{i:02}"))).collect();
        assert_eq!(gateway_description(&many).chars().count(), MAX_DESCRIPTION_CHARS);
    }
}
