//! Meters and readings over the API (R7): the meters of an account, a
//! meter's history, and handing in readings under the same rules as the
//! page. Values are decimal strings with a point (`"123.450"`, all of the
//! meter's fraction digits); what is typed may use a comma and spaces too.
//! A refused submission is a 422 problem whose `issues` each carry a
//! machine-readable `code`; those with `needs_confirmation` go through when
//! sent again with `confirmed: true` for their meter.

use super::{ApiJson, ApiResident, Problem};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::{ApiError, problem_with};
use crate::i18n::Tr;
use crate::readings_text::issue_text;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_app::readings::{MeterInput, MeterState, Shown};
use kabinet_domain::readings::{Admission, Verification};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A reading on record.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReadingItem {
    /// Value, `"123.450"`.
    value: String,
    /// The day it was taken, `YYYY-MM-DD`.
    taken_on: String,
    /// `portal`, `billing` or `other`.
    source: String,
    /// Already sent to billing.
    exported: bool,
}

fn reading_item(s: &Shown) -> ReadingItem {
    ReadingItem {
        value: s.value.to_decimal_string(),
        taken_on: s.taken_on.to_string(),
        source: s.source.code().to_string(),
        exported: s.exported,
    }
}

/// A zone of a meter.
#[derive(Serialize, ToSchema)]
pub(crate) struct ZoneItem {
    /// Zone, from 1.
    zone: u8,
    /// The newest reading.
    last: Option<ReadingItem>,
    /// What was handed in for the current period.
    submitted: Option<ReadingItem>,
}

/// A meter.
#[derive(Serialize, ToSchema)]
pub(crate) struct MeterItem {
    /// Id (for history and submissions).
    id: i64,
    /// Serial number.
    serial: String,
    /// `cold_water`, `hot_water`, `electricity`, `heat`, `gas`.
    resource: String,
    /// Where it is installed.
    location: String,
    /// Tariff zones, 1–4.
    tariffs: u8,
    /// Whole digits of the counter.
    integer_digits: u8,
    /// Fraction digits of the counter.
    fraction_digits: u8,
    /// `active`, `archived` or `remote`.
    status: String,
    /// Next verification, `YYYY-MM-DD` (the last valid day).
    verification_due: String,
    /// `valid`, `due_soon` (within 30 days) or `expired`.
    verification: String,
    /// Why it takes no readings (`meter_archived`, `meter_remote`,
    /// `verification_expired`), or none.
    closed: Option<String>,
    /// Zones.
    zones: Vec<ZoneItem>,
}

fn meter_item(m: &MeterState) -> MeterItem {
    let meter = &m.meter;
    MeterItem {
        id: meter.id.0,
        serial: meter.serial.clone(),
        resource: meter.resource.code().to_string(),
        location: meter.location.clone(),
        tariffs: meter.tariffs,
        integer_digits: meter.capacity.integer_digits(),
        fraction_digits: meter.capacity.fraction_digits(),
        status: meter.status.code().to_string(),
        verification_due: meter.verification_due.to_string(),
        verification: match m.verification {
            Verification::Valid => "valid",
            Verification::DueSoon(_) => "due_soon",
            Verification::Expired(_) => "expired",
        }
        .to_string(),
        closed: m.closed.map(|c| c.code().to_string()),
        zones: m
            .zones
            .iter()
            .map(|z| ZoneItem {
                zone: z.zone,
                last: z.last.as_ref().map(reading_item),
                submitted: z.submitted.as_ref().map(reading_item),
            })
            .collect(),
    }
}

/// The window today.
#[derive(Serialize, ToSchema)]
pub(crate) struct WindowItem {
    /// `open`, `next_period` (outside a lenient window: readings count for
    /// the next period) or `closed`.
    state: String,
    /// The period readings handed in now count for, `YYYY-MM`; none when closed.
    period: Option<String>,
    /// The last day of the open window, `YYYY-MM-DD`.
    until: Option<String>,
    /// The day the next window opens.
    opens: Option<String>,
}

fn window_item(a: Admission) -> WindowItem {
    match a {
        Admission::Open { period, until } => WindowItem {
            state: "open".into(),
            period: Some(period.to_string()),
            until: Some(until.to_string()),
            opens: None,
        },
        Admission::NextPeriod { period, opens } => WindowItem {
            state: "next_period".into(),
            period: Some(period.to_string()),
            until: None,
            opens: Some(opens.to_string()),
        },
        Admission::Closed { opens } => WindowItem {
            state: "closed".into(),
            period: None,
            until: None,
            opens: Some(opens.to_string()),
        },
    }
}

/// The meters of an account.
#[derive(Serialize, ToSchema)]
pub(crate) struct MetersResponse {
    /// Whether readings are taken today.
    window: WindowItem,
    /// Active meters first.
    meters: Vec<MeterItem>,
}

/// The meters of one of the resident's accounts.
#[utoipa::path(get, path = "/api/v1/accounts/{number}/meters", tag = "readings", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number")),
    responses((status = 200, description = "Meters and the readings window", body = MetersResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts", body = Problem)))]
pub(crate) async fn meters(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
) -> Result<Json<MetersResponse>, ApiError> {
    let v = state.app.readings.meters(&r, Some(&number)).await?;
    Ok(Json(MetersResponse {
        window: window_item(v.admission),
        meters: v.meters.iter().map(meter_item).collect(),
    }))
}

/// The months of a history.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// First month, `2026-01` (default: 11 months before `to`).
    from: Option<String>,
    /// Last month (default: the current month).
    to: Option<String>,
}

/// A reading in a history.
#[derive(Serialize, ToSchema)]
pub(crate) struct HistoryItem {
    /// The day, `YYYY-MM-DD`.
    taken_on: String,
    /// Zone.
    zone: u8,
    /// Value.
    value: String,
    /// Consumption since the zone's previous reading, if there is one.
    consumption: Option<String>,
    /// `portal`, `billing` or `other`.
    source: String,
}

/// Consumption in a month.
#[derive(Serialize, ToSchema)]
pub(crate) struct MonthUseItem {
    /// `YYYY-MM`.
    period: String,
    /// Per zone, zone 1 first.
    zones: Vec<String>,
}

/// A meter's history.
#[derive(Serialize, ToSchema)]
pub(crate) struct HistoryResponse {
    /// The meter.
    meter: MeterItem,
    /// First month.
    from: String,
    /// Last month.
    to: String,
    /// Readings in the range, newest first.
    readings: Vec<HistoryItem>,
    /// Consumption by month, oldest first.
    months: Vec<MonthUseItem>,
}

/// One meter's readings with consumption (at most 60 months).
#[utoipa::path(get, path = "/api/v1/accounts/{number}/meters/{id}/readings", tag = "readings", security(("bearer" = [])),
    params(("number" = String, Path, description = "Personal account number"), ("id" = i64, Path, description = "Meter id"), HistoryQuery),
    responses((status = 200, description = "The history", body = HistoryResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts or meters", body = Problem),
        (status = 422, description = "A malformed month, an end before the start, or over 60 months", body = Problem)))]
pub(crate) async fn history(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path((number, id)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let id = kabinet_domain::MeterId(
        id.parse()
            .map_err(|_| ApiError::NotFound("error-meter-not-found"))?,
    );
    let h = state
        .app
        .readings
        .history(&r, Some(&number), id, q.from.as_deref(), q.to.as_deref())
        .await?;
    let capacity = h.meter.meter.capacity;
    let amount = |v: i64| capacity.amount_decimal(v);
    Ok(Json(HistoryResponse {
        from: h.from.to_string(),
        to: h.to.to_string(),
        readings: h
            .rows
            .iter()
            .flat_map(|row| {
                row.zones.iter().enumerate().filter_map(move |(i, c)| {
                    c.map(|(v, used)| HistoryItem {
                        taken_on: row.taken_on.to_string(),
                        zone: u8::try_from(i + 1).unwrap_or(u8::MAX),
                        value: v.to_decimal_string(),
                        consumption: used.map(amount),
                        source: row.source.code().to_string(),
                    })
                })
            })
            .collect(),
        months: h
            .months
            .iter()
            .map(|u| MonthUseItem {
                period: u.period.to_string(),
                zones: u.zones.iter().map(|v| amount(*v)).collect(),
            })
            .collect(),
        meter: meter_item(&h.meter),
    }))
}

/// Readings for one meter.
#[derive(Deserialize, ToSchema)]
pub(crate) struct MeterReadings {
    /// Meter id.
    #[serde(deserialize_with = "super::lenient_int")]
    meter_id: i64,
    /// One value per zone, zone 1 first, as typed (`"123,45"`, `"1 234.5"`).
    #[serde(default)]
    values: Vec<String>,
    /// Confirms an unusual value (rollover, high consumption) after a 422
    /// that asked for it.
    #[serde(default)]
    confirmed: bool,
}

/// A submission.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SubmitRequest {
    /// Meters to hand in readings for (others are left as they are).
    #[serde(default)]
    meters: Vec<MeterReadings>,
}

/// A stored reading.
#[derive(Serialize, ToSchema)]
pub(crate) struct StoredItem {
    /// Meter id.
    meter_id: i64,
    /// Zone.
    zone: u8,
    /// Value.
    value: String,
    /// Consumption since the previous reading, if there is one.
    consumption: Option<String>,
}

/// A submission that was taken.
#[derive(Serialize, ToSchema)]
pub(crate) struct SubmitResponse {
    /// The period the readings count for, `YYYY-MM`.
    period: String,
    /// `open`, or `next_period` when handed in outside a lenient window.
    window: String,
    /// What was stored.
    readings: Vec<StoredItem>,
}

/// Why a submission was not taken (the `issues` member of a 422 problem).
#[derive(Serialize, ToSchema)]
pub(crate) struct IssueItem {
    /// `window_closed`, `nothing_entered`, `meter_archived`, `meter_remote`,
    /// `verification_expired`, `zone_missing`, `no_such_zone`, `invalid_number`,
    /// `too_many_digits`, `too_many_decimals`, `lower_than_previous`,
    /// `already_exported`, `already_recorded`, `rollover`, `high_consumption`.
    code: String,
    /// The meter, if the issue is about one.
    meter_id: Option<i64>,
    /// The zone, if the issue is about one.
    zone: Option<u8>,
    /// What to tell the resident.
    message: String,
    /// Sending again with `confirmed: true` for the meter lets it through.
    needs_confirmation: bool,
}

/// Hands in readings for meters of one of the resident's accounts. All or
/// nothing: when any value is refused or needs a confirmation, nothing is
/// stored. A second submission in the same period replaces the first until
/// it has been sent to billing.
#[utoipa::path(post, path = "/api/v1/accounts/{number}/readings", tag = "readings", security(("bearer" = [])), request_body = SubmitRequest,
    params(("number" = String, Path, description = "Personal account number")),
    responses((status = 201, description = "Stored", body = SubmitResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's accounts or meters", body = Problem),
        (status = 422, description = "Not taken: the problem's `issues` say why, each with a code", body = Problem),
        (status = 429, description = "Too many submissions in a minute (`readings_per_minute`)", body = Problem)))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<SubmitRequest>,
) -> Result<Response, ApiError> {
    if req.meters.len() > 100 || req.meters.iter().any(|m| m.values.len() > 4) {
        return Err(ApiError::App(Error::Invalid(kabinet_app::FieldErrors::single(
            kabinet_app::readings::fields::METERS,
            kabinet_domain::Text::new("error-readings-too-many-meters"),
        ))));
    }
    let input: Vec<MeterInput> = req
        .meters
        .into_iter()
        .map(|m| MeterInput {
            meter: kabinet_domain::MeterId(m.meter_id),
            values: m.values,
            confirmed: m.confirmed,
        })
        .collect();
    match state
        .app
        .readings
        .submit(&r, Some(&number), &input, &ctx.client)
        .await
    {
        Ok(done) => Ok((
            StatusCode::CREATED,
            Json(SubmitResponse {
                period: done.period.to_string(),
                window: match done.admission {
                    Admission::NextPeriod { .. } => "next_period",
                    _ => "open",
                }
                .to_string(),
                readings: done
                    .stored
                    .iter()
                    .map(|s| StoredItem {
                        meter_id: s.meter.id.0,
                        zone: s.zone,
                        value: s.value.to_decimal_string(),
                        consumption: s.consumption.map(|c| s.meter.capacity.amount_decimal(c)),
                    })
                    .collect(),
            }),
        )
            .into_response()),
        Err(Error::Readings(refused)) => {
            let tr = Tr::current();
            let meters: Vec<kabinet_domain::Meter> =
                refused.view.meters.into_iter().map(|m| m.meter).collect();
            let items: Vec<IssueItem> = refused
                .issues
                .iter()
                .map(|i| IssueItem {
                    code: i.code().to_string(),
                    meter_id: i.meter().map(|m| m.0),
                    zone: i.zone(),
                    message: issue_text(&tr, i, &meters),
                    needs_confirmation: i.needs_confirmation(),
                })
                .collect();
            Ok(problem_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &kabinet_domain::Text::new("error-readings"),
                Some(("issues", serde_json::to_value(items).unwrap_or_default())),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
