//! What the running portal tells its operator: the counters the use cases
//! keep (sign-in failures, receipt renders, settled card payments) through
//! the `metrics` facade, and the figures read from the database at a
//! scrape ([`Ops::figures`]). The web layer owns the Prometheus recorder and
//! serves `/metrics`; without a recorder the counters cost nothing.

use crate::Error;
use kabinet_db::Db;
use kabinet_db::ops::OpsFigures;
use std::time::Duration;

/// Failed sign-ins, by who tried (`resident`, `staff`) and why.
pub const SIGN_IN_FAILURES: &str = "kabinet_sign_in_failures_total";
/// Receipts rendered, by outcome (`ok`, `failed`).
pub const RECEIPT_RENDERS: &str = "kabinet_receipt_renders_total";
/// How long a receipt took to render.
pub const RECEIPT_RENDER_SECONDS: &str = "kabinet_receipt_render_seconds";
/// Card payments settled by this process, by final status.
pub const CARD_PAYMENTS_SETTLED: &str = "kabinet_card_payments_settled_total";

/// Who tried to sign in.
#[derive(Debug, Clone, Copy)]
pub enum Who {
    /// A resident (page or API).
    Resident,
    /// A staff member.
    Staff,
}

/// Counts a refused sign-in.
pub(crate) fn sign_in_failed(who: Who, e: &Error) {
    let reason = match e {
        Error::InvalidCredentials => "credentials",
        Error::OneTimePasswordExpired | Error::StaffPasswordExpired => "expired",
        Error::Blocked => "blocked",
        Error::TooManyRequests(_) => "throttled",
        // A database or internal failure is no sign-in failure.
        _ => return,
    };
    let who = match who {
        Who::Resident => "resident",
        Who::Staff => "staff",
    };
    metrics::counter!(SIGN_IN_FAILURES, "who" => who, "reason" => reason).increment(1);
}

/// Counts a receipt render and its time.
pub(crate) fn receipt_rendered(took: Duration, ok: bool) {
    let outcome = if ok { "ok" } else { "failed" };
    metrics::counter!(RECEIPT_RENDERS, "outcome" => outcome).increment(1);
    if ok {
        metrics::histogram!(RECEIPT_RENDER_SECONDS).record(took.as_secs_f64());
    }
}

/// Counts a card payment this process settled (a test payment apart).
pub(crate) fn card_payment_settled(status: &'static str, test: bool) {
    let test = if test { "true" } else { "false" };
    metrics::counter!(CARD_PAYMENTS_SETTLED, "status" => status, "test" => test).increment(1);
}

/// The operator's use cases.
#[derive(Clone)]
pub struct Ops {
    db: Db,
    token: Option<String>,
}

impl Ops {
    /// Reads from `db`; `/metrics` on the main listener wants `token`.
    pub fn new(db: Db, token: Option<String>) -> Ops {
        Ops {
            db,
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// Whether the main listener serves `/metrics` (a token is set).
    pub fn served(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `bearer` is the configured token (compared in constant time).
    pub fn allows(&self, bearer: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        match (&self.token, bearer) {
            (Some(token), Some(given)) => token.as_bytes().ct_eq(given.as_bytes()).into(),
            _ => false,
        }
    }

    /// The database's figures now.
    pub async fn figures(&self) -> Result<OpsFigures, Error> {
        Ok(self.db.ops().figures(time::OffsetDateTime::now_utc()).await?)
    }
}
