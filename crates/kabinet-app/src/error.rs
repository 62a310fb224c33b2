//! Why a use case did not go through: one error type for every use case,
//! which the web layer turns into a page or a problem document in one place.
//! What a person is told is [`Error::text`], a message id rendered in their
//! language; `Display` is for the log.

use crate::FieldErrors;
use crate::auth::HashError;
use kabinet_db::DbError;
use kabinet_domain::Text;

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input has mistakes (shown next to the fields).
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// Wrong account or password, or sign-in refused for now; deliberately
    /// one message for every such case.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The password was right but staff blocked the resident: they are told
    /// to contact the organization.
    #[error("resident blocked")]
    Blocked,
    /// The one-time password was right but is past its 72 hours.
    #[error("one-time password expired")]
    OneTimePasswordExpired,
    /// A staff member's one-time password was right but is past its 72 hours.
    #[error("staff one-time password expired")]
    StaffPasswordExpired,
    /// The reset link is unknown, used or expired.
    #[error("invalid reset token")]
    InvalidResetToken,
    /// The Rules version accepted is not the one in force.
    #[error("stale Rules version")]
    StaleRules,
    /// The personal-data consent version given is not the one in force.
    #[error("stale consent version")]
    StaleConsent,
    /// The resident signed in with a one-time password and must set their own
    /// before anything else.
    #[error("own password not set")]
    PasswordNotSet,
    /// Readings were not taken: every value refused or to confirm.
    #[error("readings refused")]
    Readings(Box<crate::readings::Refused>),
    /// There is no such record, or it is not the resident's (the same answer).
    #[error("not found")]
    NotFound,
    /// The payment gateway refused the payment.
    #[error("payment refused by the gateway")]
    PaymentRefused,
    /// The gateway refused to make a refund.
    #[error("refund refused by the gateway")]
    RefundRefused,
    /// The payment gateway did not answer; the outcome is settled later.
    #[error("payment gateway unavailable")]
    GatewayUnavailable,
    /// Card payments are not set up on this installation.
    #[error("card payments are not set up")]
    CardPaymentsOff,
    /// The resident started too many payments in the last hour.
    #[error("too many payments")]
    TooManyPayments,
    /// A second-factor code was wrong, used already, or came too often.
    #[error("invalid second-factor code")]
    InvalidCode,
    /// A limit on how often something may be done was reached; says which.
    #[error("too many requests: {}", .0.id())]
    TooManyRequests(Text),
    /// Too many photos are being processed right now; try again shortly.
    #[error("photo processing busy")]
    Busy,
    /// A photo was refused (type, size, damage); says why.
    #[error("photo refused: {}", .0.id())]
    Photo(Text),
    /// The change is not possible in the record's state (or someone changed
    /// it first); says why.
    #[error("conflict: {}", .0.id())]
    Conflict(Text),
    /// The request is not allowed from where it came.
    #[error("forbidden")]
    Forbidden,
    /// The database failed; details go to the log.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Password hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Something else inside failed (a receipt template, a worker thread).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// What the person is told, in any language.
    pub fn text(&self) -> Text {
        match self {
            Error::Invalid(_) => Text::new("error-invalid"),
            Error::InvalidCredentials => Text::new("error-credentials"),
            Error::Blocked => Text::new("error-resident-blocked"),
            Error::OneTimePasswordExpired => Text::new("error-one-time-password-expired"),
            Error::StaffPasswordExpired => Text::new("error-staff-password-expired"),
            Error::InvalidResetToken => Text::new("error-reset-token"),
            Error::StaleRules => Text::new("error-stale-rules"),
            Error::StaleConsent => Text::new("error-stale-consent"),
            Error::PasswordNotSet => Text::new("error-password-not-set"),
            Error::Readings(_) => Text::new("error-readings"),
            Error::NotFound => Text::new("error-not-found"),
            Error::PaymentRefused => Text::new("error-payment-refused"),
            Error::RefundRefused => Text::new("error-refund-refused"),
            Error::GatewayUnavailable => Text::new("error-gateway-unavailable"),
            Error::CardPaymentsOff => Text::new("error-card-payments-off"),
            Error::TooManyPayments => Text::new("error-too-many-payments"),
            Error::InvalidCode => Text::new("error-code"),
            Error::TooManyRequests(t) | Error::Photo(t) | Error::Conflict(t) => t.clone(),
            Error::Busy => Text::new("error-photos-busy"),
            Error::Forbidden => Text::new("error-forbidden"),
            Error::Db(_) | Error::Hash(_) | Error::Internal(_) => Text::new("error-internal"),
        }
    }
}
