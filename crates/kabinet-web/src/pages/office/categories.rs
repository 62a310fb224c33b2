//! Request categories in the office (S4): the list residents choose from
//! with each category's desk, emergency flag, own deadline, place and state;
//! a form to add one and a page to change one (its code stays).

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
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::staff::StaffUser;
use kabinet_db::requests::StoredCategory;
use kabinet_domain::requests::{Category, CategorySetting, Desk};
use serde::Deserialize;

/// The fields of a category's form, as shown.
pub(crate) struct CategoryFields {
    pub code: String,
    pub name: String,
    pub desk: &'static str,
    pub emergency: bool,
    pub common_property: bool,
    pub deadline: String,
    pub position: String,
    pub active: bool,
}

/// A category in the list.
pub(crate) struct CategoryRow {
    pub href: String,
    pub code: String,
    pub name: String,
    pub desk: String,
    pub emergency: bool,
    pub common_property: bool,
    pub deadline: String,
    pub position: i32,
    pub active: bool,
}

/// The list with the form to add a category.
#[derive(Template)]
#[template(path = "office/categories.html")]
pub(crate) struct CategoriesPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub errors: Vec<String>,
    pub rows: Vec<CategoryRow>,
    pub form: CategoryFields,
    pub deadlines: String,
}

/// One category's page.
#[derive(Template)]
#[template(path = "office/category.html")]
pub(crate) struct CategoryPage {
    pub layout: StaffLayout,
    /// The stored name (the heading, whatever is typed).
    pub title: String,
    pub errors: Vec<String>,
    pub action: String,
    pub form: CategoryFields,
    pub deadlines: String,
}

/// The form (a change ignores `code`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CategoryForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    desk: String,
    #[serde(default)]
    emergency: String,
    #[serde(default)]
    common_property: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    active: String,
}

impl CategoryForm {
    /// The setting the form asks for; an unreadable number goes to the use
    /// case as one out of range, so it is named with the other problems.
    fn setting(&self) -> Result<CategorySetting, PageError> {
        let desk = Desk::from_stored(&self.desk).ok_or(PageError::BadRequest("error-form-malformed"))?;
        let deadline = self.deadline.trim();
        Ok(CategorySetting {
            category: Category {
                code: self.code.trim().to_string(),
                name: self.name.clone(),
                desk,
                emergency: !self.emergency.is_empty(),
                deadline_hours: (!deadline.is_empty()).then(|| deadline.parse::<i64>().unwrap_or(0)),
                common_property: !self.common_property.is_empty(),
            },
            position: self.position.trim().parse::<i32>().unwrap_or(-1),
            active: !self.active.is_empty(),
        })
    }

    fn fields(&self) -> CategoryFields {
        CategoryFields {
            code: self.code.chars().take(64).collect(),
            name: self.name.chars().take(256).collect(),
            desk: Desk::from_stored(&self.desk).unwrap_or(Desk::Office).as_str(),
            emergency: !self.emergency.is_empty(),
            common_property: !self.common_property.is_empty(),
            deadline: self.deadline.chars().take(16).collect(),
            position: self.position.chars().take(16).collect(),
            active: !self.active.is_empty(),
        }
    }
}

fn fields_of(c: &CategorySetting) -> CategoryFields {
    CategoryFields {
        code: c.category.code.clone(),
        name: c.category.name.clone(),
        desk: c.category.desk.as_str(),
        emergency: c.category.emergency,
        common_property: c.category.common_property,
        deadline: c
            .category
            .deadline_hours
            .map(|h| h.to_string())
            .unwrap_or_default(),
        position: c.position.to_string(),
        active: c.active,
    }
}

fn desk_label(tr: &Tr, desk: Desk) -> String {
    tr.t(match desk {
        Desk::Dispatch => "category-desk-dispatch",
        Desk::Office => "category-desk-office",
    })
}

/// What a category without its own deadline gets, desk by desk.
fn deadlines(state: &AppState, tr: &Tr) -> String {
    use kabinet_domain::requests::DeskDeadline;
    let hours = |desk| match state.app.requests.desk_deadline(desk) {
        DeskDeadline::Hours(h) => h.to_string(),
        DeskDeadline::WorkingDays(n) => n.to_string(),
    };
    tr.a2(
        "category-deadline-hint",
        ("dispatch", &hours(Desk::Dispatch)),
        ("office", &hours(Desk::Office)),
    )
}

fn row(tr: &Tr, c: &StoredCategory) -> CategoryRow {
    let cat = &c.setting.category;
    CategoryRow {
        href: paths::staff_category(c.id),
        code: cat.code.clone(),
        name: cat.name.clone(),
        desk: desk_label(tr, cat.desk),
        emergency: cat.emergency,
        common_property: cat.common_property,
        deadline: cat.deadline_hours.map_or_else(
            || tr.t("category-deadline-desk"),
            |h| tr.a("category-hours", "n", &h.to_string()),
        ),
        position: c.setting.position,
        active: c.setting.active,
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    status: StatusCode,
    errors: Vec<String>,
    typed: Option<&CategoryForm>,
    saved: bool,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let all = state.app.requests.all_categories(by(s, ctx)).await?;
    let next = all.iter().map(|c| c.setting.position).max().map_or(0, |p| p + 1);
    page_with(
        status,
        &CategoriesPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_CATEGORIES),
            saved,
            errors,
            rows: all.iter().map(|c| row(&tr, c)).collect(),
            form: typed.map_or_else(
                || CategoryFields {
                    code: String::new(),
                    name: String::new(),
                    desk: Desk::Office.as_str(),
                    emergency: false,
                    common_property: false,
                    deadline: String::new(),
                    position: next.to_string(),
                    active: true,
                },
                CategoryForm::fields,
            ),
            deadlines: deadlines(state, &tr),
        },
    )
}

/// `GET /staff/categories`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<super::SavedQuery>,
) -> Result<Response, PageError> {
    render_list(&state, &ctx, &s, StatusCode::OK, Vec::new(), None, q.saved()).await
}

/// `POST /staff/categories`: adds a category.
pub(crate) async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Result<Response, PageError> {
    let setting = f.setting()?;
    match state
        .app
        .requests
        .save_category(by(&s, &ctx), None, &setting)
        .await
    {
        Ok(_) => Ok(super::SavedQuery::back_to(paths::STAFF_CATEGORIES)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            render_list(&state, &ctx, &s, status, errors, Some(&f), false).await
        }
    }
}

fn category_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    stored: &StoredCategory,
    errors: Vec<String>,
    form: CategoryFields,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let id = stored.id;
    page_with(
        status,
        &CategoryPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_CATEGORIES),
            title: stored.setting.category.name.clone(),
            errors,
            action: paths::staff_category(id),
            form,
            deadlines: deadlines(state, &tr),
        },
    )
}

/// `GET /staff/categories/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = state.app.requests.category(by(&s, &ctx), id).await?;
    category_page(
        &state,
        &ctx,
        StatusCode::OK,
        &c,
        Vec::new(),
        fields_of(&c.setting),
    )
}

/// `POST /staff/categories/{id}`: changes the category.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Result<Response, PageError> {
    let setting = f.setting()?;
    match state
        .app
        .requests
        .save_category(by(&s, &ctx), Some(id), &setting)
        .await
    {
        Ok(_) => Ok(super::SavedQuery::back_to(paths::STAFF_CATEGORIES)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let stored = state.app.requests.category(by(&s, &ctx), id).await?;
            let mut form = f.fields();
            form.code = stored.setting.category.code.clone();
            category_page(&state, &ctx, status, &stored, errors, form)
        }
    }
}
