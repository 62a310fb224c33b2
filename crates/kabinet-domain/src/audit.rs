//! The audit log's vocabulary: who acted, what happened (the one list of
//! audited events), and the lines written and read back.

use crate::{AccountId, UserId};
use time::OffsetDateTime;

/// Who did something recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A resident (or someone trying to act as one).
    Resident,
    /// Staff.
    Staff,
    /// Kabinet itself or its command line.
    System,
}

impl Actor {
    /// Every actor.
    pub const ALL: [Actor; 3] = [Actor::Resident, Actor::Staff, Actor::System];

    /// Reads the stored form.
    pub fn from_stored(s: &str) -> Option<Actor> {
        Actor::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Resident => "resident",
            Actor::Staff => "staff",
            Actor::System => "system",
        }
    }
}

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident = $stored:literal,)*) => {
        /// Everything the audit log records. A new audited action adds its
        /// event here, so this is the list of what is audited.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditEvent {
            $($(#[$doc])* $name,)*
        }

        impl AuditEvent {
            /// Every event.
            pub const ALL: &'static [AuditEvent] = &[$(AuditEvent::$name,)*];

            /// Stored form (`sign_in_failed`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditEvent::$name => $stored,)*
                }
            }

            /// Parses the stored form.
            pub fn from_stored(s: &str) -> Option<AuditEvent> {
                match s {
                    $($stored => Some(AuditEvent::$name),)*
                    _ => None,
                }
            }
        }
    };
}

events! {
    /// A user was created with a one-time password.
    Registration = "registration",
    /// A registration check did not match (or named no account).
    RegistrationFailed = "registration_failed",
    /// A registration check was not made: too many failures on the account.
    RegistrationRefused = "registration_refused",
    /// The account already has a user; its resident was told.
    RegistrationRepeated = "registration_repeated",
    /// As above, but the account's mail limit was reached: nothing sent.
    RegistrationRepeatedSuppressed = "registration_repeated_suppressed",
    /// Staff cleared an account's failed registration checks.
    RegistrationUnlocked = "registration_unlocked",
    /// A sign-in (browser session or API token).
    SignIn = "sign_in",
    /// A wrong password or an unknown account.
    SignInFailed = "sign_in_failed",
    /// Refused without checking: blocked user or too many failures.
    SignInRefused = "sign_in_refused",
    /// A browser session ended by the resident.
    SignOut = "sign_out",
    /// An API token revoked by the app.
    TokenRevoked = "token_revoked",
    /// The resident's own password after a one-time one.
    PasswordSet = "password_set",
    /// A password change.
    PasswordChanged = "password_changed",
    /// A password change with a wrong current password.
    PasswordChangeFailed = "password_change_failed",
    /// A reset link was asked for (and sent, when there is a user).
    PasswordResetRequested = "password_reset_requested",
    /// A reset link was asked for beyond the account's mail limit.
    PasswordResetSuppressed = "password_reset_suppressed",
    /// A password was set with a reset link.
    PasswordReset = "password_reset",
    /// A new version of the Rules was published.
    RulesPublished = "rules_published",
    /// A resident accepted a version of the Rules.
    RulesAccepted = "rules_accepted",
    /// A new version of the personal-data consent was published.
    ConsentPublished = "consent_published",
    /// A resident gave the personal-data consent of a version.
    ConsentGiven = "consent_given",
    /// The resident changed their settings.
    SettingsChanged = "settings_changed",
    /// The resident asked to change their e-mail; a link went to the new one.
    EmailChangeRequested = "email_change_requested",
    /// The new e-mail was confirmed.
    EmailChanged = "email_changed",
    /// The resident linked another personal account.
    AccountLinked = "account_linked",
    /// Linking failed: unknown account or a wrong check value.
    AccountLinkFailed = "account_link_failed",
    /// Linking refused: too many failed checks on that account.
    AccountLinkRefused = "account_link_refused",
    /// The resident removed a linked account.
    AccountUnlinked = "account_unlinked",
    /// Linking an account with a registered resident: that resident was
    /// asked to approve.
    AccountLinkRequested = "account_link_requested",
    /// The account's resident approved a link.
    AccountLinkApproved = "account_link_approved",
    /// The account's resident declined a link.
    AccountLinkDeclined = "account_link_declined",
    /// The account's resident removed someone else's link to their account.
    AccountAccessRemoved = "account_access_removed",
    /// A resident turned a kind of message off with the link in one.
    Unsubscribed = "unsubscribed",
    /// A resident asked for a code to verify their phone.
    PhoneCodeSent = "phone_code_sent",
    /// A resident verified their phone with the code.
    PhoneVerified = "phone_verified",
    /// Staff changed (or returned to the built-in one) the text of a kind
    /// of notification on a channel in a language.
    NotifyTextChanged = "notify_text_changed",
    /// A resident linked a MAX account to the bot (the details say which).
    MaxLinked = "max_linked",
    /// A MAX account was unlinked: in Settings, by the bot's command, or
    /// the resident stopped the bot (the details say which).
    MaxUnlinked = "max_unlinked",
    /// The resident downloaded their data.
    DataDownloaded = "data_downloaded",
    /// A closing of the portal was announced or set.
    SuspensionSet = "suspension_set",
    /// The closing was lifted.
    SuspensionLifted = "suspension_lifted",
    /// The resident handed in meter readings.
    ReadingsSubmitted = "readings_submitted",
    /// The resident started a card payment.
    PaymentStarted = "payment_started",
    /// A card payment reached a final state (the details say which).
    PaymentSettled = "payment_settled",
    /// Staff started a refund of a card payment (the details say how much
    /// and why).
    RefundStarted = "refund_started",
    /// A refund reached a final state, or one made at the gateway was
    /// recorded (the details say which).
    RefundSettled = "refund_settled",
    /// A payment method was kept at the gateway for autopay.
    MethodSaved = "method_saved",
    /// The resident had a kept payment method forgotten.
    MethodForgotten = "method_forgotten",
    /// Autopay of an account was set or changed (the details say how).
    AutopayOn = "autopay_on",
    /// Autopay of an account was turned off: by the resident, or by itself
    /// after failed debits (the details say which).
    AutopayOff = "autopay_off",
    /// A staff member was added, reset, disabled, enabled or given another
    /// role (the details say which).
    StaffChanged = "staff_changed",
    /// A staff member passed the password (the second factor is next).
    StaffPassword = "staff_password",
    /// A staff member signed in (both factors).
    StaffSignIn = "staff_sign_in",
    /// A staff sign-in failed (password or second factor).
    StaffSignInFailed = "staff_sign_in_failed",
    /// A staff member enrolled a second factor.
    StaffEnrolled = "staff_enrolled",
    /// A staff member set their password.
    StaffPasswordSet = "staff_password_set",
    /// A staff member signed out.
    StaffSignOut = "staff_sign_out",
    /// A resident filed a request.
    RequestFiled = "request_filed",
    /// A request was changed: status, assignee, reply or note.
    RequestChanged = "request_changed",
    /// A resident joined a neighbour's request about common property.
    RequestJoined = "request_joined",
    /// A resident left a request they had joined.
    RequestLeft = "request_left",
    /// The organization's details were set or changed (before and after).
    OrganizationChanged = "organization_changed",
    /// The office downloaded the audit log.
    AuditExported = "audit_exported",
    /// The office changed a run-time setting (before and after).
    OrgSettingsChanged = "org_settings_changed",
    /// The office exported readings, payments or the paperless list.
    BillingExported = "billing_exported",
    /// The office uploaded a billing package to be checked.
    BillingUploaded = "billing_uploaded",
    /// The office confirmed a checked billing package for import.
    BillingImportConfirmed = "billing_import_confirmed",
    /// Support opened a resident's card (their personal data was shown).
    ResidentCardViewed = "resident_card_viewed",
    /// Support e-mailed a resident a password-reset link.
    SupportResetSent = "support_reset_sent",
    /// Support ended every session of a resident.
    SupportSessionsEnded = "support_sessions_ended",
    /// Support blocked a resident.
    ResidentBlocked = "resident_blocked",
    /// Support unblocked a resident.
    ResidentUnblocked = "resident_unblocked",
    /// Support removed a resident's link to another's account.
    SupportLinkRemoved = "support_link_removed",
    /// The office published an announcement or outage.
    AnnouncementPublished = "announcement_published",
    /// The office changed, extended or ended an announcement.
    AnnouncementChanged = "announcement_changed",
}

impl std::fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the audit log: who did what, when, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who.
    pub actor: Actor,
    /// The user, when known.
    pub user_id: Option<UserId>,
    /// The account concerned, when known.
    pub account_id: Option<AccountId>,
    /// What happened.
    pub event: AuditEvent,
    /// Client address.
    pub ip: String,
    /// Client's User-Agent, cut to 512 characters.
    pub user_agent: String,
    /// Free text (never a password or a token).
    pub details: String,
}

impl AuditEntry {
    /// A line written by Kabinet itself or its command line.
    pub fn system(
        event: AuditEvent,
        account_id: Option<AccountId>,
        details: impl Into<String>,
    ) -> AuditEntry {
        AuditEntry {
            actor: Actor::System,
            user_id: None,
            account_id,
            event,
            ip: "cli".into(),
            user_agent: String::new(),
            details: details.into(),
        }
    }
}

/// A recorded audit line as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// When.
    pub at: OffsetDateTime,
    /// Who (`resident`, `staff`, `system`).
    pub actor: String,
    /// The user, when known.
    pub user_id: Option<UserId>,
    /// The account, when known.
    pub account_id: Option<AccountId>,
    /// What happened (an [`AuditEvent`]'s stored form).
    pub event: String,
    /// Client address.
    pub ip: String,
    /// Client's User-Agent.
    pub user_agent: String,
    /// Free text.
    pub details: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_are_unique_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for e in AuditEvent::ALL {
            assert!(seen.insert(e.as_str()), "{e:?}");
            assert_eq!(AuditEvent::from_stored(e.as_str()), Some(*e));
            // The audit_log column holds 48 characters.
            assert!(e.as_str().len() <= 48);
        }
    }
}
