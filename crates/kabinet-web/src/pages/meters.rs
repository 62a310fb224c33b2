//! Meters and readings (R7): the meters page is also the one form that hands
//! in readings for all of them, each zone of a multi-tariff meter its own
//! field; the last values are hints, never prefilled. A value to confirm
//! (rollover, unusually high consumption) comes back with a checkbox next to
//! it and everything typed kept. A meter's history has a consumption chart.

use super::chart::{Bar, colour, stacked_bars};
use super::{Layout, Section, account_param, page, page_with, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, say};
use crate::http::guard::ResidentPage;
use crate::i18n::Tr;
use crate::paths;
use crate::readings_text::{issue_text, resource_name, unit, value_text};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::Error;
use kabinet_app::account::fields as range_fields;
use kabinet_app::readings::{History, Issue, MeterInput, MeterState, MetersView, Shown, Source};
use kabinet_domain::readings::{Admission, Verification};
use kabinet_domain::{Meter, MeterStatus};
use serde::Deserialize;

/// A zone's input.
pub(crate) struct Field {
    pub name: String,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub error: Option<String>,
}

/// The confirmation checkbox of a meter.
pub(crate) struct Confirm {
    pub name: String,
    pub label: String,
    pub checked: bool,
}

/// A meter on the page.
pub(crate) struct Card {
    pub id: i64,
    pub title: String,
    pub facts: Vec<(String, String)>,
    pub warning: Option<String>,
    pub closed: Option<String>,
    pub submitted: Vec<String>,
    pub fields: Vec<Field>,
    pub problems: Vec<String>,
    pub confirm: Option<Confirm>,
    pub history_href: String,
}

/// The meters page.
#[derive(Template)]
#[template(path = "meters/meters.html")]
pub(crate) struct MetersPage {
    pub layout: Layout,
    pub account: Option<String>,
    pub window: String,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    pub cards: Vec<Card>,
    pub can_submit: bool,
}

/// `?account=` and, after a submission, `?saved=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetersQuery {
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// The zone's name: `Т1 (день)` on a multi-tariff meter, nothing on a single one.
pub(crate) fn zone_name(tr: &Tr, m: &Meter, zone: u8) -> String {
    if m.tariffs <= 1 {
        String::new()
    } else {
        tr.t(&format!("zone-{zone}"))
    }
}

fn source_text(tr: &Tr, s: Source) -> String {
    tr.t(&format!("reading-source-{}", s.code()))
}

fn shown_text(tr: &Tr, m: &Meter, zone: u8, s: &Shown) -> String {
    let name = zone_name(tr, m, zone);
    let prefix = if name.is_empty() {
        String::new()
    } else {
        format!("{name}: ")
    };
    format!(
        "{prefix}{} {} — {}, {}",
        value_text(tr, s.value),
        unit(tr, m.resource),
        tr.date(s.taken_on),
        source_text(tr, s.source)
    )
}

fn field_name(meter: i64, zone: u8) -> String {
    format!("v{meter}_{zone}")
}

fn confirm_name(meter: i64) -> String {
    format!("confirm_{meter}")
}

fn window_text(tr: &Tr, a: Admission) -> String {
    match a {
        Admission::Open { period, until } => tr.a2(
            "readings-open",
            ("until", &tr.date(until)),
            ("period", &tr.month(period)),
        ),
        Admission::NextPeriod { period, opens } => tr.a2(
            "readings-next-period",
            ("opens", &tr.date(opens)),
            ("period", &tr.month(period)),
        ),
        Admission::Closed { opens } => tr.a("readings-closed", "date", &tr.date(opens)),
    }
}

/// What the form sent: field → value.
type Typed = Vec<(String, String)>;

fn typed_value<'a>(typed: &'a Typed, name: &str) -> Option<&'a str> {
    typed.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn card(
    tr: &Tr,
    m: &MeterState,
    view: &MetersView,
    typed: &Typed,
    issues: &[Issue],
    history_href: String,
) -> Card {
    let meter = &m.meter;
    let mut facts = vec![
        (tr.t("meter-location"), meter.location.clone()),
        (
            tr.t("meter-zones"),
            if meter.tariffs <= 1 {
                tr.t("meter-single-tariff")
            } else {
                tr.a("meter-zones-count", "n", &meter.tariffs.to_string())
            },
        ),
        (
            tr.t("meter-status"),
            tr.t(&format!("meter-status-{}", meter.status.code())),
        ),
        (tr.t("meter-verification"), tr.date(meter.verification_due)),
    ];
    let last: Vec<String> = m
        .zones
        .iter()
        .filter_map(|z| z.last.as_ref().map(|s| shown_text(tr, meter, z.zone, s)))
        .collect();
    facts.push((
        tr.t("meter-last"),
        if last.is_empty() {
            tr.t("meter-no-readings")
        } else {
            last.join("; ")
        },
    ));
    let warning = match m.verification {
        Verification::DueSoon(d) if m.closed.is_none() && meter.status == MeterStatus::Active => {
            Some(tr.a("verification-soon", "date", &tr.date(d)))
        }
        _ => None,
    };
    let closed = m.closed.map(|why| {
        issue_text(
            tr,
            &Issue::MeterClosed { meter: meter.id, why },
            std::slice::from_ref(meter),
        )
    });
    let submitted: Vec<String> = m
        .zones
        .iter()
        .filter_map(|z| {
            z.submitted.as_ref().map(|s| {
                let state = if s.exported {
                    tr.t("submitted-exported")
                } else {
                    tr.t("submitted-editable")
                };
                format!("{} ({state})", shown_text(tr, meter, z.zone, s))
            })
        })
        .collect();
    let mine: Vec<&Issue> = issues.iter().filter(|i| i.meter() == Some(meter.id)).collect();
    let accepts = m.closed.is_none() && view.admission.period().is_some();
    let fields = if accepts {
        m.zones
            .iter()
            .map(|z| {
                let name = field_name(meter.id.0, z.zone);
                let hint = match &z.last {
                    Some(s) => tr.a(
                        "reading-hint-previous",
                        "value",
                        &shown_text(tr, meter, z.zone, s),
                    ),
                    None => tr.a(
                        "reading-hint-format",
                        "digits",
                        &format!(
                            "{}+{}",
                            meter.capacity.integer_digits(),
                            meter.capacity.fraction_digits()
                        ),
                    ),
                };
                let zone = zone_name(tr, meter, z.zone);
                Field {
                    label: if zone.is_empty() {
                        tr.a("reading-label", "unit", &unit(tr, meter.resource))
                    } else {
                        tr.a2(
                            "reading-label-zone",
                            ("zone", &zone),
                            ("unit", &unit(tr, meter.resource)),
                        )
                    },
                    hint,
                    value: typed_value(typed, &name)
                        .map(|v| v.chars().take(32).collect())
                        .unwrap_or_default(),
                    error: mine
                        .iter()
                        .find(|i| i.zone() == Some(z.zone))
                        .map(|i| issue_text(tr, i, std::slice::from_ref(meter))),
                    name,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let problems = mine
        .iter()
        .filter(|i| i.zone().is_none())
        .map(|i| issue_text(tr, i, std::slice::from_ref(meter)))
        .collect();
    let confirm_field = confirm_name(meter.id.0);
    let asked = mine.iter().any(|i| i.needs_confirmation());
    let confirmed = typed_value(typed, &confirm_field).is_some();
    let confirm = (accepts && (asked || confirmed)).then(|| Confirm {
        label: tr.a("readings-confirm", "serial", &meter.serial),
        checked: confirmed && !asked,
        name: confirm_field,
    });
    Card {
        id: meter.id.0,
        title: format!("{} № {}", resource_name(tr, meter.resource), meter.serial),
        facts,
        warning,
        closed,
        submitted,
        fields,
        problems,
        confirm,
        history_href,
    }
}

fn meters_page(
    state: &AppState,
    ctx: &Ctx,
    view: &MetersView,
    typed: &Typed,
    issues: &[Issue],
    notice: Option<String>,
) -> MetersPage {
    let tr = Tr::current();
    let account = account_param(&view.scope);
    let meters: Vec<Meter> = view.meters.iter().map(|m| m.meter.clone()).collect();
    let cards: Vec<Card> = view
        .meters
        .iter()
        .map(|m| {
            let href = paths::for_account(&paths::meter_history(m.meter.id.0), account.as_deref());
            card(&tr, m, view, typed, issues, href)
        })
        .collect();
    let can_submit = cards.iter().any(|c| !c.fields.is_empty());
    MetersPage {
        layout: Layout::resident(state, ctx, &view.scope, Section::Meters, paths::METERS),
        account,
        window: window_text(&tr, view.admission),
        notice,
        errors: {
            let general: Vec<String> = issues
                .iter()
                .filter(|i| i.meter().is_none())
                .map(|i| issue_text(&tr, i, &meters))
                .collect();
            if general.is_empty() && !issues.is_empty() {
                vec![tr.t("readings-not-taken")]
            } else {
                general
            }
        },
        cards,
        can_submit,
    }
}

/// `GET /meters`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Query(q): Query<MetersQuery>,
) -> Result<Response, PageError> {
    let view = crate::http::replica::replica_read!(state, ctx, readings.meters(&r, q.account.as_deref()))?;
    let tr = Tr::current();
    let notice = q
        .saved
        .as_deref()
        .and_then(|p| kabinet_domain::Period::parse(p).ok())
        .map(|p| tr.a("readings-saved", "period", &tr.month(p)));
    page(&meters_page(&state, &ctx, &view, &Vec::new(), &[], notice))
}

/// `POST /meters`: fields `v<meter>_<zone>`, `confirm_<meter>`, `account`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    CsrfForm(typed): CsrfForm<Typed>,
) -> Result<Response, PageError> {
    let account = typed_value(&typed, "account").filter(|a| !a.trim().is_empty());
    let mut input: Vec<MeterInput> = Vec::new();
    for (name, value) in &typed {
        let Some((meter, zone)) = name
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(m, z)| Some((m.parse::<i64>().ok()?, z.parse::<usize>().ok()?)))
        else {
            continue;
        };
        if !(1..=4).contains(&zone) {
            return Err(PageError::BadRequest("error-form-malformed"));
        }
        let i = match input.iter().position(|m| m.meter.0 == meter) {
            Some(i) => i,
            None => {
                input.push(MeterInput {
                    meter: kabinet_domain::MeterId(meter),
                    values: Vec::new(),
                    confirmed: typed_value(&typed, &confirm_name(meter)).is_some(),
                });
                input.len() - 1
            }
        };
        let values = &mut input[i].values;
        if values.len() < zone {
            values.resize(zone, String::new());
        }
        values[zone - 1] = value.clone();
    }
    match state.app.readings.submit(&r, account, &input, &ctx.client).await {
        Ok(done) => {
            let path = format!("{}?saved={}", paths::METERS, done.period);
            Ok(see_other(&match account {
                Some(a) if a != r.user.account_number.as_str() => format!(
                    "{path}&{}",
                    serde_urlencoded::to_string([("account", a)]).unwrap_or_default()
                ),
                _ => path,
            }))
        }
        Err(Error::Readings(refused)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &meters_page(&state, &ctx, &refused.view, &typed, &refused.issues, None),
        ),
        Err(e) => Err(e.into()),
    }
}

/// A row of the history table.
pub(crate) struct Row {
    pub date: String,
    pub cells: Vec<(String, String)>,
    pub source: String,
}

/// A meter's history page.
#[derive(Template)]
#[template(path = "meters/history.html")]
pub(crate) struct HistoryPage {
    pub layout: Layout,
    pub account: Option<String>,
    pub action: String,
    pub title: String,
    pub unit: String,
    pub from: String,
    pub to: String,
    pub from_error: Option<String>,
    pub to_error: Option<String>,
    pub zones: Vec<(String, &'static str)>,
    pub chart: Option<String>,
    pub chart_alt: String,
    pub rows: Vec<Row>,
    pub back: String,
}

/// `?from=&to=` of a history.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HistoryQuery {
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// `GET /meters/{id}/history`.
pub(crate) async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    ResidentPage(r): ResidentPage,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, PageError> {
    let id = kabinet_domain::MeterId(
        id.parse()
            .map_err(|_| PageError::NotFound("error-meter-not-found"))?,
    );
    let readings = &state.app.readings;
    let account = q.account.as_deref();
    match crate::http::replica::replica_read!(
        state,
        ctx,
        readings.history(&r, account, id, q.from.as_deref(), q.to.as_deref())
    ) {
        Ok(h) => page(&history_page(&state, &ctx, &h)),
        Err(Error::Invalid(errors)) => {
            let h = readings.history(&r, account, id, None, None).await?;
            let mut p = history_page(&state, &ctx, &h);
            p.from = q.from.unwrap_or_default().chars().take(20).collect();
            p.to = q.to.unwrap_or_default().chars().take(20).collect();
            p.from_error = errors.get(range_fields::FROM).map(say);
            p.to_error = errors.get(range_fields::TO).map(say);
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => Err(e.into()),
    }
}

fn history_page(state: &AppState, ctx: &Ctx, h: &History) -> HistoryPage {
    let tr = Tr::current();
    let m = &h.meter.meter;
    let account = account_param(&h.scope);
    let zones: Vec<(String, &'static str)> = (1..=m.tariffs)
        .map(|z| {
            let name = zone_name(&tr, m, z);
            (
                if name.is_empty() { tr.t("th-reading") } else { name },
                colour(usize::from(z) - 1),
            )
        })
        .collect();
    let bars: Vec<Bar> = h
        .months
        .iter()
        .map(|u| Bar {
            label: format!(
                "{} {}",
                tr.t(&format!("month-short-{}", u.period.month())),
                u.period.year() % 100
            ),
            parts: u.zones.iter().copied().enumerate().collect(),
        })
        .collect();
    let total: i64 = h.months.iter().flat_map(|u| u.zones.iter()).sum();
    let amount = |v: i64| match tr.lang {
        kabinet_domain::Language::Ru => m.capacity.amount_text(v),
        kabinet_domain::Language::En => m.capacity.amount_text(v).replace(',', "."),
    };
    let rows = h
        .rows
        .iter()
        .map(|row| Row {
            date: tr.date(row.taken_on),
            cells: row
                .zones
                .iter()
                .map(|c| match c {
                    Some((v, used)) => (
                        value_text(&tr, *v),
                        used.map(amount).unwrap_or_else(|| "—".into()),
                    ),
                    None => ("—".into(), "—".into()),
                })
                .collect(),
            source: source_text(&tr, row.source),
        })
        .collect();
    let path = paths::meter_history(m.id.0);
    HistoryPage {
        layout: Layout::resident(state, ctx, &h.scope, Section::Meters, &path),
        back: paths::for_account(paths::METERS, account.as_deref()),
        account,
        action: path,
        title: format!("{} № {}", resource_name(&tr, m.resource), m.serial),
        unit: unit(&tr, m.resource),
        from: h.from.to_string(),
        to: h.to.to_string(),
        from_error: None,
        to_error: None,
        zones,
        chart: (!bars.is_empty()).then(|| stacked_bars(&bars, "chart-alt")),
        chart_alt: tr.args(
            "consumption-chart-alt",
            &[
                ("from", &tr.month(h.from)),
                ("to", &tr.month(h.to)),
                ("total", &format!("{} {}", amount(total), unit(&tr, m.resource))),
                ("months", &h.months.len().to_string()),
            ],
        ),
        rows,
    }
}
