//! The settings the office changes at run time (S4): the organization's
//! readings window, whether readings outside it are refused, the receipt
//! and due days of the billing periods later imports create, the
//! registration mode, the sender's name on e-mails, buildings' own readings
//! windows and the unusual-consumption floors. A value the configuration
//! gives is shown read-only.

use super::super::page_with;
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use crate::readings_text::{resource_name, unit};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::auth::RegistrationMode;
use kabinet_app::org_settings::SettingsChange;
use kabinet_app::staff::StaffUser;
use kabinet_db::exchange::PeriodDays;
use kabinet_domain::{ReadingsWindow, Resource};
use serde::Deserialize;

/// The page.
#[derive(Template)]
#[template(path = "office/settings.html")]
pub(crate) struct SettingsPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub errors: Vec<String>,
    pub from: String,
    pub to: String,
    pub strict: bool,
    pub fixed_window: bool,
    pub fixed_strict: bool,
    pub receipt_day: String,
    pub due_day: String,
    pub fixed_days: bool,
    pub registration: &'static str,
    pub fixed_registration: bool,
    pub passports: String,
    pub sender: String,
    pub fixed_sender: bool,
    pub buildings: String,
    pub fixed_buildings: bool,
    pub floors: Vec<FloorField>,
    pub fixed_floors: bool,
}

/// One resource's unusual-consumption floor on the form.
pub(crate) struct FloorField {
    pub code: &'static str,
    pub label: String,
    pub value: String,
    pub hint: String,
}

/// The form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SettingsForm {
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    strict: String,
    receipt_day: Option<String>,
    due_day: Option<String>,
    registration: Option<String>,
    sender: Option<String>,
    buildings: Option<String>,
    floor_cold_water: Option<String>,
    floor_hot_water: Option<String>,
    floor_electricity: Option<String>,
    floor_heat: Option<String>,
    floor_gas: Option<String>,
}

impl SettingsForm {
    /// The floor typed for `r`, as typed (`None`: not on the form).
    fn floor(&self, r: Resource) -> Option<&String> {
        match r {
            Resource::ColdWater => self.floor_cold_water.as_ref(),
            Resource::HotWater => self.floor_hot_water.as_ref(),
            Resource::Electricity => self.floor_electricity.as_ref(),
            Resource::Heat => self.floor_heat.as_ref(),
            Resource::Gas => self.floor_gas.as_ref(),
        }
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    status: StatusCode,
    errors: Vec<String>,
    typed: Option<&SettingsForm>,
    saved: bool,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let live = &state.app.settings;
    let now = live.readings.current().await?;
    let days = live.billing.current().await?;
    let mode = live.registration.current().await?;
    let sender = live.sender.current().await?;
    let base = live.readings.base();
    let passports = live.passport_count(by(s, ctx)).await?;
    page_with(
        status,
        &SettingsPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_SETTINGS),
            saved,
            errors,
            from: typed
                .and_then(|f| f.from.clone())
                .unwrap_or_else(|| now.window.first_day.to_string()),
            to: typed
                .and_then(|f| f.to.clone())
                .unwrap_or_else(|| now.window.last_day.to_string()),
            strict: typed.map_or(now.strict, |f| !f.strict.is_empty()),
            fixed_window: base.fixed_window,
            fixed_strict: base.fixed_strict,
            receipt_day: typed
                .and_then(|f| f.receipt_day.clone())
                .unwrap_or_else(|| days.receipt_day.to_string()),
            due_day: typed
                .and_then(|f| f.due_day.clone())
                .unwrap_or_else(|| days.due_day.to_string()),
            fixed_days: live.billing.fixed(),
            registration: typed
                .and_then(|f| f.registration.as_deref())
                .and_then(RegistrationMode::from_stored)
                .unwrap_or(mode)
                .as_str(),
            fixed_registration: live.registration.fixed(),
            passports: tr.a("settings-passports", "n", &passports.to_string()),
            sender: typed
                .and_then(|f| f.sender.clone())
                .or(sender)
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
            fixed_sender: live.sender.fixed(),
            buildings: typed
                .and_then(|f| f.buildings.clone())
                .unwrap_or_else(|| kabinet_domain::readings::building_windows_text(&now.buildings)),
            fixed_buildings: base.fixed_buildings,
            floors: Resource::ALL
                .into_iter()
                .map(|r| FloorField {
                    code: r.code(),
                    label: format!("{}, {}", resource_name(&tr, r), unit(&tr, r)),
                    value: typed.and_then(|f| f.floor(r).cloned()).unwrap_or_else(|| {
                        now.floors
                            .iter()
                            .find(|(x, _)| *x == r)
                            .map(|(_, v)| v.to_string())
                            .unwrap_or_default()
                    }),
                    hint: tr.a(
                        "settings-floor-default",
                        "n",
                        &kabinet_domain::readings::default_floor(r).to_string(),
                    ),
                })
                .collect(),
            fixed_floors: base.fixed_floors,
        },
    )
}

/// `GET /staff/settings`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<super::SavedQuery>,
) -> Result<Response, PageError> {
    render(&state, &ctx, &s, StatusCode::OK, Vec::new(), None, q.saved()).await
}

/// `POST /staff/settings`.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    let live = &state.app.settings;
    let now = live.readings.current().await?;
    let days = live.billing.current().await?;
    let mode = live.registration.current().await?;
    let sender = live.sender.current().await?;
    let day = |v: &Option<String>, current: u8| match v {
        Some(x) => x.trim().parse::<u8>().unwrap_or(0),
        None => current,
    };
    let change = SettingsChange {
        window: ReadingsWindow {
            first_day: day(&f.from, now.window.first_day),
            last_day: day(&f.to, now.window.last_day),
        },
        strict: !f.strict.is_empty(),
        days: PeriodDays {
            receipt_day: day(&f.receipt_day, days.receipt_day),
            due_day: day(&f.due_day, days.due_day),
        },
        registration: match f.registration.as_deref() {
            None => mode,
            Some(m) => {
                RegistrationMode::from_stored(m).ok_or(PageError::BadRequest("error-form-malformed"))?
            }
        },
        sender_name: f.sender.clone().or(sender).unwrap_or_default(),
        buildings: f.buildings.clone(),
        // Empty: the built-in floor; what does not read is refused as out
        // of range.
        floors: Resource::ALL
            .into_iter()
            .filter_map(|r| {
                let typed = f.floor(r)?.trim();
                Some((r, (!typed.is_empty()).then(|| typed.parse::<u32>().unwrap_or(0))))
            })
            .collect(),
    };
    match live.save(by(&s, &ctx), &change).await {
        Ok(()) => Ok(super::SavedQuery::back_to(paths::STAFF_SETTINGS)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            render(&state, &ctx, &s, status, errors, Some(&f), false).await
        }
    }
}
