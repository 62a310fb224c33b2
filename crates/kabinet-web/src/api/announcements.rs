//! Announcements and outages (B2) for the signed-in resident: those in
//! force for their buildings and those that ended in the last 90 days.

use super::{ApiResident, Problem, rfc3339};
use crate::AppState;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::State;
use kabinet_domain::announcements::Announcement;
use serde::Serialize;
use utoipa::ToSchema;

/// An announcement.
#[derive(Serialize, ToSchema)]
pub(crate) struct AnnouncementItem {
    /// Its id.
    id: i64,
    /// `news`, `outage` (planned) or `emergency`.
    kind: String,
    /// The service an outage or emergency concerns: `cold_water`,
    /// `hot_water`, `heating`, `electricity`, `gas`, `sewerage`, `lift`,
    /// `other`.
    service: Option<String>,
    /// Title.
    title: String,
    /// Text; paragraphs separated by blank lines.
    body: String,
    /// For every resident (otherwise for the resident's building).
    everyone: bool,
    /// Shown from (RFC 3339).
    starts_at: String,
    /// Shown until (RFC 3339); none: until taken down.
    ends_at: Option<String>,
    /// Pinned as a banner now (an emergency or outage in force).
    pinned: bool,
}

/// The resident's announcements.
#[derive(Serialize, ToSchema)]
pub(crate) struct AnnouncementList {
    /// In force now, newest first.
    current: Vec<AnnouncementItem>,
    /// Ended within the last 90 days, newest first.
    past: Vec<AnnouncementItem>,
}

fn item(a: Announcement, now: time::OffsetDateTime) -> AnnouncementItem {
    AnnouncementItem {
        pinned: a.pinned(now),
        id: a.id,
        kind: a.kind.as_str().into(),
        service: a.service.map(|s| s.as_str().into()),
        title: a.title,
        body: a.body,
        everyone: a.buildings.is_empty(),
        starts_at: rfc3339(a.starts_at),
        ends_at: a.ends_at.map(rfc3339),
    }
}

/// The announcements for the resident's buildings.
#[utoipa::path(get, path = "/api/v1/announcements", tag = "portal", security(("bearer" = [])),
    responses((status = 200, description = "In force and recently ended", body = AnnouncementList),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<AnnouncementList>, ApiError> {
    let (current, past) = state.app.announcements.for_resident(r.user.id).await?;
    let now = time::OffsetDateTime::now_utc();
    Ok(Json(AnnouncementList {
        current: current.into_iter().map(|a| item(a, now)).collect(),
        past: past.into_iter().map(|a| item(a, now)).collect(),
    }))
}
