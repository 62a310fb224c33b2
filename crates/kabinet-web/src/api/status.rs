//! The portal's status for apps: whether a closing is planned or in force
//! (it answers while the portal is closed, so an app can say why and until
//! when), and whether card payments are taken.

use super::{Problem, rfc3339};
use crate::AppState;
use crate::http::errors::ApiError;
use axum::Json;
use axum::extract::State;
use kabinet_domain::SuspensionPhase;
use serde::Serialize;
use utoipa::ToSchema;

/// A planned or current closing.
#[derive(Serialize, ToSchema)]
pub(crate) struct Closing {
    /// `announced` (ahead, at most 14 days) or `closed` (now).
    phase: String,
    /// When it closes (RFC 3339).
    starts_at: String,
    /// When it is expected back (RFC 3339), if known.
    ends_at: Option<String>,
    /// What the organization says about it.
    message: String,
}

/// The portal's status.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    /// Whether resident operations answer now (false while closed).
    open: bool,
    /// A closing announced or in force; none when nothing is planned.
    closing: Option<Closing>,
    /// `none`, `sandbox` (test payments, never credited) or `yookassa`.
    card_payments: String,
}

/// Whether the portal is open, and any closing planned or in force.
#[utoipa::path(get, path = "/api/v1/status", tag = "portal",
    responses((status = 200, description = "The portal's status (answered while closed, too)", body = Status),
        (status = 503, description = "The database does not answer", body = Problem)))]
pub(crate) async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let now = time::OffsetDateTime::now_utc();
    let closing = state.app.site.suspension().await?.and_then(|s| {
        let phase = match s.phase(now) {
            SuspensionPhase::Open => return None,
            SuspensionPhase::Announced => "announced",
            SuspensionPhase::Closed => "closed",
        };
        Some(Closing {
            phase: phase.into(),
            starts_at: rfc3339(s.starts_at),
            ends_at: s.ends_at.map(rfc3339),
            message: s.message.clone(),
        })
    });
    Ok(Json(Status {
        open: closing.as_ref().is_none_or(|c| c.phase != "closed"),
        closing,
        card_payments: state.app.payments.gateway_name().to_string(),
    }))
}
