//! `GET /staff`: the office's home page — the day at a glance, each figure
//! only for those whose role covers it.

use super::super::page;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kabinet_domain::requests::Desk;

/// A figure: what it counts, its value and where to see more.
pub(crate) struct Figure {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
}

/// The home page.
#[derive(Template)]
#[template(path = "office/home.html")]
pub(crate) struct HomePage {
    pub layout: StaffLayout,
    pub missing: Option<String>,
    pub figures: Vec<Figure>,
}

fn run_text(
    tr: &Tr,
    clock: kabinet_domain::calendar::OrgClock,
    run: Option<&kabinet_db::exchange::ExchangeRun>,
) -> String {
    run.map_or_else(
        || tr.t("office-never"),
        |r| {
            format!(
                "{} {}: {} ({})",
                tr.date_time(clock.local(r.started_at)),
                r.kind,
                r.status,
                r.rows_written
            )
        },
    )
}

/// `GET /staff`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let h = state.app.office.home(&s).await?;
    let mut figures = Vec::new();
    if let Some((all, month)) = h.residents {
        figures.push(Figure {
            label: tr.t("office-residents"),
            value: tr.a2(
                "office-residents-value",
                ("all", &all.to_string()),
                ("month", &month.to_string()),
            ),
            href: None,
        });
    }
    if let Some((n, sum)) = h.payments_today {
        figures.push(Figure {
            label: tr.t("office-payments-today"),
            value: format!("{n} · {}", tr.money(sum)),
            href: None,
        });
    }
    for d in &h.desks {
        let label = match d.desk {
            Desk::Dispatch => "office-desk-dispatch",
            Desk::Office => "office-desk-office",
        };
        figures.push(Figure {
            label: tr.t(label),
            value: tr.a2(
                "office-desk-value",
                ("open", &d.open.to_string()),
                ("overdue", &d.overdue.to_string()),
            ),
            href: Some(paths::STAFF_QUEUE.to_string()),
        });
    }
    if let Some((import, export)) = &h.exchange {
        figures.push(Figure {
            label: tr.t("office-last-import"),
            value: run_text(&tr, state.app.accounts.clock(), import.as_ref()),
            href: None,
        });
        figures.push(Figure {
            label: tr.t("office-last-export"),
            value: run_text(&tr, state.app.accounts.clock(), export.as_ref()),
            href: None,
        });
    }
    if let Some(r) = &h.readings {
        // Whole percent, rounded down: 100 % only when every account has one.
        let percent = (r.accounts_read * 100)
            .checked_div(r.accounts_with_meters)
            .unwrap_or(0);
        figures.push(Figure {
            label: tr.a("office-readings", "period", &tr.month(r.period)),
            value: tr.args(
                "office-readings-value",
                &[
                    ("read", &r.accounts_read.to_string()),
                    ("all", &r.accounts_with_meters.to_string()),
                    ("percent", &percent.to_string()),
                ],
            ),
            href: Some(paths::STAFF_EXCHANGE.to_string()),
        });
    }
    if let Some(p) = &h.package {
        figures.push(Figure {
            label: tr.t("office-last-package"),
            value: tr.args(
                "office-package-value",
                &[
                    ("number", &p.id.to_string()),
                    (
                        "when",
                        &tr.date_time(state.app.accounts.clock().local(p.created_at)),
                    ),
                    ("state", &super::imports::state_text(&tr, p.state)),
                ],
            ),
            href: Some(paths::staff_import(p.id)),
        });
    }
    let missing = h
        .missing_details
        .filter(|m| !m.is_empty())
        .map(|m| tr.a("office-details-missing", "fields", &m.join(", ")));
    page(&HomePage {
        layout: StaffLayout::new(&state, &ctx).at(paths::STAFF),
        missing,
        figures,
    })
}
