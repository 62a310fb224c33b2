//! Typed row identifiers, so an account id cannot be passed where a meter id is meant.

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// Identifies an organization (the portal's operator).
    OrganizationId,
    /// Identifies a payee: the legal entity and bank account money goes to.
    PayeeId,
    /// Identifies premises (a flat or a house) at an address.
    PremisesId,
    /// Identifies a personal account (лицевой счёт) row.
    AccountId,
    /// Identifies a service (cold water, heating, …).
    ServiceId,
    /// Identifies a charge line (account × period × service).
    ChargeId,
    /// Identifies an invoice (account × period).
    InvoiceId,
    /// Identifies a payment.
    PaymentId,
    /// Identifies a meter.
    MeterId,
    /// Identifies one meter reading.
    ReadingId,
    /// Identifies a resident's user (the sign-in of a personal account).
    UserId,
    /// Identifies a message in the outbox.
    OutboxId,
    /// Identifies a background job.
    JobId,
    /// Identifies a resident's session (a cookie or an API token).
    SessionId,
    /// Identifies a card payment (internally; residents see its public id).
    CardPaymentId,
    /// Identifies a request to the organization; its number for residents.
    RequestId,
    /// Identifies a line in a request's history.
    RequestEventId,
    /// Identifies a staff member.
    StaffId,
    /// Identifies a staff member's session.
    StaffSessionId,
    /// Identifies a resident's request to see an account another resident holds.
    LinkRequestId,
    /// Identifies one import or export run.
    ExchangeRunId,
    /// Identifies a billing package uploaded in the office.
    ImportId,
);
