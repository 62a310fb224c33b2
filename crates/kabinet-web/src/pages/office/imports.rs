//! Billing packages in the office (S1): the upload form with the history,
//! each package's page (its check in progress, its problems by file, line
//! and column, or what it would change, and the confirmation), and its
//! problems as CSV. The upload streams each file into the database in
//! chunks; the check and the import are background jobs.

use super::super::charges::cell;
use super::super::{page_with, see_other};
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::{CsrfForm, same_origin};
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::imports::{FILES_FIELD, PackageView, Upload};
use kabinet_db::imports::{Import, StoredProblem};
use kabinet_domain::ImportId;
use kabinet_domain::imports::{ImportState, MAX_PACKAGE_BYTES};
use serde::Deserialize;

/// A package in the history.
pub(crate) struct Row {
    pub href: String,
    pub number: i64,
    pub when: String,
    pub actor: String,
    pub files: String,
    pub state: String,
    pub lines: u64,
    pub written: u64,
    pub problems: u64,
}

/// The upload form and the history.
#[derive(Template)]
#[template(path = "office/imports.html")]
pub(crate) struct ImportsPage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub intro: String,
    pub rows: Vec<Row>,
}

/// One file's counts.
pub(crate) struct CountRow {
    pub kind: String,
    pub encoding: String,
    pub lines: u64,
    pub written: u64,
    pub problems: u64,
}

/// One problem.
pub(crate) struct ProblemRow {
    pub file: String,
    pub line: String,
    pub column: String,
    pub message: String,
}

/// A package's page.
#[derive(Template)]
#[template(path = "office/import.html")]
pub(crate) struct PackagePage {
    pub layout: StaffLayout,
    pub errors: Vec<String>,
    pub number: i64,
    pub self_href: String,
    pub confirm_href: String,
    pub csv_href: String,
    pub state: String,
    pub state_code: &'static str,
    pub in_progress: bool,
    pub percent: u64,
    pub progress: String,
    pub summary: String,
    pub uploaded: String,
    pub files: String,
    pub counts: Vec<CountRow>,
    pub problems: Vec<ProblemRow>,
    pub more_problems: bool,
    pub confirmable: bool,
    pub checked: bool,
    pub imported: bool,
}

/// A package's state in words.
pub(crate) fn state_text(tr: &Tr, s: ImportState) -> String {
    tr.t(&format!("import-state-{}", s.as_str()))
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1024.0 / 1024.0).replace('.', ",")
}

fn row(tr: &Tr, state: &AppState, i: Import) -> Row {
    Row {
        href: paths::staff_import(i.id),
        number: i.id.0,
        when: tr.date_time(state.app.accounts.clock().local(i.created_at)),
        actor: i.actor,
        files: i.files.join(", "),
        state: state_text(tr, i.state),
        lines: i.lines,
        written: i.written,
        problems: i.problems,
    }
}

async fn imports_page(
    state: &AppState,
    ctx: &Ctx,
    s: &kabinet_app::staff::StaffUser,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let rows = state
        .app
        .imports
        .history(by(s, ctx))
        .await?
        .into_iter()
        .map(|i| row(&tr, state, i))
        .collect();
    page_with(
        status,
        &ImportsPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_IMPORTS),
            errors,
            intro: tr.n("import-intro", (MAX_PACKAGE_BYTES / 1024 / 1024) as i64),
            rows,
        },
    )
}

/// `GET /staff/import`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
) -> Result<Response, PageError> {
    imports_page(&state, &ctx, &s, StatusCode::OK, Vec::new()).await
}

/// Why reading the upload stopped.
enum Stop {
    /// The use case refused (too big, too many files) or failed.
    Refused(Error),
    /// The form itself broke off: a message id.
    Broken(&'static str),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Refused(e)
    }
}

fn form_error(e: &MultipartError) -> Stop {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Stop::Refused(Error::Invalid(kabinet_app::FieldErrors::single(
            FILES_FIELD,
            kabinet_domain::Text::new("error-import-too-big")
                .with("max", (MAX_PACKAGE_BYTES / 1024 / 1024) as i64),
        )))
    } else {
        Stop::Broken("error-upload-broken")
    }
}

/// Streams every file part of the form into `upload`.
async fn receive(upload: &mut Upload, mp: &mut Multipart) -> Result<(), Stop> {
    while let Some(field) = mp.next_field().await.map_err(|e| form_error(&e))? {
        let name = field.file_name().unwrap_or_default().to_string();
        if field.name() != Some(FILES_FIELD) || name.is_empty() {
            continue;
        }
        upload.file(&name).await?;
        copy(upload, field).await?;
    }
    Ok(())
}

async fn copy(upload: &mut Upload, mut field: Field<'_>) -> Result<(), Stop> {
    while let Some(chunk) = field.chunk().await.map_err(|e| form_error(&e))? {
        upload.write(&chunk).await?;
    }
    Ok(())
}

/// `POST /staff/import/upload`: receives a package (the CSRF token must be
/// the form's first field, before the files) and shows its page, where the
/// check's progress follows.
pub(crate) async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    headers: HeaderMap,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let token = match mp.next_field().await {
        Ok(Some(f)) if f.name() == Some("csrf") => f.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    if !same_origin(&headers)
        || !state
            .app
            .auth
            .key()
            .csrf_valid(&token, &ctx.csrf_cookie, ctx.csrf_binding())
    {
        tracing::warn!(ip = %ctx.client.ip, "CSRF check failed");
        return Err(PageError::Csrf);
    }
    let mut upload = state.app.imports.upload(by(&s, &ctx)).await?;
    let received = receive(&mut upload, &mut mp).await;
    let stop = match received {
        Ok(()) => match upload.finish(by(&s, &ctx)).await {
            Ok(id) => return Ok(see_other(&paths::staff_import(id))),
            Err(e) => Stop::Refused(e),
        },
        Err(stop) => {
            upload.abandon().await;
            stop
        }
    };
    match stop {
        Stop::Refused(e) => {
            let (status, errors) = refusal(e)?;
            imports_page(&state, &ctx, &s, status, errors).await
        }
        Stop::Broken(id) => Err(PageError::BadRequest(id)),
    }
}

fn import_id(id: &str) -> Result<ImportId, PageError> {
    id.parse().map(ImportId).map_err(|_| Error::NotFound.into())
}

fn problem_row(tr: &Tr, p: StoredProblem) -> ProblemRow {
    ProblemRow {
        message: if p.code.is_empty() {
            p.message
        } else {
            tr.a(&p.code, "file", &p.file)
        },
        line: if p.line == 0 {
            String::new()
        } else {
            p.line.to_string()
        },
        file: p.file,
        column: p.column,
    }
}

fn package_page(
    state: &AppState,
    ctx: &Ctx,
    v: PackageView,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let i = v.import;
    let percent = (i.done.min(i.total) * 100).checked_div(i.total).unwrap_or(0);
    let summary = match i.state {
        ImportState::Rejected => tr.n("import-summary-rejected", i.problems as i64),
        ImportState::Checked => tr.t("import-summary-checked"),
        ImportState::Imported => tr.n("import-summary-imported", i.written as i64),
        ImportState::Failed => tr.t("import-summary-failed"),
        ImportState::Replaced => tr.t("import-summary-replaced"),
        _ => tr.t("import-summary-working"),
    };
    page_with(
        status,
        &PackagePage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_IMPORTS),
            errors,
            number: i.id.0,
            self_href: paths::staff_import(i.id),
            confirm_href: format!("{}/confirm", paths::staff_import(i.id)),
            csv_href: format!("{}/problems.csv", paths::staff_import(i.id)),
            state: state_text(&tr, i.state),
            state_code: i.state.as_str(),
            in_progress: i.state.in_progress(),
            percent,
            progress: tr.args(
                "import-progress",
                &[
                    ("done", &mb(i.done.min(i.total))),
                    ("total", &mb(i.total)),
                    ("percent", &percent.to_string()),
                ],
            ),
            summary,
            uploaded: tr.args(
                "import-uploaded",
                &[
                    ("who", &i.actor),
                    (
                        "when",
                        &tr.date_time(state.app.accounts.clock().local(i.created_at)),
                    ),
                    ("size", &mb(i.size)),
                ],
            ),
            files: i.files.join(", "),
            counts: i
                .counts
                .iter()
                .map(|c| CountRow {
                    kind: c.kind.clone(),
                    encoding: c.encoding.clone(),
                    lines: c.lines,
                    written: c.written,
                    problems: c.problems,
                })
                .collect(),
            more_problems: i.problems > v.problems.len() as u64,
            problems: v.problems.into_iter().map(|p| problem_row(&tr, p)).collect(),
            confirmable: v.confirmable,
            checked: i.state == ImportState::Checked,
            imported: i.state == ImportState::Imported,
        },
    )
}

/// `GET /staff/import/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = state.app.imports.package(by(&s, &ctx), import_id(&id)?).await?;
    package_page(&state, &ctx, v, StatusCode::OK, Vec::new())
}

/// The confirmation form (its token only).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConfirmForm {}

/// `POST /staff/import/{id}/confirm`.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<ConfirmForm>,
) -> Result<Response, PageError> {
    let id = import_id(&id)?;
    match state.app.imports.confirm(by(&s, &ctx), id).await {
        Ok(()) => Ok(see_other(&paths::staff_import(id))),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let v = state.app.imports.package(by(&s, &ctx), id).await?;
            package_page(&state, &ctx, v, status, errors)
        }
    }
}

/// `GET /staff/import/{id}/problems.csv`: every kept problem, one a line.
pub(crate) async fn problems_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let id = import_id(&id)?;
    let problems = state.app.imports.problems(by(&s, &ctx), id).await?;
    let mut out = String::from("\u{feff}");
    let head = ["import-file", "import-line", "import-column", "import-message"];
    out.push_str(&head.iter().map(|h| cell(&tr.t(h))).collect::<Vec<_>>().join(";"));
    out.push_str("\r\n");
    for p in problems {
        let p = problem_row(&tr, p);
        out.push_str(&[cell(&p.file), p.line, cell(&p.column), cell(&p.message)].join(";"));
        out.push_str("\r\n");
    }
    Ok(crate::http::files::csv(
        &format!("package-{id}-problems.csv"),
        out,
    ))
}
