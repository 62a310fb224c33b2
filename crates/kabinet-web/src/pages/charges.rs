//! Charges by service for a range of months (R5): a table per month, totals
//! per service and for the range, a server-drawn chart, and a CSV download
//! (UTF-8 with a BOM and `;` separators, as Excel in a Russian locale opens
//! it).

use super::chart::{Bar, colour, stacked_bars};
use super::invoices::{Line, line};
use super::{Layout, Section, account_param, page_with};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::{PageError, say};
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::account::{ChargesReport, RangeInput, fields};
use serde::Deserialize;

/// The page's query: account and months.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChargesQuery {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

impl ChargesQuery {
    fn range(&self) -> RangeInput {
        RangeInput {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// A month of the page.
pub(crate) struct Month {
    pub title: String,
    pub lines: Vec<Line>,
    pub total: String,
}

/// A service in the legend and the totals.
pub(crate) struct ServiceRow {
    pub name: String,
    pub colour: &'static str,
    pub total: String,
}

/// The charges page.
#[derive(Template)]
#[template(path = "cabinet/charges.html")]
pub(crate) struct ChargesPage {
    pub layout: Layout,
    pub action: &'static str,
    pub account: Option<String>,
    pub from: String,
    pub to: String,
    pub from_error: Option<String>,
    pub to_error: Option<String>,
    pub chart: Option<String>,
    pub chart_alt: String,
    pub months: Vec<Month>,
    pub services: Vec<ServiceRow>,
    pub total: String,
    pub csv_href: String,
}

/// `GET /charges?from=2026-01&to=2026-10`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<ChargesQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let report = match crate::http::replica::replica_read!(
        state,
        ctx,
        accounts.charges(&r, q.account.as_deref(), &q.range())
    ) {
        Ok(report) => report,
        Err(Error::Invalid(errors)) => {
            // The form again with what was wrong; the default months shown.
            let report = state
                .app
                .accounts
                .charges(&r, q.account.as_deref(), &RangeInput::default())
                .await?;
            let mut p = view(&state, &ctx, &tr, &report);
            p.from = q.from.clone().unwrap_or_default().chars().take(20).collect();
            p.to = q.to.clone().unwrap_or_default().chars().take(20).collect();
            p.from_error = errors.get(fields::FROM).map(say);
            p.to_error = errors.get(fields::TO).map(say);
            return page_with(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
        Err(e) => return Err(e.into()),
    };
    page_with(StatusCode::OK, &view(&state, &ctx, &tr, &report))
}

fn view(state: &AppState, ctx: &Ctx, tr: &Tr, report: &ChargesReport) -> ChargesPage {
    let index = |code: &str| report.services.iter().position(|s| s.code == code).unwrap_or(0);
    let bars: Vec<Bar> = report
        .months
        .iter()
        .map(|m| Bar {
            label: format!(
                "{} {}",
                tr.t(&format!("month-short-{}", m.period.month())),
                m.period.year() % 100
            ),
            parts: m
                .lines
                .iter()
                .map(|l| (index(&l.service_code), l.charge.total.get()))
                .collect(),
        })
        .collect();
    let account = account_param(&report.scope);
    let range = format!("from={}&to={}", report.from, report.to);
    let csv_href = match &account {
        Some(_) => format!(
            "{}&{range}",
            paths::for_account(paths::CHARGES_CSV, account.as_deref())
        ),
        None => format!("{}?{range}", paths::CHARGES_CSV),
    };
    ChargesPage {
        layout: Layout::resident(state, ctx, &report.scope, Section::Charges, paths::CHARGES),
        action: paths::CHARGES,
        account,
        from: report.from.to_string(),
        to: report.to.to_string(),
        from_error: None,
        to_error: None,
        chart: (!bars.is_empty()).then(|| stacked_bars(&bars, "chart-alt")),
        chart_alt: tr.args(
            "chart-alt",
            &[
                ("from", &tr.month(report.from)),
                ("to", &tr.month(report.to)),
                ("total", &tr.money(report.total)),
            ],
        ),
        months: report
            .months
            .iter()
            .rev()
            .map(|m| Month {
                title: tr.month(m.period),
                lines: m.lines.iter().map(|l| line(tr, l)).collect(),
                total: tr.money(m.total),
            })
            .collect(),
        services: report
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| ServiceRow {
                name: s.name.clone(),
                colour: colour(i),
                total: tr.money(s.total),
            })
            .collect(),
        total: tr.money(report.total),
        csv_href,
    }
}

/// A CSV cell: quoted when it holds `;`, `"` or a line break, and text that
/// a spreadsheet would run as a formula is prefixed with `'`.
pub(crate) fn cell(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if safe.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// `GET /charges.csv?from=…&to=…`: the same lines as the page, one per
/// month and service; amounts with a decimal comma. A range without
/// charges is a 404 page saying so, not an empty file.
pub(crate) async fn csv(
    State(state): State<AppState>,
    ResidentPage(r): ResidentPage,
    Query(q): Query<ChargesQuery>,
) -> Result<Response, PageError> {
    let report = state
        .app
        .accounts
        .charges(&r, q.account.as_deref(), &q.range())
        .await?;
    if report.months.is_empty() {
        return Err(PageError::NotFound("error-no-charges"));
    }
    let tr = Tr::current();
    let money = |k: kabinet_domain::Kopecks| k.to_decimal_string().replace('.', ",");
    let mut out = String::from("\u{feff}");
    let head = [
        "th-period",
        "th-service",
        "th-volume",
        "th-unit",
        "th-tariff",
        "th-charged",
        "th-recalc",
        "th-benefits",
        "th-line-total",
    ];
    out.push_str(&head.iter().map(|h| cell(&tr.t(h))).collect::<Vec<_>>().join(";"));
    out.push_str("\r\n");
    for m in &report.months {
        for l in &m.lines {
            let c = &l.charge;
            let row = [
                m.period.to_string(),
                cell(&l.service_name),
                c.volume
                    .map(|v| v.to_decimal_string().replace('.', ","))
                    .unwrap_or_default(),
                cell(&c.unit),
                c.tariff.map(money).unwrap_or_default(),
                money(c.charged),
                money(c.recalculation),
                money(c.benefits),
                money(c.total),
            ];
            out.push_str(&row.join(";"));
            out.push_str("\r\n");
        }
    }
    let name = format!(
        "charges-{}-{}-{}.csv",
        report
            .scope
            .current()
            .account
            .number
            .as_str()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        report.from,
        report.to
    );
    Ok(crate::http::files::csv(&name, out))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_safe_for_spreadsheets() {
        assert_eq!(cell("Вода"), "Вода");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("a;b"), "\"a;b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
