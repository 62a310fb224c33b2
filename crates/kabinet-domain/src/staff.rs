//! The organization's staff: roles as sets of permissions, and what a staff
//! member is. Staff sign in apart from residents (their own table, sessions
//! and cookie) with a password and a second factor (TOTP).

use time::OffsetDateTime;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See requests, their photos and history.
    ReadRequests,
    /// Take, complete, defer, decline and close requests; reply to residents.
    ManageRequests,
    /// Read and write internal notes (never shown to residents).
    InternalNotes,
    /// Assign a request to a colleague.
    Assign,
    /// Load billing data (later).
    Import,
    /// Change the organization's settings (later).
    Settings,
    /// Help residents with their sign-in (later).
    Support,
}

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything.
    Administrator,
    /// The office: requests, notes, assignment and residents' support.
    Operator,
    /// The dispatch service: requests and notes.
    Dispatcher,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Administrator, Role::Operator, Role::Dispatcher];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Operator => "operator",
            Role::Dispatcher => "dispatcher",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permissions the role holds.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission as P;
        match self {
            Role::Administrator => &[
                P::ReadRequests,
                P::ManageRequests,
                P::InternalNotes,
                P::Assign,
                P::Import,
                P::Settings,
                P::Support,
            ],
            Role::Operator => &[
                P::ReadRequests,
                P::ManageRequests,
                P::InternalNotes,
                P::Assign,
                P::Support,
            ],
            Role::Dispatcher => &[P::ReadRequests, P::ManageRequests, P::InternalNotes, P::Assign],
        }
    }

    /// Whether the role holds `p`.
    pub fn can(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

/// A staff member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// Row id.
    pub id: crate::StaffId,
    /// What they sign in with.
    pub login: String,
    /// Their name, shown to colleagues (residents see only the desk).
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Argon2id hash of the password.
    pub password_hash: String,
    /// The password was generated and must be replaced at the next sign-in.
    pub password_generated: bool,
    /// The TOTP secret, sealed with a key derived from the server key
    /// (an older install's unsealed base32 secret is sealed at the next
    /// sign-in), once enrolment was confirmed.
    pub totp_secret: Option<String>,
    /// Whether enrolment was confirmed with a code.
    pub totp_enabled: bool,
    /// The last TOTP time step accepted (a code is never taken twice).
    pub totp_last_step: i64,
    /// When a generated password stops working (72 h after it was made).
    pub password_expires_at: Option<OffsetDateTime>,
    /// Signing in is refused.
    pub disabled: bool,
    /// Failed sign-ins in the current window.
    pub failures: crate::Counter,
    /// When the row was made.
    pub created_at: OffsetDateTime,
}

/// How far a staff session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffStage {
    /// The password was right; the second factor (or its enrolment) is due.
    SecondFactor,
    /// Both factors passed, but the generated password must be replaced.
    SetPassword,
    /// Signed in.
    Ready,
}

impl StaffStage {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            StaffStage::SecondFactor => "second_factor",
            StaffStage::SetPassword => "set_password",
            StaffStage::Ready => "ready",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<StaffStage> {
        [
            StaffStage::SecondFactor,
            StaffStage::SetPassword,
            StaffStage::Ready,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A staff session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// Row id.
    pub id: crate::StaffSessionId,
    /// Whose.
    pub staff_id: crate::StaffId,
    /// How far sign-in has come.
    pub stage: StaffStage,
    /// When it began.
    pub created_at: OffsetDateTime,
    /// The last request seen (noted at most once a minute).
    pub last_seen_at: OffsetDateTime,
    /// It ends then whatever happens.
    pub expires_at: OffsetDateTime,
    /// The TOTP secret shown on this session's enrolment page, sealed,
    /// until a code proves it (then it becomes the member's).
    pub pending_secret: Option<String>,
}

/// The time step of a TOTP code at `unix` seconds (30 s steps).
pub const fn totp_step(unix: i64) -> i64 {
    unix.div_euclid(30)
}

/// Which recent step a code may be for: the current one, or one either side
/// (clocks drift), but never one at or before the last step accepted.
pub fn totp_candidate_steps(now_step: i64, last_accepted: i64) -> impl Iterator<Item = i64> {
    [now_step - 1, now_step, now_step + 1]
        .into_iter()
        .filter(move |s| *s > last_accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_hold_their_permissions() {
        assert!(Role::Administrator.can(Permission::Settings));
        assert!(!Role::Dispatcher.can(Permission::Import));
        assert!(Role::Dispatcher.can(Permission::InternalNotes));
        for r in Role::ALL {
            assert_eq!(Role::from_stored(r.as_str()), Some(r));
            assert!(r.can(Permission::ReadRequests));
        }
    }

    #[test]
    fn a_step_is_never_taken_twice() {
        let steps: Vec<i64> = totp_candidate_steps(100, 0).collect();
        assert_eq!(steps, vec![99, 100, 101]);
        let steps: Vec<i64> = totp_candidate_steps(100, 100).collect();
        assert_eq!(steps, vec![101]);
        assert_eq!(totp_step(59), 1);
    }
}
