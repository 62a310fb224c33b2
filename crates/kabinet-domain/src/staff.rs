//! The organization's staff: roles as sets of permissions, and what a staff
//! member is. Staff sign in apart from residents (their own table, sessions
//! and cookie) with a password and a second factor (TOTP).

use time::OffsetDateTime;

/// What a staff member may do: each staff page and action names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Requests of the emergency dispatch desk: the queue, replies, notes,
    /// assignment.
    DispatchRequests,
    /// Requests of the organization's own desk, the same way.
    OfficeRequests,
    /// Billing import and export (S1, S2).
    Billing,
    /// Card payments made in the portal.
    Payments,
    /// Helping residents with their sign-in and registration (S6).
    Support,
    /// Announcements and outages for residents (B2).
    Announcements,
    /// Staff members: add, reset, disable, change role.
    Staff,
    /// The organization's details and settings, the Rules, the closing.
    Settings,
    /// The audit log.
    Audit,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 9] = [
        Permission::DispatchRequests,
        Permission::OfficeRequests,
        Permission::Billing,
        Permission::Payments,
        Permission::Support,
        Permission::Announcements,
        Permission::Staff,
        Permission::Settings,
        Permission::Audit,
    ];

    /// Its name (the README's table, message ids).
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::DispatchRequests => "dispatch-requests",
            Permission::OfficeRequests => "office-requests",
            Permission::Billing => "billing",
            Permission::Payments => "payments",
            Permission::Support => "support",
            Permission::Announcements => "announcements",
            Permission::Staff => "staff",
            Permission::Settings => "settings",
            Permission::Audit => "audit",
        }
    }

    /// The permission that gives the requests of `desk`.
    pub const fn for_desk(desk: crate::requests::Desk) -> Permission {
        match desk {
            crate::requests::Desk::Dispatch => Permission::DispatchRequests,
            crate::requests::Desk::Office => Permission::OfficeRequests,
        }
    }
}

/// The most buildings one member's scope lists.
pub const MAX_BUILDINGS: usize = 200;

/// Reads a scope as typed, one address a line: trimmed, blank lines and
/// repeats dropped; `None` when a line is longer than 300 characters or
/// there are more than [`MAX_BUILDINGS`].
pub fn parse_buildings(text: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().count() > 300 {
            return None;
        }
        if !out.iter().any(|b| b == line) {
            out.push(line.to_string());
        }
    }
    (out.len() <= MAX_BUILDINGS).then_some(out)
}

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything.
    Administrator,
    /// Billing import and export, payments, residents' support.
    Accountant,
    /// The organization's desk and residents' support.
    Operator,
    /// The emergency dispatch desk.
    Dispatcher,
}

/// Which permissions each role holds: the one table the console checks.
const ROLE_PERMISSIONS: [(Role, &[Permission]); 4] = {
    use Permission as P;
    [
        (Role::Administrator, &Permission::ALL),
        (Role::Accountant, &[P::Billing, P::Payments, P::Support]),
        (Role::Operator, &[P::OfficeRequests, P::Support, P::Announcements]),
        (Role::Dispatcher, &[P::DispatchRequests, P::Announcements]),
    ]
};

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::Administrator,
        Role::Accountant,
        Role::Operator,
        Role::Dispatcher,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Accountant => "accountant",
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
        ROLE_PERMISSIONS
            .iter()
            .find(|(r, _)| *r == self)
            .map_or(&[], |(_, p)| p)
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
    /// The buildings (addresses as the billing files give them) an operator
    /// or dispatcher works; empty: every building.
    pub buildings: Vec<String>,
    /// Where alerts go (a new emergency, one not taken in time); none: no
    /// alerts by e-mail.
    pub email: Option<crate::EmailAddress>,
}

impl StaffMember {
    /// Whether the member works `building` (no buildings: all of them).
    pub fn works(&self, building: &str) -> bool {
        self.buildings.is_empty() || self.buildings.iter().any(|b| b == building)
    }
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
        for p in Permission::ALL {
            assert!(Role::Administrator.can(p), "{p:?}");
        }
        assert!(Role::Accountant.can(Permission::Billing));
        assert!(!Role::Accountant.can(Permission::OfficeRequests));
        assert!(Role::Operator.can(Permission::OfficeRequests));
        assert!(!Role::Operator.can(Permission::DispatchRequests));
        assert!(!Role::Dispatcher.can(Permission::OfficeRequests));
        assert!(!Role::Dispatcher.can(Permission::Billing));
        for r in Role::ALL {
            assert_eq!(Role::from_stored(r.as_str()), Some(r));
            assert!(!r.permissions().is_empty());
        }
        assert_eq!(
            Permission::for_desk(crate::requests::Desk::Dispatch),
            Permission::DispatchRequests
        );
    }

    #[test]
    fn a_scope_is_read_line_by_line() {
        assert_eq!(
            parse_buildings(" г. Тверь, ул. Советская, д. 10 \n\nг. Тверь, ул. Советская, д. 10\nд. 12\n"),
            Some(vec![
                "г. Тверь, ул. Советская, д. 10".to_string(),
                "д. 12".to_string()
            ])
        );
        assert_eq!(parse_buildings(""), Some(Vec::new()));
        assert_eq!(parse_buildings(&"х".repeat(301)), None);
        let many: String = (0..=MAX_BUILDINGS).map(|i| format!("д. {i}\n")).collect();
        assert_eq!(parse_buildings(&many), None);
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
