//! The guards of the signed-in route groups. The resident group's
//! [`require_resident`] layer runs before every handler in it, so a page there
//! cannot forget the check: without a session it sends to sign-in, a resident
//! who must set a password, accept new Rules or give a new consent is sent
//! there first. Handlers
//! take the checked resident with the [`ResidentPage`] extractor, which
//! applies the same rule on its own.

use crate::http::context::Ctx;
use crate::paths;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use kabinet_app::auth::{Principal, Resident, Step};
use kabinet_app::staff::{StaffPrincipal, StaffUser};
use kabinet_domain::staff::{Permission, Role, StaffStage};

/// Where a signed-in resident goes next: the step to take, or the cabinet.
pub(crate) fn next_page(p: &Principal) -> &'static str {
    match p.next_step() {
        Step::SetPassword => paths::PASSWORD_NEW,
        Step::AcceptRules => paths::RULES_ACCEPT,
        Step::AcceptConsent => paths::CONSENT_ACCEPT,
        Step::Ready => paths::CABINET,
    }
}

/// The resident of a page request, or the page to go to instead.
fn resident_of(parts: &Parts) -> Result<Resident, &'static str> {
    let principal = parts.extensions.get::<Ctx>().and_then(|c| c.principal.clone());
    match principal {
        None => Err(paths::LOGIN),
        Some(p) => {
            let to = next_page(&p);
            p.resident().map_err(|_| to)
        }
    }
}

/// The layer of the resident route group.
pub(crate) async fn require_resident(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(to) = resident_of(&parts) {
        return Redirect::to(to).into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// A signed-in resident who may use the cabinet (own password set, Rules in
/// force accepted).
pub(crate) struct ResidentPage(pub Resident);

impl<S: Send + Sync> FromRequestParts<S> for ResidentPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        resident_of(parts)
            .map(ResidentPage)
            .map_err(|to| Redirect::to(to).into_response())
    }
}

/// Where a staff request goes instead of the console: sign-in, or the step
/// its session is at.
fn staff_of(parts: &Parts) -> Result<StaffUser, &'static str> {
    let staff = parts.extensions.get::<Ctx>().and_then(|c| c.staff.clone());
    match staff {
        None => Err(paths::STAFF_LOGIN),
        Some(p) => match p.session.stage {
            StaffStage::SecondFactor => Err(paths::STAFF_SECOND_FACTOR),
            StaffStage::SetPassword => Err(paths::STAFF_PASSWORD),
            StaffStage::Ready => p.ready().ok_or(paths::STAFF_LOGIN),
        },
    }
}

/// The layer of the staff route group: without a staff session that passed
/// both factors, to sign-in (a resident's session counts for nothing here).
pub(crate) async fn require_staff(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(to) = staff_of(&parts) {
        return Redirect::to(to).into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// What a staff route asks of the member's role; the staff route table
/// declares one for every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Any member signed in (the home page).
    Member,
    /// Some requests desk; the use case then checks the request's own desk.
    AnyDesk,
    /// This permission.
    To(Permission),
}

impl Need {
    /// Whether `role` meets it.
    pub(crate) fn allows(self, role: Role) -> bool {
        match self {
            Need::Member => true,
            Need::AnyDesk => role.can(Permission::DispatchRequests) || role.can(Permission::OfficeRequests),
            Need::To(p) => role.can(p),
        }
    }
}

/// The layer each staff route gets after [`require_staff`]: a member whose
/// role does not meet the route's [`Need`] gets the 403 page and the
/// handler never runs.
pub(crate) async fn permit(need: Need, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match staff_of(&parts) {
        Err(to) => return Redirect::to(to).into_response(),
        Ok(s) if !need.allows(s.member().role) => {
            return crate::http::errors::PageError::App(kabinet_app::Error::Forbidden).into_response();
        }
        Ok(_) => {}
    }
    next.run(Request::from_parts(parts, body)).await
}

/// A staff member signed in with both factors.
pub(crate) struct StaffPage(pub StaffUser);

impl<S: Send + Sync> FromRequestParts<S> for StaffPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        staff_of(parts)
            .map(StaffPage)
            .map_err(|to| Redirect::to(to).into_response())
    }
}

/// A staff session at any stage (the sign-in steps check their own).
pub(crate) struct StaffStep(pub StaffPrincipal);

impl<S: Send + Sync> FromRequestParts<S> for StaffStep {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .and_then(|c| c.staff.clone())
            .map(StaffStep)
            .ok_or_else(|| Redirect::to(paths::STAFF_LOGIN).into_response())
    }
}
