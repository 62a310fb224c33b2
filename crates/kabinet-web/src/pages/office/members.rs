//! Staff members (administrator): the list with the form to add one (the
//! one-time password is shown once, on the answer to the form), and a
//! member's page to change the role, reset the password and second factor,
//! disable or enable. Every change is audited by the use case.

use super::super::{page, page_with, see_other};
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::console::Choice;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::staff::StaffUser;
use kabinet_domain::StaffId;
use kabinet_domain::staff::{Role, StaffMember};
use serde::Deserialize;

/// A member in the list.
pub(crate) struct MemberRow {
    pub href: String,
    pub login: String,
    pub name: String,
    pub role: String,
    pub state: String,
}

/// The list and the form to add a member.
#[derive(Template)]
#[template(path = "office/members.html")]
pub(crate) struct MembersPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub rows: Vec<MemberRow>,
    pub roles: Vec<Choice>,
    pub login: String,
    pub name: String,
}

/// A member's page.
#[derive(Template)]
#[template(path = "office/member.html")]
pub(crate) struct MemberPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub action_base: String,
    pub name: String,
    pub facts: Vec<(String, String)>,
    pub roles: Vec<Choice>,
    pub disabled: bool,
    /// The role answers requests, so a building scope applies.
    pub scoped: bool,
    pub buildings: String,
    pub email: String,
}

/// The one-time password of a member just added or reset.
#[derive(Template)]
#[template(path = "office/password.html")]
pub(crate) struct PasswordPage {
    pub layout: StaffLayout,
    pub login: String,
    pub password: String,
    pub back: String,
}

/// A role's name in the reader's language.
pub(crate) fn role_text(tr: &Tr, r: Role) -> String {
    tr.t(match r {
        Role::Administrator => "role-administrator",
        Role::Accountant => "role-accountant",
        Role::Operator => "role-operator",
        Role::Dispatcher => "role-dispatcher",
    })
}

fn roles(tr: &Tr, current: Option<Role>) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_string(),
            label: role_text(tr, *r),
            selected: Some(*r) == current,
        })
        .collect()
}

fn state_text(tr: &Tr, m: &StaffMember) -> String {
    if m.disabled {
        tr.t("member-disabled")
    } else if m.totp_enabled {
        tr.t("member-active")
    } else {
        tr.t("member-not-enrolled")
    }
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    status: StatusCode,
    errors: Vec<String>,
    form: &AddForm,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let members = state.app.staff.members(by(s, ctx)).await?;
    page_with(
        status,
        &MembersPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_MEMBERS),
            errors,
            rows: members
                .iter()
                .map(|m| MemberRow {
                    href: paths::staff_member(m.id),
                    login: m.login.clone(),
                    name: m.name.clone(),
                    role: role_text(&tr, m.role),
                    state: state_text(&tr, m),
                })
                .collect(),
            roles: roles(&tr, Role::from_stored(&form.role).or(Some(Role::Operator))),
            login: form.login.clone(),
            name: form.name.clone(),
        },
    )
}

/// `GET /staff/members`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
) -> Result<Response, PageError> {
    list_page(&state, &ctx, &s, StatusCode::OK, Vec::new(), &AddForm::default()).await
}

/// The form to add a member.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `POST /staff/members`: adds a member and shows their one-time password once.
pub(crate) async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<AddForm>,
) -> Result<Response, PageError> {
    let Some(role) = Role::from_stored(f.role.trim()) else {
        return Err(PageError::BadRequest("error-form-malformed"));
    };
    match state.app.staff.add(by(&s, &ctx), &f.login, &f.name, role).await {
        Ok((m, password)) => page(&PasswordPage {
            layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_MEMBERS),
            login: m.login,
            password,
            back: paths::staff_member(m.id),
        }),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            list_page(&state, &ctx, &s, status, errors, &f).await
        }
    }
}

fn member_id(id: &str) -> Result<StaffId, PageError> {
    id.parse().map(StaffId).map_err(|_| Error::NotFound.into())
}

async fn member_page(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    id: StaffId,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let m = state.app.staff.member(by(s, ctx), id).await?;
    let clock = state.app.accounts.clock();
    page_with(
        status,
        &MemberPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_MEMBERS),
            errors,
            action_base: paths::staff_member(m.id),
            facts: vec![
                (tr.t("member-login"), m.login.clone()),
                (tr.t("member-role"), role_text(&tr, m.role)),
                (tr.t("member-state"), state_text(&tr, &m)),
                (tr.t("member-added"), tr.date_time(clock.local(m.created_at))),
            ],
            name: m.name,
            roles: roles(&tr, Some(m.role)),
            disabled: m.disabled,
            scoped: matches!(m.role, Role::Operator | Role::Dispatcher),
            buildings: m.buildings.join("\n"),
            email: m.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        },
    )
}

/// `GET /staff/members/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    member_page(&state, &ctx, &s, member_id(&id)?, StatusCode::OK, Vec::new()).await
}

/// The member actions' fields.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    buildings: String,
    #[serde(default)]
    email: String,
}

/// `POST /staff/members/{id}/{action}`: `reset` (shows the new one-time
/// password), `disable`, `enable`, `role`, `buildings` or `email`.
pub(crate) async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ActForm>,
) -> Result<Response, PageError> {
    let id = member_id(&id)?;
    let staff = &state.app.staff;
    let done = match action.as_str() {
        "reset" => match staff.reset(by(&s, &ctx), id).await {
            Ok(password) => {
                let m = staff.member(by(&s, &ctx), id).await?;
                return page(&PasswordPage {
                    layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_MEMBERS),
                    login: m.login,
                    password,
                    back: paths::staff_member(id),
                });
            }
            Err(e) => Err(e),
        },
        "disable" => staff.set_disabled(by(&s, &ctx), id, true).await,
        "enable" => staff.set_disabled(by(&s, &ctx), id, false).await,
        "role" => {
            let role =
                Role::from_stored(f.role.trim()).ok_or(PageError::BadRequest("error-form-malformed"))?;
            staff.set_role(by(&s, &ctx), id, role).await
        }
        "buildings" => staff.set_buildings(by(&s, &ctx), id, &f.buildings).await,
        "email" => staff.set_email(by(&s, &ctx), id, &f.email).await,
        _ => return Err(Error::NotFound.into()),
    };
    match done {
        Ok(()) => Ok(see_other(&paths::staff_member(id))),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            member_page(&state, &ctx, &s, id, status, errors).await
        }
    }
}
