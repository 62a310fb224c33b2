//! Exports to the billing system in the office (S2): readings and card
//! payments since the last export, or the list of accounts whose resident
//! chose no paper receipts, in UTF-8 or windows-1251. The rows are marked and
//! the file kept in one transaction; the answer then sends the browser to
//! the file, and the history below downloads any past one again.

use super::super::{page, see_other};
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::PageError;
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_app::office::{ExportKind, TextEncoding};
use serde::Deserialize;

/// A past export.
pub(crate) struct RunRow {
    pub when: String,
    pub kind: String,
    pub actor: String,
    pub outcome: String,
    pub rows: i64,
    pub href: Option<String>,
}

/// The page.
#[derive(Template)]
#[template(path = "office/exchange.html")]
pub(crate) struct ExchangePage {
    pub layout: StaffLayout,
    pub runs: Vec<RunRow>,
}

fn kind_text(tr: &Tr, kind: &str) -> String {
    match ExportKind::parse(kind) {
        Some(ExportKind::Readings) => tr.t("exchange-readings"),
        Some(ExportKind::Payments) => tr.t("exchange-payments"),
        Some(ExportKind::Paperless) => tr.t("exchange-paperless"),
        None => kind.to_string(),
    }
}

/// `GET /staff/exchange`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let clock = state.app.accounts.clock();
    let runs = state
        .app
        .office
        .exports(by(&s, &ctx))
        .await?
        .into_iter()
        .map(|r| RunRow {
            when: tr.date_time(clock.local(r.started_at)),
            kind: kind_text(&tr, &r.kind),
            outcome: tr.t(match r.status.as_str() {
                "ok" => "exchange-ok",
                "running" => "exchange-running",
                _ => "exchange-failed",
            }),
            rows: r.rows_written,
            href: (r.status == "ok" && r.actor != "cli").then(|| paths::staff_exchange_file(r.id)),
            actor: r.actor,
        })
        .collect();
    page(&ExchangePage {
        layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_EXCHANGE),
        runs,
    })
}

/// The export form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExportForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    encoding: String,
}

/// `POST /staff/exchange`: exports, then sends the browser to the file.
pub(crate) async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    CsrfForm(f): CsrfForm<ExportForm>,
) -> Result<Response, PageError> {
    let kind = ExportKind::parse(&f.kind).ok_or(PageError::BadRequest("error-form-malformed"))?;
    let encoding = TextEncoding::parse(&f.encoding).ok_or(PageError::BadRequest("error-form-malformed"))?;
    let (run, _) = state.app.office.export(by(&s, &ctx), kind, encoding).await?;
    Ok(see_other(&paths::staff_exchange_file(run)))
}

/// `GET /staff/exchange/files/{id}`: the file of a past export.
pub(crate) async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id
        .parse()
        .map(kabinet_domain::ExchangeRunId)
        .map_err(|_| PageError::App(Error::NotFound))?;
    let (name, data) = state.app.office.export_file(by(&s, &ctx), id).await?;
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        data,
    )
        .into_response())
}
